/**
 * Loss functions as single ops with hand-written gradients: negative log-likelihood, multi-class margin (hinge)
 * and mean squared error. Each reduces to a scalar, the mean (default) or the sum over the batch, as PyTorch's.
 *
 * (Cross-entropy from logits is the fused `CrossEntropy` in softmax.ts.)
 */
import { NDArray } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import type { Reduction } from './softmax';
import { checkRank, checkSameShape, like, toIndices } from './util';

function checkReduction(op: string, reduction: unknown, count: number): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new RangeError(`${op}: reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  }
  if (reduction === 'mean' && count === 0) throw new RangeError(`${op}: the mean over an empty batch is undefined`);
  return reduction;
}

/**
 * Negative log-likelihood of log-probabilities X `[batch, classes]` (the output of `logsoftmax`) and integer
 * targets: `loss = -(1/n) sum_i X[i, t_i]` (mean) or without the 1/n (sum).
 *
 * Gradient: dL/dX[i, t_i] = -G/n (or -G), zero elsewhere. The course's `logceloss` is this loss with the sum.
 * PyTorch: `F.nll_loss(x, t, reduction=...)`.
 */
export class NLLLoss extends Op {
  static override forward(
    context: Context,
    x: NDArray,
    options: { targets: ArrayLike<number>; reduction?: Reduction },
  ): NDArray {
    checkRank('nll_loss', x, 2, 'log-probabilities');
    const [rows, cols] = x.shape;
    const reduction = checkReduction('nll_loss', options.reduction ?? 'mean', rows);
    const targets = toIndices('nll_loss', options.targets, rows, cols);
    const picked = like(x, [rows]);
    kernels.gather(x.data, rows, cols, targets, picked.data);
    const scale = reduction === 'mean' ? 1 / rows : 1;
    context.shape = x.shape;
    context.targets = targets;
    context.scale = scale;
    return NDArray.scalar(-kernels.sumAll(picked.data) * scale, x.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [rows, cols] = context.shape as number[];
    const perRow = NDArray.full([rows], -g.data[0] * (context.scale as number), g.dtype);
    const gx = like(g, [rows, cols]);
    kernels.scatterAxis(perRow.data, context.targets as Int32Array, rows, cols, 1, gx.data);
    return [gx];
  }
}

/**
 * Multi-class margin (hinge) loss of scores X `[batch, classes]` and integer targets, as PyTorch's
 * `nn.MultiMarginLoss`: for each row i with target y,
 * `loss_i = (1/C) sum_{j != y} max(0, margin - X[i, y] + X[i, j])^p` (p = 1 or 2), then the mean or the sum
 * over rows.
 *
 * Gradient, with h_ij = max(0, margin - X_iy + X_ij): for j != y, dL/dX_ij = s h_ij^(p-1) [h_ij > 0] (times p),
 * and dL/dX_iy = -sum_{j != y} dL/dX_ij (the target score appears in every term with the opposite sign);
 * s = G / C (/ n for the mean). PyTorch: `F.multi_margin_loss(x, t, p, margin, reduction=...)`.
 */
export class MultiMarginLoss extends Op {
  static override forward(
    context: Context,
    x: NDArray,
    options: { targets: ArrayLike<number>; margin?: number; p?: number; reduction?: Reduction },
  ): NDArray {
    checkRank('multi_margin_loss', x, 2, 'scores');
    const [rows, cols] = x.shape;
    const reduction = checkReduction('multi_margin_loss', options.reduction ?? 'mean', rows);
    const margin = options.margin ?? 1;
    const p = options.p ?? 1;
    if (p !== 1 && p !== 2) throw new RangeError(`multi_margin_loss: p must be 1 or 2, got ${p}`);
    if (typeof margin !== 'number' || !Number.isFinite(margin)) {
      throw new RangeError(`multi_margin_loss: margin must be a finite number, got ${String(margin)}`);
    }
    const targets = toIndices('multi_margin_loss', options.targets, rows, cols);
    // h = relu(margin - X_iy + X_ij) for every j, then the j = y entries (which hold max(0, margin)) set to 0.
    const picked = like(x, [rows]);
    kernels.gather(x.data, rows, cols, targets, picked.data);
    const h = like(x);
    kernels.broadcastAxis(picked.data, rows, cols, 1, h.data);
    kernels.binary('sub', x.data, h.data, h.data);
    kernels.binaryScalar('add', h.data, margin, h.data);
    kernels.unary('relu', h.data, h.data);
    const own = NDArray.full([rows], -Math.max(0, margin), x.dtype);
    kernels.scatterAxis(own.data, targets, rows, cols, 1, h.data);
    const scale = (reduction === 'mean' ? 1 / rows : 1) / cols;
    const total = p === 1 ? kernels.sumAll(h.data) : kernels.dot(h.data, h.data);
    context.h = h;
    context.targets = targets;
    context.scale = scale;
    context.p = p;
    return NDArray.scalar(total * scale, x.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    const h = context.h as NDArray;
    const [rows, cols] = h.shape;
    const s = g.data[0] * (context.scale as number);
    const gx = like(h);
    if (context.p === 1) {
      // s where h > 0 (relu's derivative applied to a gradient of s everywhere); the j = y entries have h = 0.
      const sg = NDArray.full(h.shape, s, h.dtype);
      kernels.unaryBackward('relu', h.data, h.data, sg.data, gx.data);
    } else {
      kernels.binaryScalar('mul', h.data, 2 * s, gx.data); // d(h^2) = 2h, and h = 0 where inactive
    }
    // The target entry of each row gets minus the sum of the row's other entries (currently 0 there).
    const rowSums = like(h, [rows]);
    kernels.sumAxis(gx.data, rows, cols, 1, rowSums.data);
    kernels.unary('neg', rowSums.data, rowSums.data);
    kernels.scatterAxis(rowSums.data, context.targets as Int32Array, rows, cols, 1, gx.data);
    return [gx];
  }
}

/**
 * Mean squared error of a prediction and a target of the same shape: `loss = (1/n) sum (P - T)^2` over all n
 * elements (mean), or the plain sum.
 *
 * Gradient: dL/dP = 2 G (P - T) / n and dL/dT = -dL/dP. PyTorch: `F.mse_loss(p, t, reduction=...)`.
 */
export class MSELoss extends Op {
  static override forward(context: Context, pred: NDArray, target: NDArray, options: { reduction?: Reduction } = {}): NDArray {
    checkSameShape('mse_loss', pred, target);
    const reduction = checkReduction('mse_loss', options.reduction ?? 'mean', pred.size);
    const diff = like(pred);
    kernels.binary('sub', pred.data, target.data, diff.data);
    const scale = reduction === 'mean' ? 1 / pred.size : 1;
    context.diff = diff;
    context.scale = scale;
    return NDArray.scalar(kernels.dot(diff.data, diff.data) * scale, pred.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    const diff = context.diff as NDArray;
    const gp = like(diff);
    kernels.binaryScalar('mul', diff.data, 2 * g.data[0] * (context.scale as number), gp.data);
    let gt: NDArray | null = null;
    if (context.needsInputGrad[1]) {
      gt = like(diff);
      kernels.unary('neg', gp.data, gt.data);
    }
    return [context.needsInputGrad[0] ? gp : null, gt];
  }
}
