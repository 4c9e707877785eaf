/**
 * Initializer options not covered elsewhere: `uniform` (low/high), `gain` on the Glorot and He initializers,
 * and `mode: 'fan_out'` on He. Statistical checks: every tolerance is K standard errors of the estimate for
 * the sample size used (K = 5: a false failure has probability below 1e-6; the seeds are fixed anyway), so a
 * wrong formula (a missing gain, fan-in used for fan-out: a factor of 2 or more here) is far outside it.
 */
import { NDArray, Random, Linear, nn } from '../../lib';

const { uniform, glorotNormal, glorotUniform, heNormal, heUniform, computeFans } = nn;
const K = 5;

function stats(a: NDArray): { n: number; mean: number; std: number; min: number; max: number } {
  const d = a.data;
  const n = d.length;
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    s += d[i];
    if (d[i] < min) min = d[i];
    if (d[i] > max) max = d[i];
  }
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d[i] - mean) ** 2;
  return { n, mean, std: Math.sqrt(v / (n - 1)), min, max };
}

/** Checks a normal sample: mean 0 and std `std`, within K standard errors (sigma/sqrt(n), sigma/sqrt(2n)). */
function expectNormal(a: NDArray, std: number): void {
  const s = stats(a);
  expect(Math.abs(s.mean)).toBeLessThan((K * std) / Math.sqrt(s.n));
  expect(Math.abs(s.std - std)).toBeLessThan((K * std) / Math.sqrt(2 * s.n));
}

/**
 * Checks a uniform sample on [low, high): inside the bounds, reaching close to both ends (the chance that no
 * sample falls within 20/n of an end is e^-20), mean and std within K standard errors.
 * For U(low, high): sigma = w / sqrt(12); the sample variance has variance (mu4 - sigma^4) / n with
 * mu4 = w^4 / 80, so the std's standard error is about sqrt((1/80 - 1/144) / n) * w^2 / (2 sigma).
 */
function expectUniform(a: NDArray, low: number, high: number): void {
  const s = stats(a);
  const w = high - low;
  const sigma = w / Math.sqrt(12);
  expect(s.min).toBeGreaterThanOrEqual(low);
  expect(s.max).toBeLessThanOrEqual(high);
  expect(s.min).toBeLessThan(low + (20 / s.n) * w);
  expect(s.max).toBeGreaterThan(high - (20 / s.n) * w);
  expect(Math.abs(s.mean - (low + high) / 2)).toBeLessThan((K * sigma) / Math.sqrt(s.n));
  const stdError = (Math.sqrt((1 / 80 - 1 / 144) / s.n) * w * w) / (2 * sigma);
  expect(Math.abs(s.std - sigma)).toBeLessThan(K * stdError);
}

describe('uniform', () => {
  test('defaults to U(0, 1), float32', () => {
    const a = uniform([200, 100], { random: new Random(1) });
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([200, 100]);
    expectUniform(a, 0, 1);
  });

  test('low/high and float64', () => {
    const a = uniform([20_000], { low: -3, high: 5, dtype: 'float64', random: new Random(2) });
    expect(a.dtype).toBe('float64');
    expectUniform(a, -3, 5);
  });

  test('reproducible from the Random given; another seed differs', () => {
    const a = uniform([50], { random: new Random(7) });
    const b = uniform([50], { random: new Random(7) });
    const c = uniform([50], { random: new Random(8) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });
});

// [out, in] = [400, 25]: fan-in 25, fan-out 400 (a factor 4 apart); conv [8, 4, 5, 5]: fan-in 100, fan-out 200.
const linear = [400, 25];
const conv = [8, 4, 5, 5];

describe('gain scales the Glorot and He initializers', () => {
  test.each([0.5, 3])('gain %p', (gain) => {
    const { fanIn, fanOut } = computeFans(linear);
    expectNormal(glorotNormal(linear, { gain, random: new Random(3) }), gain * Math.sqrt(2 / (fanIn + fanOut)));
    const gu = gain * Math.sqrt(6 / (fanIn + fanOut));
    expectUniform(glorotUniform(linear, { gain, random: new Random(4) }), -gu, gu);
    expectNormal(heNormal(linear, { gain, random: new Random(5) }), gain / Math.sqrt(fanIn));
    const hu = gain * Math.sqrt(3 / fanIn);
    expectUniform(heUniform(linear, { gain, random: new Random(6) }), -hu, hu);
  });

  test('the default gain is 1 for Glorot and sqrt(2) for He (the ReLU gain)', () => {
    const { fanIn, fanOut } = computeFans(linear);
    expectNormal(glorotNormal(linear, { random: new Random(9) }), Math.sqrt(2 / (fanIn + fanOut)));
    expectNormal(heNormal(linear, { random: new Random(10) }), Math.SQRT2 / Math.sqrt(fanIn));
  });
});

describe("mode: 'fan_out'", () => {
  test.each([
    ['linear', linear],
    ['conv', conv],
  ])('%s weight: He scales by fan-out (and fan_in stays the default)', (_name, shape) => {
    const { fanIn, fanOut } = computeFans(shape);
    expect(fanIn).not.toBe(fanOut);
    // Conv shapes are small (800 values): repeat draws from one generator to get a sample as large as the linear one.
    const draw = (make: (r: Random) => NDArray, seed: number): NDArray => {
      const r = new Random(seed);
      const parts: number[] = [];
      while (parts.length < 10_000) parts.push(...make(r).data);
      return NDArray.from(parts, 'float64');
    };
    expectNormal(draw((r) => heNormal(shape, { mode: 'fan_out', random: r }), 11), Math.SQRT2 / Math.sqrt(fanOut));
    expectNormal(draw((r) => heNormal(shape, { mode: 'fan_in', random: r }), 12), Math.SQRT2 / Math.sqrt(fanIn));
    expectNormal(draw((r) => heNormal(shape, { random: r }), 13), Math.SQRT2 / Math.sqrt(fanIn));
    const bound = Math.SQRT2 * Math.sqrt(3 / fanOut);
    expectUniform(draw((r) => heUniform(shape, { mode: 'fan_out', random: r }), 14), -bound, bound);
    // gain and mode together.
    expectNormal(draw((r) => kaiming(shape, r), 15), 0.7 / Math.sqrt(fanOut));
  });

  const kaiming = (shape: number[], r: Random) => nn.kaimingNormal(shape, { mode: 'fan_out', gain: 0.7, random: r });

  test('a layer given a fan_out initializer function uses it for its weight', () => {
    const layer = new Linear(25, 400, { init: (shape, o) => heNormal(shape, { ...o, mode: 'fan_out', random: new Random(16) }) });
    expect(layer.weight.shape).toEqual([400, 25]);
    expectNormal(layer.weight.value, Math.SQRT2 / Math.sqrt(400));
    expect(Array.from(layer.bias!.value.data).every((v) => v === 0)).toBe(true); // named/function inits: zero bias
  });

  test('an unknown mode is an error naming it (as PyTorch), not a silent fan-out', () => {
    expect(() => heNormal(linear, { mode: 'fan_avg' as 'fan_in' })).toThrow(/fan_avg/);
    expect(() => heUniform(linear, { mode: 'FAN_IN' as 'fan_in' })).toThrow(/FAN_IN/);
  });
});
