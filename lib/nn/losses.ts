/**
 * Loss functions with PyTorch's names, defaults and reductions (mean over the batch unless told `'sum'`).
 *
 * @example
 * const loss = crossEntropyLoss(model.call(x), labels);          // mean cross-entropy from logits
 * const hinge = multiMarginLoss(scores, labels, { reduction: 'sum' });
 * const lossFn = lossByName('mse');                               // against one-hot targets
 */
import { NDArray, type DType } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { MSELoss, MultiMarginLoss, NLLLoss } from '../ops/losses';
import { CrossEntropy, type Reduction } from '../ops/softmax';
import { toIndices } from '../ops/util';

export type { Reduction };
export { logceloss } from '../ops/functions';

export interface LossOptions {
  /** 'mean' (default) or 'sum' over the batch. */
  reduction?: Reduction;
}

/**
 * Cross-entropy from logits `[batch, classes]` and integer class targets, fused with a stable softmax.
 * PyTorch: `nn.CrossEntropyLoss` / `F.cross_entropy`.
 */
export function crossEntropyLoss(logits: TensorNode, targets: ArrayLike<number>, options: LossOptions = {}): TensorNode {
  return CrossEntropy.doForward(logits, { targets, reduction: options.reduction ?? 'mean' });
}

/**
 * Negative log-likelihood of log-probabilities `[batch, classes]` (from `logsoftmax`) and integer targets.
 * PyTorch: `nn.NLLLoss`. With `reduction: 'sum'` this is the course's `logceloss`.
 */
export function nllLoss(logProbs: TensorNode, targets: ArrayLike<number>, options: LossOptions = {}): TensorNode {
  return NLLLoss.doForward(logProbs, { targets, reduction: options.reduction ?? 'mean' });
}

export interface MultiMarginOptions extends LossOptions {
  /** Margin (default 1). */
  margin?: number;
  /** Exponent of the hinge, 1 (default) or 2. */
  p?: number;
}

/**
 * Multi-class hinge loss of scores `[batch, classes]` and integer targets:
 * `(1/C) sum_{j != y} max(0, margin - x_y + x_j)^p` per row. PyTorch: `nn.MultiMarginLoss`.
 */
export function multiMarginLoss(scores: TensorNode, targets: ArrayLike<number>, options: MultiMarginOptions = {}): TensorNode {
  return MultiMarginLoss.doForward(scores, {
    targets,
    margin: options.margin ?? 1,
    p: options.p ?? 1,
    reduction: options.reduction ?? 'mean',
  });
}

/** Mean squared error between two nodes of the same shape (mean over all elements). PyTorch: `nn.MSELoss`. */
export function mseLoss(pred: TensorNode, target: TensorNode, options: LossOptions = {}): TensorNode {
  return MSELoss.doForward(pred, target, { reduction: options.reduction ?? 'mean' });
}

/** One-hot rows `[targets.length, numClasses]`: 1 at each target's class, 0 elsewhere. */
export function oneHot(targets: ArrayLike<number>, numClasses: number, dtype: DType = 'float32'): NDArray {
  const rows = targets.length;
  const idx = toIndices('oneHot', targets, rows, numClasses);
  const out = NDArray.zeros([rows, numClasses], dtype);
  kernels.scatterAxis(NDArray.ones([rows], dtype).data, idx, rows, numClasses, 1, out.data);
  return out;
}

export type LossName = 'ce' | 'multimargin' | 'mse';
export type LossFunction = (logits: TensorNode, targets: Int32Array) => TensorNode;

/**
 * A classification loss by name, as a function of logits `[batch, classes]` and class targets (mean over the
 * batch): `'ce'` cross-entropy, `'multimargin'` the multi-class hinge, `'mse'` squared error against one-hot
 * targets (mean over batch and classes, as `nn.MSELoss`).
 */
export function lossByName(name: LossName): LossFunction {
  switch (name) {
    case 'ce':
      return (logits, targets) => crossEntropyLoss(logits, targets);
    case 'multimargin':
      return (logits, targets) => multiMarginLoss(logits, targets);
    case 'mse':
      return (logits, targets) => {
        const classes = logits.shape[logits.shape.length - 1];
        return mseLoss(logits, TensorNode.constant(oneHot(targets, classes, logits.dtype)));
      };
    default:
      throw new RangeError(`lossByName: unknown loss '${String(name)}' (expected 'ce', 'multimargin' or 'mse')`);
  }
}
