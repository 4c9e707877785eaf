/**
 * Softmax, log-softmax and a fused cross-entropy, all row-wise over `[batch, classes]`, all numerically
 * stable (the row maximum is subtracted before exponentiating, so inputs of +-1000 stay finite).
 */
import { NDArray } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import { checkRank, like, toIndices, uninitialized } from './util';

/**
 * Row-wise softmax, `Y_ij = exp(X_ij) / sum_k exp(X_ik)`.
 *
 * Gradient: dL/dX_ij = Y_ij (G_ij - sum_k G_ik Y_ik). PyTorch: `torch.softmax(x, 1)`.
 */
export class Softmax extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    checkRank('softmax', x, 2);
    const y = like(x);
    kernels.softmax(x.data, x.shape[0], x.shape[1], y.data);
    context.y = y;
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const y = context.y as NDArray;
    const gx = like(g);
    kernels.softmaxBackward(y.data, g.data, y.shape[0], y.shape[1], gx.data);
    return [gx];
  }
}

/**
 * Row-wise log-softmax, `Y_ij = X_ij - log sum_k exp(X_ik)`.
 *
 * Gradient: dL/dX_ij = G_ij - exp(Y_ij) sum_k G_ik. PyTorch: `torch.log_softmax(x, 1)`.
 */
export class LogSoftmax extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    checkRank('logsoftmax', x, 2);
    const y = like(x);
    kernels.logSoftmax(x.data, x.shape[0], x.shape[1], y.data);
    context.y = y;
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const y = context.y as NDArray;
    const gx = like(g);
    kernels.logSoftmaxBackward(y.data, g.data, y.shape[0], y.shape[1], gx.data);
    return [gx];
  }
}

export type Reduction = 'mean' | 'sum';

/**
 * Cross-entropy from logits and integer class targets, fused with the softmax: for each row,
 * `loss_i = -log softmax(X)_i,t_i`, then the mean (default) or the sum over the batch.
 *
 * Gradient: dL/dX_ij = G (softmax(X)_ij - [j = t_i]) (divided by the batch size for the mean).
 * PyTorch: `F.cross_entropy(x, t, reduction=...)`.
 */
export class CrossEntropy extends Op {
  static override forward(
    context: Context,
    x: NDArray,
    options: { targets: ArrayLike<number>; reduction?: Reduction },
  ): NDArray {
    checkRank('cross_entropy', x, 2, 'logits');
    const [rows, cols] = x.shape;
    const reduction = options.reduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum') {
      throw new RangeError(`cross_entropy: reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
    }
    if (reduction === 'mean' && rows === 0) throw new RangeError('cross_entropy: the mean over an empty batch is undefined');
    const targets = toIndices('cross_entropy', options.targets, rows, cols);
    const losses = uninitialized(x, [rows]);
    const probs = uninitialized(x);
    kernels.crossEntropy(x.data, rows, cols, targets, losses.data, probs.data);
    context.probs = probs;
    context.targets = targets;
    context.scale = reduction === 'mean' ? 1 / rows : 1;
    const total = kernels.sumAll(losses.data) * (context.scale as number);
    return NDArray.scalar(total, x.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    const probs = context.probs as NDArray;
    const [rows, cols] = probs.shape;
    const scale = NDArray.full([rows], g.data[0] * (context.scale as number), g.dtype);
    const gx = uninitialized(probs);
    kernels.crossEntropyBackward(probs.data, context.targets as Int32Array, scale.data, rows, cols, gx.data);
    return [gx];
  }
}
