/**
 * A training run's configuration (the recipe's input): settings resolved against the data set's defaults and the
 * `course` preset, and checked (unknown values and incompatible combinations are errors that say why). The
 * command line's flags and a job's spec both arrive here as `TrainFlags`, so both train the same model.
 *
 * @example
 * const config = resolveConfig({ dataset: 'synth', epochs: '3' });   // strings, as a command line gives them
 */
import { DATASET_NAMES, type DatasetName } from '../data/load-dataset';
import { OPTIMIZER_NAMES } from '../optim';
import { SCHEDULES } from '../optim/schedules';
import { PRECISIONS } from './precision';

export const MODELS = ['mlp', 'lenet', 'resnet20', 'resnet8'] as const;
export const ACTIVATIONS = ['sigmoid', 'relu', 'tanh'] as const;
export const INITS = ['default', 'zeros', 'normal', 'glorot', 'glorot-uniform', 'he', 'he-uniform'] as const;
export const LOSSES = ['ce', 'multimargin', 'mse'] as const;
export const DTYPES = ['float32', 'float64'] as const;

/** A resolved training run: every setting the recipe needs (see `resolveConfig`). */
export interface RunConfig {
  dataset: DatasetName;
  model: (typeof MODELS)[number];
  hidden: number[];
  activation: (typeof ACTIVATIONS)[number];
  init: (typeof INITS)[number];
  optimizer: (typeof OPTIMIZER_NAMES)[number];
  momentum: number;
  lr: number;
  batchSize: number;
  epochs: number;
  loss: (typeof LOSSES)[number];
  /** 'sum' is the course's summed loss; 'mean' is PyTorch's default. */
  reduction: 'mean' | 'sum';
  seed: number;
  final: boolean;
  raw: boolean;
  /** Standardise image channels with the data set's mean and std (CIFAR-10; the course's tutorial does). */
  normalize: boolean;
  data?: string;
  limit?: number;
  /**
   * Held out of the training data for validation (`--val-size`): a fraction (0.1) or a count (5000). Absent:
   * the data set's default (10% for cifar10, 1/12 = the course's 5,000 of 60,000 for mnist and fashion-mnist).
   */
  valSize?: number;
  out?: string;
  preset?: 'course';
  /** Parameters and data in float64 (exactly reproducible across a resume; slower). Absent: float32. */
  dtype?: (typeof DTYPES)[number];
  /** Per-step learning-rate schedule (`--schedule`, lib/optim/schedules.ts). Absent: a constant rate. */
  schedule?: (typeof SCHEDULES)[number];
  /** Warm-up in epochs (`--warmup`, may be fractional): cosine's linear ramp, onecycle's rising phase. */
  warmup?: number;
  /** Label smoothing of the cross-entropy (`--label-smoothing`, PyTorch's definition). Absent: 0. */
  labelSmoothing?: number;
  /** L2 weight decay of the optimizer (`--weight-decay`). Absent: 0. */
  weightDecay?: number;
  /** SGD with Nesterov momentum (`--nesterov`). */
  nesterov?: boolean;
  /** Random crop (4-pixel padding) and horizontal flip of each training batch (`--augment`, images only). */
  augment?: boolean;
  /**
   * `'bf16'` (`--precision bf16`): mixed precision, bfloat16 matmul and convolution inputs with float32
   * accumulation, float32 weights, optimizer state and loss (see `FitOptions.precision`). Absent: fp32. A
   * checkpoint keeps it with the rest of the config, so a resumed run trains in the same precision.
   */
  precision?: (typeof PRECISIONS)[number];
}

/** Unresolved settings as the command line gives them (all optional strings/booleans); job specs become these too. */
export interface TrainFlags {
  dataset?: string;
  model?: string;
  hidden?: string;
  layers?: string;
  activation?: string;
  init?: string;
  optimizer?: string;
  momentum?: string;
  learningRate?: string;
  batchSize?: string;
  epochs?: string;
  loss?: string;
  reduction?: string;
  seed?: string;
  final?: boolean;
  raw?: boolean;
  normalize?: boolean;
  data?: string;
  limit?: string;
  valSize?: string;
  out?: string;
  preset?: string;
  dtype?: string;
  schedule?: string;
  warmup?: string;
  labelSmoothing?: string;
  weightDecay?: string;
  nesterov?: boolean;
  augment?: boolean;
  precision?: string;
}

/** The CIFAR ResNets' recipe (He et al. 2015, with a one-cycle schedule for a short run), used with `--model resnet*`. */
function resnetDefaults(dataset: DatasetName): Partial<RunConfig> {
  return {
    optimizer: 'sgd',
    momentum: 0.9,
    nesterov: true,
    lr: 0.1,
    batchSize: 128,
    epochs: 30,
    weightDecay: 5e-4,
    schedule: 'onecycle',
    ...(dataset === 'cifar10' ? { augment: true } : {}),
  };
}

/** A setting that cannot be used; the message starts with the flag (`--epochs: ...`). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: '${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/**
 * Upper bounds of the count settings: beyond them a value is a typo, not a plan. Sizes stop at the largest
 * typed-array length (2^31 - 1; memory is checked later, when tensors are made); `--epochs 1e20` would run
 * forever; `--layers 1e9` exhausted the heap building the list of layer sizes.
 */
export const LIMITS = { size: 2 ** 31 - 1, epochs: 1_000_000, layers: 1000, seed: Number.MAX_SAFE_INTEGER } as const;

function positiveInt(flag: string, value: string, max: number = LIMITS.size, why = ''): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) throw new ConfigError(`${flag}: expected a positive integer, got '${value}'`);
  if (n > max) throw new ConfigError(`${flag}: ${value.trim()} is too large (at most ${max}${why})`);
  return n;
}

/** `--val-size`: a count of samples (`5000`), a fraction (`0.1`) or a percentage (`10%`). */
function valSizeFlag(value: string): number {
  const text = String(value).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const n = percent ? Number(percent[1]) / 100 : /^\d+$/.test(text) || /^\d*\.\d+$/.test(text) ? Number(text) : NaN;
  if (n === 0) {
    throw new ConfigError("--val-size: 0 leaves no validation set to report accuracy on; use --final to train on all the training data and report the test set");
  }
  if (!(Number.isInteger(n) && n > 0) && !(n > 0 && n < 1)) {
    throw new ConfigError(
      `--val-size: expected a count of samples (e.g. 5000) or a fraction between 0 and 1 (e.g. 0.1 or 10%), got '${value}'`,
    );
  }
  return n;
}

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag}: expected a positive number, got '${value}'`);
  return n;
}

/** Defaults per data set: what trains well in a few epochs. */
function datasetDefaults(dataset: DatasetName): Omit<RunConfig, 'dataset' | 'seed' | 'final' | 'raw' | 'normalize'> {
  switch (dataset) {
    case 'synth':
      return { model: 'mlp', hidden: [16], activation: 'relu', init: 'default', optimizer: 'adam', momentum: 0, lr: 0.01, batchSize: 128, epochs: 5, loss: 'ce', reduction: 'mean' };
    case 'cifar10':
      // The course's CIFAR-10 settings (from the PyTorch tutorial it follows).
      return { model: 'lenet', hidden: [], activation: 'relu', init: 'default', optimizer: 'sgd', momentum: 0.9, lr: 0.001, batchSize: 4, epochs: 10, loss: 'ce', reduction: 'mean' };
    default:
      return { model: 'mlp', hidden: [512, 256], activation: 'relu', init: 'default', optimizer: 'adam', momentum: 0, lr: 0.001, batchSize: 128, epochs: 10, loss: 'ce', reduction: 'mean' };
  }
}

/** The course script's settings: hidden = 4 x input, sigmoid, plain SGD on the summed loss, raw pixels. */
function courseDefaults(dataset: DatasetName): Partial<RunConfig> {
  const input = dataset === 'synth' ? 2 : 784;
  return {
    model: 'mlp',
    hidden: [4 * input],
    activation: 'sigmoid',
    init: 'normal',
    optimizer: 'sgd',
    momentum: 0,
    lr: dataset === 'synth' ? 0.01 : 1e-4,
    batchSize: 128,
    epochs: 20,
    loss: 'ce',
    reduction: 'sum',
    raw: dataset !== 'synth',
  };
}

/** Resolves flags against the data set's defaults (and `--preset course`); throws a `ConfigError` naming the flag. */
export function resolveConfig(flags: TrainFlags): RunConfig {
  const dataset = oneOf('--dataset', flags.dataset ?? 'mnist', DATASET_NAMES);
  const preset = flags.preset === undefined ? undefined : oneOf('--preset', flags.preset, ['course'] as const);
  if (preset === 'course' && dataset !== 'synth' && dataset !== 'mnist' && dataset !== 'fashion-mnist') {
    throw new ConfigError(`--preset course: the course script trains on synth or mnist, not ${dataset}`);
  }
  const base: RunConfig = {
    dataset,
    seed: 0,
    final: false,
    raw: false,
    normalize: dataset === 'cifar10',
    ...datasetDefaults(dataset),
    ...(preset === 'course' ? courseDefaults(dataset) : {}),
    preset,
  };
  const c: RunConfig = { ...base };
  if (flags.model !== undefined) c.model = oneOf('--model', flags.model, MODELS);
  if (c.model.startsWith('resnet') && preset === undefined) Object.assign(c, resnetDefaults(dataset));
  if (c.model === 'mlp' && base.model === 'lenet') c.hidden = [256];
  if (flags.hidden !== undefined) c.hidden = flags.hidden.split(',').map((h) => positiveInt('--hidden', h));
  if (flags.layers !== undefined) {
    const layers = Number(flags.layers);
    if (!Number.isInteger(layers) || layers < 0) throw new ConfigError(`--layers: expected a non-negative integer, got '${flags.layers}'`);
    if (layers > LIMITS.layers) throw new ConfigError(`--layers: ${flags.layers} is too large (at most ${LIMITS.layers} hidden layers)`);
    c.hidden = Array.from({ length: layers }, () => c.hidden[0] ?? 256);
  }
  if (flags.activation !== undefined) c.activation = oneOf('--activation', flags.activation, ACTIVATIONS);
  if (flags.init !== undefined) c.init = oneOf('--init', flags.init, INITS);
  if (flags.optimizer !== undefined) c.optimizer = oneOf('--optimizer', flags.optimizer, OPTIMIZER_NAMES);
  if (flags.momentum !== undefined) {
    const m = Number(flags.momentum);
    if (!Number.isFinite(m) || m < 0 || m >= 1) throw new ConfigError(`--momentum: expected a number in [0, 1), got '${flags.momentum}'`);
    c.momentum = m;
  }
  if (flags.learningRate !== undefined) c.lr = positiveNumber('--learning-rate', flags.learningRate);
  if (flags.batchSize !== undefined) c.batchSize = positiveInt('--batch-size', flags.batchSize);
  if (flags.epochs !== undefined) c.epochs = positiveInt('--epochs', flags.epochs, LIMITS.epochs);
  if (flags.loss !== undefined) c.loss = oneOf('--loss', flags.loss, LOSSES);
  if (flags.reduction !== undefined) c.reduction = oneOf('--reduction', flags.reduction, ['mean', 'sum'] as const);
  if (flags.seed !== undefined) {
    const s = Number(flags.seed);
    if (!Number.isInteger(s) || s < 0) throw new ConfigError(`--seed: expected a non-negative integer, got '${flags.seed}'`);
    if (s > LIMITS.seed) throw new ConfigError(`--seed: ${flags.seed} is too large (at most ${LIMITS.seed}, 2^53 - 1, the largest integer a number holds exactly)`);
    c.seed = s;
  }
  if (flags.final) c.final = true;
  if (flags.raw) c.raw = true;
  if (flags.normalize !== undefined) c.normalize = flags.normalize;
  if (c.normalize && dataset !== 'cifar10') throw new ConfigError(`--normalize: per-channel standardisation is for cifar10, not ${dataset}`);
  if (flags.data !== undefined) c.data = flags.data;
  if (flags.limit !== undefined) c.limit = positiveInt('--limit', flags.limit);
  if (flags.valSize !== undefined) {
    if (c.final) throw new ConfigError(`--val-size: there is no validation set with --final (it trains on all the training data and reports the test set)`);
    c.valSize = valSizeFlag(flags.valSize);
  }
  if (flags.out !== undefined) c.out = flags.out;
  if (flags.dtype !== undefined) {
    const dtype = oneOf('--dtype', flags.dtype, DTYPES);
    if (dtype !== 'float32') c.dtype = dtype;
  }
  if (c.model !== 'mlp' && dataset !== 'cifar10' && dataset !== 'mnist' && dataset !== 'fashion-mnist') {
    throw new ConfigError(`--model ${c.model} needs image data (cifar10, mnist or fashion-mnist), not ${dataset}`);
  }
  if (flags.schedule !== undefined) {
    const s = oneOf('--schedule', flags.schedule, SCHEDULES);
    if (s === 'constant') delete c.schedule;
    else c.schedule = s;
  }
  if (flags.warmup !== undefined) {
    const w = Number(flags.warmup);
    if (flags.warmup.trim() === '' || !Number.isFinite(w) || w < 0) throw new ConfigError(`--warmup: expected a number of epochs >= 0, got '${flags.warmup}'`);
    if (w > c.epochs) throw new ConfigError(`--warmup: ${w} epochs of warm-up is more than the run's ${c.epochs} epochs`);
    c.warmup = w;
  }
  if (flags.labelSmoothing !== undefined) {
    const e = Number(flags.labelSmoothing);
    if (flags.labelSmoothing.trim() === '' || !(e >= 0 && e < 1)) throw new ConfigError(`--label-smoothing: expected a number in [0, 1), got '${flags.labelSmoothing}'`);
    if (e > 0 && c.loss !== 'ce') throw new ConfigError(`--label-smoothing: applies to the cross-entropy loss, not --loss ${c.loss}`);
    if (e > 0) c.labelSmoothing = e;
    else delete c.labelSmoothing;
  }
  if (flags.weightDecay !== undefined) {
    const d = Number(flags.weightDecay);
    if (flags.weightDecay.trim() === '' || !Number.isFinite(d) || d < 0) throw new ConfigError(`--weight-decay: expected a number >= 0, got '${flags.weightDecay}'`);
    if (d > 0) c.weightDecay = d;
    else delete c.weightDecay;
  }
  if (flags.nesterov !== undefined) {
    if (flags.nesterov && c.optimizer !== 'sgd') throw new ConfigError(`--nesterov: Nesterov momentum is an SGD setting, not ${c.optimizer}'s`);
    if (flags.nesterov) c.nesterov = true;
    else delete c.nesterov;
  }
  if (c.nesterov && !(c.optimizer === 'sgd' && c.momentum > 0)) {
    if (flags.nesterov) throw new ConfigError('--nesterov: needs SGD with --momentum > 0');
    delete c.nesterov; // a resnet default that the chosen optimizer does not have
  }
  if (flags.augment !== undefined) {
    if (flags.augment) c.augment = true;
    else delete c.augment;
  }
  if (c.augment && (c.model === 'mlp' || dataset === 'synth')) {
    throw new ConfigError(`--augment: random crops and flips are for image models (lenet, resnet*), not --model ${c.model}${dataset === 'synth' ? ' on synth' : ''}`);
  }
  if (flags.precision !== undefined) {
    // Only the value is checked here: whether bf16 runs depends on the machine that trains (a job may be
    // queued on one machine and trained on another), so fit and the CLI check that.
    const p = oneOf('--precision', flags.precision, PRECISIONS);
    if (p === 'bf16' && c.dtype === 'float64') {
      throw new ConfigError('--precision bf16: rounds float32 matmul and convolution inputs, and a float64 run has none (choose bf16 or float64)');
    }
    if (p === 'bf16') c.precision = p;
    else delete c.precision;
  }
  if (c.model === 'mlp' && c.hidden.length === 0 && flags.layers === undefined) c.hidden = [256];
  return c;
}
