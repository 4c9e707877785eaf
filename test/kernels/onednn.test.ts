/**
 * oneDNN as a kernel provider (loaded at run time) and bf16 mixed precision:
 * - the provider each kernel family runs on is reported, and the addon works the same without oneDNN;
 * - float32 gemms through oneDNN agree with float64 (every transpose, alpha and beta);
 * - bf16 gemms are within bf16's rounding of the exact product, and differ from float32 (so bf16 ran);
 *   float64 gemms never change with the precision;
 * - where bf16 cannot run, setPrecision('bf16') throws an error that names the reason.
 *
 * Needs the native addon; oneDNN is asserted present when VUGRAD_REQUIRE_ONEDNN=1 (.ci/run installs it).
 */
import { backendInfo, backendTables, bf16Support, getPrecision, setPrecision, withPrecision } from '../../lib/kernels';
import { runChild } from './child';

const native = backendTables().native;
const info = backendInfo();
const onednn = info.providers?.onednn.loaded ?? false;

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** C = alpha op(A) op(B) + beta C0 in float64, the reference. */
function reference(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, b: Float32Array, beta: number, c0: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c0[i * n + j]);
    }
  }
  return out;
}

function maxError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    e = Number.isNaN(d) ? Infinity : Math.max(e, d);
  }
  return e;
}

describe('oneDNN provider', () => {
  it('is present where the run requires it (VUGRAD_REQUIRE_ONEDNN=1)', () => {
    if (process.env.VUGRAD_REQUIRE_ONEDNN !== '1') {
      // Not required here: the report must still say whether it loaded and why.
      if (info.providers) expect(info.providers.onednn.detail.length).toBeGreaterThan(0);
      return;
    }
    // Asked of the addon in a child, so that the JS pass checks it too.
    const out = runChild(`console.log(JSON.stringify(require('./lib/kernels').backendInfo().providers))`, { VUGRAD_BACKEND: 'native' });
    expect(out.onednn).toEqual({ loaded: true, detail: expect.stringMatching(/^oneDNN 2\./), bf16: expect.any(String) });
  });

  (native ? it : it.skip)('reports a provider and a reason for gemm and conv2d', () => {
    const p = info.providers!;
    expect(['onednn', 'openblas']).toContain(p.gemm.provider);
    expect(['onednn', 'vugrad']).toContain(p.conv2d.provider);
    expect(p.gemm.why.length).toBeGreaterThan(10);
    expect(p.conv2d.why.length).toBeGreaterThan(10);
    if (!onednn) expect(p.gemm.provider).toBe('openblas');
  });

  (native ? it : it.skip)('turned off (VUGRAD_ONEDNN=0), the addon runs every gemm on OpenBLAS and says why', () => {
    const out = runChild(
      `const k = require('./lib/kernels');
       const t = k.backendTables().native;
       const a = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i));
       const b = Float32Array.from({ length: 48 * 40 }, (_, i) => Math.cos(i));
       const c = new Float32Array(64 * 40);
       t.gemm(false, false, 64, 40, 48, 1, a, b, 0, c);
       let bf16 = null; try { k.setPrecision('bf16'); } catch (e) { bf16 = e.message; }
       console.log(JSON.stringify({ p: k.backendInfo().providers, c: Array.from(c.slice(0, 5)), bf16 }));`,
      { VUGRAD_ONEDNN: '0', VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_MIN_SIZE: '0' },
    );
    expect(out.p.onednn.loaded).toBe(false);
    expect(out.p.onednn.detail).toContain('VUGRAD_ONEDNN=0');
    expect(out.p.gemm).toEqual({ provider: 'openblas', why: expect.stringContaining('VUGRAD_ONEDNN=0') });
    expect(out.bf16).toMatch(/precision 'bf16' is not available here: .*VUGRAD_ONEDNN=0/);
    const a = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 48 * 40 }, (_, i) => Math.cos(i));
    const ref = reference(false, false, 64, 40, 48, 1, a, b, 0, new Float32Array(0));
    expect(maxError(out.c, ref.slice(0, 5))).toBeLessThan(1e-4);
  });

  (native && onednn ? it : it.skip)('starts no threads of its own: oneDNN runs on the kernel pool\'s threads (same count as OpenBLAS alone)', () => {
    // Big enough that every gemm is split across the pool; a leftover OpenMP team would add threads.
    const code = `const k = require('./lib/kernels');
       const t = k.backendTables().native;
       const a = new Float32Array(256 * 512).fill(0.5), b = new Float32Array(512 * 384).fill(0.25), c = new Float32Array(256 * 384);
       for (let i = 0; i < 20; i++) { t.gemm(false, false, 256, 384, 512, 1, a, b, 0, c); t.gemm(true, false, 512, 384, 256, 1, a, c, 0, new Float32Array(512 * 384)); }
       const x = new Float32Array(8 * 16 * 16 * 16).fill(0.1), w = new Float32Array(16 * 16 * 9).fill(0.1), y = new Float32Array(8 * 16 * 16 * 16);
       for (let i = 0; i < 5; i++) t.conv2d(x, w, null, 8, 16, 16, 16, 16, 3, 3, 1, 1, y);
       console.log(JSON.stringify({ threads: require('fs').readdirSync('/proc/self/task').length, gemm: k.backendInfo().providers.gemm.provider }));`;
    const env = { VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_MIN_SIZE: '0', OMP_NUM_THREADS: undefined, OPENBLAS_NUM_THREADS: '2' };
    const withOnednn = runChild(code, env);
    const without = runChild(code, { ...env, VUGRAD_ONEDNN: '0' });
    expect(withOnednn.gemm).toBe('onednn');
    expect(without.gemm).toBe('openblas');
    expect(withOnednn.threads).toBe(without.threads);
    // The probe sees an OpenMP team when there is one: oneDNN on its own threads (the measurement-only setting).
    const openmp = runChild(code, { ...env, VUGRAD_ONEDNN_THREADS: 'openmp' });
    expect(openmp.threads).toBeGreaterThan(without.threads);
  });

  (native ? it : it.skip)('a missing libdnnl leaves the addon working, with the loader\'s reason', () => {
    const out = runChild(
      `const k = require('./lib/kernels');
       const c = new Float32Array(4); k.backendTables().native.gemm(false, false, 2, 2, 2, 1, new Float32Array([1,2,3,4]), new Float32Array([5,6,7,8]), 0, c);
       console.log(JSON.stringify({ p: k.backendInfo().providers, c: Array.from(c) }));`,
      { VUGRAD_ONEDNN_PATH: '/nonexistent/libdnnl.so.2', VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_MIN_SIZE: '0' },
    );
    expect(out.p.onednn.loaded).toBe(false);
    expect(out.p.onednn.detail).toContain('/nonexistent/libdnnl.so.2');
    expect(out.c).toEqual([19, 22, 43, 50]);
  });
});

(native ? describe : describe.skip)('float32 gemm on the chosen provider', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [128, 300, 784], [17, 33, 65], [300, 10, 128]];
  for (const [m, n, k] of shapes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]] as const) {
        it(`${m}x${n}x${k} transA=${ta} transB=${tb} alpha=${alpha} beta=${beta}`, () => {
          const a = random(m * k, 1 + m), b = random(k * n, 2 + n), c0 = random(m * n, 3 + k);
          const c = Float32Array.from(c0);
          native!.gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
          const ref = reference(ta, tb, m, n, k, alpha, a, b, beta, c0);
          expect(maxError(c, ref)).toBeLessThan(2e-6 * k + 1e-6);
        });
      }
    }
  }

  it('beta = 0 ignores NaN in C, and NaN in A reaches C', () => {
    const a = random(64 * 64, 5), b = random(64 * 64, 6);
    const c = new Float32Array(64 * 64).fill(NaN);
    native!.gemm(false, false, 64, 64, 64, 1, a, b, 0, c);
    expect(c.every(Number.isFinite)).toBe(true);
    a[3] = NaN; // row 0
    native!.gemm(false, false, 64, 64, 64, 1, a, b, 0, c);
    expect(Array.from(c.slice(0, 64)).every(Number.isNaN)).toBe(true);
    expect(c.slice(64).every(Number.isFinite)).toBe(true);
  });
});

describe('bf16 mixed precision', () => {
  afterEach(() => {
    if (getPrecision() !== 'fp32') setPrecision('fp32');
  });

  it('rejects an unknown precision', () => {
    expect(() => setPrecision('fp16' as never)).toThrow(/expected 'fp32' or 'bf16', got "fp16"/);
    expect(getPrecision()).toBe('fp32');
  });

  const support = bf16Support();
  if (!support.supported) {
    it(`is refused with the reason here (${support.reason})`, () => {
      expect(() => setPrecision('bf16')).toThrow(`precision 'bf16' is not available here: ${support.reason}`);
      expect(getPrecision()).toBe('fp32');
    });
    return;
  }

  const m = 96, n = 80, k = 512;
  const a = random(m * k, 11), b = random(k * n, 12);
  const ref = reference(false, false, m, n, k, 1, a, b, 0, new Float32Array(0));

  it('rounds gemm operands to bf16 and accumulates in float32', () => {
    const c32 = new Float32Array(m * n), c16 = new Float32Array(m * n);
    native!.gemm(false, false, m, n, k, 1, a, b, 0, c32);
    withPrecision('bf16', () => native!.gemm(false, false, m, n, k, 1, a, b, 0, c16));
    const e32 = maxError(c32, ref), e16 = maxError(c16, ref);
    // bf16 keeps 8 significant bits: each product is off by up to ~2^-8 relative; |a|,|b| <= 0.5 and k = 512
    // terms with random signs give errors of a few 1e-3, against ~1e-6 in float32.
    expect(e16).toBeGreaterThan(50 * e32);
    expect(e16).toBeLessThan(0.05);
    // Operands exactly representable in bf16 give the float32 answer: the rounding is the only difference.
    const a8 = a.map((x) => Math.round(x * 64) / 64), b8 = b.map((x) => Math.round(x * 64) / 64);
    const r8 = reference(false, false, m, n, k, 1, a8, b8, 0, new Float32Array(0));
    const c8 = new Float32Array(m * n);
    withPrecision('bf16', () => native!.gemm(false, false, m, n, k, 1, a8, b8, 0, c8));
    expect(maxError(c8, r8)).toBeLessThan(1e-4);
  });

  it('a convolution that stays on vugrad\'s float32 path is float32 for every batch size (no stray bf16 gemm)', () => {
    // 3 input channels, stride 2: neither oneDNN's rule nor the direct convolution takes it (im2col + gemm).
    for (const n of [1, 3]) {
      const x = random(n * 3 * 17 * 17, 21 + n), w = random(8 * 3 * 3 * 3, 22);
      const y32 = new Float32Array(n * 8 * 8 * 8), y16 = new Float32Array(n * 8 * 8 * 8);
      native!.conv2d(x, w, null, n, 3, 17, 17, 8, 3, 3, 2, 0, y32);
      withPrecision('bf16', () => native!.conv2d(x, w, null, n, 3, 17, 17, 8, 3, 3, 2, 0, y16));
      expect(Array.from(y16)).toEqual(Array.from(y32));
    }
    expect(info.providers?.conv2d.why).toMatch(/16/);
  });

  it('leaves float64 gemms exact and restores fp32 afterwards, also after a throw', () => {
    const a64 = Float64Array.from(a), b64 = Float64Array.from(b);
    const c64 = new Float64Array(m * n);
    expect(() => withPrecision('bf16', () => {
      native!.gemm(false, false, m, n, k, 1, a64, b64, 0, c64);
      throw new Error('boom');
    })).toThrow('boom');
    expect(getPrecision()).toBe('fp32');
    expect(maxError(c64, ref)).toBeLessThan(1e-12);
    const c = new Float32Array(m * n);
    native!.gemm(false, false, m, n, k, 1, a, b, 0, c);
    expect(maxError(c, ref)).toBeLessThan(1e-4);
  });

  it('keeps each thread\'s precision its own (a worker_thread in bf16 leaves the main thread in fp32)', async () => {
    const { Worker } = await import('node:worker_threads');
    const code = `
      require('tsx/cjs');
      const { parentPort } = require('node:worker_threads');
      const k = require(${JSON.stringify(require.resolve('../../lib/kernels'))});
      k.setPrecision('bf16');
      parentPort.postMessage(k.getPrecision());
      parentPort.once('message', () => process.exit(0));`;
    const w = new Worker(code, { eval: true });
    const got = await new Promise<string>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    expect(got).toBe('bf16');
    const c = new Float32Array(m * n);
    native!.gemm(false, false, m, n, k, 1, a, b, 0, c);
    expect(maxError(c, ref)).toBeLessThan(1e-4);
    w.postMessage('done');
    await new Promise((r) => w.once('exit', r));
  });
});
