import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tar from 'tar';
import { CIFAR10_CLASSES, DataError, cacheDirFor, labelCounts, loadCifar10 } from '../../lib/data';

let tmp: string;
// Every cache these tests write goes under tmp: never into the user's ~/.cache.
const savedCacheDir = process.env.VUGRAD_CACHE_DIR;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-cifar-'));
  process.env.VUGRAD_CACHE_DIR = path.join(tmp, 'user-cache');
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  if (savedCacheDir === undefined) delete process.env.VUGRAD_CACHE_DIR;
  else process.env.VUGRAD_CACHE_DIR = savedCacheDir;
});

/** A record's pixel byte: depends on sample, channel and position, so that misplaced bytes show. */
const pixel = (sample: number, c: number, p: number) => (sample * 7 + c * 50 + p) % 256;

function writeBatch(file: string, first: number, n: number): void {
  const rec = 3073;
  const bytes = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    const s = first + i;
    bytes[i * rec] = s % 10;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) bytes[i * rec + 1 + c * 1024 + p] = pixel(s, c, p);
  }
  fs.writeFileSync(file, bytes);
}

describe('CIFAR-10 binary batches', () => {
  let parent: string;
  beforeAll(() => {
    parent = path.join(tmp, 'bin');
    const dir = path.join(parent, 'cifar-10-batches-bin');
    fs.mkdirSync(dir, { recursive: true });
    for (let b = 1; b <= 5; b++) writeBatch(path.join(dir, `data_batch_${b}.bin`), (b - 1) * 4, 4);
    writeBatch(path.join(dir, 'test_batch.bin'), 100, 3);
  });

  it('reads the parent directory: [N, 3, 32, 32] planes in [0, 1], labels in file order', async () => {
    const { train, test } = await loadCifar10({ dir: parent, final: true });
    expect(train.x.shape).toEqual([20, 3, 32, 32]);
    expect(test!.x.shape).toEqual([3, 3, 32, 32]);
    expect(Array.from(train.y)).toEqual(Array.from({ length: 20 }, (_, i) => i % 10));
    expect(Array.from(test!.y)).toEqual([0, 1, 2]);
    // x[13, 2, 5, 7] is sample 13, blue plane, position 5 * 32 + 7.
    expect(train.x.get(13, 2, 5, 7)).toBeCloseTo(pixel(13, 2, 5 * 32 + 7) / 255, 6);
    expect(test!.x.get(1, 0, 0, 3)).toBeCloseTo(pixel(101, 0, 3) / 255, 6);
    expect(train.classes).toEqual(CIFAR10_CLASSES);
  });

  it('holds out the end of the training batches as validation, and honours limit', async () => {
    const { train, val } = await loadCifar10({ dir: path.join(parent, 'cifar-10-batches-bin'), numVal: 6, limit: 5 });
    expect(train.x.shape).toEqual([5, 3, 32, 32]);
    expect(val!.x.shape).toEqual([5, 3, 32, 32]);
    expect(val!.y[0]).toBe(14 % 10);
    expect(val!.x.get(0, 1, 0, 0)).toBeCloseTo(pixel(14, 1, 0) / 255, 6);
  });

  it('normalises each channel with the given statistics', async () => {
    const plain = await loadCifar10({ dir: parent, final: true });
    const norm = await loadCifar10({ dir: parent, final: true, normalize: { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] } });
    expect(norm.train.x.get(3, 1, 2, 2)).toBeCloseTo((plain.train.x.get(3, 1, 2, 2) - 0.2) / 0.25, 5);
    expect(norm.test!.x.get(2, 2, 9, 9)).toBeCloseTo((plain.test!.x.get(2, 2, 9, 9) - 0.3) / 2, 5);
  });

  it('reads the batches out of a .tar.gz', async () => {
    const file = path.join(tmp, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: parent }, ['cifar-10-batches-bin']);
    const { train, test } = await loadCifar10({ dir: file, final: true, cacheDir: path.join(tmp, 'bin-cache') });
    expect(train.x.shape).toEqual([20, 3, 32, 32]);
    expect(test!.x.get(2, 0, 31, 31)).toBeCloseTo(pixel(102, 0, 1023) / 255, 6);
  });

  it('a batch that is not whole records is an error naming the file and the record size', async () => {
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(dir);
    writeBatch(path.join(dir, 'data_batch_1.bin'), 0, 2);
    fs.truncateSync(path.join(dir, 'data_batch_1.bin'), 3073 * 2 - 10);
    await expect(loadCifar10({ dir })).rejects.toThrow(/data_batch_1\.bin: 6136 bytes is not a whole number of CIFAR-10 records \(3073 bytes/);
  });
});

/** Colour of image `k` of class `cls`: solid, so JPEG keeps it within a few levels. */
const colour = (cls: number, k: number): [number, number, number] => [cls * 20 + 10, k * 60 + 30, 200 - cls * 10];

function encode(kind: 'png' | 'jpg', rgb: [number, number, number], size = 32): Buffer {
  const data = Buffer.alloc(size * size * 4);
  for (let p = 0; p < size * size; p++) data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
  if (kind === 'jpg') return jpeg.encode({ data, width: size, height: size }, 100).data;
  const png = new PNG({ width: size, height: size });
  data.copy(png.data);
  return PNG.sync.write(png);
}

/** train/<class>/ with two PNGs per class, test/<class>/ with one JPEG per class. */
function writeFolder(root: string): void {
  CIFAR10_CLASSES.forEach((name, cls) => {
    fs.mkdirSync(path.join(root, 'train', name), { recursive: true });
    fs.mkdirSync(path.join(root, 'test', name), { recursive: true });
    for (let k = 0; k < 2; k++) fs.writeFileSync(path.join(root, 'train', name, `${k}.png`), encode('png', colour(cls, k)));
    fs.writeFileSync(path.join(root, 'test', name, '0.jpg'), encode('jpg', colour(cls, 0)));
  });
}

describe('CIFAR-10 image folders', () => {
  let root: string;
  beforeAll(() => {
    root = path.join(tmp, 'folder');
    writeFolder(root);
  });

  it('decodes PNG and JPEG into channel planes, classes round-robin', async () => {
    const { train, test } = await loadCifar10({ dir: root, final: true, cache: false });
    expect(train.x.shape).toEqual([20, 3, 32, 32]);
    expect(Array.from(train.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Sample 13 is the second image (k = 1) of class 3; PNG is lossless.
    const [r, g, b] = colour(3, 1);
    expect(train.x.get(13, 0, 4, 4)).toBeCloseTo(r / 255, 6);
    expect(train.x.get(13, 1, 31, 0)).toBeCloseTo(g / 255, 6);
    expect(train.x.get(13, 2, 0, 31)).toBeCloseTo(b / 255, 6);
    expect(Array.from(test!.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [r7] = colour(7, 0);
    expect(Math.abs(test!.x.get(7, 0, 16, 16) * 255 - r7)).toBeLessThanOrEqual(3);
  });

  it('caches the decoded images: the second load decodes nothing; a changed folder decodes again', async () => {
    const dir = path.join(tmp, 'folder-cached');
    writeFolder(dir);
    let calls: string[] = [];
    const onProgress = (done: number, total: number) => {
      if (done === total) calls.push(`${done}/${total}`);
    };
    const first = await loadCifar10({ dir, final: true, onProgress });
    expect(calls).toEqual(['20/20', '10/10']);
    expect(fs.existsSync(path.join(cacheDirFor(dir), 'cifar10-train.bin'))).toBe(true);
    expect(fs.existsSync(path.join(cacheDirFor(dir), 'cifar10-test.bin'))).toBe(true);
    expect(cacheDirFor(dir).startsWith(path.join(tmp, 'user-cache', 'images') + path.sep)).toBe(true);
    expect(fs.existsSync(path.join(dir, '.vugrad-cache'))).toBe(false);
    calls = [];
    const second = await loadCifar10({ dir, final: true, onProgress });
    expect(calls).toEqual([]);
    expect(Array.from(second.train.x.data)).toEqual(Array.from(first.train.x.data));
    expect(Array.from(second.test!.y)).toEqual(Array.from(first.test!.y));
    fs.writeFileSync(path.join(dir, 'train', 'cat', '2.png'), encode('png', colour(3, 2)));
    const third = await loadCifar10({ dir, final: true, onProgress });
    expect(third.train.x.shape[0]).toBe(21);
    expect(calls).toEqual(['21/21', '10/10']);
  });

  it('a limited load decodes only what it returns and writes no cache', async () => {
    const cacheDir = path.join(tmp, 'limit-cache');
    const { train, val } = await loadCifar10({ dir: root, numVal: 10, limit: 3, cacheDir });
    expect(Array.from(train.y)).toEqual([0, 1, 2]);
    expect(Array.from(val!.y)).toEqual([0, 1, 2]);
    // Validation is the second image of each class.
    expect(val!.x.get(1, 1, 0, 0)).toBeCloseTo(colour(1, 1)[1] / 255, 6);
    expect(fs.existsSync(path.join(cacheDir, 'cifar10-train.bin'))).toBe(false);
  });

  it('reads a .tar.gz of the folder, also under a top-level directory', async () => {
    fs.mkdirSync(path.join(tmp, 'archive'));
    const file = path.join(tmp, 'archive', 'cifar10-images.tar.gz');
    const nested = path.join(tmp, 'nested');
    fs.mkdirSync(nested);
    fs.renameSync(path.join(tmp, 'folder-cached'), path.join(nested, 'cifar10'));
    await tar.c({ gzip: true, file, cwd: nested }, ['cifar10']);
    const cacheDir = path.join(tmp, 'tar-cache');
    const fromTar = await loadCifar10({ dir: file, final: true, cacheDir });
    const fromFolder = await loadCifar10({ dir: path.join(nested, 'cifar10'), final: true, cache: false });
    expect(fromTar.train.x.shape).toEqual([21, 3, 32, 32]);
    expect(Array.from(fromTar.train.y)).toEqual(Array.from(fromFolder.train.y));
    expect(Array.from(fromTar.test!.x.data)).toEqual(Array.from(fromFolder.test!.x.data));
    expect(fs.existsSync(path.join(cacheDir, 'cifar10-train.bin'))).toBe(true);
    // A directory holding one cifar*.tar.gz is enough.
    const again = await loadCifar10({ dir: path.join(tmp, 'archive'), final: true, cacheDir });
    expect(Array.from(again.train.y)).toEqual(Array.from(fromFolder.train.y));
  });

  it('errors name the path, what was expected and how to get the data', async () => {
    await expect(loadCifar10({ dir: path.join(tmp, 'absent') })).rejects.toThrow(/absent: no such file or directory.*cifar-10-binary\.tar\.gz/);
    await expect(loadCifar10({})).rejects.toThrow(DataError);
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    await expect(loadCifar10({ dir: empty })).rejects.toThrow(/empty: found no CIFAR-10 there: looked for data_batch_1\.bin/);
    const odd = path.join(tmp, 'odd');
    fs.mkdirSync(path.join(odd, 'train', 'zebra'), { recursive: true });
    await expect(loadCifar10({ dir: odd })).rejects.toThrow(/zebra: unknown class folder 'zebra', expected one of airplane/);
    const big = path.join(tmp, 'big');
    fs.mkdirSync(path.join(big, 'train', 'cat'), { recursive: true });
    fs.writeFileSync(path.join(big, 'train', 'cat', 'x.png'), encode('png', [1, 2, 3], 16));
    await expect(loadCifar10({ dir: big, numVal: 0, cache: false })).rejects.toThrow(/x\.png: image is 16x16, expected 32x32/);
  });

});

const SHARED = path.resolve(__dirname, '../../../shared/data/cifar10-jpeg.tar.gz');
const withShared = fs.existsSync(SHARED) ? describe : describe.skip;
if (!fs.existsSync(SHARED)) console.log(`skipping the CIFAR-10 JPEG copy test: ${SHARED} is absent`);

withShared('the CIFAR-10 JPEG copy in ../shared/data', () => {
  it('loads a balanced, limited sample of both splits', async () => {
    const cacheDir = path.join(tmp, 'shared-cache');
    const { train, test } = await loadCifar10({ dir: SHARED, final: true, limit: 100, cacheDir });
    expect(train.x.shape).toEqual([100, 3, 32, 32]);
    expect(test!.x.shape).toEqual([100, 3, 32, 32]);
    expect(Array.from(labelCounts(train))).toEqual(new Array(10).fill(10));
    expect(Array.from(labelCounts(test!))).toEqual(new Array(10).fill(10));
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of train.x.data) {
      sum += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    // Natural images: mean brightness near CIFAR-10's 0.47, far from a blank or saturated decode.
    expect(sum / train.x.size).toBeGreaterThan(0.35);
    expect(sum / train.x.size).toBeLessThan(0.6);
    expect(fs.existsSync(path.join(cacheDir, 'cifar10-train.bin'))).toBe(false);
  });
});
