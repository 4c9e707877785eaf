/**
 * The training loop: epochs of forward, loss, backward and an optimizer step over a DataLoader, with
 * progress callbacks, cancellation and regular yields to the event loop.
 *
 * @example
 * const model = new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10 });
 * const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
 * const history = await fit(model, { train, val }, { optimizer, epochs: 5, batchSize: 128,
 *   onEpoch: (m) => console.log(m.epoch, m.trainLoss, m.valAccuracy) });
 */
import { NDArray } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { DataLoader } from '../data/loader';
import type { Random } from '../core/random';
import { DIVERGENCE_FACTOR, checkEpochLoss, nonFiniteLoss } from './divergence';
import type { Dataset } from '../data/dataset';
import type { Augment } from '../data/augment';
import { kernels, type Precision } from '../kernels';
import { PrecisionScope, awaitOutside, checkPrecision } from './precision';

/** What fit needs of a model: a forward pass and its parameters (any `Module` has these). */
export interface Trainable {
  forward(x: TensorNode): TensorNode;
  parameters(): TensorNode[];
  train(): unknown;
  eval(): unknown;
}

/** What fit needs of an optimizer. */
export interface Steppable {
  step(): void;
  zeroGrad(): void;
}

/** A loss from logits `[batch, classes]` and integer targets. */
export type LossFn = (logits: TensorNode, targets: Int32Array) => TensorNode;

export interface BatchMetrics {
  epoch: number;
  batch: number;
  batches: number;
  /** Mean loss per sample in this batch. */
  loss: number;
  accuracy: number;
  samples: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Mean loss per training sample over the epoch. */
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  samplesPerSec: number;
}

export interface FitOptions {
  optimizer: Steppable;
  loss: LossFn;
  epochs: number;
  batchSize: number;
  /** Seeds the shuffling of the training data. */
  seed?: number;
  /**
   * The generator that shuffles the training data (instead of `seed`): pass your own to save its state in a
   * checkpoint (`getState`) and restore it on resume, so that the resumed epochs see the same batches.
   */
  random?: Random;
  /**
   * Resuming: the epochs already trained, in order (their metrics come first in the result). Training runs
   * epochs `history.length + 1` to `epochs`; the model, optimizer and `random` must be restored by the
   * caller to their state after the last of them. Default: none (a fresh run).
   */
  history?: readonly EpochMetrics[];
  /** 'sum' when the loss sums over the batch (the course's); metrics are then divided by the batch size. */
  lossReduction?: 'mean' | 'sum';
  onBatch?: (m: BatchMetrics) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Cancels training: fit rejects with an AbortError at the next batch. */
  signal?: AbortSignal;
  /** Yield to the event loop when a stretch of work has run this long (ms). Default 10. */
  yieldEveryMs?: number;
  /**
   * The divergence rule (see lib/train/divergence): a non-finite batch loss, or an epoch loss over `factor`
   * (default 1000) x the reference, throws a `DivergenceError`. `reference` is the loss at the start of the
   * run (default: this call's first batch; give the saved one when resuming). `false` turns rule 2 off.
   */
  divergence?: false | { factor?: number; reference?: number };
  /** Called once with the first batch's loss (per sample) when no `divergence.reference` was given. */
  onReferenceLoss?: (loss: number) => void;
  /** Rewrites each training batch (data augmentation, e.g. `randomCropFlip`); never the held-out data. */
  augment?: Augment;
  /**
   * Called before each optimizer step with the step's index over the whole run (0-based; a resumed run goes
   * on counting from its epochs done): per-step learning-rate schedules set the optimizer's rate here.
   */
  beforeStep?: (step: number) => void;
  /**
   * `'bf16'`: mixed precision (issue 20). The inputs of every matmul and convolution are rounded to bfloat16 and
   * accumulated in float32; the weights, the optimizer's state and the loss stay float32 (PyTorch's
   * `torch.autocast('cpu', torch.bfloat16)` with float32 master weights). The evaluation after each epoch runs
   * in the same precision. Checked before anything is trained: a precision that cannot run here (bf16 needs the
   * oneDNN addon and a CPU with AVX512_BF16) is an error naming the reason. The run's precision holds only while
   * the run's own code runs: at each yield to the event loop, and when fit returns or throws, the thread has its
   * previous setting back. Default: the thread's setting (`getPrecision()`), `'fp32'` unless `setPrecision`
   * changed it.
   */
  precision?: Precision;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Number of rows of `logits` whose largest entry is at the target class. */
export function countCorrect(logits: NDArray, targets: Int32Array): number {
  const predicted = predictClasses(logits);
  let correct = 0;
  for (let r = 0; r < predicted.length; r++) if (predicted[r] === targets[r]) correct++;
  return correct;
}

/** Class predictions (argmax of the logits) for every row. */
export function predictClasses(logits: NDArray): Int32Array {
  const [rows, cols] = logits.shape;
  const argmax = new Int32Array(rows);
  kernels.maxAxis(logits.data, rows, cols, 1, NDArray.zeros([rows], logits.dtype).data, argmax);
  return argmax;
}

/** Mean loss and accuracy of a model on a dataset, in eval mode, in batches. */
export async function evaluate(
  model: Trainable,
  data: Dataset,
  options: {
    loss: LossFn;
    batchSize?: number;
    lossReduction?: 'mean' | 'sum';
    signal?: AbortSignal;
    /** Matmul and convolution input precision for this evaluation (see `FitOptions.precision`); default: the thread's. */
    precision?: Precision;
  },
): Promise<{ loss: number; accuracy: number }> {
  const scope = options.precision === undefined ? null : new PrecisionScope(checkPrecision(options.precision, 'evaluate: precision'));
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  let last = Date.now();
  scope?.enter();
  try {
    for (const { x, y } of new DataLoader(data, { batchSize: options.batchSize ?? 1000 })) {
      options.signal?.throwIfAborted();
      const logits = model.forward(TensorNode.constant(x));
      const loss = options.loss(logits, y).item();
      lossSum += options.lossReduction === 'sum' ? loss : loss * y.length;
      correct += countCorrect(logits.value, y);
      n += y.length;
      if (Date.now() - last > 10) {
        await awaitOutside(scope, yieldToEventLoop);
        last = Date.now();
      }
    }
  } finally {
    scope?.exit();
  }
  model.train();
  return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN };
}

/**
 * Trains `model` on `data.train` for `options.epochs` epochs, evaluating on `data.val` (or `data.test`) after
 * each. Resolves with one EpochMetrics per epoch. Throws when the loss becomes NaN or infinite. With
 * `history`, continues an interrupted run from the epoch after its last.
 */
export async function fit(
  model: Trainable,
  data: { train: Dataset; val?: Dataset; test?: Dataset },
  options: FitOptions,
): Promise<EpochMetrics[]> {
  const { optimizer, epochs, batchSize } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`fit: epochs must be a positive integer, got ${epochs}`);
  const held = data.val ?? data.test;
  const prior = options.history ?? [];
  if (prior.length > epochs) throw new RangeError(`fit: history already holds ${prior.length} epochs, more than epochs = ${epochs}`);
  // Before any training: bf16 where it cannot run is an error with the reason, not a silent fp32 run.
  const precision = options.precision === undefined ? undefined : checkPrecision(options.precision, 'fit: precision');
  const scope = precision === undefined ? null : new PrecisionScope(precision);
  const loader = new DataLoader(data.train, {
    batchSize,
    shuffle: true,
    ...(options.random ? { random: options.random } : { seed: options.seed }),
    ...(options.augment ? { augment: options.augment } : {}),
  });
  const sumReduction = options.lossReduction === 'sum';
  const yieldEvery = options.yieldEveryMs ?? 10;
  const history: EpochMetrics[] = [...prior];
  const divergence = options.divergence === false ? null : options.divergence ?? {};
  let reference = divergence ? divergence.reference : undefined;
  let lastYield = Date.now();

  model.train();
  scope?.enter();
  try {
    await trainEpochs();
  } finally {
    scope?.exit();
  }
  return history;

  async function trainEpochs(): Promise<void> {
    for (let epoch = prior.length + 1; epoch <= epochs; epoch++) {
      const start = process.hrtime.bigint();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let batch = 0;
      for (const { x, y } of loader) {
        options.signal?.throwIfAborted();
        const logits = model.forward(TensorNode.constant(x));
        const loss = options.loss(logits, y);
        optimizer.zeroGrad();
        loss.backward();
        options.beforeStep?.((epoch - 1) * loader.length + batch);
        optimizer.step();
        const value = loss.item();
        if (!Number.isFinite(value)) throw nonFiniteLoss(epoch, batch + 1, value, reference);
        const perSample = sumReduction ? value / y.length : value;
        if (reference === undefined) {
          reference = perSample;
          options.onReferenceLoss?.(perSample);
        }
        const batchCorrect = countCorrect(logits.value, y);
        lossSum += perSample * y.length;
        correct += batchCorrect;
        seen += y.length;
        batch++;
        loss.clear();
        options.onBatch?.({
          epoch,
          batch,
          batches: loader.length,
          loss: perSample,
          accuracy: batchCorrect / y.length,
          samples: seen,
        });
        if (Date.now() - lastYield >= yieldEvery) {
          await awaitOutside(scope, yieldToEventLoop);
          lastYield = Date.now();
        }
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (divergence && reference !== undefined) {
        const diverged = checkEpochLoss(epoch, lossSum / seen, reference, divergence.factor ?? DIVERGENCE_FACTOR);
        if (diverged) throw diverged;
      }
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correct / seen,
        seconds,
        samplesPerSec: seen / seconds,
      };
      if (held) {
        // Evaluated in the run's precision (as under autocast); evaluate keeps it to its own stretches too.
        const v = await awaitOutside(scope, () =>
          evaluate(model, held, { loss: options.loss, lossReduction: options.lossReduction, signal: options.signal, precision }),
        );
        metrics.valLoss = v.loss;
        metrics.valAccuracy = v.accuracy;
      }
      history.push(metrics);
      options.onEpoch?.(metrics);
    }
  }
}
