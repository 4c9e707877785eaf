/**
 * oneDNN as the conv2d provider (issue 20; native/src/onednn_conv.cc): the native table's conv2d,
 * conv2dBackwardWeight and conv2dBackwardInput against the JS table on ResNet-like shapes (strides 1 and 2, pads
 * 0 and 1, with and without bias, batches of 1, 3 and 17 so that the batch splits unevenly across the pool),
 * bf16 precision (within a bf16 bound of float32, and not bit-identical to it: bf16 really ran), and NaN and
 * infinity propagating as in the JS kernels. Skipped only where the native addon or oneDNN is absent;
 * VUGRAD_REQUIRE_ONEDNN=1 makes oneDNN's absence a failure instead.
 */
import { backendInfo, backendTables, bf16Support, getNumThreads, setNumThreads, setPrecision, useBackend, type KernelTable } from '../../lib/kernels';
import { randArray, rng } from './reference';

/** The native table, made the active backend for this file (jest gives each file its own module registry). */
function nativeOrWhy(): { table: KernelTable | null; why: string } {
  try {
    if (!backendTables().native) useBackend('native');
  } catch (e) {
    return { table: null, why: `the native addon is unavailable: ${(e as Error).message}` };
  }
  const table = backendTables().native;
  if (!table) return { table: null, why: 'the native addon is unavailable' };
  const onednn = backendInfo().providers?.onednn;
  if (!onednn?.loaded) return { table: null, why: `oneDNN is not loaded: ${onednn?.detail ?? 'the addon reports no providers'}` };
  return { table, why: '' };
}

const { table: native, why } = nativeOrWhy();
const js = backendTables().js;

if (process.env.VUGRAD_REQUIRE_ONEDNN === '1') {
  test('VUGRAD_REQUIRE_ONEDNN=1: the native addon loaded oneDNN', () => {
    expect(why).toBe('');
    expect(backendInfo().providers?.onednn.loaded).toBe(true);
  });
}

interface Shape {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
  stride: number;
  pad: number;
}

const outSize = (size: number, k: number, s: number, p: number): number => Math.floor((size + 2 * p - k) / s) + 1;
/** The largest finite magnitude. */
const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
};
/** 'f' for a finite value, else 'NaN', 'Infinity' or '-Infinity': where the non-finite values are. */
const kinds = (a: ArrayLike<number>): string[] => Array.from(a, (v) => (Number.isFinite(v) ? 'f' : String(v)));

/** Same length; NaN where want is NaN, equal infinities, else within tol(i). */
function expectClose(got: Float32Array, want: Float32Array, tol: (i: number) => number, label: string): void {
  expect({ label, length: got.length }).toEqual({ label, length: want.length });
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      throw new Error(`${label}: element ${i} is ${g}, expected ${w}`);
    }
    if (g === w) continue;
    if (!(Math.abs(g - w) <= tol(i))) throw new Error(`${label}: element ${i} is ${g}, expected ${w} (tol ${tol(i)})`);
  }
}

interface Case {
  s: Shape;
  x: Float32Array;
  wt: Float32Array;
  bias: Float32Array | null;
  g: Float32Array;
}

function makeCase(s: Shape, seed: number, bias: boolean): Case {
  const r = rng(seed);
  const oh = outSize(s.h, s.k, s.stride, s.pad), ow = outSize(s.w, s.k, s.stride, s.pad);
  return {
    s,
    x: randArray(Float32Array, s.n * s.c * s.h * s.w, r) as Float32Array,
    wt: randArray(Float32Array, s.o * s.c * s.k * s.k, r, -0.5, 0.5) as Float32Array,
    bias: bias ? (randArray(Float32Array, s.o, r) as Float32Array) : null,
    g: randArray(Float32Array, s.n * s.o * oh * ow, r) as Float32Array,
  };
}

type Results = { y: Float32Array; gw: Float32Array; gx: Float32Array };

function runAll(K: KernelTable, t: Case): Results {
  const { n, c, h, w, o, k, stride, pad } = t.s;
  const y = new Float32Array(t.g.length).fill(12345);
  const gw = new Float32Array(t.wt.length).fill(12345);
  const gx = new Float32Array(t.x.length).fill(12345);
  K.conv2d(t.x, t.wt, t.bias, n, c, h, w, o, k, k, stride, pad, y);
  K.conv2dBackwardWeight(t.x, t.g, n, c, h, w, o, k, k, stride, pad, gw);
  K.conv2dBackwardInput(t.g, t.wt, n, c, h, w, o, k, k, stride, pad, gx);
  return { y, gw, gx };
}

const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

/** sum |a||b| per element of each result (the JS kernels on absolute values): the scale of its rounding error. */
function absScale(t: Case): Results {
  return runAll(js, { s: t.s, x: abs(t.x), wt: abs(t.wt), bias: t.bias && abs(t.bias), g: abs(t.g) });
}

const label = (s: Shape, extra = ''): string =>
  `n${s.n} c${s.c} ${s.h}x${s.w} o${s.o} k${s.k} s${s.stride} p${s.pad}${extra}`;

const SHAPES: Shape[] = [];
for (const n of [1, 3, 17]) {
  for (const [stride, pad] of [[1, 1], [1, 0], [2, 1], [2, 0]]) {
    SHAPES.push({ n, c: 16, h: 9, w: 10, o: 32, k: 3, stride, pad });
  }
}
SHAPES.push({ n: 3, c: 32, h: 8, w: 8, o: 16, k: 1, stride: 1, pad: 0 });
SHAPES.push({ n: 3, c: 32, h: 8, w: 8, o: 64, k: 3, stride: 2, pad: 1 });
SHAPES.push({ n: 3, c: 3, h: 12, w: 12, o: 16, k: 3, stride: 1, pad: 1 }); // an RGB stem
SHAPES.push({ n: 5, c: 6, h: 14, w: 14, o: 16, k: 5, stride: 1, pad: 0 }); // LeNet's second layer
SHAPES.push({ n: 17, c: 32, h: 8, w: 8, o: 32, k: 3, stride: 1, pad: 1 });
/** Shapes whose three kernels oneDNN runs under the default rule (onednn_conv.cc): 16+ channels, and enough work
 * per pixel or stride 2 for the forward pass. */
const ONEDNN_SHAPES = [SHAPES[2], SHAPES[13], SHAPES[16]];

const suite = native ? describe : describe.skip;
if (!native) {
  describe(`oneDNN conv2d (skipped: ${why})`, () => {
    test.skip('native addon with oneDNN', () => undefined);
  });
}

suite('oneDNN conv2d: the native table against the JS kernels', () => {
  const K = native as KernelTable;
  const threadsBefore = getNumThreads();
  // Three parts on the 2-core machine as well: 17 images split 5 / 6 / 6, 3 images one each.
  beforeAll(() => setNumThreads(3));
  afterAll(() => setNumThreads(threadsBefore));
  afterEach(() => setPrecision('fp32'));

  test('backendInfo names the conv2d provider and why', () => {
    const conv = backendInfo().providers?.conv2d as { provider: string; why: string };
    expect(['onednn', 'vugrad']).toContain(conv.provider);
    expect(conv.why.length).toBeGreaterThan(10);
  });

  test.each(SHAPES.flatMap((s, i) => [[s, true, i], [s, false, i]] as [Shape, boolean, number][]))(
    'float32 %o, bias %s',
    (s, bias, i) => {
      const t = makeCase(s, 100 + i, bias);
      const got = runAll(K, t);
      const want = runAll(js, t);
      const scale = absScale(t);
      for (const key of ['y', 'gw', 'gx'] as const) {
        const sc = scale[key];
        expectClose(got[key], want[key], (j) => 1e-5 * (1 + sc[j]), `${label(s)} ${key}`);
      }
    },
  );

  test('an empty batch: the weight gradient is zero, nothing else is written', () => {
    const t = makeCase({ n: 0, c: 16, h: 8, w: 8, o: 16, k: 3, stride: 1, pad: 1 }, 7, true);
    const got = runAll(K, t);
    expect(Array.from(got.gw)).toEqual(new Array(t.wt.length).fill(0));
  });

  const bf16 = bf16Support();
  test(`bf16: within a bf16 bound of float32, not bit-identical when oneDNN runs the convolutions (${bf16.reason})`, () => {
    if (!bf16.supported) {
      expect(() => setPrecision('bf16')).toThrow(/bf16/);
      return;
    }
    const viaOnednn = (backendInfo().providers?.conv2d as { provider: string }).provider === 'onednn';
    // ... and LeNet's second layer, which oneDNN runs in bf16 only.
    for (const [i, s] of [...ONEDNN_SHAPES, SHAPES[15]].entries()) {
      const t = makeCase(s, 500 + i, true);
      const f32 = runAll(K, t);
      setPrecision('bf16');
      const b16 = runAll(K, t);
      setPrecision('fp32');
      const scale = absScale(t);
      for (const key of ['y', 'gw', 'gx'] as const) {
        const sc = scale[key];
        // Each input rounded to bf16 (relative error <= 2^-9): each product within 2^-8 of its float32 value.
        expectClose(b16[key], f32[key], (j) => 2 ** -7 * sc[j] + 1e-5 * (1 + sc[j]), `${label(s, ' bf16')} ${key}`);
        // Where vugrad's own convolutions run (VUGRAD_CONV_PROVIDER=vugrad) the bound above is all there is.
        if (viaOnednn) {
          expect({ key, identical: b16[key].every((v, j) => v === f32[key][j]) }).toEqual({ key, identical: false });
        }
      }
    }
  });

  test('NaN and infinity propagate as in the JS kernels (padding included)', () => {
    for (const [i, s] of [SHAPES[4], SHAPES[6], SHAPES[13]].entries()) {
      for (const where of ['x', 'wt', 'g'] as const) {
        for (const v of [NaN, Infinity, -Infinity]) {
          const t = makeCase(s, 900 + i, true);
          t[where][Math.floor(t[where].length / 3)] = v;
          const got = runAll(K, t);
          const want = runAll(js, t);
          for (const key of ['y', 'gw', 'gx'] as const) {
            expect({ key, where, v, kinds: kinds(got[key]) }).toEqual({ key, where, v, kinds: kinds(want[key]) });
            const m = maxAbs(want[key]);
            expectClose(got[key], want[key], () => 1e-4 * (1 + m), `${label(s)} ${where}=${v} ${key}`);
          }
        }
      }
    }
  });

  test('NaN under bf16 precision propagates as well', () => {
    if (!bf16Support().supported) return;
    const t = makeCase(ONEDNN_SHAPES[1], 77, false);
    t.x[5] = NaN;
    setPrecision('bf16');
    const got = runAll(K, t);
    setPrecision('fp32');
    const want = runAll(js, t);
    for (const key of ['y', 'gw', 'gx'] as const) {
      expect({ key, kinds: kinds(got[key]) }).toEqual({ key, kinds: kinds(want[key]) });
    }
  });
});
