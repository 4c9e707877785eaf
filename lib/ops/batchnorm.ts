/**
 * Batch normalisation (Ioffe and Szegedy 2015), written against the existing kernels: per-channel sums are two
 * `sumAxis` calls, per-channel constants reach every element by two `broadcastAxis` calls, the rest is
 * `binary`/`unary`.
 *
 * The input is viewed as `[N, C, L]`: `[N, C]` (BatchNorm1d on features, L = 1), `[N, C, L]` (BatchNorm1d on
 * sequences) or `[N, C, H, W]` (BatchNorm2d, L = H W). Every channel c is normalised over its `m = N L`
 * values:
 *
 *   mean_c = sum x / m,   var_c = sum (x - mean_c)^2 / m   (biased, as used for normalising),
 *   xhat = (x - mean_c) / sqrt(var_c + eps),   y = weight_c xhat + bias_c.
 *
 * Gradient (training mode, where mean and var depend on x):
 *   dL/dbias_c = sum G,   dL/dweight_c = sum G xhat,
 *   dL/dx = weight_c / sqrt(var_c + eps) * (G - mean_c(G) - xhat mean_c(G xhat)).
 * In eval mode the running statistics are constants, so dL/dx = weight_c / sqrt(running_var_c + eps) G.
 *
 * Running statistics are updated in training mode as PyTorch's `F.batch_norm` does: with `momentum` m,
 * `running = (1 - m) running + m batch`, where the batch variance is the *unbiased* one (`sum / (m - 1)`);
 * `momentum: null` is a cumulative average (`1 / numBatchesTracked`, passed as `factor`).
 */
import { NDArray, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import type { TensorNode } from '../core/tensor-node';
import { kernels, type BinaryOp } from '../kernels';
import { gradInto, uninitialized } from './util';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics (true) or with the running ones (false). */
  training: boolean;
  /** Added to the variance before the square root (PyTorch's default 1e-5). */
  eps?: number;
  /** Running mean `[C]`: updated in place in training mode, used in eval mode. */
  runningMean?: NDArray | null;
  /** Running (unbiased) variance `[C]`: updated in place in training mode, used in eval mode. */
  runningVar?: NDArray | null;
  /** Weight of this batch in the running statistics' update (PyTorch's momentum, default 0.1). */
  factor?: number;
}

/** `[N, C, L]` of an input to batch norm, with an error naming the shape. */
export function batchNormGeometry(x: NDArray, op = 'batch_norm'): [number, number, number] {
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got shape ${shapeString(x.shape)}`);
  const n = x.shape[0];
  const c = x.shape[1];
  return [n, c, x.size / Math.max(n * c, 1)];
}

/** Per-channel sums of `x` viewed as `[n, c, l]`: sum over images (long rows), then over each plane. */
function channelSum(x: NDArray, n: number, c: number, l: number, out: NDArray): NDArray {
  if (l === 1) {
    kernels.sumAxis(x.data, 1, n, c, out.data);
    return out;
  }
  const plane = uninitialized(x, [c * l]);
  kernels.sumAxis(x.data, 1, n, c * l, plane.data);
  kernels.sumAxis(plane.data, c, l, 1, out.data);
  return out;
}

/** A per-channel vector `[c]` repeated over one image's plane, `[c, l]` (small: it stays in cache). */
function channelPlane(v: NDArray, c: number, l: number): NDArray {
  if (l === 1) return v;
  const plane = uninitialized(v, [c * l]);
  kernels.broadcastAxis(v.data, c, l, 1, plane.data);
  return plane;
}

/**
 * `out_i = a_i (op) plane` for every image i of `[n, c*l]` arrays: a per-channel constant applied without
 * materialising its broadcast to the whole batch (one small plane, n kernel calls on contiguous views).
 * `out` may be `a` (in place, as `binary` allows).
 */
function perImage(op: BinaryOp, a: NDArray, plane: NDArray, out: NDArray, n: number): void {
  const cl = plane.size;
  for (let i = 0; i < n; i++) {
    kernels.binary(op, a.data.subarray(i * cl, (i + 1) * cl), plane.data, out.data.subarray(i * cl, (i + 1) * cl));
  }
}

/** Per-channel arithmetic on `[c]` vectors (a handful of numbers, through the kernels like everything else). */
function vec(op: BinaryOp, a: NDArray, b: NDArray | number): NDArray {
  const out = uninitialized(a);
  if (typeof b === 'number') kernels.binaryScalar(op, a.data, b, out.data);
  else kernels.binary(op, a.data, b.data, out.data);
  return out;
}

function checkVector(what: string, v: NDArray | null | undefined, c: number, x: NDArray): void {
  if (!v) return;
  if (v.ndim !== 1 || v.shape[0] !== c) {
    throw new RangeError(`batch_norm: ${what} must have shape [${c}] for input ${shapeString(x.shape)}, got ${shapeString(v.shape)}`);
  }
  if (v.dtype !== x.dtype) throw new TypeError(`batch_norm: ${what} is ${v.dtype} but the input is ${x.dtype}`);
}

/**
 * Batch normalisation of `[N, C, ...]` with a per-channel weight and bias (see the file comment).
 * PyTorch: `F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)`.
 *
 * NOTE: written for few passes over the batch and few batch-sized arrays (a ResNet step runs 19 of these on
 * activations of up to 8 MB): training-mode forward reads the batch 4 times and allocates 2 arrays (the
 * centred input, kept for backward, and the output); backward makes 5 passes and 1 array. xhat is never
 * stored: `xhat = centred * invstd` is folded into per-channel constants.
 *
 * @example
 * const y = BatchNormOp.doForward(x, weight, bias, { training: true, runningMean, runningVar, factor: 0.1 });
 */
export class BatchNormOp extends Op {
  static override forward(context: Context, x: NDArray, weight: NDArray, bias: NDArray, options: BatchNormOptions): NDArray {
    const [n, c, l] = batchNormGeometry(x);
    const eps = options.eps ?? 1e-5;
    checkVector('weight', weight, c, x);
    checkVector('bias', bias, c, x);
    checkVector('running_mean', options.runningMean, c, x);
    checkVector('running_var', options.runningVar, c, x);
    const m = n * l;
    const y = uninitialized(x);
    context.geometry = [n, c, l];
    context.training = options.training;
    context.weight = weight;
    if (options.training) {
      if (m <= 1) {
        throw new RangeError(`batch_norm: expected more than 1 value per channel when training, got input ${shapeString(x.shape)}`);
      }
      const mean = vec('div', channelSum(x, n, c, l, uninitialized(x, [c])), m);
      const centered = uninitialized(x);
      perImage('sub', x, channelPlane(mean, c, l), centered, n);
      kernels.unary('square', centered.data, y.data); // y is scratch until the end
      const variance = vec('div', channelSum(y, n, c, l, uninitialized(x, [c])), m);
      const factor = options.factor ?? 0.1;
      if (options.runningMean) kernels.axpby(factor, mean.data, 1 - factor, options.runningMean.data, options.runningMean.data);
      if (options.runningVar) {
        // NOTE: the running variance is the unbiased one (m / (m - 1) times the biased), as in PyTorch.
        kernels.axpby((factor * m) / (m - 1), variance.data, 1 - factor, options.runningVar.data, options.runningVar.data);
      }
      const invstd = invStd(variance, eps);
      // y = centred * (weight invstd) + bias
      perImage('mul', centered, channelPlane(vec('mul', weight, invstd), c, l), y, n);
      perImage('add', y, channelPlane(bias, c, l), y, n);
      context.centered = centered;
      context.invstd = invstd;
    } else {
      if (!options.runningMean || !options.runningVar) {
        throw new RangeError('batch_norm: eval mode needs runningMean and runningVar');
      }
      // y = x scale + shift, scale = weight invstd, shift = bias - running_mean scale
      const invstd = invStd(options.runningVar, eps);
      const scale = vec('mul', weight, invstd);
      const shift = vec('sub', bias, vec('mul', options.runningMean, scale));
      perImage('mul', x, channelPlane(scale, c, l), y, n);
      perImage('add', y, channelPlane(shift, c, l), y, n);
      context.x = x;
      context.mean = options.runningMean.copy();
      context.invstd = invstd;
    }
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [n, c, l] = context.geometry as number[];
    const invstd = context.invstd as NDArray;
    const weight = context.weight as NDArray;
    const [needX, needW, needB] = context.needsInputGrad;
    const m = n * l;
    const scale = vec('mul', weight, invstd);
    // sum G per channel: the bias gradient, and part of the others
    const sumG = channelSum(g, n, c, l, needB ? gradInto(context, 2, weight) : uninitialized(weight));
    // work = G * centred (training) or G * x (eval); its channel sums give sum G xhat
    const work = uninitialized(g);
    let sumGXhat: NDArray;
    if (context.training) {
      kernels.binary('mul', g.data, (context.centered as NDArray).data, work.data);
      sumGXhat = vec('mul', channelSum(work, n, c, l, uninitialized(weight)), invstd);
    } else {
      // sum G (x - mean) = sum G x - mean sum G
      kernels.binary('mul', g.data, (context.x as NDArray).data, work.data);
      const sumGX = channelSum(work, n, c, l, uninitialized(weight));
      sumGXhat = vec('mul', vec('sub', sumGX, vec('mul', context.mean as NDArray, sumG)), invstd);
    }
    let gw: NDArray | null = null;
    if (needW) {
      gw = gradInto(context, 1, weight);
      gw.data.set(sumGXhat.data);
    }
    let gx: NDArray | null = null;
    if (needX) {
      gx = work; // reused: its last use was the channel sums above
      if (context.training) {
        // dL/dx = scale (G - sumG / m - xhat sumGXhat / m), xhat = centred invstd:
        //       = G scale - centred (scale invstd sumGXhat / m) - scale sumG / m
        const k = vec('div', vec('mul', vec('mul', scale, invstd), sumGXhat), m);
        const shift = vec('div', vec('mul', scale, sumG), m);
        perImage('mul', context.centered as NDArray, channelPlane(k, c, l), gx, n);
        const scalePlane = channelPlane(scale, c, l);
        const row = uninitialized(g, [scalePlane.size]);
        const cl = scalePlane.size;
        for (let i = 0; i < n; i++) {
          const gi = gx.data.subarray(i * cl, (i + 1) * cl);
          kernels.binary('mul', g.data.subarray(i * cl, (i + 1) * cl), scalePlane.data, row.data);
          kernels.binary('sub', row.data, gi, gi);
        }
        perImage('sub', gx, channelPlane(shift, c, l), gx, n);
      } else {
        perImage('mul', g, channelPlane(scale, c, l), gx, n);
      }
    }
    return [gx, gw, needB ? sumG : null];
  }
}

/** `1 / sqrt(v + eps)` per channel. */
function invStd(variance: NDArray, eps: number): NDArray {
  const out = vec('add', variance, eps);
  kernels.unary('sqrt', out.data, out.data);
  kernels.unary('reciprocal', out.data, out.data);
  return out;
}

/**
 * Batch normalisation of `[N, C, ...]` (PyTorch's `F.batch_norm`). See `BatchNormOp`.
 *
 * @example
 * const y = batchNorm(x, weight, bias, { training: true, runningMean, runningVar });
 */
export function batchNorm(x: TensorNode, weight: TensorNode, bias: TensorNode, options: BatchNormOptions): TensorNode {
  return BatchNormOp.doForward(x, weight, bias, { ...options });
}

/** @deprecated use `BatchNormOp` (op names: docs/conventions.md); removed in 0.3 */
export const BatchNormFunction = BatchNormOp;
/** @deprecated use `BatchNormOpOptions` (this type, as exported from the package); removed in 0.3 */
export type BatchNormFunctionOptions = BatchNormOptions;
