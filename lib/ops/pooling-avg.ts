/**
 * Average pooling, written against the existing kernels.
 *
 * - `AvgPool2dOp`: square windows `kernel` with step `stride` and zero `padding`, as PyTorch's
 *   `F.avg_pool2d(x, kernel, stride, padding)` with its defaults (`count_include_pad=True`, so a window that
 *   overlaps the padding still divides by kernel^2; `ceil_mode=False`). All N C planes are one "image" of N C
 *   channels for `im2col`, whose rows `(plane, ky, kx)` are then summed over the window (`sumAxis`) and
 *   divided by kernel^2. Gradient: G / kernel^2 repeated over each window (`broadcastAxis`), then `col2im`
 *   (the adjoint of im2col: windows that overlap add up).
 * - `GlobalAvgPool2dOp`: the mean of each plane, `[N, C, H, W] -> [N, C, 1, 1]` (PyTorch's
 *   `F.adaptive_avg_pool2d(x, 1)`). Gradient: G / (H W) at every position of the plane.
 */
import { NDArray, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { convOutputSize } from '../kernels/names';
import { like, uninitialized } from './util';

function checkInteger(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function checkImages(op: string, x: NDArray): void {
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RangeError(`${op}: input must be [N, C, H, W] or [C, H, W], got shape ${shapeString(x.shape)}`);
  }
}

export interface AvgPool2dOptions {
  kernel: number;
  /** Default: the kernel size. */
  stride?: number;
  /** Zeros on every side (default 0); at most half the kernel, as PyTorch requires. */
  padding?: number;
}

/** Average pooling over square windows (see the file comment). PyTorch: `F.avg_pool2d`. */
export class AvgPool2dOp extends Op {
  static override forward(context: Context, x: NDArray, options: AvgPool2dOptions): NDArray {
    const k = checkInteger('avgpool2d', 'kernel', options.kernel, 1);
    const stride = checkInteger('avgpool2d', 'stride', options.stride ?? k, 1);
    const pad = checkInteger('avgpool2d', 'padding', options.padding ?? 0, 0);
    if (pad > k / 2) throw new RangeError(`avgpool2d: padding ${pad} must be at most half the kernel ${k}`);
    checkImages('avgpool2d', x);
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const oh = convOutputSize(h, k, stride, pad);
    const ow = convOutputSize(w, k, stride, pad);
    if (oh < 1 || ow < 1) throw new RangeError(`avgpool2d: window ${k} does not fit input ${h}x${w} with padding ${pad}`);
    const planes = x.size / (h * w);
    const l = oh * ow;
    const cols = uninitialized(x, [planes * k * k, l]);
    kernels.im2col(x.data, planes, h, w, k, k, stride, pad, cols.data);
    const out = uninitialized(x, [...x.shape.slice(0, -2), oh, ow]);
    kernels.sumAxis(cols.data, planes, k * k, l, out.data);
    kernels.binaryScalar('div', out.data, k * k, out.data);
    context.shape = x.shape;
    context.geometry = [planes, h, w, k, stride, pad, l];
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [planes, h, w, k, stride, pad, l] = context.geometry as number[];
    const scaled = uninitialized(g);
    kernels.binaryScalar('div', g.data, k * k, scaled.data);
    const cols = uninitialized(g, [planes * k * k, l]);
    kernels.broadcastAxis(scaled.data, planes, k * k, l, cols.data);
    const gx = like(g, context.shape as number[]); // col2im accumulates into zeros
    kernels.col2im(cols.data, planes, h, w, k, k, stride, pad, gx.data);
    return [gx];
  }
}

/** The mean of each plane, `[N, C, H, W] -> [N, C, 1, 1]` (see the file comment). PyTorch: `F.adaptive_avg_pool2d(x, 1)`. */
export class GlobalAvgPool2dOp extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    checkImages('adaptive_avg_pool2d', x);
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const planes = x.size / (h * w);
    const out = uninitialized(x, [...x.shape.slice(0, -2), 1, 1]);
    kernels.sumAxis(x.data, planes, h * w, 1, out.data);
    kernels.binaryScalar('div', out.data, h * w, out.data);
    context.shape = x.shape;
    context.geometry = [planes, h * w];
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [planes, l] = context.geometry as number[];
    const scaled = uninitialized(g);
    kernels.binaryScalar('div', g.data, l, scaled.data);
    const gx = uninitialized(g, context.shape as number[]);
    kernels.broadcastAxis(scaled.data, planes, l, 1, gx.data);
    return [gx];
  }
}

/** Average-pools a batch `[N, C, H, W]` (PyTorch's `F.avg_pool2d`). See `AvgPool2dOp`. */
export function avgPool2d(x: TensorNode, kernel: number, stride: number = kernel, padding = 0): TensorNode {
  return AvgPool2dOp.doForward(x, { kernel, stride, padding });
}

/**
 * Adaptive average pooling to `outputSize x outputSize` (PyTorch's `F.adaptive_avg_pool2d`). Output 1 is
 * global pooling; a larger output is supported when it divides the input evenly (then it is `avgPool2d` with
 * kernel = stride = input / output).
 */
export function adaptiveAvgPool2d(x: TensorNode, outputSize = 1): TensorNode {
  if (outputSize === 1) return GlobalAvgPool2dOp.doForward(x);
  const h = x.shape[x.shape.length - 2];
  const w = x.shape[x.shape.length - 1];
  if (!Number.isInteger(outputSize) || outputSize < 1 || h !== w || h % outputSize !== 0) {
    throw new RangeError(
      `adaptive_avg_pool2d: output ${outputSize}x${outputSize} needs a square input whose side it divides, got ${h}x${w}`,
    );
  }
  const k = h / outputSize;
  return AvgPool2dOp.doForward(x, { kernel: k, stride: k });
}

/** @deprecated use `AvgPool2dOp` (op names: docs/conventions.md); removed in 0.3 */
export const AvgPool2dFunction = AvgPool2dOp;
/** @deprecated use `GlobalAvgPool2dOp` (op names: docs/conventions.md); removed in 0.3 */
export const GlobalAvgPool2dFunction = GlobalAvgPool2dOp;
