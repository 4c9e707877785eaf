/**
 * 2-D convolution and max-pooling on NCHW batches, written as the course teaches convolution: **im2col**
 * turns every receptive field of an image into a column, so that the convolution becomes one matrix product.
 *
 * For one image X `[C, H, W]` and a weight W `[O, C, kh, kw]` (viewed as a matrix `[O, K]`, K = C kh kw):
 * `cols = im2col(X)` is `[K, L]` (L = oh ow output positions) and the output is `Y = W cols + b` (`[O, L]`).
 * The gradients follow from the matrix product's (see matmul.ts) and from im2col being a linear map:
 * **dL/dW = sum over images of G cols^T**, **dL/dcols = W^T G** and then **dL/dX = col2im(dL/dcols)** (col2im
 * is the adjoint of im2col: each input pixel collects the gradient of every column it was copied into), and
 * **dL/db = G summed over images and positions**.
 */
import { NDArray, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { convOutputSize } from '../kernels/names';
import { checkRank, gradInto, like, uninitialized } from './util';

export { convOutputSize };

function checkInteger(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export interface Conv2dOptions {
  /** Step between receptive fields (default 1). */
  stride?: number;
  /** Zeros added on every side of each image (default 0). */
  padding?: number;
}

/**
 * 2-D convolution (strictly, cross-correlation, as in every deep-learning library) of a batch X
 * `[N, C, H, W]` with a weight `[O, C, kh, kw]` and an optional bias `[O]`, giving `[N, O, oh, ow]` with
 * `oh = floor((H + 2 padding - kh) / stride) + 1` (same for ow).
 *
 * Computed by the `conv2d` kernels, which take the whole batch: the JS kernels run the im2col formulation
 * above image by image (`Y_i = W im2col(X_i) + b`); the native ones split the batch across threads and use a
 * direct convolution where it beats im2col (few channels, stride 1). Gradient: dL/dW = sum over images of
 * G_i im2col(X_i)^T, dL/dX_i = col2im(W^T G_i), dL/db = sum of G over images and positions.
 * PyTorch: `F.conv2d`.
 *
 * @example
 * const y = Conv2dOp.doForward(x, weight, bias, { stride: 1, padding: 2 });
 */
export class Conv2dOp extends Op {
  static override forward(
    context: Context,
    x: NDArray,
    weight: NDArray,
    biasOrOptions?: NDArray | Conv2dOptions,
    maybeOptions?: Conv2dOptions,
  ): NDArray {
    const bias = biasOrOptions instanceof NDArray ? biasOrOptions : null;
    const options = (biasOrOptions instanceof NDArray ? maybeOptions : biasOrOptions) ?? {};
    const stride = checkInteger('conv2d', 'stride', options.stride ?? 1, 1);
    const pad = checkInteger('conv2d', 'padding', options.padding ?? 0, 0);
    checkRank('conv2d', x, 4, 'input (NCHW)');
    checkRank('conv2d', weight, 4, 'weight [out, in, kh, kw]');
    const [n, c, h, w] = x.shape;
    const [o, c2, kh, kw] = weight.shape;
    if (c !== c2) {
      throw new RangeError(
        `conv2d: input ${shapeString(x.shape)} has ${c} channels but weight ${shapeString(weight.shape)} expects ${c2}`,
      );
    }
    if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== o)) {
      throw new RangeError(`conv2d: bias must have shape [${o}], got ${shapeString(bias.shape)}`);
    }
    const oh = convOutputSize(h, kh, stride, pad);
    const ow = convOutputSize(w, kw, stride, pad);
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `conv2d: kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${pad} (output would be ${oh}x${ow})`,
      );
    }
    const out = uninitialized(x, [n, o, oh, ow]); // the kernel writes every value
    kernels.conv2d(x.data, weight.data, bias === null ? null : bias.data, n, c, h, w, o, kh, kw, stride, pad, out.data);
    context.x = x;
    context.weight = weight;
    context.geometry = { n, c, h, w, o, kh, kw, stride, pad, l: oh * ow };
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const x = context.x as NDArray;
    const weight = context.weight as NDArray;
    const { n, c, h, w, o, kh, kw, stride, pad, l } = context.geometry as Record<string, number>;
    const [needX, needW, needB] = context.needsInputGrad;
    let gx: NDArray | null = null;
    let gw: NDArray | null = null;
    let gb: NDArray | null = null;
    if (needX) {
      gx = uninitialized(x); // overwritten by the kernel
      kernels.conv2dBackwardInput(g.data, weight.data, n, c, h, w, o, kh, kw, stride, pad, gx.data);
    }
    if (needW) {
      gw = gradInto(context, 1, weight);
      kernels.conv2dBackwardWeight(x.data, g.data, n, c, h, w, o, kh, kw, stride, pad, gw.data);
    }
    if (needB) {
      gb = gradInto(context, 2, g, [o]);
      // Sum over images first (long contiguous rows), then over the positions of the one remaining plane.
      const plane = uninitialized(g, [o * l]);
      kernels.sumAxis(g.data, 1, n, o * l, plane.data);
      kernels.sumAxis(plane.data, o, l, 1, gb.data);
    }
    return context.needsInputGrad.length === 3 ? [gx, gw, gb] : [gx, gw];
  }
}

/**
 * 2-D max-pooling of `[N, C, H, W]` (or `[C, H, W]`) with a square window `kernel` and step `stride`
 * (default: the kernel size), no padding: `oh = floor((H - kernel) / stride) + 1`.
 *
 * Gradient: each output's G goes to the input position that was the maximum of its window (the first one on
 * ties); windows that overlap add up. Everything else gets zero. PyTorch: `F.max_pool2d(x, kernel, stride)`.
 */
export class MaxPool2dOp extends Op {
  static override forward(context: Context, x: NDArray, options: { kernel: number; stride?: number }): NDArray {
    const k = checkInteger('maxpool2d', 'kernel', options.kernel, 1);
    const stride = checkInteger('maxpool2d', 'stride', options.stride ?? k, 1);
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new RangeError(`maxpool2d: input must be [N, C, H, W] or [C, H, W], got shape ${shapeString(x.shape)}`);
    }
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const oh = convOutputSize(h, k, stride);
    const ow = convOutputSize(w, k, stride);
    if (oh < 1 || ow < 1) throw new RangeError(`maxpool2d: window ${k} does not fit input ${h}x${w}`);
    const planes = x.size / (h * w);
    const out = uninitialized(x, [...x.shape.slice(0, -2), oh, ow]);
    const argmax = new Int32Array(out.size);
    kernels.maxPool2d(x.data, planes, h, w, k, stride, out.data, argmax);
    context.shape = x.shape;
    context.argmax = argmax;
    context.geometry = [planes, h, w, oh, ow];
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [planes, h, w, oh, ow] = context.geometry as number[];
    const gx = like(g, context.shape as number[]);
    kernels.maxPool2dBackward(g.data, context.argmax as Int32Array, planes, h, w, oh, ow, gx.data);
    return [gx];
  }
}

/**
 * Convolves a batch `[N, C, H, W]` with a weight `[O, C, kh, kw]` and an optional bias `[O]`
 * (PyTorch's `F.conv2d`). See `Conv2dOp`.
 */
export function conv2d(x: TensorNode, weight: TensorNode, bias: TensorNode | null = null, options: Conv2dOptions = {}): TensorNode {
  return bias === null ? Conv2dOp.doForward(x, weight, { ...options }) : Conv2dOp.doForward(x, weight, bias, { ...options });
}

/** Max-pools a batch `[N, C, H, W]` (PyTorch's `F.max_pool2d`). See `MaxPool2dOp`. */
export function maxPool2d(x: TensorNode, kernel: number, stride: number = kernel): TensorNode {
  return MaxPool2dOp.doForward(x, { kernel, stride });
}

/** @deprecated use `Conv2dOp` (op names: docs/conventions.md); removed in 0.3 */
export const Conv2dFunction = Conv2dOp;
/** @deprecated use `MaxPool2dOp` (op names: docs/conventions.md); removed in 0.3 */
export const MaxPool2dFunction = MaxPool2dOp;
