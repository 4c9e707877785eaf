/**
 * Learning-rate schedulers (`torch.optim.lr_scheduler`): call `step()` once per epoch, after the epoch's
 * optimizer steps, and the scheduler sets the optimizer's `lr` for the next epoch.
 *
 * The learning rate is computed in closed form from the epoch count and the learning rate the optimizer had
 * when the scheduler was made (PyTorch's `_get_closed_form_lr`). PyTorch's `get_lr` updates the current rate
 * recursively instead, which gives the same numbers (up to rounding) unless something else also changes the
 * rate; chaining two schedulers on one optimizer is not supported here.
 *
 * @example
 * const opt = new SGD(params, { lr: 0.1 });
 * const sched = new CosineAnnealingLR(opt, { tMax: 50 });
 * for (let epoch = 0; epoch < 50; epoch++) {
 *   trainOneEpoch(opt);
 *   sched.step();
 * }
 */
import { nonNegative, numberIn, resolveOptions, type Check, type OptionSpecs } from './options';

/** What a scheduler needs from an optimizer: a learning rate it can read and set. */
export interface HasLearningRate {
  lr: number;
}

export interface LRSchedulerState {
  lastEpoch: number;
  baseLr: number;
}

export abstract class LRScheduler {
  /** The learning rate at epoch 0: the optimizer's when the scheduler was made. */
  baseLr: number;
  /** How many times `step()` has been called. */
  lastEpoch = 0;

  protected constructor(readonly optimizer: HasLearningRate) {
    this.baseLr = optimizer.lr;
  }

  /** The learning rate this schedule gives at `epoch` (0 is the start). */
  abstract lrAt(epoch: number): number;

  /** Ends an epoch: advances the count and sets the optimizer's learning rate. */
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The learning rate set by the last `step()` (or the base rate before any). */
  getLastLr(): number {
    return this.lrAt(this.lastEpoch);
  }

  stateDict(): LRSchedulerState {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  /** Restores a saved schedule and sets the optimizer's learning rate to match it. */
  loadStateDict(sd: LRSchedulerState): void {
    if (!Number.isInteger(sd?.lastEpoch) || sd.lastEpoch < 0 || typeof sd.baseLr !== 'number') {
      throw new TypeError(`${this.constructor.name}.loadStateDict: expected {lastEpoch: integer >= 0, baseLr: number}`);
    }
    this.lastEpoch = sd.lastEpoch;
    this.baseLr = sd.baseLr;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

const positiveInteger: Check = (v) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? null : 'must be an integer > 0');

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor applied every `stepSize` epochs. */
  gamma: number;
}

const STEP_SPECS: OptionSpecs<StepLROptions> = {
  stepSize: { check: positiveInteger, alias: 'step_size' },
  gamma: { default: 0.1, check: nonNegative },
};

/**
 * Decays the learning rate by `gamma` every `stepSize` epochs: `lr = baseLr * gamma^floor(epoch / stepSize)`.
 *
 * @example
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 });   // 0.1 for 30 epochs, then 0.01, ...
 */
export class StepLR extends LRScheduler {
  readonly options: StepLROptions;

  constructor(optimizer: HasLearningRate, options: Partial<StepLROptions> & { stepSize?: number; step_size?: number }) {
    super(optimizer);
    this.options = resolveOptions('StepLR', STEP_SPECS, options);
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.options.gamma ** Math.floor(epoch / this.options.stepSize);
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of one half-period: the rate reaches `etaMin` at epoch `tMax`. */
  tMax: number;
  /** The lowest learning rate. */
  etaMin: number;
}

const COSINE_SPECS: OptionSpecs<CosineAnnealingLROptions> = {
  tMax: { check: positiveInteger, alias: 'T_max' },
  etaMin: { default: 0, check: numberIn(0), alias: 'eta_min' },
};

/**
 * Cosine annealing without restarts: `lr = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2`.
 * Past `tMax` the rate follows the same cosine back up, as PyTorch's does.
 *
 * @example
 * const sched = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly options: CosineAnnealingLROptions;

  constructor(optimizer: HasLearningRate, options: Partial<CosineAnnealingLROptions> & { T_max?: number; eta_min?: number }) {
    super(optimizer);
    this.options = resolveOptions('CosineAnnealingLR', COSINE_SPECS, options);
  }

  lrAt(epoch: number): number {
    const { tMax, etaMin } = this.options;
    return etaMin + ((this.baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
  }
}
