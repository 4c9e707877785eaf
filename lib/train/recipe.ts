/**
 * The training recipe: from a `RunConfig` to a trained model. It loads the data, builds the model, the loss
 * and the optimizer, and calls `fit` once, with the loss-reduction rule in one place. The command line
 * (`vugrad train`) and the job workers are thin shells over `trainFromConfig`: they turn its events into
 * terminal lines or thread messages.
 *
 * @example
 * const config = resolveConfig({ dataset: 'synth', epochs: '2' });
 * const { history, model } = await trainFromConfig(config, { onEpoch: (m) => console.log(m.epoch, m.trainLoss) });
 */
import { Random, getRngState, manualSeed, setRngState, type RandomState } from '../core/random';
import { heldOut, type Dataset, type DatasetSplits } from '../data/dataset';
import { loadDataset, type LoadDatasetOptions } from '../data/load-dataset';
import { LeNet, MLP, ResNet, crossEntropyLoss, lossByName, type Module } from '../nn';
import { labelSmoothingCrossEntropy } from '../nn/label-smoothing';
import { stepSchedule } from '../optim/schedules';
import { paddingFill, randomCropFlip, type Augment } from '../data/augment';
import { CIFAR10_STATS } from '../data/cifar10';
import { createOptimizer, type Optimizer } from '../optim';
import { fit, type BatchMetrics, type EpochMetrics, type LossFn } from './fit';
import type { RunConfig } from './config';
import { CheckpointError, checkpointFile, loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint';
import { checkPrecision } from './precision';

/** The options `loadDataset` gets for a config. */
export function dataOptions(config: RunConfig): LoadDatasetOptions {
  return {
    dir: config.data,
    final: config.final,
    raw: config.raw,
    limit: config.limit,
    ...(config.valSize !== undefined ? { valSize: config.valSize } : {}),
    seed: config.seed,
    flatten: config.model === 'mlp',
    normalize: config.normalize,
    ...(config.dtype ? { dtype: config.dtype } : {}),
  };
}

/**
 * The splits shaped for the config's model: an MLP takes each sample as one row of features, so image
 * samples (`[N, 3, 32, 32]` from CIFAR-10, which has no flat form) become `[N, 3072]`. The data is not copied.
 */
export function shapeForModel(config: RunConfig, data: DatasetSplits): DatasetSplits {
  if (config.model !== 'mlp') return data;
  const flat = (d: Dataset | undefined): Dataset | undefined =>
    d && d.x.ndim > 2 ? { ...d, x: d.x.reshape([d.x.shape[0], d.x.shape.slice(1).reduce((a, b) => a * b, 1)]) } : d;
  const out: DatasetSplits = { train: flat(data.train) as Dataset };
  if (data.val) out.val = flat(data.val);
  if (data.test) out.test = flat(data.test);
  return out;
}

/** Loads the config's data set, shaped for its model (see `shapeForModel`). */
export async function loadData(config: RunConfig): Promise<DatasetSplits> {
  return shapeForModel(config, await loadDataset(config.dataset, dataOptions(config)));
}

/** The config's network for samples shaped like `train`'s (an MLP takes the flattened sample size). */
export function buildModel(config: RunConfig, train: Dataset): Module {
  const shape = train.x.shape.slice(1);
  if (config.model === 'lenet') {
    if (shape.length !== 3) throw new Error(`lenet needs images [C, H, W]; ${train.name} has samples of shape [${shape.join(',')}]`);
    return new LeNet({ inChannels: shape[0], numClasses: train.numClasses, imageSize: shape[1], dtype: config.dtype });
  }
  if (config.model === 'resnet20' || config.model === 'resnet8') {
    if (shape.length !== 3) throw new Error(`${config.model} needs images [C, H, W]; ${train.name} has samples of shape [${shape.join(',')}]`);
    return new ResNet({ depth: config.model === 'resnet20' ? 20 : 8, inChannels: shape[0], numClasses: train.numClasses, dtype: config.dtype });
  }
  const inputSize = shape.reduce((a, b) => a * b, 1);
  return new MLP({
    inputSize,
    hiddenSizes: config.hidden,
    outputSize: train.numClasses,
    activation: config.activation,
    init: config.init,
    dtype: config.dtype,
  });
}

/** The config's loss; cross-entropy honours `reduction` (the course sums, PyTorch averages). */
export function buildLoss(config: RunConfig): LossFn {
  if (config.loss === 'ce') {
    const reduction = config.reduction;
    const smoothing = config.labelSmoothing ?? 0;
    if (smoothing > 0) return (logits, targets) => labelSmoothingCrossEntropy(logits, targets, { smoothing, reduction });
    return (logits, targets) => crossEntropyLoss(logits, targets, { reduction });
  }
  return lossByName(config.loss);
}

/**
 * How the config's loss reduces over a batch, for the metrics: only cross-entropy follows `reduction`; the
 * other losses always average.
 */
export function lossReduction(config: RunConfig): 'mean' | 'sum' {
  return config.loss === 'ce' ? config.reduction : 'mean';
}

/** The optimizer options a config sets (the learning rate, SGD's momentum and Nesterov, weight decay when given). */
export function optimizerOptions(config: RunConfig): Record<string, number | boolean> {
  const opts: Record<string, number | boolean> = { lr: config.lr };
  if (config.optimizer === 'sgd' && config.momentum > 0) opts.momentum = config.momentum;
  if (config.optimizer === 'sgd' && config.momentum > 0 && config.nesterov) opts.nesterov = true;
  if (config.weightDecay) opts.weightDecay = config.weightDecay;
  return opts;
}

/**
 * The config's training-batch augmentation (`augment`): random crop with 4 pixels of padding and horizontal
 * flip, seeded from the run's seed (its own stream: the shuffling order does not change with `--augment`).
 * Padded pixels are black, i.e. `-mean / std` once normalised. Undefined without `augment`.
 */
export function buildAugment(config: RunConfig, train: Dataset, random?: Random): Augment | undefined {
  if (!config.augment) return undefined;
  const channels = train.x.shape[1];
  const fill = config.normalize && config.dataset === 'cifar10' ? paddingFill(CIFAR10_STATS, channels) : 0;
  return randomCropFlip({ padding: 4, flip: true, fill, random: random ?? new Random(config.seed + 0x5eed) });
}

/**
 * The config's per-step learning rate (`schedule`, `warmup` in epochs) over `epochs x stepsPerEpoch` steps, or
 * undefined for a constant rate.
 */
export function buildSchedule(config: RunConfig, stepsPerEpoch: number): ((step: number) => number) | undefined {
  if (!config.schedule) return undefined;
  const totalSteps = Math.max(1, config.epochs * stepsPerEpoch);
  const warmupSteps = config.warmup !== undefined ? Math.min(totalSteps, Math.round(config.warmup * stepsPerEpoch)) : undefined;
  return stepSchedule(config.schedule, { maxLr: config.lr, totalSteps, ...(warmupSteps !== undefined ? { warmupSteps } : {}) });
}

/** The config's optimizer over `model`'s parameters. */
export function buildOptimizer(config: RunConfig, model: Module): Optimizer {
  return createOptimizer(config.optimizer, model.parameters(), optimizerOptions(config));
}

/** What `trainFromConfig` reports once the data is loaded and the model built, before the first batch. */
export interface TrainingStart {
  data: DatasetSplits;
  /** The split evaluated after each epoch: validation, or test with `final`. */
  heldOut: Dataset;
  heldOutName: 'val' | 'test';
  model: Module;
}

/** Events, cancellation and data for `trainFromConfig`. */
export interface TrainFromConfigOptions {
  /** Data already loaded (experiments reuse it across runs); else loaded from the config. */
  data?: DatasetSplits;
  onStart?: (start: TrainingStart) => void;
  onBatch?: (m: BatchMetrics) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Cancels training: rejects with an AbortError at the next batch. */
  signal?: AbortSignal;
  /**
   * Save a checkpoint here after every epoch (`checkpoint.safetensors`, see lib/train/checkpoint), before
   * `onEpoch` reports it: a crash costs at most the epoch in flight.
   */
  checkpointDir?: string;
  /**
   * Continue from a checkpoint (its directory, or one already loaded): the model, optimizer, generators and
   * history are restored and training goes on from the next epoch up to `config.epochs`. The checkpoint's
   * model and optimizer must fit `config` (an error names the file otherwise).
   */
  resume?: string | CheckpointState;
}

/** A finished run. */
export interface TrainFromConfigResult {
  config: RunConfig;
  history: EpochMetrics[];
  model: Module;
  optimizer: Optimizer;
  heldOutName: 'val' | 'test';
  data: DatasetSplits;
}

/**
 * Trains the run `config` describes: seeds the generator, loads the data (unless given), builds the model,
 * loss and optimizer, and trains with `fit`, evaluating the held-out split after every epoch.
 */
export async function trainFromConfig(config: RunConfig, options: TrainFromConfigOptions = {}): Promise<TrainFromConfigResult> {
  const checkpoint = typeof options.resume === 'string' ? loadCheckpoint(options.resume) : options.resume;
  const source = typeof options.resume === 'string' ? checkpointFile(options.resume) : 'the checkpoint';
  if (checkpoint && checkpoint.epoch > config.epochs) {
    throw new RangeError(`resume: ${source} has ${checkpoint.epoch} epochs done, more than the ${config.epochs} asked for`);
  }
  // A run keeps its precision across a resume: the checkpoint's config says which it trained in (none: fp32).
  const precision = config.precision ?? 'fp32';
  const saved = (checkpoint?.config as Partial<RunConfig> | undefined)?.precision ?? 'fp32';
  if (checkpoint && typeof checkpoint.config === 'object' && checkpoint.config !== null && saved !== precision) {
    throw new CheckpointError(source, `resume: ${source} was trained in precision ${saved}, and this run asks for ${precision}; resume it in ${saved}`);
  }
  // Before the data loads: bf16 where it cannot run is refused with the reason, not found out minutes later.
  checkPrecision(precision, 'precision');
  manualSeed(config.seed);
  const data = options.data ? shapeForModel(config, options.data) : await loadData(config);
  options.signal?.throwIfAborted();
  const held = heldOut(data);
  const heldOutName = data.val ? 'val' : 'test';
  const model = buildModel(config, data.train);
  const optimizer = buildOptimizer(config, model);
  // The training data's own shuffling stream (what `fit` makes from `seed`), kept here to save its state.
  const shuffle = new Random(config.seed);
  if (checkpoint) {
    try {
      model.loadStateDict(checkpoint.model);
      optimizer.loadStateDict(checkpoint.optimizer);
      setRngState(checkpoint.random.global);
      if (checkpoint.random.shuffle) shuffle.setState(checkpoint.random.shuffle);
    } catch (e) {
      throw new CheckpointError(source, `${source}: does not fit this run's model or optimizer: ${(e as Error).message}`);
    }
  }
  options.onStart?.({ data, heldOut: held, heldOutName, model });
  const epochsSoFar: EpochMetrics[] = [];
  let initialLoss = typeof checkpoint?.extra?.initialLoss === 'number' ? checkpoint.extra.initialLoss : undefined;
  // The augmentation's own stream, saved in each checkpoint so a resumed run crops as an uninterrupted one.
  const augmentRandom = new Random(config.seed + 0x5eed);
  const savedAugment = checkpoint?.extra?.augment as RandomState | undefined;
  if (savedAugment) augmentRandom.setState(savedAugment);
  const augment = buildAugment(config, data.train, augmentRandom);
  const schedule = buildSchedule(config, Math.ceil(data.train.y.length / config.batchSize));
  const history = await fit(model, { train: data.train, val: held }, {
    optimizer,
    ...(augment ? { augment } : {}),
    ...(schedule ? { beforeStep: (step: number) => (optimizer.lr = schedule(step)) } : {}),
    loss: buildLoss(config),
    lossReduction: lossReduction(config),
    epochs: config.epochs,
    batchSize: config.batchSize,
    random: shuffle,
    history: checkpoint?.history,
    // Always given (fp32 when the config has none): the run does not depend on the thread's setting.
    precision,
    // The divergence rule compares with the loss at the run's start: a resumed run keeps the saved one.
    divergence: typeof checkpoint?.extra?.initialLoss === 'number' ? { reference: checkpoint.extra.initialLoss } : {},
    onReferenceLoss: (loss) => (initialLoss = loss),
    signal: options.signal,
    onBatch: options.onBatch,
    onEpoch: (m) => {
      if (options.checkpointDir) {
        saveCheckpoint(options.checkpointDir, {
          epoch: m.epoch,
          history: [...(checkpoint?.history ?? []), ...epochsSoFar, m],
          config,
          model: model.stateDict(),
          optimizer: optimizer.stateDictTyped(),
          random: { global: getRngState(), shuffle: shuffle.getState() },
          extra: {
            ...(initialLoss === undefined ? {} : { initialLoss }),
            ...(augment ? { augment: augmentRandom.getState() } : {}),
          },
        });
      }
      epochsSoFar.push(m);
      options.onEpoch?.(m);
    },
  });
  return { config, history, model, optimizer, heldOutName, data };
}
