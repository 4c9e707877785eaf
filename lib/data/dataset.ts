/**
 * What every loader returns: a `Dataset` (inputs, integer class labels, the number of classes) per split.
 *
 * The course's loaders return `(xtrain, ytrain), (xval, yval), num_classes`; here the same tuple has names.
 * A split is `val` while you tune (the course's default: a validation set held out of the training file) and
 * `test` with `final: true` (the official test set, for the one number you report).
 *
 * @example
 * const { train, val } = loadSynth({ seed: 1 });
 * train.x.shape;     // [60000, 2]
 * train.y[0];        // 0 or 1
 * train.numClasses;  // 2
 */
import { NDArray } from '../core/ndarray';

export interface Dataset {
  /** Inputs, one sample per row of the first axis: `[N, features]` or `[N, C, H, W]`. */
  x: NDArray;
  /** Class labels in `0..numClasses-1`, one per sample. */
  y: Int32Array;
  numClasses: number;
  /** Names the data set and split, as in `mnist/train`. */
  name: string;
  /** Class names in label order, where the data set has them. */
  classes?: readonly string[];
}

/** The splits a loader returns: `train`, plus `val` (tuning) or `test` (with `final: true`). */
export interface DatasetSplits {
  train: Dataset;
  val?: Dataset;
  test?: Dataset;
}

/** The split to evaluate on: `val` when there is one, else `test`. */
export function heldOut(splits: DatasetSplits): Dataset {
  const d = splits.val ?? splits.test;
  if (!d) throw new Error(`heldOut: the splits have neither 'val' nor 'test' (train is ${splits.train.name})`);
  return d;
}

/** The number of samples (the first axis). */
export function datasetSize(d: Dataset): number {
  return d.y.length;
}

/** The shape of one sample: `x.shape` without its first axis. */
export function featureShape(d: Dataset): number[] {
  return d.x.shape.slice(1);
}

/**
 * Samples `start..end-1` as a new Dataset sharing no memory with `d` (a copy, so that the rest can be collected).
 *
 * @example
 * const first100 = sliceDataset(train, 0, 100);
 */
export function sliceDataset(d: Dataset, start: number, end: number, name = d.name): Dataset {
  const n = datasetSize(d);
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= n)) {
    throw new RangeError(`sliceDataset: range [${start}, ${end}) is outside ${d.name} (${n} samples)`);
  }
  const per = d.x.size / Math.max(n, 1);
  const x = d.x.data.slice(start * per, end * per);
  return { ...d, name, x: new NDArray(x, [end - start, ...featureShape(d)]), y: d.y.slice(start, end) };
}

/** Counts of each label, `counts[c]` for class `c`. Handy to check a split's balance. */
export function labelCounts(d: Dataset): Int32Array {
  const counts = new Int32Array(d.numClasses);
  for (const c of d.y) counts[c]++;
  return counts;
}
