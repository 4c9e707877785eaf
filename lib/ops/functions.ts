/**
 * The course's functions: activations and losses composed from ops, so their gradients come for free.
 *
 * @example
 * const probs = softmax(logits);
 * const courseLoss = logceloss(logsoftmax(logits), targets); // summed, as the course defines it
 * // (the mean cross-entropy from logits, fused and stable, is `crossEntropyLoss(logits, targets)`, with the losses)
 */
import type { TensorNode } from '../core/tensor-node';
import { Log, ReLU, Sigmoid } from './unary';
import { Sum } from './reduce';
import { Select } from './shape';
import { CrossEntropy, LogSoftmax, Softmax, type Reduction } from './softmax';
import { MulScalar } from './elementwise';

/** Logistic sigmoid of every element. */
export function sigmoid(x: TensorNode): TensorNode {
  return Sigmoid.doForward(x);
}

/** max(x, 0) of every element. */
export function relu(x: TensorNode): TensorNode {
  return ReLU.doForward(x);
}

/** Row-wise softmax of `[batch, classes]` scores (stable). */
export function softmax(x: TensorNode): TensorNode {
  return Softmax.doForward(x);
}

/** Row-wise log-softmax of `[batch, classes]` scores (stable: finite for +-1000). */
export function logsoftmax(x: TensorNode): TensorNode {
  return LogSoftmax.doForward(x);
}

/**
 * The course's cross-entropy loss from *probabilities* `[batch, classes]`: `-sum_i log p[i, t_i]`, summed over
 * the batch. Prefer `crossEntropyLoss` on logits: it is stable and fused.
 */
export function celoss(probabilities: TensorNode, targets: ArrayLike<number>): TensorNode {
  const picked = Select.doForward(probabilities, { indices: targets });
  return MulScalar.doForward(Sum.doForward(Log.doForward(picked)), { value: -1 });
}

/**
 * The course's cross-entropy from *log-probabilities* (the output of `logsoftmax`):
 * `-sum_i logp[i, t_i]`, summed over the batch.
 */
export function logceloss(logProbabilities: TensorNode, targets: ArrayLike<number>): TensorNode {
  const picked = Select.doForward(logProbabilities, { indices: targets });
  return MulScalar.doForward(Sum.doForward(picked), { value: -1 });
}

/**
 * Cross-entropy from logits and integer targets, as PyTorch's `F.cross_entropy`: the mean over the batch by
 * default, or the sum with `{ reduction: 'sum' }`. Fused with the softmax and numerically stable.
 *
 * @deprecated use `crossEntropyLoss` (the same loss: losses are named `...Loss`, docs/conventions.md); removed
 * in 0.3. NOTE: a function rather than an alias: crossEntropyLoss is in nn, a layer above ops.
 */
export function crossEntropy(logits: TensorNode, targets: ArrayLike<number>, options: { reduction?: Reduction } = {}): TensorNode {
  return CrossEntropy.doForward(logits, { targets, reduction: options.reduction ?? 'mean' });
}
