/**
 * CIFAR-10 (Krizhevsky 2009): 32x32 colour images in 10 classes, 50,000 for training and 10,000 for testing.
 *
 * `dir` may point at any of the forms people have it in:
 * - the official binary release: `data_batch_1.bin` ... `data_batch_5.bin` and `test_batch.bin`, each record
 *   one label byte then 3,072 pixel bytes (the R, G and B planes of 32x32), in `dir` or in
 *   `dir/cifar-10-batches-bin`, or the `.tar.gz` it comes in;
 * - an image folder `train/<class>/*.png|jpg` and `test/<class>/...`, or a `.tar.gz` of one (a directory
 *   holding a single such archive will do). Images are decoded once (about 0.2 ms each) and cached as a
 *   binary file in the user's cache directory (`VUGRAD_CACHE_DIR`, default `~/.cache/vugrad`; see
 *   `cache.ts`), never beside the data, so the next load takes a fraction of a second.
 *
 * Splits as for MNIST: the last 10% of the training images (5,000 of the full 50,000; `valSize` sets another
 * fraction or a count) are the validation set; `final: true` trains on all 50,000 and returns the test set. Images come as `[N, 3, 32, 32]` in [0, 1]; `normalize` standardises
 * each colour channel. Loading is asynchronous, since decoding a folder of images takes a while.
 *
 * @example
 * const { train, val } = await loadCifar10({ dir: 'data/cifar-10-batches-bin' });  // train.x: [45000, 3, 32, 32]
 * const { test } = await loadCifar10({ dir, final: true, normalize: true, limit: 1000 });
 */
import * as fs from 'fs';
import * as path from 'path';
import { DType, NDArray, allocate, checkDType } from '../core/ndarray';
import { ImageCacheError, RawImages, cacheDirFor, readImageCache, writeImageCache } from './cache';
import { Dataset, DatasetSplits } from './dataset';
import { DataError } from './errors';
import { ImageSource, decodeImages, imageSourceFromTar, isTarImagePath, openImageFolder, readTarFiles } from './image-folder';
import { ChannelStats, normalizeChannels } from './normalize';
import { checkLimit, resolveValSize } from './split';

export interface Cifar10Options {
  /** The data: a directory (binary batches or image folder) or a `.tar.gz` of either. */
  dir?: string;
  /** `true`: all 50,000 training images and the test set. Default false: 45,000 train / 5,000 validation. */
  final?: boolean;
  /**
   * Validation images held out of the end of the training set when not `final`: a fraction (`0.1`) or a count
   * (`5000`; `0` for none). Default 0.1: the course's 5,000 of the full 50,000, and 10% of a smaller folder.
   */
  valSize?: number;
  /** The validation count, as `valSize` (kept for older code; `valSize` wins when both are given). */
  numVal?: number;
  /** At most this many samples per split: only these are decoded when there is no cache yet. */
  limit?: number;
  dtype?: DType;
  /**
   * Standardise each colour channel: `true` uses CIFAR-10's training-set statistics (`CIFAR10_STATS`),
   * or give `{ mean, std }` (the PyTorch tutorial's `{ mean: 0.5, std: 0.5 }` maps pixels to [-1, 1]).
   */
  normalize?: boolean | ChannelStats;
  /**
   * The directory for this data's decoded-image cache. Default `cacheDirFor(dir)`: a directory of its own under
   * `$VUGRAD_CACHE_DIR`, `$XDG_CACHE_HOME/vugrad` or `~/.cache/vugrad`.
   */
  cacheDir?: string;
  /** `false` neither reads nor writes a cache. Default true. */
  cache?: boolean;
  /** Called while decoding images: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Told about problems that do not stop the load: a cache that cannot be written (the load goes on without
   * one; said once per directory) or a damaged cache file (decoded again and replaced). Default: `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/** CIFAR-10's class names, in label order. */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** Per-channel mean and standard deviation of the 50,000 official training images, pixels in [0, 1]. */
export const CIFAR10_STATS: { mean: readonly number[]; std: readonly number[] } = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
};

const SIZE = 32;
const SAMPLE = 3 * SIZE * SIZE;
const RECORD = 1 + SAMPLE;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';
const HINT =
  'Get CIFAR-10 from https://www.cs.toronto.edu/~kriz/cifar.html (the binary version, cifar-10-binary.tar.gz) and ' +
  'pass the .tar.gz or the directory you unpack it to (--data PATH); an image folder train/<class>/*.png|jpg and ' +
  'test/<class>/..., or a .tar.gz of one, works too';

type Split = 'train' | 'test';

/** Where the images come from, once `dir` has been looked at. */
interface Source {
  location: string;
  /** Samples in the whole split. */
  count(split: Split): Promise<number>;
  /** Samples `[start, end)` of each requested range of a split. */
  load(split: Split, ranges: [number, number][]): Promise<RawImages[]>;
}

/** Loads CIFAR-10; see the module notes for the forms `dir` may take. */
export async function loadCifar10(options: Cifar10Options = {}): Promise<DatasetSplits> {
  const { final = false, dtype = 'float32' } = options;
  const limit = checkLimit('cifar10', options.limit);
  checkDType(dtype, 'cifar10');
  if (options.dir === undefined) {
    throw new DataError('', `CIFAR-10: no data directory given (dir option, --data PATH). ${HINT}`);
  }
  const source = await openSource(options.dir, options);
  const nTrain = await source.count('train');
  const take = (start: number, end: number): [number, number] => [start, Math.min(end, start + limit)];
  const stats = options.normalize === true ? CIFAR10_STATS : options.normalize || undefined;
  const toDataset = (raw: RawImages, split: string): Dataset => {
    const x = allocate(dtype, raw.n * SAMPLE);
    const px = raw.pixels;
    for (let i = 0; i < x.length; i++) x[i] = px[i] / 255;
    let xs = new NDArray(x, [raw.n, 3, SIZE, SIZE]);
    if (stats) xs = normalizeChannels(xs, stats, true);
    return { x: xs, y: Int32Array.from(raw.labels), numClasses: 10, name: `cifar10/${split}`, classes: CIFAR10_CLASSES };
  };
  if (final) {
    const nTest = await source.count('test');
    if (nTest === 0) throw new DataError(source.location, `${source.location}: no test images found (test_batch.bin or test/<class>/). ${HINT}`);
    const [train] = await source.load('train', [take(0, nTrain)]);
    const [test] = await source.load('test', [take(0, nTest)]);
    return { train: toDataset(train, 'train'), test: toDataset(test, 'test') };
  }
  const numVal = resolveValSize(`cifar10 (${source.location})`, nTrain, options.valSize ?? options.numVal, 0.1);
  const cut = nTrain - numVal;
  const [train, val] = await source.load('train', [take(0, cut), take(cut, nTrain)]);
  return { train: toDataset(train, 'train'), val: toDataset(val, 'val') };
}

/** Finds out what `dir` holds: binary batches, an image folder, or a `.tar.gz` of either. */
async function openSource(dir: string, options: Cifar10Options): Promise<Source> {
  if (!fs.existsSync(dir)) throw new DataError(dir, `${dir}: no such file or directory, expected CIFAR-10 there. ${HINT}`);
  if (fs.statSync(dir).isFile()) {
    if (/\.(tar\.gz|tgz|tar)$/i.test(dir)) return openTar(dir, options);
    throw new DataError(dir, `${dir}: expected a directory or a .tar.gz holding CIFAR-10. ${HINT}`);
  }
  for (const d of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if (fs.existsSync(path.join(d, TRAIN_FILES[0]))) return binarySource(d, (f) => readFileOrFail(path.join(d, f)));
  }
  if (fs.existsSync(path.join(dir, 'train')) && fs.statSync(path.join(dir, 'train')).isDirectory()) {
    const folder = openImageFolder(dir, CIFAR10_CLASSES, HINT);
    return cached(folder.signature, dir, options, async () => imageSource(folder, options));
  }
  const archives = fs.readdirSync(dir).filter((f) => /cifar.*\.(tar\.gz|tgz)$/i.test(f));
  if (archives.length === 1) return openTar(path.join(dir, archives[0]), options);
  throw new DataError(
    dir,
    `${dir}: found no CIFAR-10 there: looked for data_batch_1.bin (also in cifar-10-batches-bin/), a train/<class>/ ` +
      `image folder, and a single cifar*.tar.gz${archives.length > 1 ? ` (found ${archives.length}: ${archives.join(', ')})` : ''}. ${HINT}`,
  );
}

/**
 * A `.tar.gz` of binary batches or of an image folder. The archive is read (into memory) only when its cache
 * is missing or stale, so a cached load does not even inflate it.
 */
function openTar(file: string, options: Cifar10Options): Source {
  const stat = fs.statSync(file);
  const signature = JSON.stringify({ archive: path.resolve(file), size: stat.size, mtime: stat.mtimeMs });
  return cached(signature, file, options, async () => {
    const isBatch = (p: string) => /(?:^|\/)(data_batch_[1-5]|test_batch)\.bin$/.test(p);
    const files = await readTarFiles(file, (p) => isBatch(p) || isTarImagePath(p), HINT);
    const batches = new Map<string, Buffer>();
    for (const [p, b] of files) if (isBatch(p)) batches.set(path.posix.basename(p), b);
    if (batches.size > 0) {
      return binarySource(file, (f) => {
        const b = batches.get(f);
        if (!b) throw new DataError(`${file}:${f}`, `${file}: ${f} is missing from the archive. ${HINT}`);
        return b;
      });
    }
    if (files.size === 0) {
      throw new DataError(file, `${file}: the archive holds neither CIFAR-10 binary batches nor train/<class>/*.jpg|png images. ${HINT}`);
    }
    return imageSource(imageSourceFromTar(file, files, CIFAR10_CLASSES, HINT), options);
  });
}

function readFileOrFail(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, `${file}: cannot read (${(e as Error).message}). ${HINT}`);
  }
}

/** Parses one binary batch: records of one label byte and 3,072 pixel bytes. */
export function parseCifarBatch(bytes: Uint8Array, name: string): RawImages {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DataError(name, `${name}: ${bytes.length} bytes is not a whole number of CIFAR-10 records (${RECORD} bytes each: 1 label + 3072 pixels; a batch is 10000 records = ${RECORD * 10000} bytes). ${HINT}`);
  }
  const n = bytes.length / RECORD;
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * SAMPLE);
  for (let i = 0; i < n; i++) {
    const label = bytes[i * RECORD];
    if (label > 9) throw new DataError(name, `${name}: record ${i} has label ${label}, expected 0..9 (is this CIFAR-100?). ${HINT}`);
    labels[i] = label;
    pixels.set(bytes.subarray(i * RECORD + 1, (i + 1) * RECORD), i * SAMPLE);
  }
  return { n, sampleBytes: SAMPLE, labels, pixels };
}

function binarySource(location: string, read: (file: string) => Uint8Array): Source {
  const loaded = new Map<Split, RawImages>();
  const get = (split: Split): RawImages => {
    let raw = loaded.get(split);
    if (!raw) {
      const names = split === 'train' ? TRAIN_FILES : [TEST_FILE];
      raw = concat(names.map((f) => parseCifarBatch(read(f), `${location}/${f}`)));
      loaded.set(split, raw);
    }
    return raw;
  };
  return {
    location,
    count: async (split) => get(split).n,
    load: async (split, ranges) => ranges.map(([s, e]) => sliceRaw(get(split), s, e)),
  };
}

/** Decodes the images of a folder (on disk or from an archive) on demand. */
function imageSource(folder: ImageSource, options: Cifar10Options): Source {
  return {
    location: folder.location,
    count: async (split) => folder.list(split).length,
    load: async (split, ranges) => {
      const entries = folder.list(split);
      if (entries.length === 0) {
        throw new DataError(folder.location, `${folder.location}: no ${split} images found, expected ${split}/<class>/*.jpg|png. ${HINT}`);
      }
      const out: RawImages[] = [];
      for (const [s, e] of ranges) out.push(await decodeImages(entries.slice(s, e), SIZE, SIZE, options.onProgress));
      return out;
    },
  };
}

/** Directories whose cache could not be written, already reported: "say so once" per process. */
const unwritable = new Set<string>();

function warn(options: Cifar10Options, message: string): void {
  (options.onWarning ?? ((m: string) => console.warn(`vugrad: ${m}`)))(message);
}

/**
 * Puts the decoded-image cache in front of a slow source, opened only on a cache miss. A full load decodes the
 * whole split once and caches it; a limited load (`limit`) with no cache decodes only what it returns and
 * writes nothing (a partial cache would be mistaken for the whole split). A damaged cache file is reported
 * and decoded again; a cache that cannot be written is reported once, and the load goes on without it.
 */
function cached(signature: string, location: string, options: Cifar10Options, open: () => Promise<Source>): Source {
  const useCache = options.cache !== false;
  const dir = options.cacheDir ?? cacheDirFor(location);
  const hits = new Map<Split, RawImages | null>();
  const hit = (split: Split): RawImages | null => {
    if (!useCache) return null;
    if (!hits.has(split)) {
      let raw: RawImages | null = null;
      try {
        raw = readImageCache(path.join(dir, `cifar10-${split}.bin`), signature, { sampleBytes: SAMPLE, numClasses: 10 });
      } catch (e) {
        if (!(e instanceof ImageCacheError)) throw e;
        warn(
          options,
          `${e.path}: damaged image cache (${e.reason}); decoding ${location} again and replacing it. ` +
            `If this repeats, delete ${e.path}`,
        );
      }
      hits.set(split, raw);
    }
    return hits.get(split) ?? null;
  };
  let inner: Promise<Source> | undefined;
  const source = () => (inner ??= open());
  return {
    location,
    count: async (split) => hit(split)?.n ?? (await source()).count(split),
    load: async (split, ranges) => {
      const fromCache = hit(split);
      if (fromCache) return ranges.map(([s, e]) => sliceRaw(fromCache, s, e));
      const src = await source();
      const n = await src.count(split);
      const whole = ranges.reduce((a, [s, e]) => a + e - s, 0) >= n;
      if (!whole || !useCache) return src.load(split, ranges);
      const [all] = await src.load(split, [[0, n]]);
      try {
        writeImageCache(path.join(dir, `cifar10-${split}.bin`), signature, all);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        if (!unwritable.has(dir)) {
          unwritable.add(dir);
          warn(
            options,
            `${e.message}; going on without a cache, so the next run decodes the images again. ` +
              'Set VUGRAD_CACHE_DIR to a writable directory to keep one',
          );
        }
      }
      return ranges.map(([s, e]) => sliceRaw(all, s, e));
    },
  };
}

function sliceRaw(raw: RawImages, start: number, end: number): RawImages {
  return {
    n: end - start,
    sampleBytes: raw.sampleBytes,
    labels: raw.labels.subarray(start, end),
    pixels: raw.pixels.subarray(start * raw.sampleBytes, end * raw.sampleBytes),
  };
}

function concat(parts: RawImages[]): RawImages {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.n, 0);
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * SAMPLE);
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    pixels.set(p.pixels, at * SAMPLE);
    at += p.n;
  }
  return { n, sampleBytes: SAMPLE, labels, pixels };
}
