import { loadSynth, synthLabel } from '../../lib/data';

describe('loadSynth', () => {
  it('gives the course sizes, two features and two classes', () => {
    const { train, val, test } = loadSynth({ seed: 0 });
    expect(train.x.shape).toEqual([60000, 2]);
    expect(val!.x.shape).toEqual([10000, 2]);
    expect(test).toBeUndefined();
    expect(train.y.length).toBe(60000);
    expect(train.numClasses).toBe(2);
    expect(train.x.dtype).toBe('float32');
  });

  it('labels every point by x^T Q x > 0.6 with Q = [[1, 0.5], [1, 0.2]]', () => {
    const Q = [[1, 0.5], [1, 0.2]];
    const { train } = loadSynth({ numTrain: 5000, numVal: 0, seed: 3 });
    let ones = 0;
    for (let i = 0; i < 5000; i++) {
      const x = [train.x.data[2 * i], train.x.data[2 * i + 1]];
      let q = 0;
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) q += x[a] * Q[a][b] * x[b];
      expect(train.y[i]).toBe(q > 0.6 ? 1 : 0);
      ones += train.y[i];
    }
    // Both classes are well represented (about 40% ones for this boundary).
    expect(ones / 5000).toBeGreaterThan(0.25);
    expect(ones / 5000).toBeLessThan(0.75);
    expect(synthLabel(1, 0)).toBe(1);
    expect(synthLabel(0, 1)).toBe(0);
  });

  it('draws standard-normal features', () => {
    const { train } = loadSynth({ numTrain: 20000, numVal: 0, seed: 1, dtype: 'float64' });
    const d = train.x.data;
    let mean = 0;
    for (const v of d) mean += v;
    mean /= d.length;
    let variance = 0;
    for (const v of d) variance += (v - mean) ** 2;
    variance /= d.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(train.x.dtype).toBe('float64');
  });

  it('is reproducible with a seed and differs across seeds', () => {
    const a = loadSynth({ numTrain: 100, numVal: 50, seed: 7 });
    const b = loadSynth({ numTrain: 100, numVal: 50, seed: 7 });
    const c = loadSynth({ numTrain: 100, numVal: 50, seed: 8 });
    expect(Array.from(a.train.x.data)).toEqual(Array.from(b.train.x.data));
    expect(Array.from(a.val!.y)).toEqual(Array.from(b.val!.y));
    expect(Array.from(a.train.x.data)).not.toEqual(Array.from(c.train.x.data));
    // Validation is not a copy of training data.
    expect(a.val!.x.data[0]).not.toBe(a.train.x.data[0]);
  });

  it('rejects bad sizes', () => {
    expect(() => loadSynth({ numTrain: -1 })).toThrow(/numTrain/);
  });
});
