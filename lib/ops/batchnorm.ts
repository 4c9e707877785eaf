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
import { kernels } from '../kernels';
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

/** A per-channel vector `[c]` repeated to `[n, c, l]` (the adjoint of channelSum). */
function channelBroadcast(v: NDArray, n: number, c: number, l: number, like: NDArray): NDArray {
  const out = uninitialized(like);
  if (l === 1) {
    kernels.broadcastAxis(v.data, 1, n, c, out.data);
    return out;
  }
  const plane = uninitialized(like, [c * l]);
  kernels.broadcastAxis(v.data, c, l, 1, plane.data);
  kernels.broadcastAxis(plane.data, 1, n, c * l, out.data);
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
 * @example
 * const y = BatchNormFunction.doForward(x, weight, bias, { training: true, runningMean, runningVar, factor: 0.1 });
 */
export class BatchNormFunction extends Op {
  static override forward(context: Context, x: NDArray, weight: NDArray, bias: NDArray, options: BatchNormOptions): NDArray {
    const [n, c, l] = batchNormGeometry(x);
    const eps = options.eps ?? 1e-5;
    checkVector('weight', weight, c, x);
    checkVector('bias', bias, c, x);
    checkVector('running_mean', options.runningMean, c, x);
    checkVector('running_var', options.runningVar, c, x);
    const m = n * l;
    let mean: NDArray;
    let variance: NDArray;
    let centered: NDArray;
    if (options.training) {
      if (m <= 1) {
        throw new RangeError(`batch_norm: expected more than 1 value per channel when training, got input ${shapeString(x.shape)}`);
      }
      mean = channelSum(x, n, c, l, uninitialized(x, [c]));
      kernels.binaryScalar('div', mean.data, m, mean.data);
      centered = channelBroadcast(mean, n, c, l, x);
      kernels.binary('sub', x.data, centered.data, centered.data);
      const sq = uninitialized(x);
      kernels.unary('square', centered.data, sq.data);
      variance = channelSum(sq, n, c, l, uninitialized(x, [c]));
      kernels.binaryScalar('div', variance.data, m, variance.data);
      const factor = options.factor ?? 0.1;
      if (options.runningMean) kernels.axpby(factor, mean.data, 1 - factor, options.runningMean.data, options.runningMean.data);
      if (options.runningVar) {
        // NOTE: the running variance is the unbiased one (m / (m - 1) times the biased), as in PyTorch.
        kernels.axpby((factor * m) / (m - 1), variance.data, 1 - factor, options.runningVar.data, options.runningVar.data);
      }
    } else {
      if (!options.runningMean || !options.runningVar) {
        throw new RangeError('batch_norm: eval mode needs runningMean and runningVar');
      }
      mean = options.runningMean.copy();
      variance = options.runningVar.copy();
      centered = channelBroadcast(mean, n, c, l, x);
      kernels.binary('sub', x.data, centered.data, centered.data);
    }
    // invstd = 1 / sqrt(var + eps), per channel
    const invstd = uninitialized(x, [c]);
    kernels.binaryScalar('add', variance.data, eps, invstd.data);
    kernels.unary('sqrt', invstd.data, invstd.data);
    kernels.unary('reciprocal', invstd.data, invstd.data);
    const xhat = centered; // normalised in place
    const invstdFull = channelBroadcast(invstd, n, c, l, x);
    kernels.binary('mul', xhat.data, invstdFull.data, xhat.data);
    const y = channelBroadcast(weight, n, c, l, x);
    kernels.binary('mul', xhat.data, y.data, y.data);
    const b = channelBroadcast(bias, n, c, l, x);
    kernels.binary('add', y.data, b.data, y.data);
    context.xhat = xhat;
    context.invstd = invstd;
    context.weight = weight;
    context.geometry = [n, c, l];
    context.training = options.training;
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [n, c, l] = context.geometry as number[];
    const xhat = context.xhat as NDArray;
    const invstd = context.invstd as NDArray;
    const weight = context.weight as NDArray;
    const [needX, needW, needB] = context.needsInputGrad;
    const m = n * l;
    let gb: NDArray | null = null;
    let gw: NDArray | null = null;
    let gx: NDArray | null = null;
    // Sums of G and of G xhat per channel: the bias and weight gradients, and what dL/dx needs in training mode.
    const sumG = channelSum(g, n, c, l, needB ? gradInto(context, 2, weight) : uninitialized(weight));
    const gxhat = uninitialized(g);
    kernels.binary('mul', g.data, xhat.data, gxhat.data);
    const sumGXhat = channelSum(gxhat, n, c, l, needW ? gradInto(context, 1, weight) : uninitialized(weight));
    if (needB) gb = sumG;
    if (needW) gw = sumGXhat;
    if (needX) {
      // scale_c = weight_c invstd_c
      const scale = uninitialized(weight);
      kernels.binary('mul', weight.data, invstd.data, scale.data);
      if (context.training) {
        // dL/dx = scale (G - sumG / m - xhat sumGXhat / m); gxhat is reused as the work array.
        const meanG = uninitialized(weight);
        kernels.binaryScalar('div', sumG.data, m, meanG.data);
        const meanGXhat = uninitialized(weight);
        kernels.binaryScalar('div', sumGXhat.data, m, meanGXhat.data);
        const t = channelBroadcast(meanGXhat, n, c, l, g);
        kernels.binary('mul', xhat.data, t.data, gxhat.data);
        const mg = channelBroadcast(meanG, n, c, l, g);
        kernels.binary('add', gxhat.data, mg.data, gxhat.data);
        gx = uninitialized(g);
        kernels.binary('sub', g.data, gxhat.data, gx.data);
        const s = channelBroadcast(scale, n, c, l, g);
        kernels.binary('mul', gx.data, s.data, gx.data);
      } else {
        gx = channelBroadcast(scale, n, c, l, g);
        kernels.binary('mul', g.data, gx.data, gx.data);
      }
    }
    return [gx, gw, gb];
  }
}

/**
 * Batch normalisation of `[N, C, ...]` (PyTorch's `F.batch_norm`). See `BatchNormFunction`.
 *
 * @example
 * const y = batchNorm(x, weight, bias, { training: true, runningMean, runningVar });
 */
export function batchNorm(x: TensorNode, weight: TensorNode, bias: TensorNode, options: BatchNormOptions): TensorNode {
  return BatchNormFunction.doForward(x, weight, bias, { ...options });
}
