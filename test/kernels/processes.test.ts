/**
 * Loading the backend in other processes and threads: a process where the addon cannot load still computes
 * (JS fallback), VUGRAD_BACKEND=js never maps the addon, and the addon loads and computes in two
 * worker_threads at once (it is context-aware).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { backendInfo } from '../../lib/kernels';
import { runChild } from './child';

const root = path.resolve(__dirname, '..', '..');

const COMPUTE = `
const k = require('./lib/kernels');
const a = new Float64Array(64 * 64).map((_, i) => (i % 7) - 3);
const c = new Float64Array(64 * 64);
k.kernels.gemm(false, true, 64, 64, 64, 1, a, a, 0, c);
const x = new Float32Array([1, 2, 3, 1000]);
const losses = new Float32Array(1), probs = new Float32Array(4);
k.kernels.crossEntropy(x, 1, 4, Int32Array.of(0), losses, probs);
const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
console.log(JSON.stringify({ info: k.backendInfo(), c0: c[0], c1: c[1], loss: losses[0], mapped: maps.includes('vugrad.node') }));
`;
// c[0] = sum over p of a[p]^2 for the row 0 pattern; computed here independently.
function expectedC(): [number, number] {
  const a = (i: number) => (i % 7) - 3;
  let c0 = 0;
  let c1 = 0;
  for (let p = 0; p < 64; p++) {
    c0 += a(p) * a(p);
    c1 += a(p) * a(64 + p);
  }
  return [c0, c1];
}

describe('backend selection in a fresh process', () => {
  test('the addon cannot load (VUGRAD_NATIVE_PATH points to nothing): JS kernels, reason recorded, results right', () => {
    const out = runChild(COMPUTE, { VUGRAD_BACKEND: '', VUGRAD_NATIVE_PATH: path.join(root, 'no-such-addon-dir') });
    expect(out.info.backend).toBe('js');
    expect(out.info.reason).toMatch(/unavailable/);
    expect(out.info.nativeKernels).toEqual([]);
    expect([out.c0, out.c1]).toEqual(expectedC());
    expect(out.loss).toBeCloseTo(999, 3);
    expect(out.mapped).toBe(false);
  });

  test('VUGRAD_BACKEND=js never loads the addon', () => {
    const out = runChild(COMPUTE, { VUGRAD_BACKEND: 'js', VUGRAD_NATIVE_PATH: '' });
    expect(out.info).toMatchObject({ backend: 'js', reason: 'VUGRAD_BACKEND=js', requested: 'js', blas: null });
    expect([out.c0, out.c1]).toEqual(expectedC());
    expect(out.mapped).toBe(false);
  });

  test('VUGRAD_BACKEND=native with no addon falls back but says so', () => {
    const out = runChild(COMPUTE, { VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_PATH: '/nonexistent/vugrad.node' });
    expect(out.info.backend).toBe('js');
    expect(out.info.reason).toMatch(/VUGRAD_BACKEND=native was requested/);
    expect([out.c0, out.c1]).toEqual(expectedC());
  });
});

const addonPath = backendInfo().addonPath;
(addonPath ? describe : describe.skip)('the addon in worker_threads', () => {
  test('loads and computes in two workers at once', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.addon);
      const n = 256;
      const a = new Float32Array(n * n).map((_, i) => ((i * 7 + workerData.seed) % 11) - 5);
      const c = new Float32Array(n * n);
      let sum = 0;
      for (let rep = 0; rep < 20; rep++) {
        b.gemm(false, false, n, n, n, 1, a, a, 0, c);
        const e = new Float32Array(1000).fill(0.5);
        b.unary(1, e, e); // exp
        sum += c[rep] + e[0];
      }
      let threw = false;
      try { b.gemm(false, false, 2, 2, 2, 1, a, a, 0, c); } catch (err) { threw = true; }
      parentPort.postMessage({ c0: c[0], cLast: c[n * n - 1], sum, threw });
    `;
    const run = (seed: number) =>
      new Promise<any>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { addon: addonPath, seed } });
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const [r1, r2] = await Promise.all([run(1), run(2)]);
    for (const [seed, r] of [[1, r1], [2, r2]] as const) {
      const n = 256;
      const a = (i: number) => ((i * 7 + seed) % 11) - 5;
      let c0 = 0;
      let cl = 0;
      for (let p = 0; p < n; p++) {
        c0 += a(p) * a(p * n);
        cl += a((n - 1) * n + p) * a(p * n + n - 1);
      }
      expect([r.c0, r.cLast, r.threw]).toEqual([c0, cl, true]);
    }
    // A third worker after the first two have exited: the addon's per-context instance is created again.
    const r3 = await run(1);
    expect(r3.c0).toBe(r1.c0);
  });
});
