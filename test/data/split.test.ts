/**
 * The validation split: a fraction by default (the course's 5,000 on the full data sets), or `valSize` as a
 * fraction or a count. A copy of the data smaller than the full set just works.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeIdxUbyte, loadCifar10, loadDataset, loadMnist, resolveValSize } from '../../lib/data';
import { resolveConfig } from '../../lib/train/config';
import { dataOptions } from '../../lib/train/recipe';

let tmp: string;
const savedCache = process.env.VUGRAD_CACHE_DIR;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-split-'));
  process.env.VUGRAD_CACHE_DIR = path.join(tmp, 'cache');
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  if (savedCache === undefined) delete process.env.VUGRAD_CACHE_DIR;
  else process.env.VUGRAD_CACHE_DIR = savedCache;
});

describe('resolveValSize', () => {
  test('defaults keep the course split on the full data sets', () => {
    expect(resolveValSize('cifar10', 50000, undefined, 0.1)).toBe(5000);
    expect(resolveValSize('mnist', 60000, undefined, 1 / 12)).toBe(5000);
    expect(resolveValSize('synth', 70000, undefined, 1 / 7)).toBe(10000);
  });

  test('a fraction scales with the data, holding out at least one and training on at least one', () => {
    expect(resolveValSize('x', 500, undefined, 0.1)).toBe(50);
    expect(resolveValSize('x', 60000, 0.2, 0.1)).toBe(12000);
    expect(resolveValSize('x', 4, 0.1, 0.1)).toBe(1);
    expect(resolveValSize('x', 2, 0.99, 0.1)).toBe(1);
    expect(resolveValSize('x', 0, 0.5, 0.1)).toBe(0);
  });

  test('a count is taken as it is, 0 for no validation set', () => {
    expect(resolveValSize('x', 500, 123, 0.1)).toBe(123);
    expect(resolveValSize('x', 500, 0, 0.1)).toBe(0);
    expect(resolveValSize('x', 500, 1, 0.1)).toBe(1);
  });

  test.each([
    [5000, /x: a validation set of 5000 samples leaves nothing to train on: there are 500 training samples/],
    [500, /a validation set of 500 samples leaves nothing to train on/],
    [-1, /valSize must be a fraction between 0 and 1 \(such as 0\.1\) or a count of samples \(an integer >= 0\), got -1/],
    [1.5, /got 1\.5/],
    [NaN, /got NaN/],
    [Infinity, /got Infinity/],
    ['0.1' as unknown as number, /got 0\.1/],
  ])('%s is an error naming the problem', (v, why) => {
    expect(() => resolveValSize('x', 500, v, 0.1)).toThrow(why);
  });

  test('one training sample cannot be split by a fraction', () => {
    expect(() => resolveValSize('x', 1, undefined, 0.1)).toThrow(/1 training sample, too few.*--val-size 0/);
  });
});

/** CIFAR-10 binary batches with `perBatch` records each (labels i % 10). */
function writeCifar(dir: string, perBatch: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const rec = 3073;
  for (const name of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    const bytes = new Uint8Array(perBatch * rec);
    for (let i = 0; i < perBatch; i++) bytes[i * rec] = i % 10;
    fs.writeFileSync(path.join(dir, `${name}.bin`), bytes);
  }
}

describe('a CIFAR-10 copy smaller than the full set', () => {
  let dir: string;
  beforeAll(() => {
    dir = path.join(tmp, 'cifar-small');
    writeCifar(dir, 100); // 500 training images: the old default of 5,000 validation images failed
  });

  test('the default holds out 10%', async () => {
    const { train, val } = await loadCifar10({ dir });
    expect(train.x.shape[0]).toBe(450);
    expect(val!.x.shape[0]).toBe(50);
  });

  test('valSize as a fraction or a count, through loadDataset too', async () => {
    expect((await loadCifar10({ dir, valSize: 0.2 })).val!.y.length).toBe(100);
    const counted = await loadDataset('cifar10', { dir, valSize: 30 });
    expect(counted.train.y.length).toBe(470);
    expect(counted.val!.y.length).toBe(30);
    expect((await loadCifar10({ dir, numVal: 7 })).val!.y.length).toBe(7);
  });

  test('a count larger than the data names the data, the count and what to do', async () => {
    await expect(loadCifar10({ dir, valSize: 5000 })).rejects.toThrow(
      /cifar10 \(.*cifar-small\): a validation set of 5000 samples leaves nothing to train on: there are 500 training samples.*fraction such as 0\.1/,
    );
  });
});

describe('an MNIST-format copy smaller than the full set', () => {
  let dir: string;
  beforeAll(() => {
    dir = path.join(tmp, 'mnist-small');
    fs.mkdirSync(dir);
    const n = 120;
    for (const prefix of ['train', 't10k']) {
      fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`), encodeIdxUbyte([n, 28, 28], new Uint8Array(n * 784)));
      fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdxUbyte([n], Uint8Array.from({ length: n }, (_, i) => i % 10)));
    }
  });

  test('the default holds out 1/12 (the course 5,000 of 60,000)', () => {
    const { train, val } = loadMnist({ dir });
    expect(train.y.length).toBe(110);
    expect(val!.y.length).toBe(10);
  });

  test('valSize through loadDataset (fashion-mnist reads the same format)', async () => {
    const { train, val } = await loadDataset('fashion-mnist', { dir, valSize: 0.5 });
    expect(train.y.length).toBe(60);
    expect(val!.y.length).toBe(60);
  });
});

describe('synth', () => {
  test('valSize takes the validation set out of the 70,000 samples drawn', async () => {
    const { train, val } = await loadDataset('synth', { valSize: 0.5, limit: 100000 });
    expect(train.y.length).toBe(35000);
    expect(val!.y.length).toBe(35000);
    const dflt = await loadDataset('synth', {});
    expect(dflt.train.y.length).toBe(60000);
    expect(dflt.val!.y.length).toBe(10000);
  });
});

describe('the --val-size flag (and a job spec\'s valSize)', () => {
  test.each([
    ['0.2', 0.2],
    ['.25', 0.25],
    ['10%', 0.1],
    ['300', 300],
  ])('%s', (flag, value) => {
    const config = resolveConfig({ dataset: 'cifar10', valSize: flag });
    expect(config.valSize).toBe(value);
    expect(dataOptions(config).valSize).toBe(value);
  });

  test('absent: the data set decides', () => {
    expect(dataOptions(resolveConfig({ dataset: 'cifar10' })).valSize).toBeUndefined();
  });

  test.each([
    ['abc', /--val-size: expected a count of samples \(e\.g\. 5000\) or a fraction between 0 and 1 \(e\.g\. 0\.1 or 10%\), got 'abc'/],
    ['-1', /got '-1'/],
    ['1.5', /got '1\.5'/],
    ['150%', /got '150%'/],
    ['0', /--val-size: 0 leaves no validation set.*--final/],
  ])('%s is refused', (flag, why) => {
    expect(() => resolveConfig({ dataset: 'cifar10', valSize: flag })).toThrow(why);
  });

  test('with --final there is no validation set to size', () => {
    expect(() => resolveConfig({ dataset: 'mnist', final: true, valSize: '0.1' })).toThrow(/--val-size: there is no validation set with --final/);
  });

  test('a small CIFAR-10 copy through the recipe: the flag sizes the split', async () => {
    const dir = path.join(tmp, 'cifar-small');
    const config = resolveConfig({ dataset: 'cifar10', data: dir, valSize: '0.2' });
    const { train, val } = await loadDataset('cifar10', dataOptions(config));
    expect([train.y.length, val!.y.length]).toEqual([400, 100]);
  });
});
