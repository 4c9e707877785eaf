import { NDArray } from '../../lib/core/ndarray';
import { Random } from '../../lib/core/random';
import { DataLoader, Dataset, channelStats, heldOut, loadDataset, normalizeChannels, sliceDataset } from '../../lib/data';

/** Sample i has features [i, 1000 + i] and label i % 3, so a batch shows which samples it holds. */
function toy(n: number): Dataset {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 1000 + i;
  }
  return { x: new NDArray(x, [n, 2]), y: Int32Array.from({ length: n }, (_, i) => i % 3), numClasses: 3, name: 'toy' };
}

function epoch(loader: DataLoader): number[][] {
  const out: number[][] = [];
  for (const { x, y } of loader) {
    const ids: number[] = [];
    for (let r = 0; r < y.length; r++) {
      const id = x.data[2 * r];
      expect(x.data[2 * r + 1]).toBe(1000 + id);
      expect(y[r]).toBe(id % 3);
      ids.push(id);
    }
    out.push(ids);
  }
  return out;
}

describe('DataLoader', () => {
  it('keeps the order without shuffle, with a partial last batch', () => {
    const loader = new DataLoader(toy(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = epoch(loader);
    expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const first = loader[Symbol.iterator]().next().value as { x: NDArray };
    expect(first.x.shape).toEqual([4, 2]);
  });

  it('drops the partial batch with dropLast', () => {
    const loader = new DataLoader(toy(10), { batchSize: 4, dropLast: true, shuffle: true, seed: 1 });
    expect(loader.length).toBe(2);
    const batches = epoch(loader);
    expect(batches.map((b) => b.length)).toEqual([4, 4]);
  });

  it('visits every sample once per epoch, in a new order each epoch', () => {
    const loader = new DataLoader(toy(103), { batchSize: 10, shuffle: true, seed: 5 });
    expect(loader.length).toBe(11);
    const e1 = epoch(loader);
    const e2 = epoch(loader);
    expect(e1[10].length).toBe(3);
    for (const e of [e1, e2]) expect(e.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(e1.flat()).not.toEqual(e2.flat());
    expect(e1.flat()).not.toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('shuffles reproducibly: the same seed gives the same epochs, another seed does not', () => {
    const a = new DataLoader(toy(50), { batchSize: 8, shuffle: true, seed: 42 });
    const b = new DataLoader(toy(50), { batchSize: 8, shuffle: true, seed: 42 });
    const c = new DataLoader(toy(50), { batchSize: 8, shuffle: true, seed: 43 });
    expect([epoch(a), epoch(a)]).toEqual([epoch(b), epoch(b)]);
    expect(epoch(c)).not.toEqual(epoch(new DataLoader(toy(50), { batchSize: 8, shuffle: true, seed: 42 })));
    // A shared generator works too and is advanced by the loader.
    const r1 = new Random(9);
    const r2 = new Random(9);
    expect(epoch(new DataLoader(toy(20), { batchSize: 5, shuffle: true, random: r1 }))).toEqual(
      epoch(new DataLoader(toy(20), { batchSize: 5, shuffle: true, random: r2 })),
    );
  });

  it('gives batches that stay valid after the next one is drawn', () => {
    const loader = new DataLoader(toy(6), { batchSize: 2, shuffle: true, seed: 0 });
    const kept = [...loader];
    const ids = kept.map((b) => Array.from(b.x.data.filter((_, i) => i % 2 === 0)));
    expect(ids.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('normalises batches per channel without touching the dataset', () => {
    const data = toy(4);
    const loader = new DataLoader(data, { batchSize: 4, normalize: { mean: [1, 1000], std: [2, 4] } });
    const [{ x }] = [...loader];
    expect(Array.from(x.data)).toEqual([-0.5, 0, 0, 0.25, 0.5, 0.5, 1, 0.75]);
    expect(data.x.data[0]).toBe(0);
  });

  it('rejects a bad batch size and mismatched data', () => {
    expect(() => new DataLoader(toy(4), { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    const bad = { ...toy(4), y: new Int32Array(3) };
    expect(() => new DataLoader(bad)).toThrow(/toy has x of shape \[4,2\] but 3 labels/);
  });
});

describe('normalisation helpers', () => {
  it('computes per-channel statistics of [N, C, H, W] and standardises with them', () => {
    const x = new NDArray(Float64Array.from([1, 3, 10, 10, 5, 7, 20, 40]), [2, 2, 2]);
    const stats = channelStats(x);
    expect(stats.mean).toEqual([4, 20]);
    expect(stats.std[0]).toBeCloseTo(Math.sqrt(5), 12);
    expect(stats.std[1]).toBeCloseTo(Math.sqrt(150), 12);
    const z = normalizeChannels(x, stats);
    const again = channelStats(z);
    expect(again.mean[0]).toBeCloseTo(0, 12);
    expect(again.std[1]).toBeCloseTo(1, 12);
    expect(x.data[0]).toBe(1);
  });

  it('gives a constant channel std 1, so normalising never divides by zero', () => {
    const x = new NDArray(Float32Array.from([2, 0, 2, 1]), [2, 2]);
    expect(channelStats(x).std[0]).toBe(1);
  });
});

describe('loadDataset and dataset helpers', () => {
  it('loads synth by name with a limit, and final gives a test split', async () => {
    const s = await loadDataset('synth', { limit: 100, seed: 2, final: true });
    expect(s.train.x.shape).toEqual([100, 2]);
    expect(s.test!.name).toBe('synth/test');
    expect(heldOut(s)).toBe(s.test);
  });

  it('rejects unknown names and lists the known ones', async () => {
    await expect(loadDataset('imagenet' as never)).rejects.toThrow("unknown data set 'imagenet', expected one of synth, mnist, fashion-mnist, cifar10");
  });

  it('slices a dataset into an independent copy', () => {
    const d = toy(10);
    const s = sliceDataset(d, 3, 6);
    expect(Array.from(s.x.data)).toEqual([3, 1003, 4, 1004, 5, 1005]);
    s.x.data[0] = -1;
    expect(d.x.data[6]).toBe(3);
    expect(() => sliceDataset(d, 5, 11)).toThrow(/outside toy \(10 samples\)/);
  });
});

describe('bad data is refused where it is handed over, naming the data and the value', () => {
  test('a label outside 0..numClasses-1 (once an index error inside the loss, batches later)', () => {
    const d = toy(10);
    d.y[7] = 3;
    expect(() => new DataLoader(d)).toThrow(/DataLoader: toy sample 7 has label 3, expected an integer in 0\.\.2 \(numClasses 3\)/);
    d.y[7] = -1;
    expect(() => new DataLoader(d)).toThrow(/sample 7 has label -1/);
    const frac = { ...toy(4), y: [0, 1.5, 2, 0] as unknown as Int32Array };
    expect(() => new DataLoader(frac)).toThrow(/sample 1 has label 1\.5/);
    expect(() => new DataLoader({ ...toy(4), numClasses: 0 })).toThrow(/toy has numClasses 0/);
  });

  test('normalisation statistics that would turn a channel into NaN or zeros', () => {
    const x = NDArray.from([[1, 2], [3, 4]]);
    expect(() => normalizeChannels(x, { mean: [0, NaN], std: 1 })).toThrow(/normalize: mean must be finite, got \[0, NaN\]/);
    expect(() => normalizeChannels(x, { mean: 0, std: [1, Infinity] })).toThrow(/std must be positive and finite, got \[1, Infinity\]/);
    expect(() => normalizeChannels(x, { mean: 0, std: 0 })).toThrow(/std must be positive/);
  });

  test.each([0, -5, 2.5, NaN])('limit %s is refused by every loader', async (limit) => {
    const why = new RegExp(`limit must be a positive integer \\(samples per split\\), got ${limit}`);
    await expect(loadDataset('synth', { limit })).rejects.toThrow(why);
    await expect(loadDataset('cifar10', { dir: '/nonexistent', limit })).rejects.toThrow(why);
    await expect(loadDataset('mnist', { dir: '/nonexistent', limit })).rejects.toThrow(why);
  });

  test('an unsupported dtype is refused before any file is read', async () => {
    await expect(loadDataset('mnist', { dir: '/nonexistent', dtype: 'int8' as 'float32' })).rejects.toThrow(/mnist: unsupported dtype 'int8'/);
    await expect(loadDataset('cifar10', { dir: '/nonexistent', dtype: 'int8' as 'float32' })).rejects.toThrow(/cifar10: unsupported dtype 'int8'/);
    await expect(loadDataset('synth', { dtype: 'int8' as 'float32' })).rejects.toThrow(/loadSynth: unsupported dtype 'int8'/);
  });
});
