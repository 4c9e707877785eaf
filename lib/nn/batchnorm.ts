/**
 * `BatchNorm1d` and `BatchNorm2d`, PyTorch's layers of the same names: normalise each channel with the
 * batch's statistics in training mode and with running statistics in eval mode, then scale and shift it by a
 * learned `weight` (init 1) and `bias` (init 0).
 *
 * The running statistics follow PyTorch exactly: `running = (1 - momentum) running + momentum batch`, with the
 * batch's *unbiased* variance, starting from mean 0 and variance 1; `momentum: null` makes them a cumulative
 * average. They are buffers, not parameters: in `stateDict` as `running_mean`, `running_var` and
 * `num_batches_tracked` (a float scalar here; PyTorch stores it as int64), never given to an optimizer.
 *
 * @example
 * const bn = new BatchNorm2d(16);
 * const y = bn.call(x);        // x: [N, 16, H, W], normalised with this batch's mean and variance
 * bn.eval();
 * const z = bn.call(x);        // normalised with the running statistics
 */
import { NDArray, shapeString, type DType } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { BatchNormOp } from '../ops/batchnorm';
import { Module } from './module';

export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of each batch in the running statistics (default 0.1); null: a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval mode uses the batch's. */
  trackRunningStats?: boolean;
  dtype?: DType;
}

/** What BatchNorm1d and BatchNorm2d share; they differ only in the input ranks they accept. */
export abstract class BatchNorm extends Module {
  weight: TensorNode | null;
  bias: TensorNode | null;
  readonly eps: number;
  readonly momentum: number | null;
  /** Running mean per channel (a buffer, updated in place in training mode). */
  readonly runningMean: NDArray | null;
  /** Running unbiased variance per channel (a buffer). */
  readonly runningVar: NDArray | null;
  /** Training batches seen so far (a buffer: a one-element scalar array). */
  readonly _numBatchesTracked: NDArray | null;
  /** Affine off: constant weight 1 and bias 0 (the op always takes both). */
  private readonly _identity: [TensorNode, TensorNode] | null;

  protected constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new RangeError(`${new.target.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps > 0)) throw new RangeError(`${new.target.name}: eps must be positive, got ${this.eps}`);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new RangeError(`${new.target.name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    const affine = options.affine ?? true;
    this.weight = affine ? this.param('weight', NDArray.ones([numFeatures], dtype)) : null;
    this.bias = affine ? this.param('bias', NDArray.zeros([numFeatures], dtype)) : null;
    this._identity = affine
      ? null
      : [TensorNode.constant(NDArray.ones([numFeatures], dtype)), TensorNode.constant(NDArray.zeros([numFeatures], dtype))];
    const track = options.trackRunningStats ?? true;
    this.runningMean = track ? NDArray.zeros([numFeatures], dtype) : null;
    this.runningVar = track ? NDArray.ones([numFeatures], dtype) : null;
    this._numBatchesTracked = track ? NDArray.scalar(0, dtype) : null;
  }

  /** Training batches seen so far (PyTorch's `num_batches_tracked`). */
  get numBatchesTracked(): number {
    return this._numBatchesTracked ? this._numBatchesTracked.data[0] : 0;
  }

  /** Which input ranks the layer accepts (BatchNorm1d: 2 or 3; BatchNorm2d: 4). */
  protected abstract checkInput(x: TensorNode): void;

  protected override ownBuffers(): [string, NDArray][] {
    if (!this.runningMean || !this.runningVar || !this._numBatchesTracked) return [];
    return [
      ['running_mean', this.runningMean],
      ['running_var', this.runningVar],
      ['num_batches_tracked', this._numBatchesTracked],
    ];
  }

  forward(x: TensorNode): TensorNode {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new RangeError(`${this.constructor.name}: expected ${this.numFeatures} channels, got input ${shapeString(x.shape)}`);
    }
    const useBatchStats = this.training || this.runningMean === null;
    let factor = 0;
    if (this.training && this._numBatchesTracked) {
      this._numBatchesTracked.data[0] += 1;
      factor = this.momentum === null ? 1 / this._numBatchesTracked.data[0] : this.momentum;
    }
    const [weight, bias] = this._identity ?? [this.weight as TensorNode, this.bias as TensorNode];
    return BatchNormOp.doForward(x, weight, bias, {
      training: useBatchStats,
      eps: this.eps,
      // Running statistics are updated only in training mode (and used only in eval mode).
      runningMean: this.training || !useBatchStats ? this.runningMean : null,
      runningVar: this.training || !useBatchStats ? this.runningVar : null,
      factor,
    });
  }

  protected override describe(): string {
    return `${this.constructor.name}(${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null})`;
  }
}

/**
 * Batch normalisation of features `[N, C]` or sequences `[N, C, L]`, per channel C. PyTorch: `nn.BatchNorm1d`.
 *
 * @example
 * const net = new Sequential(new Linear(784, 100, { bias: false }), new BatchNorm1d(100), new ReLU());
 */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInput(x: TensorNode): void {
    if (x.shape.length !== 2 && x.shape.length !== 3) {
      throw new RangeError(`BatchNorm1d: expected input [N, C] or [N, C, L], got ${shapeString(x.shape)}`);
    }
  }
}

/**
 * Batch normalisation of images `[N, C, H, W]`, per channel C (over N, H and W). PyTorch: `nn.BatchNorm2d`.
 *
 * @example
 * const block = new Sequential(new Conv2d(16, 16, 3, { padding: 1, bias: false }), new BatchNorm2d(16), new ReLU());
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInput(x: TensorNode): void {
    if (x.shape.length !== 4) throw new RangeError(`BatchNorm2d: expected input [N, C, H, W], got ${shapeString(x.shape)}`);
  }
}
