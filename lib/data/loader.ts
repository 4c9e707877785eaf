/**
 * Batches of a Dataset, optionally shuffled with a seeded generator: PyTorch's `DataLoader` for in-memory data.
 *
 * Each `for ... of` over the loader is one epoch. With `shuffle`, every epoch draws a fresh permutation from
 * the loader's generator, so two loaders made with the same `seed` give the same batches epoch after epoch.
 * Every sample appears exactly once per epoch; the last batch is smaller unless `dropLast` drops it.
 * Each batch is newly allocated (the training loop may keep it), so batches never change under you.
 *
 * @example
 * const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1 });
 * loader.length;                       // number of batches per epoch
 * for (const { x, y } of loader) {     // x: NDArray [b, 784], y: Int32Array of length b
 *   // forward, loss, backward, step
 * }
 */
import { NDArray, allocate } from '../core/ndarray';
import { Random, globalRandom } from '../core/random';
import { Dataset, datasetSize, featureShape } from './dataset';
import { ChannelStats, normalizeChannels } from './normalize';
import type { Augment } from './augment';

export interface DataLoaderOptions {
  /** Samples per batch. Default 32 (the course uses 128). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch. Default false, as in PyTorch. */
  shuffle?: boolean;
  /** Seeds the loader's own generator; without it (and without `random`) the library-wide one is used. */
  seed?: number;
  /** The generator to shuffle with (ignored when `seed` is given). */
  random?: Random;
  /** Drop the last, smaller batch. Default false. */
  dropLast?: boolean;
  /** Standardise each batch per channel (axis 1): `(x - mean) / std`. The dataset itself is not changed. */
  normalize?: ChannelStats;
  /**
   * Rewrites each batch after it is gathered (and normalised): data augmentation for training, e.g.
   * `randomCropFlip({ seed })` (see lib/data/augment.ts). Default none.
   */
  augment?: Augment;
}

/**
 * Every label an integer in `0..numClasses-1`. NOTE: checked here, once per loader, because a bad label
 * otherwise surfaces batches later as an index error inside the loss, naming neither the data nor the sample.
 */
function checkLabels(d: Dataset): void {
  const k = d.numClasses;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`DataLoader: ${d.name} has numClasses ${k}, expected a positive integer`);
  const y = d.y;
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!(c >= 0 && c < k) || !Number.isInteger(c)) {
      throw new RangeError(`DataLoader: ${d.name} sample ${i} has label ${c}, expected an integer in 0..${k - 1} (numClasses ${k})`);
    }
  }
}

/** One batch: inputs `[b, ...featureShape]` and their labels. */
export interface Batch {
  x: NDArray;
  y: Int32Array;
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly normalize?: ChannelStats;
  readonly augment?: Augment;
  private readonly random: Random;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    const { batchSize = 32, shuffle = false, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (dataset.x.ndim < 1 || dataset.x.shape[0] !== dataset.y.length) {
      throw new RangeError(`DataLoader: ${dataset.name} has x of shape [${dataset.x.shape.join(',')}] but ${dataset.y.length} labels`);
    }
    checkLabels(dataset);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.normalize = options.normalize;
    this.augment = options.augment;
    this.random = options.seed !== undefined ? new Random(options.seed) : options.random ?? globalRandom;
  }

  /** Samples in the dataset. */
  get numSamples(): number {
    return datasetSize(this.dataset);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.numSamples;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One epoch of batches. Draws the epoch's order when iteration starts. */
  *[Symbol.iterator](): Iterator<Batch> {
    const n = this.numSamples;
    const order = this.shuffle ? this.random.permutation(n) : null;
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const start = b * this.batchSize;
      const end = Math.min(start + this.batchSize, n);
      yield this.gather(order, start, end);
    }
  }

  /** The samples at positions `start..end-1` of `order` (or of the dataset when not shuffling). */
  private gather(order: Int32Array | null, start: number, end: number): Batch {
    const { x: xs, y: ys } = this.dataset;
    const size = end - start;
    const per = xs.size / Math.max(ys.length, 1);
    let x: NDArray;
    let y: Int32Array;
    if (order === null) {
      x = new NDArray(xs.data.slice(start * per, end * per), [size, ...featureShape(this.dataset)]);
      y = ys.slice(start, end);
    } else {
      const data = allocate(xs.dtype, size * per);
      y = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const j = order[start + i];
        data.set(xs.data.subarray(j * per, (j + 1) * per), i * per);
        y[i] = ys[j];
      }
      x = new NDArray(data, [size, ...featureShape(this.dataset)]);
    }
    if (this.normalize) normalizeChannels(x, this.normalize, true);
    if (this.augment) x = this.augment(x);
    return { x, y };
  }
}
