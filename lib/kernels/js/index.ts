/** The complete pure-TypeScript kernel table: the reference every other backend is checked against. */
import type { KernelTable } from '../names';
import { axpby, axpy, binary, binaryScalar, fill, sgdMomentum, unary, unaryBackward } from './elementwise';
import { col2im, col2imBatch, im2col, im2colBatch, maxPool2d, maxPool2dBackward, swapAxes } from './conv';
import { gemm } from './gemm';
import {
  broadcastAxis,
  crossEntropy,
  crossEntropyBackward,
  dot,
  gather,
  logSoftmax,
  logSoftmaxBackward,
  maxAxis,
  scatterAxis,
  softmax,
  softmaxBackward,
  sumAll,
  sumAxis,
  transpose,
} from './reduce';

export const jsKernels: KernelTable = {
  gemm,
  unary,
  unaryBackward,
  binary,
  binaryScalar,
  axpy,
  axpby,
  sgdMomentum,
  fill,
  sumAll,
  dot,
  sumAxis,
  maxAxis,
  broadcastAxis,
  scatterAxis,
  gather,
  transpose,
  softmax,
  softmaxBackward,
  logSoftmax,
  logSoftmaxBackward,
  crossEntropy,
  crossEntropyBackward,
  im2col,
  col2im,
  im2colBatch,
  col2imBatch,
  swapAxes,
  maxPool2d,
  maxPool2dBackward,
};
