/**
 * The kernel conformance suite: the same expectations, run once against each backend's table (the JS table
 * always; the native one when the addon loaded in this process, else that block is reported as skipped).
 * Every kernel is compared with a naive reference from ./reference (not with the JS table), in float32 and
 * float64, on random shapes that include odd and degenerate ones (1xN, Nx1, empty batches), sizes on both
 * sides of the native small-input cut-offs, and the aliasing and NaN rules that names.ts documents.
 */
import { backendInfo, backendTables, getNumThreads, setNumThreads, KERNEL_NAMES, type KernelTable, type UnaryOp, type BinaryOp } from '../../lib/kernels';
import { composeTable, loadNative, nativeTable, type NativeBinding } from '../../lib/kernels/native';
import {
  randArray,
  randInt,
  refBinary,
  refCol2im,
  refGemm,
  refIm2col,
  refLogSumExp,
  refMaxPool,
  refUnary,
  refUnaryDeriv,
  rng,
  rowsOf,
  type FloatCtor,
} from './reference';
import { BINARY_OPS, UNARY_OPS } from '../../lib/kernels/specs';

const DTYPES: [string, FloatCtor][] = [
  ['float32', Float32Array],
  ['float64', Float64Array],
];
/** Every op, in code order (specs.ts). */
const UNARY: readonly UnaryOp[] = UNARY_OPS;
const BINARY: readonly BinaryOp[] = BINARY_OPS;
/**
 * Sizes on both sides of the native small-input cut-offs (SMALL_INPUT_CUTOFF in lib/kernels/native.ts: 32
 * elements for exp, log, sigmoid, tanh and the optimizer steps with a square root, 128 for the other elementwise
 * kernels, the reductions and the layout copies), plus empty and 1; the gemm shapes below straddle gemm's
 * cut-off (512 multiply-adds). CI's native pass sets VUGRAD_NATIVE_MIN_SIZE=0 (every call native); a plain
 * VUGRAD_BACKEND=native run crosses the cut-offs here.
 */
const SIZES = [0, 1, 7, 31, 255, 256, 1001];

function tolOf(C: FloatCtor): number {
  return C === Float32Array ? 1e-4 : 1e-9;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  expect({ label, length: got.length }).toEqual({ label, length: want.length });
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue; // covers +-Infinity
    if (!(Math.abs(g - w) <= tol * (1 + Math.abs(w)))) {
      throw new Error(`${label}: element ${i} is ${g}, expected ${w} (tol ${tol})`);
    }
  }
}

/** An Error from any realm: errors made by the addon belong to Node's own realm, not jest's sandbox. */
function isError(e: unknown): boolean {
  return Object.prototype.toString.call(e) === '[object Error]';
}

const tables = backendTables();
const backends: [string, KernelTable | null][] = [
  ['js', tables.js],
  ['native', tables.native],
];

if (process.env.VUGRAD_BACKEND === 'native') {
  // The native pass of `npm test` must really be native: a silent fallback would pass every test below twice on JS.
  test('VUGRAD_BACKEND=native: the addon loaded', () => {
    expect(backendInfo()).toMatchObject({ backend: 'native' });
  });
}

for (const [backendName, table] of backends) {
  const suite = table ? describe : describe.skip;
  if (!table) {
    // eslint-disable-next-line no-console
    console.log(`kernel conformance: native skipped (${backendInfo().reason})`);
  }
  suite(`kernel conformance: ${backendName}`, () => {
    const K = table as KernelTable;

    describe.each(DTYPES)('%s', (_dtype, C) => {
      const tol = tolOf(C);

      test('gemm: every transpose, odd and degenerate shapes, alpha and beta', () => {
        const r = rng(1);
        const shapes = [
          [1, 1, 1], [1, 7, 3], [7, 1, 3], [1, 1, 300], [5, 6, 0], [0, 4, 3], [4, 0, 3],
          [33, 17, 9], [64, 65, 66], [3, 200, 2], [17, 1, 40],
        ];
        const scalars = [[1, 0], [-0.5, 1], [2, 0.3], [0, 0.5]];
        let s = 0;
        for (const [m, n, k] of shapes) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const [alpha, beta] = scalars[s++ % scalars.length];
              const a = randArray(C, m * k, r);
              const b = randArray(C, k * n, r);
              const c = randArray(C, m * n, r);
              const want = refGemm(ta, tb, m, n, k, alpha, a, b, beta, c);
              K.gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
              expectClose(c, want, tol * Math.max(1, Math.sqrt(k)), `gemm ${m}x${n}x${k} ta=${ta} tb=${tb}`);
            }
          }
        }
      });

      test('gemm: beta = 0 ignores NaN in C; k = 0 leaves beta*C', () => {
        for (const [m, n, k] of [[2, 3, 4], [40, 30, 20]]) {
          const r = rng(2);
          const a = randArray(C, m * k, r);
          const b = randArray(C, k * n, r);
          const c = new C(m * n).fill(NaN);
          K.gemm(false, false, m, n, k, 1, a, b, 0, c);
          expect(c.every((v) => Number.isFinite(v))).toBe(true);
          expectClose(c, refGemm(false, false, m, n, k, 1, a, b, 0, c), tol * 3, 'gemm beta=0');
        }
        const c0 = new C(6).fill(NaN);
        K.gemm(false, false, 2, 3, 0, 1, new C(0), new C(0), 0, c0);
        expect(Array.from(c0)).toEqual([0, 0, 0, 0, 0, 0]);
        const c1 = new C([1, 2, 3, 4, 5, 6]);
        K.gemm(true, true, 2, 3, 0, 1, new C(0), new C(0), 2, c1);
        expect(Array.from(c1)).toEqual([2, 4, 6, 8, 10, 12]);
      });

      test('unary: every op, sizes around the cut-offs, and out aliasing x', () => {
        const r = rng(3);
        for (const op of UNARY) {
          for (const n of SIZES) {
            const positive = op === 'log' || op === 'sqrt' || op === 'reciprocal';
            const x = positive ? randArray(C, n, r, 0.1, 3) : randArray(C, n, r, -3, 3);
            const want = Array.from(x, refUnary[op]);
            const out = new C(n);
            K.unary(op, x, out);
            expectClose(out, want, tol, `unary ${op} n=${n}`);
            K.unary(op, x, x); // out may alias x
            expectClose(x, want, tol, `unary ${op} n=${n} aliased`);
          }
        }
      });

      test('unary: sigmoid and exp at the extremes; relu of NaN is 0', () => {
        for (const n of [5, 300]) {
          const x = new C(n);
          for (let i = 0; i < n; i++) x[i] = [-1000, -100, 0, 100, 1000][i % 5];
          const out = new C(n);
          K.unary('sigmoid', x, out);
          for (let i = 0; i < n; i++) {
            expect(Number.isFinite(out[i])).toBe(true);
            expect(out[i]).toBeCloseTo(refUnary.sigmoid(x[i]), 6);
          }
          K.unary('exp', x, out);
          expect(out[0]).toBe(0);
          expect(out[4]).toBe(Infinity);
          x.fill(NaN);
          K.unary('relu', x, out);
          expect(out.every((v) => v === 0)).toBe(true);
        }
      });

      test('unaryBackward: g * f\'(x) for every op', () => {
        const r = rng(4);
        for (const op of UNARY) {
          for (const n of [0, 1, 9, 300]) {
            const positive = op === 'log' || op === 'sqrt' || op === 'reciprocal';
            const x = positive ? randArray(C, n, r, 0.2, 3) : randArray(C, n, r, -3, 3);
            const y = new C(n);
            for (let i = 0; i < n; i++) y[i] = refUnary[op](x[i]);
            const g = randArray(C, n, r);
            const out = new C(n);
            K.unaryBackward(op, x, y, g, out);
            const want = Array.from(x, (v, i) => g[i] * refUnaryDeriv[op](v));
            expectClose(out, want, tol * 10, `unaryBackward ${op} n=${n}`);
          }
        }
      });

      test('binary and binaryScalar: every op, with out aliasing a or b', () => {
        const r = rng(5);
        for (const op of BINARY) {
          for (const n of SIZES) {
            const a = randArray(C, n, r);
            const b = randArray(C, n, r, 0.5, 2);
            if (op === 'max' || op === 'min') for (let i = 0; i < n; i += 3) b[i] = a[i]; // ties
            const want = Array.from(a, (v, i) => refBinary[op](v, b[i]));
            const out = new C(n);
            K.binary(op, a, b, out);
            expectClose(out, want, tol, `binary ${op} n=${n}`);
            const a2 = C.from(a);
            K.binary(op, a2, b, a2);
            expectClose(a2, want, tol, `binary ${op} out=a`);
            const b2 = C.from(b);
            K.binary(op, a, b2, b2);
            expectClose(b2, want, tol, `binary ${op} out=b`);
            const s = 0.75;
            K.binaryScalar(op, a, s, out);
            expectClose(out, Array.from(a, (v) => refBinary[op](v, s)), tol, `binaryScalar ${op} n=${n}`);
            K.binaryScalar(op, a, s, a);
            expectClose(a, Array.from(out), 0, `binaryScalar ${op} out=a`);
          }
        }
      });

      test('sgdMomentum: plain, dampened and Nesterov updates of param and buffer', () => {
        const r = rng(17);
        for (const n of SIZES) {
          for (const [lr, momentum, dampening, nesterov] of [[0.1, 0.9, 0, false], [0.05, 0.5, 0.3, false], [0.01, 0.9, 0, true]] as const) {
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const buf = randArray(C, n, r);
            const wantBuf = Array.from(buf, (b, i) => momentum * b + (1 - dampening) * g[i]);
            const wantP = Array.from(p, (v, i) => v - lr * (nesterov ? g[i] + momentum * wantBuf[i] : wantBuf[i]));
            K.sgdMomentum(p, g, buf, lr, momentum, dampening, nesterov);
            expectClose(buf, wantBuf, tol, `sgdMomentum buf n=${n}`);
            expectClose(p, wantP, tol, `sgdMomentum param n=${n} nesterov=${nesterov}`);
          }
        }
      });

      test('adam: moments, AMSGrad maximum and parameter update, against the formula in float64 (large sizes split across threads)', () => {
        const r = rng(19);
        for (const n of [...SIZES, 100_003]) { // the largest is split across the pool's threads
          for (const [beta1, beta2, step, eps, ams] of [[0.9, 0.999, 1, 1e-8, false], [0.8, 0.99, 7, 1e-3, true], [0, 0.5, 3, 0.1, false]] as const) {
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const m = randArray(C, n, r);
            const v = randArray(C, n, r).map(Math.abs);
            const vmax = ams ? randArray(C, n, r).map((x) => 0.5 * Math.abs(x)) : null;
            const lr = 0.01;
            const stepSize = lr / (1 - beta1 ** step);
            const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
            const wantM = Array.from(m, (x, i) => beta1 * x + (1 - beta1) * g[i]);
            const wantV = Array.from(v, (x, i) => beta2 * x + (1 - beta2) * g[i] * g[i]);
            const wantMax = vmax ? Array.from(vmax, (x, i) => Math.max(x, wantV[i])) : null;
            const second = wantMax ?? wantV;
            const wantP = Array.from(p, (x, i) => x - (stepSize * wantM[i]) / (Math.sqrt(second[i]) / bc2Sqrt + eps));
            K.adam(p, g, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps);
            expectClose(m, wantM, tol, `adam m n=${n}`);
            expectClose(v, wantV, tol, `adam v n=${n}`);
            if (vmax && wantMax) expectClose(vmax, wantMax, tol, `adam vmax n=${n}`);
            expectClose(p, wantP, tol, `adam param n=${n} amsgrad=${ams}`);
          }
        }
      });

      test('rmsprop, adagrad, adamax: each option against the formula in float64 (large sizes split across threads)', () => {
        const r = rng(23);
        for (const n of [...SIZES, 100_003]) {
          for (const [centered, withMomentum] of [[false, false], [true, false], [false, true], [true, true]] as const) {
            const [lr, alpha, eps, momentum] = [0.01, 0.9, 1e-3, withMomentum ? 0.8 : 0];
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const sq = randArray(C, n, r).map((x) => 1 + Math.abs(x)); // sq - gAvg^2 stays positive
            const gAvg = centered ? randArray(C, n, r).map((x) => 0.5 * x) : null;
            const buf = withMomentum ? randArray(C, n, r) : null;
            const wantSq = Array.from(sq, (x, i) => alpha * x + (1 - alpha) * g[i] * g[i]);
            const wantAvg = gAvg ? Array.from(gAvg, (x, i) => alpha * x + (1 - alpha) * g[i]) : null;
            const d = Array.from(g, (x, i) => x / (Math.sqrt(wantSq[i] - (wantAvg ? wantAvg[i] ** 2 : 0)) + eps));
            const wantBuf = buf ? Array.from(buf, (x, i) => momentum * x + d[i]) : null;
            const wantP = Array.from(p, (x, i) => x - lr * (wantBuf ? wantBuf[i] : d[i]));
            K.rmsprop(p, g, sq, gAvg, buf, lr, alpha, eps, momentum);
            expectClose(sq, wantSq, tol, `rmsprop sq n=${n}`);
            if (gAvg && wantAvg) expectClose(gAvg, wantAvg, tol, `rmsprop gAvg n=${n}`);
            if (buf && wantBuf) expectClose(buf, wantBuf, tol, `rmsprop buf n=${n}`);
            expectClose(p, wantP, tol, `rmsprop param n=${n} centered=${centered} momentum=${withMomentum}`);
          }
          {
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const sum = randArray(C, n, r).map(Math.abs);
            const wantSum = Array.from(sum, (x, i) => x + g[i] * g[i]);
            const wantP = Array.from(p, (x, i) => x - (0.05 * g[i]) / (Math.sqrt(wantSum[i]) + 1e-2));
            K.adagrad(p, g, sum, 0.05, 1e-2);
            expectClose(sum, wantSum, tol, `adagrad sum n=${n}`);
            expectClose(p, wantP, tol, `adagrad param n=${n}`);
          }
          {
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const m = randArray(C, n, r);
            const u = randArray(C, n, r).map((x) => 2 * Math.abs(x)); // some beta2 u win, some |g| + eps
            const [beta1, beta2, stepSize, eps] = [0.9, 0.99, 0.02, 1e-3];
            const wantM = Array.from(m, (x, i) => beta1 * x + (1 - beta1) * g[i]);
            const wantU = Array.from(u, (x, i) => Math.max(beta2 * x, Math.abs(g[i]) + eps));
            const wantP = Array.from(p, (x, i) => x - (stepSize * wantM[i]) / wantU[i]);
            K.adamax(p, g, m, u, beta1, beta2, stepSize, eps);
            expectClose(m, wantM, tol, `adamax m n=${n}`);
            expectClose(u, wantU, tol, `adamax u n=${n}`);
            expectClose(p, wantP, tol, `adamax param n=${n}`);
          }
        }
      });

      test('adadelta, rprop and asgd against the formula in float64 (large sizes split across threads)', () => {
        const r = rng(29);
        for (const n of [...SIZES, 100_003]) {
          {
            const [lr, rho, eps] = [0.5, 0.9, 1e-3];
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const sq = randArray(C, n, r).map(Math.abs);
            const acc = randArray(C, n, r).map(Math.abs);
            const wantSq = Array.from(sq, (x, i) => rho * x + (1 - rho) * g[i] * g[i]);
            const delta = Array.from(g, (x, i) => (Math.sqrt(acc[i] + eps) / Math.sqrt(wantSq[i] + eps)) * x);
            const wantAcc = Array.from(acc, (x, i) => rho * x + (1 - rho) * delta[i] * delta[i]);
            const wantP = Array.from(p, (x, i) => x - lr * delta[i]);
            K.adadelta(p, g, sq, acc, lr, rho, eps);
            expectClose(sq, wantSq, tol, `adadelta sq n=${n}`);
            expectClose(acc, wantAcc, tol, `adadelta acc n=${n}`);
            expectClose(p, wantP, tol, `adadelta param n=${n}`);
          }
          {
            const [etaminus, etaplus, minStep, maxStep] = [0.5, 1.2, 0.02, 0.3];
            const p = randArray(C, n, r);
            const g = randArray(C, n, r).map((x, i) => (i % 11 === 3 ? 0 : x)); // some zero gradients
            const prev = randArray(C, n, r).map((x, i) => (i % 13 === 5 ? 0 : x));
            const step = randArray(C, n, r).map((x) => 0.01 + 0.3 * Math.abs(x)); // some clamp low, some high
            const wantStep: number[] = [];
            const wantPrev: number[] = [];
            const wantP: number[] = [];
            for (let i = 0; i < n; i++) {
              const s = g[i] * prev[i];
              const size = Math.min(maxStep, Math.max(minStep, step[i] * (s > 0 ? etaplus : s < 0 ? etaminus : 1)));
              const gi = s < 0 ? 0 : g[i];
              wantStep.push(size);
              wantPrev.push(gi);
              wantP.push(p[i] - Math.sign(gi) * size);
            }
            K.rprop(p, g, prev, step, etaminus, etaplus, minStep, maxStep);
            expectClose(step, wantStep, tol, `rprop stepSize n=${n}`);
            expectClose(prev, wantPrev, 0, `rprop prev n=${n}`);
            expectClose(p, wantP, tol, `rprop param n=${n}`);
          }
          for (const mu of [1, 0.25]) {
            // mu 1: the average is the iterate itself; below 1 it moves a fraction mu of the way towards it.
            const [decay, eta] = [0.99, 0.05];
            const p = randArray(C, n, r);
            const g = randArray(C, n, r);
            const ax = randArray(C, n, r);
            const wantP = Array.from(p, (x, i) => x * decay - eta * g[i]);
            const wantAx = Array.from(ax, (x, i) => (mu === 1 ? wantP[i] : x + (wantP[i] - x) * mu));
            K.asgd(p, g, ax, decay, eta, mu);
            expectClose(p, wantP, tol, `asgd param n=${n} mu=${mu}`);
            expectClose(ax, wantAx, tol, `asgd ax n=${n} mu=${mu}`);
          }
        }
      });

      test('axpy, axpby (aliased), fill, sumAll, dot', () => {
        const r = rng(6);
        for (const n of SIZES) {
          const x = randArray(C, n, r);
          const y = randArray(C, n, r);
          const y0 = Array.from(y);
          K.axpy(-1.5, x, y);
          expectClose(y, y0.map((v, i) => v - 1.5 * x[i]), tol, `axpy n=${n}`);
          const want = Array.from(x, (v, i) => 0.5 * v + 2 * y[i]);
          const out = new C(n);
          K.axpby(0.5, x, 2, y, out);
          expectClose(out, want, tol, `axpby n=${n}`);
          const x2 = C.from(x);
          K.axpby(0.5, x2, 2, y, x2);
          expectClose(x2, want, tol, `axpby out=x n=${n}`);
          const y2 = C.from(y);
          K.axpby(0.5, x, 2, y2, y2);
          expectClose(y2, want, tol, `axpby out=y n=${n}`);
          K.fill(out, 3.25);
          expect(out.every((v) => v === 3.25)).toBe(true);
          expect(K.sumAll(x)).toBeCloseTo(Array.from(x).reduce((s, v) => s + v, 0), C === Float32Array ? 4 : 9);
          expect(K.dot(x, y)).toBeCloseTo(Array.from(x).reduce((s, v, i) => s + v * y[i], 0), C === Float32Array ? 4 : 9);
        }
        expect(K.sumAll(new C(0))).toBe(0);
        expect(K.dot(new C(0), new C(0))).toBe(0);
      });

      const AXES = [[0, 3, 2], [2, 0, 3], [1, 5, 1], [3, 1, 4], [4, 7, 5], [2, 300, 3], [1, 1000, 1], [5, 2, 0], [300, 2, 1]];

      test('sumAxis and broadcastAxis over [outer, n, inner]', () => {
        const r = rng(7);
        for (const [outer, n, inner] of AXES) {
          const x = randArray(C, outer * n * inner, r);
          const want: number[] = [];
          for (let o = 0; o < outer; o++)
            for (let i = 0; i < inner; i++) {
              let s = 0;
              for (let j = 0; j < n; j++) s += x[(o * n + j) * inner + i];
              want.push(s);
            }
          const out = randArray(C, outer * inner, r); // old contents must not matter
          K.sumAxis(x, outer, n, inner, out);
          expectClose(out, want, tol * Math.sqrt(n + 1), `sumAxis ${outer},${n},${inner}`);

          const src = randArray(C, outer * inner, r);
          const big = new C(outer * n * inner);
          K.broadcastAxis(src, outer, n, inner, big);
          const wantB: number[] = [];
          for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) wantB.push(src[o * inner + i]);
          expectClose(big, wantB, 0, `broadcastAxis ${outer},${n},${inner}`);
        }
      });

      test('maxAxis: max and the first index that attains it (ties)', () => {
        const r = rng(8);
        for (const [outer, n, inner] of AXES.filter(([, n]) => n >= 1)) {
          const x = new C(outer * n * inner);
          for (let i = 0; i < x.length; i++) x[i] = randInt(r, -3, 3); // many ties
          const out = new C(outer * inner);
          const arg = new Int32Array(outer * inner);
          K.maxAxis(x, outer, n, inner, out, arg);
          for (let o = 0; o < outer; o++)
            for (let i = 0; i < inner; i++) {
              let best = -Infinity;
              let bj = -1;
              for (let j = 0; j < n; j++) if (x[(o * n + j) * inner + i] > best) (best = x[(o * n + j) * inner + i]), (bj = j);
              expect([out[o * inner + i], arg[o * inner + i]]).toEqual([best, bj]);
            }
        }
      });

      test('scatterAxis accumulates into out (not cleared), repeated indices add', () => {
        const r = rng(9);
        for (const [outer, n, inner] of AXES.filter(([, n]) => n >= 1)) {
          const g = randArray(C, outer * inner, r);
          const idx = Int32Array.from({ length: outer * inner }, () => randInt(r, 0, n - 1));
          const out = randArray(C, outer * n * inner, r);
          const want = Array.from(out);
          for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) want[(o * n + idx[o * inner + i]) * inner + i] += g[o * inner + i];
          K.scatterAxis(g, idx, outer, n, inner, out);
          expectClose(out, want, tol, `scatterAxis ${outer},${n},${inner}`);
        }
      });

      test('gather and transpose: 1xN, Nx1, empty and odd shapes', () => {
        const r = rng(10);
        for (const [rows, cols] of [[1, 9], [9, 1], [0, 4], [4, 0], [37, 53], [300, 3], [1, 1]]) {
          const x = randArray(C, rows * cols, r);
          if (cols > 0) {
            const idx = Int32Array.from({ length: rows }, () => randInt(r, 0, cols - 1));
            const out = new C(rows);
            K.gather(x, rows, cols, idx, out);
            expect(Array.from(out)).toEqual(Array.from(idx, (c, row) => x[row * cols + c]));
          }
          const t = new C(rows * cols);
          K.transpose(x, rows, cols, t);
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (t[j * rows + i] !== x[i * cols + j]) throw new Error(`transpose ${rows}x${cols} at ${i},${j}`);
        }
      });

      const ROWS = [[0, 5], [1, 1], [1, 10], [10, 1], [7, 13], [64, 10]];

      test('softmax, logSoftmax and their backward passes', () => {
        const r = rng(11);
        for (const [rows, cols] of ROWS) {
          const x = randArray(C, rows * cols, r, -5, 5);
          const g = randArray(C, rows * cols, r);
          const lse = rowsOf(x, rows, cols).map(refLogSumExp);
          const sm = new C(rows * cols);
          K.softmax(x, rows, cols, sm);
          expectClose(sm, Array.from(x, (v, i) => Math.exp(v - lse[Math.floor(i / cols)])), tol, `softmax ${rows}x${cols}`);
          const ls = new C(rows * cols);
          K.logSoftmax(x, rows, cols, ls);
          expectClose(ls, Array.from(x, (v, i) => v - lse[Math.floor(i / cols)]), tol, `logSoftmax ${rows}x${cols}`);

          // Backward by definition: d softmax_c / d x_j = y_c (delta_cj - y_j).
          const out = new C(rows * cols);
          K.softmaxBackward(sm, g, rows, cols, out);
          const want: number[] = [];
          for (let rr = 0; rr < rows; rr++)
            for (let j = 0; j < cols; j++) {
              let s = 0;
              for (let c = 0; c < cols; c++) s += g[rr * cols + c] * sm[rr * cols + c] * ((c === j ? 1 : 0) - sm[rr * cols + j]);
              want.push(s);
            }
          expectClose(out, want, tol * 10, `softmaxBackward ${rows}x${cols}`);
          // d logsoftmax_c / d x_j = delta_cj - softmax_j.
          K.logSoftmaxBackward(ls, g, rows, cols, out);
          const wantL: number[] = [];
          for (let rr = 0; rr < rows; rr++)
            for (let j = 0; j < cols; j++) {
              let s = 0;
              for (let c = 0; c < cols; c++) s += g[rr * cols + c] * ((c === j ? 1 : 0) - Math.exp(ls[rr * cols + j]));
              wantL.push(s);
            }
          expectClose(out, wantL, tol * 10, `logSoftmaxBackward ${rows}x${cols}`);
        }
      });

      test('crossEntropy and its backward, stable for logits of +-1000', () => {
        const r = rng(12);
        for (const [rows, cols] of ROWS) {
          for (const scale of [5, 1000]) {
            const x = randArray(C, rows * cols, r, -scale, scale);
            const t = Int32Array.from({ length: rows }, () => randInt(r, 0, cols - 1));
            const losses = new C(rows);
            const probs = new C(rows * cols);
            K.crossEntropy(x, rows, cols, t, losses, probs);
            const xr = rowsOf(x, rows, cols);
            const want = xr.map((row, i) => refLogSumExp(row) - row[t[i]]);
            expect(Array.from(losses).every(Number.isFinite)).toBe(true);
            expectClose(losses, want, tol * (scale === 1000 ? 10 : 1), `crossEntropy ${rows}x${cols} scale ${scale}`);
            expectClose(probs, xr.flatMap((row) => row.map((v) => Math.exp(v - refLogSumExp(row)))), tol, 'crossEntropy probs');

            const sc = randArray(C, rows, r);
            const out = new C(rows * cols);
            K.crossEntropyBackward(probs, t, sc, rows, cols, out);
            expectClose(out, Array.from(probs, (p, i) => sc[Math.floor(i / cols)] * (p - (i % cols === t[Math.floor(i / cols)] ? 1 : 0))), tol, 'crossEntropyBackward');
          }
        }
      });

      test('im2col and col2im: stride, padding, odd and 1-wide shapes, random configurations', () => {
        const r = rng(13);
        const configs = [
          [1, 1, 1, 1, 1, 1, 0], [2, 5, 7, 3, 3, 1, 1], [3, 8, 8, 5, 5, 1, 0], [1, 6, 9, 2, 3, 2, 1],
          [2, 7, 5, 3, 3, 3, 2], [1, 1, 9, 1, 9, 1, 0], [1, 9, 1, 3, 1, 1, 1], [0, 4, 4, 3, 3, 1, 1], [3, 32, 32, 5, 5, 1, 0],
        ];
        for (let i = 0; i < 12; i++) {
          const kh = randInt(r, 1, 4);
          const kw = randInt(r, 1, 4);
          const pad = randInt(r, 0, 2);
          configs.push([randInt(r, 1, 3), randInt(r, Math.max(1, kh - 2 * pad), 11), randInt(r, Math.max(1, kw - 2 * pad), 11), kh, kw, randInt(r, 1, 3), pad]);
        }
        for (const [c, h, w, kh, kw, s, p] of configs) {
          const x = randArray(C, c * h * w, r);
          const want = refIm2col(x, c, h, w, kh, kw, s, p);
          const cols = new C(want.length).fill(NaN); // every entry must be written, padding included
          K.im2col(x, c, h, w, kh, kw, s, p, cols);
          expectClose(cols, want, 0, `im2col ${[c, h, w, kh, kw, s, p]}`);
          const gcols = randArray(C, want.length, r);
          const img = randArray(C, c * h * w, r); // col2im accumulates: not cleared first
          const wantImg = refCol2im(gcols, c, h, w, kh, kw, s, p, img);
          K.col2im(gcols, c, h, w, kh, kw, s, p, img);
          expectClose(img, wantImg, tol * 4, `col2im ${[c, h, w, kh, kw, s, p]}`);
        }
      });

      test('kernels split across threads (gemm by rows and by columns, elementwise, conv2d by images) match the reference', () => {
        // Sizes above the native pool's split thresholds (gemm 2^18 multiply-adds, 2^15 elements), so these run
        // in parts on several threads; checked at 1 thread and at 2.
        const r = rng(17);
        const before = getNumThreads();
        try {
          for (const threads of [1, 2]) {
            setNumThreads(threads);
            // [m, n, k]: 150 rows split by rows; 6 and 20 rows split by columns; odd sizes leave uneven parts.
            for (const [m, n, k] of [[150, 40, 100], [6, 3136, 75], [20, 301, 90], [97, 131, 61]]) {
              for (const ta of [false, true]) {
                for (const tb of [false, true]) {
                  const a = randArray(C, m * k, r);
                  const b = randArray(C, k * n, r);
                  const c = randArray(C, m * n, r);
                  const want = refGemm(ta, tb, m, n, k, 0.5, a, b, 0.25, c);
                  K.gemm(ta, tb, m, n, k, 0.5, a, b, 0.25, c);
                  expectClose(c, want, tol * Math.sqrt(k), `gemm ${m}x${n}x${k} ta=${ta} tb=${tb} threads=${threads}`);
                }
              }
            }
            const size = 100_003;
            const x = randArray(C, size, r, 0.1, 2);
            const y = randArray(C, size, r);
            const out = new C(size);
            K.unary('sigmoid', x, out);
            expectClose(out, Array.from(x, refUnary.sigmoid), tol, `sigmoid ${size}`);
            K.binary('mul', x, y, out);
            expectClose(out, Array.from(x, (v, i) => v * y[i]), tol, `mul ${size}`);
            const acc = Float64Array.from(y);
            K.axpy(0.5, x, y);
            expectClose(y, Array.from(acc, (v, i) => v + 0.5 * x[i]), tol, `axpy ${size}`);
            K.fill(out, 3);
            expect(out.every((v) => v === 3)).toBe(true);
            // LeNet's first layer at batch 64: the images are split across the threads.
            const [n, c, h, w, o, kh, kw] = [64, 3, 32, 32, 6, 5, 5];
            const imgs = randArray(C, n * c * h * w, r);
            const weight = randArray(C, o * c * kh * kw, r);
            const l = 28 * 28;
            const conv = new C(n * o * l).fill(NaN);
            K.conv2d(imgs, weight, null, n, c, h, w, o, kh, kw, 1, 0, conv);
            for (const i of [0, 31, 32, 63]) {
              const cols = refIm2col(imgs.subarray(i * c * h * w, (i + 1) * c * h * w), c, h, w, kh, kw, 1, 0);
              const want = refGemm(false, false, o, l, c * kh * kw, 1, weight, cols, 0, new Array<number>(o * l).fill(0));
              expectClose(conv.subarray(i * o * l, (i + 1) * o * l), want, tol * 10, `conv2d image ${i} threads=${threads}`);
            }
            expect(conv.some((v) => Number.isNaN(v))).toBe(false);
          }
        } finally {
          setNumThreads(before);
        }
      });

      test('conv2d and its weight and input gradients: naive sums, with stride, padding, bias or none', () => {
        const r = rng(18);
        // [n, c, h, w, o, kh, kw, stride, pad]: LeNet's two layers, padding, stride, 1x1, c = 1, o = 1, kh != kw,
        // outputs narrower than a vector, odd batches, an empty batch.
        const configs = [
          [5, 3, 32, 32, 6, 5, 5, 1, 0], [4, 6, 14, 14, 16, 5, 5, 1, 0], [3, 2, 7, 9, 4, 3, 3, 1, 1],
          [2, 3, 8, 8, 5, 3, 3, 1, 2], [3, 4, 9, 7, 3, 3, 2, 2, 1], [2, 1, 6, 6, 1, 1, 1, 1, 0],
          [1, 5, 4, 11, 7, 2, 3, 1, 0], [3, 2, 5, 5, 9, 5, 5, 1, 2], [0, 2, 5, 5, 3, 3, 3, 1, 1], [7, 1, 3, 20, 2, 3, 1, 1, 0],
        ];
        for (const [n, c, h, w, o, kh, kw, s, p] of configs) {
          const oh = Math.floor((h + 2 * p - kh) / s) + 1;
          const ow = Math.floor((w + 2 * p - kw) / s) + 1;
          const x = randArray(C, n * c * h * w, r);
          const wt = randArray(C, o * c * kh * kw, r);
          const bias = randArray(C, o, r);
          const g = randArray(C, n * o * oh * ow, r);
          const xAt = (i: number, ch: number, y: number, xx: number) =>
            y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[((i * c + ch) * h + y) * w + xx];
          const wantY = new Array<number>(n * o * oh * ow).fill(0);
          const wantGw = new Array<number>(o * c * kh * kw).fill(0);
          const wantGx = new Array<number>(n * c * h * w).fill(0);
          for (let i = 0; i < n; i++) {
            for (let q = 0; q < o; q++) {
              for (let y = 0; y < oh; y++) {
                for (let xx = 0; xx < ow; xx++) {
                  const at = ((i * o + q) * oh + y) * ow + xx;
                  let sum = bias[q];
                  for (let ch = 0; ch < c; ch++) {
                    for (let ky = 0; ky < kh; ky++) {
                      for (let kx = 0; kx < kw; kx++) {
                        const iy = y * s - p + ky;
                        const ix = xx * s - p + kx;
                        const wi = ((q * c + ch) * kh + ky) * kw + kx;
                        sum += wt[wi] * xAt(i, ch, iy, ix);
                        wantGw[wi] += g[at] * xAt(i, ch, iy, ix);
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) wantGx[((i * c + ch) * h + iy) * w + ix] += g[at] * wt[wi];
                      }
                    }
                  }
                  wantY[at] = sum;
                }
              }
            }
          }
          const label = `conv2d ${[n, c, h, w, o, kh, kw, s, p]}`;
          const k = Math.sqrt(c * kh * kw);
          const y = new C(wantY.length).fill(NaN); // every value must be written
          K.conv2d(x, wt, bias, n, c, h, w, o, kh, kw, s, p, y);
          expectClose(y, wantY, tol * k, label);
          K.conv2d(x, wt, null, n, c, h, w, o, kh, kw, s, p, y);
          expectClose(y, wantY.map((v, i) => v - bias[Math.floor(i / (oh * ow)) % o]), tol * k, `${label} no bias`);
          const gw = new C(wantGw.length).fill(NaN);
          K.conv2dBackwardWeight(x, g, n, c, h, w, o, kh, kw, s, p, gw);
          expectClose(gw, wantGw, tol * Math.sqrt(n * oh * ow), `${label} weight gradient`);
          const gx = new C(wantGx.length).fill(NaN);
          K.conv2dBackwardInput(g, wt, n, c, h, w, o, kh, kw, s, p, gx);
          expectClose(gx, wantGx, tol * Math.sqrt(o * kh * kw), `${label} input gradient`);
        }
      });

      test('maxPool2d and maxPool2dBackward: first maximum on ties, overlapping windows accumulate', () => {
        const r = rng(14);
        for (const [planes, h, w, k, s] of [[1, 2, 2, 2, 2], [3, 6, 6, 2, 2], [2, 7, 5, 3, 2], [1, 4, 4, 3, 1], [0, 4, 4, 2, 2], [2, 1, 9, 1, 1], [128, 28, 28, 2, 2]]) {
          const x = new C(planes * h * w);
          for (let i = 0; i < x.length; i++) x[i] = randInt(r, -2, 2); // ties
          const ref = refMaxPool(x, planes, h, w, k, s);
          const out = new C(ref.out.length);
          const arg = new Int32Array(ref.out.length);
          K.maxPool2d(x, planes, h, w, k, s, out, arg);
          expect(Array.from(out)).toEqual(ref.out);
          expect(Array.from(arg)).toEqual(ref.arg);
          const oh = Math.floor((h - k) / s) + 1;
          const ow = Math.floor((w - k) / s) + 1;
          const g = randArray(C, ref.out.length, r);
          const dx = randArray(C, planes * h * w, r);
          const want = Array.from(dx);
          for (let p = 0; p < planes; p++) for (let o = 0; o < oh * ow; o++) want[p * h * w + arg[p * oh * ow + o]] += g[p * oh * ow + o];
          K.maxPool2dBackward(g, arg, planes, h, w, oh, ow, dx);
          expectClose(dx, want, tol, `maxPool2dBackward ${[planes, h, w, k, s]}`);
        }
      });
    });

    test('bad arguments throw a JS Error naming the kernel (wrong length, dtype, size, index), never crash', () => {
      const f32 = (n: number) => new Float32Array(n);
      const f64 = (n: number) => new Float64Array(n);
      const bad: [string, () => unknown][] = [
        ['gemm', () => K.gemm(false, false, 2, 2, 2, 1, f32(4), f32(4), 0, f32(3))],
        ['gemm', () => K.gemm(false, false, 2, 2, 2, 1, f32(4), f64(4), 0, f32(4))],
        ['gemm', () => K.gemm(false, false, -2, 2, 2, 1, f32(4), f32(4), 0, f32(4))],
        ['gemm', () => K.gemm(false, false, 2.5, 2, 2, 1, f32(4), f32(4), 0, f32(4))],
        ['gemm', () => K.gemm(false, false, 2000, 2000, 2000, 1, f32(4), f32(4), 0, f32(4))],
        ['unary', () => K.unary('exp', f32(1000), f32(999))],
        ['unary', () => K.unary('nope' as UnaryOp, f32(10), f32(10))],
        ['unary', () => K.unary('exp', [1, 2] as unknown as Float32Array, f32(2))],
        ['unaryBackward', () => K.unaryBackward('relu', f32(300), f32(300), f32(300), f64(300))],
        ['binary', () => K.binary('add', f32(500), f64(500), f32(500))],
        ['binary', () => K.binary('add', f32(500), f32(501), f32(500))],
        ['binaryScalar', () => K.binaryScalar('mul', f32(500), 2, f32(5))],
        ['axpy', () => K.axpy(1, f64(500), f64(499))],
        ['axpby', () => K.axpby(1, f64(500), 1, f64(500), f32(500))],
        ['dot', () => K.dot(f64(500), f64(499))],
        ['sumAxis', () => K.sumAxis(f32(6), -1, 2, 3, f32(3))],
        ['sumAxis', () => K.sumAxis(f32(6), 1, 2, 3, f32(4))],
        ['maxAxis', () => K.maxAxis(f32(0), 2, 0, 3, f32(6), new Int32Array(6))],
        ['maxAxis', () => K.maxAxis(f32(6), 1, 2, 3, f32(3), new Int32Array(2))],
        ['maxAxis', () => K.maxAxis(f32(6), 1, 2, 3, f32(3), new Float32Array(3) as unknown as Int32Array)],
        ['broadcastAxis', () => K.broadcastAxis(f32(3), 1, 2, 3, f32(5))],
        ['scatterAxis', () => K.scatterAxis(f32(3), Int32Array.of(0, 2, 1), 1, 2, 3, f32(6))],
        ['scatterAxis', () => K.scatterAxis(f32(3), Int32Array.of(0, -1, 1), 1, 2, 3, f32(6))],
        ['gather', () => K.gather(f32(6), 2, 3, Int32Array.of(0, 3), f32(2))],
        ['gather', () => K.gather(f32(6), 2, 3, Int32Array.of(0, 1), f32(3))],
        ['transpose', () => K.transpose(f32(6), 2, 3, f32(7))],
        ['softmax', () => K.softmax(f32(6), 2, 3, f64(6))],
        ['softmaxBackward', () => K.softmaxBackward(f32(6), f32(5), 2, 3, f32(6))],
        ['logSoftmax', () => K.logSoftmax(f32(6), 3, 3, f32(6))],
        ['logSoftmaxBackward', () => K.logSoftmaxBackward(f64(6), f64(6), 2, 3, f64(5))],
        ['crossEntropy', () => K.crossEntropy(f32(6), 2, 3, Int32Array.of(0, 3), f32(2), f32(6))],
        ['crossEntropy', () => K.crossEntropy(f32(6), 2, 3, Int32Array.of(0, 1), f32(3), f32(6))],
        ['crossEntropyBackward', () => K.crossEntropyBackward(f32(6), Int32Array.of(0, 7), f32(2), 2, 3, f32(6))],
        ['im2col', () => K.im2col(f32(16), 1, 4, 4, 3, 3, 1, 0, f32(35))],
        ['im2col', () => K.im2col(f32(16), 1, 4, 4, 3, 3, 0, 0, f32(36))],
        ['im2col', () => K.im2col(f32(16), 1, 4, 4, 7, 7, 1, 1, f32(0))],
        ['col2im', () => K.col2im(f32(36), 1, 4, 4, 3, 3, 1, 0, f32(15))],
        ['maxPool2d', () => K.maxPool2d(f32(16), 1, 4, 4, 2, 2, f32(4), new Int32Array(3))],
        ['maxPool2d', () => K.maxPool2d(f32(16), 1, 4, 4, 5, 1, f32(0), new Int32Array(0))],
        ['maxPool2dBackward', () => K.maxPool2dBackward(f32(4), Int32Array.of(0, 1, 2, 16), 1, 4, 4, 2, 2, f32(16))],
        ['maxPool2dBackward', () => K.maxPool2dBackward(f32(4), Int32Array.of(0, 1, 2, 3), 1, 4, 4, 2, 2, f32(15))],
        // conv2d [n=2, c=1, 4x4] with a 3x3 weight, o=2: x 32, weight 18, out 2*2*2*2 = 16
        ['conv2d', () => K.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(15))],
        ['conv2d', () => K.conv2d(f32(32), f32(18), f32(3), 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(16))],
        ['conv2d', () => K.conv2d(f32(32), f64(18), null, 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(16))],
        ['conv2d', () => K.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 5, 5, 1, 0, f32(0))],
        ['conv2d', () => K.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 3, 3, 0, 0, f32(16))],
        ['conv2dBackwardWeight', () => K.conv2dBackwardWeight(f32(32), f32(16), 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(17))],
        ['conv2dBackwardInput', () => K.conv2dBackwardInput(f32(16), f32(18), 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(31))],
        ['sgdMomentum', () => K.sgdMomentum(f32(200), f32(200), f32(199), 0.1, 0.9, 0, false)],
        ['sgdMomentum', () => K.sgdMomentum(f32(200), f64(200), f32(200), 0.1, 0.9, 0, false)],
        ['adam', () => K.adam(f32(200), f32(200), f32(200), f32(199), null, 0.9, 0.999, 0.1, 0.5, 1e-8)],
        ['adam', () => K.adam(f32(200), f32(200), f32(200), f32(200), f64(200) as unknown as Float32Array, 0.9, 0.999, 0.1, 0.5, 1e-8)],
        ['adam', () => K.adam(f32(200), f32(200), f32(200), f32(200), null, 0.9, '0.999' as unknown as number, 0.1, 0.5, 1e-8)],
        ['rmsprop', () => K.rmsprop(f32(200), f32(200), f32(200), f32(199), null, 0.01, 0.9, 1e-8, 0)],
        ['rmsprop', () => K.rmsprop(f32(200), f32(200), f64(200) as unknown as Float32Array, null, null, 0.01, 0.9, 1e-8, 0)],
        ['adagrad', () => K.adagrad(f32(200), f32(200), f32(201), 0.01, 1e-10)],
        ['adadelta', () => K.adadelta(f32(200), f32(200), f32(200), f64(200) as unknown as Float32Array, 1, 0.9, 1e-6)],
        ['rprop', () => K.rprop(f32(200), f32(200), f32(199), f32(200), 0.5, 1.2, 1e-6, 50)],
        ['asgd', () => K.asgd(f32(200), f32(200), f32(201), 0.99, 0.01, 1)],
        ['asgd', () => K.asgd(f32(200), f64(200) as unknown as Float32Array, f32(200), 0.99, 0.01, 1)],
        ['asgd', () => K.asgd(f32(200), f32(200), f32(200), 0.99, '0.01' as unknown as number, 1)],
        ['adamax', () => K.adamax(f32(200), f32(200), f32(200), f32(200), 0.9, 0.999, 0.01, undefined as unknown as number)],
      ];
      for (const [name, thunk] of bad) {
        let err: unknown = null;
        try {
          thunk();
        } catch (e) {
          err = e;
        }
        expect({ name, threw: isError(err) }).toEqual({ name, threw: true });
        expect((err as Error).message).toContain(name);
      }
    });

    test('every kernel name has an implementation', () => {
      for (const name of KERNEL_NAMES) expect(typeof K[name]).toBe('function');
    });
  });
}

// The C++ side checks arguments again: calling the addon directly, past the TypeScript checks, throws too.
const direct = tables.native ? loadNative().binding : null;
(direct ? describe : describe.skip)('native addon without the TypeScript checks', () => {
  test('wrong lengths, dtypes, sizes and indices throw JS errors', () => {
    const b = direct!;
    const f32 = (n: number) => new Float32Array(n);
    const thunks: (() => unknown)[] = [
      () => b.gemm(false, false, 2, 2, 2, 1, f32(4), f32(4), 0, f32(3)),
      () => b.gemm(false, false, 2, 2, 2, 1, f32(4), new Float64Array(4), 0, f32(4)),
      () => b.gemm(false, false, -1, 2, 2, 1, f32(4), f32(4), 0, f32(4)),
      () => b.gemm(false, false, 65536, 65536, 1, 1, f32(4), f32(4), 0, f32(4)),
      () => b.unary(99, f32(4), f32(4)),
      () => b.unary(0, f32(4), f32(3)),
      () => b.binary(0, f32(4), new Int32Array(4) as unknown as Float32Array, f32(4)),
      () => b.gather(f32(6), 2, 3, Int32Array.of(0, 3), f32(2)),
      () => b.scatterAxis(f32(3), Int32Array.of(0, 5, 1), 1, 2, 3, f32(6)),
      () => b.crossEntropy(f32(6), 2, 3, Int32Array.of(-1, 0), f32(2), f32(6)),
      () => b.maxPool2dBackward(f32(4), Int32Array.of(0, 1, 2, 99), 1, 4, 4, 2, 2, f32(16)),
      () => b.im2col(f32(16), 1, 4, 4, 3, 3, 1, 0, f32(35)),
      () => b.col2im(f32(36), 1, 4, 4, 9, 9, 1, 0, f32(16)),
      () => b.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(15)),
      () => b.conv2d(f32(32), f32(18), f32(3), 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(16)),
      () => b.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 5, 5, 1, 0, f32(0)),
      () => b.conv2d(f32(32), f32(18), null, 2, 1, 4, 4, 2, 3, 3, 0, 0, f32(16)),
      () => b.conv2dBackwardWeight(f32(32), f32(16), 2, 1, 4, 4, 2, 3, 3, 1, 0, f32(17)),
      () => b.conv2dBackwardInput(f32(16), f32(18), 2, 1, 4, 4, 2, 3, 3, 1, 0, new Float64Array(32) as unknown as Float32Array),
      () => b.sgdMomentum(f32(8), f32(8), f32(7), 0.1, 0.9, 0, 0),
      () => b.adam(f32(8), f32(8), f32(8), f32(8), f32(7), 0.9, 0.999, 0.1, 0.5, 1e-8),
      () => b.adam(f32(8), f32(8), new Float64Array(8) as unknown as Float32Array, f32(8), null, 0.9, 0.999, 0.1, 0.5, 1e-8),
      () => (b.adam as (...a: unknown[]) => unknown)(f32(8), f32(8), f32(8), f32(8), 'x', 0.9, 0.999, 0.1, 0.5, 1e-8),
      () => b.rmsprop(f32(8), f32(8), f32(8), null, f32(9), 0.01, 0.9, 1e-8, 0.5),
      () => (b.rmsprop as (...a: unknown[]) => unknown)(f32(8), f32(8), null, null, null, 0.01, 0.9, 1e-8, 0),
      () => b.adagrad(f32(8), new Float64Array(8) as unknown as Float32Array, f32(8), 0.01, 1e-10),
      () => b.adamax(f32(8), f32(8), f32(8), f32(7), 0.9, 0.999, 0.01, 1e-8),
      () => b.adadelta(f32(8), f32(8), f32(9), f32(8), 1, 0.9, 1e-6),
      () => (b.rprop as (...a: unknown[]) => unknown)(f32(8), f32(8), f32(8), null, 0.5, 1.2, 1e-6, 50),
      () => b.asgd(f32(8), f32(8), f32(9), 0.99, 0.01, 1),
      () => (b.asgd as (...a: unknown[]) => unknown)(f32(8), f32(8), f32(8), 0.99, 0.01),
      () => b.maxAxis(f32(0), 2, 0, 3, f32(6), new Int32Array(6)),
      () => (b.sumAll as (...a: unknown[]) => unknown)(),
      () => b.setNumThreads(0),
    ];
    for (const [i, t] of thunks.entries()) {
      expect({ i, threw: (() => { try { t(); return false; } catch (e) { return isError(e) && /vugrad native/.test((e as Error).message); } })() }).toEqual({ i, threw: true });
    }
  });

  test('tiny and degenerate inputs, which dispatch keeps in JS, are also right in C++', () => {
    const b = direct!;
    for (const C of [Float32Array, Float64Array]) {
      const tol = tolOf(C);
      // gemm: k = 0 (beta = 0 clears NaN, beta = 2 scales), m = 0, 1x1x1 and 2x3x2 with transposes
      const c0 = new C(6).fill(NaN);
      b.gemm(false, false, 2, 3, 0, 1, new C(0), new C(0), 0, c0);
      expect(Array.from(c0)).toEqual([0, 0, 0, 0, 0, 0]);
      const c1 = new C([1, 2, 3, 4, 5, 6]);
      b.gemm(true, false, 2, 3, 0, 1, new C(0), new C(0), 2, c1);
      expect(Array.from(c1)).toEqual([2, 4, 6, 8, 10, 12]);
      b.gemm(false, false, 0, 3, 2, 1, new C(0), new C(6), 0, new C(0));
      const r = rng(20);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        for (const [m, n, k] of [[1, 1, 1], [2, 3, 2], [1, 5, 3]]) {
          const a = randArray(C, m * k, r);
          const bb = randArray(C, k * n, r);
          const c = randArray(C, m * n, r);
          const want = refGemm(ta, tb, m, n, k, 1.5, a, bb, 0.5, c);
          b.gemm(ta, tb, m, n, k, 1.5, a, bb, 0.5, c);
          expectClose(c, want, tol, `direct gemm ${m}x${n}x${k}`);
        }
      }
      // elementwise and reductions at n = 0 and 1
      for (const n of [0, 1, 3]) {
        const x = randArray(C, n, r, 0.5, 2);
        const out = new C(n);
        b.unary(UNARY.indexOf('log'), x, out);
        expectClose(out, Array.from(x, Math.log), tol, 'direct log');
        b.binary(BINARY.indexOf('div'), x, x, out);
        expectClose(out, Array.from(x, () => 1), tol, 'direct div');
        expect(b.sumAll(x)).toBeCloseTo(Array.from(x).reduce((s, v) => s + v, 0), 5);
        expect(b.dot(x, x)).toBeCloseTo(Array.from(x).reduce((s, v) => s + v * v, 0), 5);
      }
      const sm = new C(2);
      b.softmax(new C([1000, -1000]), 1, 2, sm);
      expect(Array.from(sm)).toEqual([1, 0]);
    }
  });

  test('backendInfo reports the addon, BLAS and threads', () => {
    const info = backendInfo();
    expect(info.backend).toBe('native');
    expect(info.blas).toMatch(/OpenBLAS/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.threads).toBeLessThanOrEqual(Math.max(info.cores, 1));
    expect(info.nativeKernels).toEqual([...KERNEL_NAMES]);
    expect(info.openblasCoretype).toBe(process.env.OPENBLAS_CORETYPE ?? null);
  });
});

test('an addon built from older sources leaves the kernels it lacks to JS', () => {
  // A binding with gemm and fill only (as a stale build/ or prebuild would lack a newer kernel).
  const calls: string[] = [];
  const stale = { gemm: () => calls.push('gemm'), fill: () => calls.push('fill') } as unknown as NativeBinding;
  const { js } = backendTables();
  const { table, native } = composeTable(nativeTable(stale, js), js);
  expect(native.sort()).toEqual(['fill', 'gemm']);
  for (const name of KERNEL_NAMES) expect(typeof table[name]).toBe('function');
  const p = new Float64Array([1, 2]);
  const ax = new Float64Array(2);
  table.asgd(p, new Float64Array([1, 1]), ax, 1, 0.5, 1); // not in the binding: the JS kernel runs
  expect(Array.from(p)).toEqual([0.5, 1.5]);
  expect(Array.from(ax)).toEqual([0.5, 1.5]);
  table.fill(new Float64Array(1000), 2);
  table.gemm(false, false, 16, 16, 16, 1, new Float64Array(256), new Float64Array(256), 0, new Float64Array(256));
  expect(calls).toEqual(['fill', 'gemm']);
});
