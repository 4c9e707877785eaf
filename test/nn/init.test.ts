/** Initializers: the formulas' statistics on a large layer, fans as PyTorch computes them, seeding. */
import { NDArray, Random, manualSeed } from '../../lib';
import {
  Conv2d,
  LeNet,
  Linear,
  MLP,
  computeFans,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  initializer,
  normal,
  pytorchDefault,
  zeros,
  type InitName,
} from '../../lib/nn';

function stats(a: NDArray): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a.data) {
    s += v;
    s2 += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / a.size;
  return { mean, std: Math.sqrt(s2 / a.size - mean * mean), min, max };
}

test('fans: linear [out, in] and conv [out, in, kh, kw], as PyTorch', () => {
  expect(computeFans([300, 784])).toEqual({ fanIn: 784, fanOut: 300 });
  expect(computeFans([16, 6, 5, 5])).toEqual({ fanIn: 150, fanOut: 400 });
  expect(computeFans([10])).toEqual({ fanIn: 10, fanOut: 10 });
});

describe('statistics of a large layer match the formula (std within 3%)', () => {
  const shape = [300, 400];
  const [fanIn, fanOut] = [400, 300];
  const cases: [string, (s: number[], o: { random: Random }) => NDArray, number, number | null][] = [
    ['normal (std 0.01)', normal, 0.01, null],
    ['glorot normal', glorotNormal, Math.sqrt(2 / (fanIn + fanOut)), null],
    ['glorot uniform', glorotUniform, Math.sqrt(6 / (fanIn + fanOut)) / Math.sqrt(3), Math.sqrt(6 / (fanIn + fanOut))],
    ['he normal', heNormal, Math.sqrt(2 / fanIn), null],
    ['he uniform', heUniform, Math.sqrt(6 / fanIn) / Math.sqrt(3), Math.sqrt(6 / fanIn)],
    ['pytorch default', pytorchDefault, 1 / Math.sqrt(fanIn) / Math.sqrt(3), 1 / Math.sqrt(fanIn)],
  ];
  test.each(cases)('%s', (_name, init, std, bound) => {
    const a = init(shape, { random: new Random(7) });
    expect(a.dtype).toBe('float32');
    const s = stats(a);
    expect(Math.abs(s.mean)).toBeLessThan(0.02 * std);
    expect(Math.abs(s.std / std - 1)).toBeLessThan(0.03);
    if (bound !== null) {
      expect(s.max).toBeLessThanOrEqual(bound);
      expect(s.min).toBeGreaterThanOrEqual(-bound);
      expect(s.max).toBeGreaterThan(0.99 * bound);
    }
  });

  test('conv weights use the receptive field in the fans', () => {
    const w = heNormal([64, 32, 3, 3], { random: new Random(1), dtype: 'float64' });
    expect(w.dtype).toBe('float64');
    expect(Math.abs(stats(w).std / Math.sqrt(2 / (32 * 9)) - 1)).toBeLessThan(0.03);
  });
});

test('initializer by name; layers: default bias U(+-1/sqrt(fanIn)), zero bias for named inits', () => {
  expect(initializer('he')).toBe(heNormal);
  expect(initializer('glorot-uniform')).toBe(glorotUniform);
  expect(stats(initializer('zeros')([3, 3])).max).toBe(0);
  expect(zeros([2]).size).toBe(2);
  expect(() => initializer('bogus' as InitName)).toThrow(/unknown name 'bogus'/);

  const lin = new Linear(400, 300);
  const b = stats(lin.bias!.value);
  expect(b.max).toBeLessThanOrEqual(1 / 20);
  expect(b.min).toBeGreaterThanOrEqual(-1 / 20);
  expect(b.std).toBeGreaterThan(0.8 * (1 / 20 / Math.sqrt(3)));
  const w = stats(lin.weight.value);
  expect(Math.abs(w.std / (1 / 20 / Math.sqrt(3)) - 1)).toBeLessThan(0.03);

  const he = new Linear(400, 300, { init: 'he' });
  expect(stats(he.bias!.value).max).toBe(0);
  expect(Math.abs(stats(he.weight.value).std / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.03);
  const conv = new Conv2d(3, 8, 5);
  expect(stats(conv.bias!.value).max).toBeLessThanOrEqual(1 / Math.sqrt(75));
});

test('one seed makes initialisation reproducible; another seed differs', () => {
  const build = (seed: number): number[] => {
    manualSeed(seed);
    const net = new LeNet();
    return net.parameters().flatMap((p) => Array.from(p.value.data.subarray(0, 5)));
  };
  expect(build(42)).toEqual(build(42));
  expect(build(42)).not.toEqual(build(43));
  const mlp = (r: Random): number[] => Array.from(new MLP({ inputSize: 4, hiddenSizes: [3], outputSize: 2, init: 'glorot', random: r }).parameters()[0].value.data);
  expect(mlp(new Random(5))).toEqual(mlp(new Random(5)));
});
