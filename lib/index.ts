/**
 * vugrad: automatic differentiation and neural networks for Node.js, after the course library of the same
 * name. See the README for a tour.
 */
export * from './core';
export * from './ops';
export { kernels, jsKernels, backendInfo, useBackend, setNumThreads, getNumThreads, releaseFreedMemory, KERNEL_NAMES, setPrecision, getPrecision, withPrecision, bf16Support } from './kernels';
export type { Precision } from './kernels';
export type { BackendInfo, KernelTable, KernelName, UnaryOp, BinaryOp } from './kernels';
export * from './optim';
export * from './data';
export * from './train';
export * from './report';
export * as nn from './nn';
export {
  Module,
  Linear,
  Conv2d,
  MaxPool2d,
  Flatten,
  Dropout,
  Sequential,
  MLP,
  LeNet,
  BatchNorm1d,
  BatchNorm2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  BasicBlock,
  ResNet,
  initializer,
  lossByName,
  crossEntropyLoss,
  nllLoss,
  multiMarginLoss,
  mseLoss,
  oneHot,
} from './nn';
export type { InitName, MLPOptions, LeNetOptions, LossName, ResNetOptions, BatchNormOptions } from './nn';
export * from './io';
export * from './jobs';
