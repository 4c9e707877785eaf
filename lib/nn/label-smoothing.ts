/**
 * Cross-entropy with label smoothing, PyTorch's definition (`F.cross_entropy(x, t, label_smoothing=eps)`):
 * the target distribution puts `1 - eps + eps / K` on the true class and `eps / K` on each other class, so
 * each sample's loss is
 *
 *   (1 - eps) (-log p[t]) + eps mean_k (-log p[k]),
 *
 * averaged over the batch ('mean') or summed ('sum'). Composed from the fused cross-entropy and log-softmax
 * ops, so its gradient comes for free: `softmax(x) - (1 - eps) onehot(t) - eps / K` per row (over N for the
 * mean).
 *
 * @example
 * const loss = labelSmoothingCrossEntropy(logits, targets, { smoothing: 0.1 });
 */
import type { TensorNode } from '../core/tensor-node';
import { MulScalar, Add } from '../ops/elementwise';
import { Sum } from '../ops/reduce';
import { CrossEntropy, LogSoftmax, type Reduction } from '../ops/softmax';

export interface LabelSmoothingOptions {
  /** eps in [0, 1] (PyTorch's `label_smoothing`); 0 is plain cross-entropy. */
  smoothing: number;
  /** 'mean' (default) or 'sum' over the batch. */
  reduction?: Reduction;
}

/** Cross-entropy from logits `[N, K]` and class indices with label smoothing (see the file comment). */
export function labelSmoothingCrossEntropy(logits: TensorNode, targets: ArrayLike<number>, options: LabelSmoothingOptions): TensorNode {
  const eps = options.smoothing;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`label smoothing: expected a value in [0, 1], got ${eps}`);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new RangeError(`label smoothing: reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  const ce = CrossEntropy.doForward(logits, { targets, reduction });
  if (eps === 0) return ce;
  const [n, k] = logits.shape;
  // eps * mean_k(-log p[k]), summed (or averaged) over the batch: -eps / K * sum(log_softmax) (/ N)
  const smooth = MulScalar.doForward(Sum.doForward(LogSoftmax.doForward(logits)), {
    value: -eps / (k * (reduction === 'mean' ? n : 1)),
  });
  return Add.doForward(MulScalar.doForward(ce, { value: 1 - eps }), smooth);
}
