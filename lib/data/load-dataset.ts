/**
 * One entry point for the command line and the experiments: a data set by name.
 *
 * @example
 * const { train, val } = await loadDataset('mnist');
 * const { train, test } = await loadDataset('cifar10', { dir: 'data/cifar-10-batches-bin', final: true });
 */
import { DType } from '../core/ndarray';
import { DatasetSplits } from './dataset';
import { Cifar10Options, loadCifar10 } from './cifar10';
import { loadFashionMnist } from './fashion-mnist';
import { IdxDatasetOptions, loadMnist } from './mnist';
import { checkLimit, resolveValSize } from './split';
import { loadSynth } from './synthetic';

export const DATASET_NAMES = ['synth', 'mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The options every loader understands (each ignores those that do not apply to it). */
export interface LoadDatasetOptions {
  /** Where the files are (`--data DIR`); MNIST and Fashion-MNIST have defaults, CIFAR-10 needs it. */
  dir?: string;
  /** Train on everything and return the test split (`--final`). */
  final?: boolean;
  /** MNIST-style data: keep 0..255 pixels (`--raw`, the course's setting). */
  raw?: boolean;
  dtype?: DType;
  /** MNIST-style data: `[N, 784]` (default) or `[N, 1, 28, 28]` (`false`, for LeNet). */
  flatten?: boolean;
  /** At most this many samples per split. */
  limit?: number;
  /**
   * Held out of the training data for validation (not with `final`): a fraction (`0.1`) or a count (`5000`,
   * `0` for none), `--val-size`. Defaults: the course's 5,000 of 60,000 for MNIST and Fashion-MNIST (1/12),
   * 5,000 of 50,000 for CIFAR-10 (10%), 10,000 of 70,000 for synth; a smaller copy is split in proportion.
   */
  valSize?: number;
  /** Synth: the generator's seed. */
  seed?: number;
  /** CIFAR-10: per-channel standardisation (see `Cifar10Options.normalize`). */
  normalize?: Cifar10Options['normalize'];
  /** CIFAR-10: decoding progress. */
  onProgress?: (done: number, total: number) => void;
  /** CIFAR-10: problems that do not stop the load (see `Cifar10Options.onWarning`). Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** True for the names `loadDataset` knows. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** Loads a data set by name; throws a `RangeError` listing the known names for any other. */
export async function loadDataset(name: DatasetName, options: LoadDatasetOptions = {}): Promise<DatasetSplits> {
  const idx: IdxDatasetOptions = options;
  switch (name) {
    case 'synth': {
      const limit = checkLimit('synth', options.limit);
      // NOTE: synth draws its samples, so valSize is taken out of the 70,000 it draws in all.
      const numVal = options.final ? 10_000 : resolveValSize('synth', 70_000, options.valSize, 1 / 7);
      const splits = loadSynth({
        seed: options.seed,
        dtype: options.dtype,
        numTrain: Math.min(70_000 - numVal, limit),
        numVal: Math.min(numVal, limit),
      });
      return options.final ? { train: splits.train, test: { ...(splits.val as NonNullable<typeof splits.val>), name: 'synth/test' } } : splits;
    }
    case 'mnist':
      return loadMnist(idx);
    case 'fashion-mnist':
      return loadFashionMnist(idx);
    case 'cifar10':
      return loadCifar10(options);
    default:
      throw new RangeError(`loadDataset: unknown data set '${String(name)}', expected one of ${DATASET_NAMES.join(', ')}`);
  }
}
