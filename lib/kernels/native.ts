/**
 * The native backend: loads the C++ addon (native/, built by node-gyp or shipped in prebuilds/) and adapts it
 * to the KernelTable interface.
 *
 * Loading never throws: `loadNative()` returns the binding or the reason it could not be had (no binary for
 * this platform, a missing shared library, ...). The adapter passes op names as small integer codes (cheaper
 * to cross into C++ than strings) and keeps tiny inputs in JS, where the ~100 ns cost of a native call is more
 * than the work itself (the cut-offs below are measured: `npm run bench:kernels`). Arguments are checked by
 * `validated()` in front of this table, and checked again in C++.
 */
import * as path from 'node:path';
import type { FloatArray } from './dtype';
import type { BinaryOp, KernelName, KernelTable, UnaryOp } from './names';

/** The functions the addon exports (native/src/addon.cc). Op arguments are codes, see UNARY_CODES. */
export interface NativeBinding {
  gemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void;
  unary(op: number, x: FloatArray, out: FloatArray): void;
  unaryBackward(op: number, x: FloatArray, y: FloatArray, g: FloatArray, out: FloatArray): void;
  binary(op: number, a: FloatArray, b: FloatArray, out: FloatArray): void;
  binaryScalar(op: number, a: FloatArray, s: number, out: FloatArray): void;
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;
  axpby(alpha: number, x: FloatArray, beta: number, y: FloatArray, out: FloatArray): void;
  sgdMomentum(param: FloatArray, grad: FloatArray, buf: FloatArray, lr: number, momentum: number, dampening: number, nesterov: number): void;
  adam: KernelTable['adam'];
  rmsprop: KernelTable['rmsprop'];
  adagrad: KernelTable['adagrad'];
  adamax: KernelTable['adamax'];
  adadelta: KernelTable['adadelta'];
  rprop: KernelTable['rprop'];
  asgd: KernelTable['asgd'];
  fill(out: FloatArray, value: number): void;
  sumAll(x: FloatArray): number;
  dot(a: FloatArray, b: FloatArray): number;
  sumAxis: KernelTable['sumAxis'];
  maxAxis: KernelTable['maxAxis'];
  broadcastAxis: KernelTable['broadcastAxis'];
  scatterAxis: KernelTable['scatterAxis'];
  gather: KernelTable['gather'];
  transpose: KernelTable['transpose'];
  softmax: KernelTable['softmax'];
  softmaxBackward: KernelTable['softmaxBackward'];
  logSoftmax: KernelTable['logSoftmax'];
  logSoftmaxBackward: KernelTable['logSoftmaxBackward'];
  crossEntropy: KernelTable['crossEntropy'];
  crossEntropyBackward: KernelTable['crossEntropyBackward'];
  im2col: KernelTable['im2col'];
  col2im: KernelTable['col2im'];
  conv2d: KernelTable['conv2d'];
  conv2dBackwardWeight: KernelTable['conv2dBackwardWeight'];
  conv2dBackwardInput: KernelTable['conv2dBackwardInput'];
  maxPool2d: KernelTable['maxPool2d'];
  maxPool2dBackward: KernelTable['maxPool2dBackward'];
  blasConfig(): string;
  blasCoreName(): string;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  trimMemory?(): boolean;
  mallocTuned?(): boolean;
}

/** Op codes: the order of vg::UnaryOp / vg::BinaryOp in native/include/vugrad/kernels.h. */
export const UNARY_CODES: Readonly<Record<UnaryOp, number>> = {
  neg: 0, exp: 1, log: 2, sigmoid: 3, relu: 4, tanh: 5, sqrt: 6, abs: 7, square: 8, reciprocal: 9,
};
export const BINARY_CODES: Readonly<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

export interface NativeLoad {
  binding: NativeBinding | null;
  /** Where the binary came from (a file path), or why it could not be loaded. */
  detail: string;
}

/** The package root: this file is lib/kernels/native.ts (tests) or dist/kernels/native.js (the build). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Loads the addon with node-gyp-build (build/Release, then prebuilds/<platform>-<arch>), or from
 * `VUGRAD_NATIVE_PATH` (a .node file or a package-like folder) when that is set. Never throws.
 */
export function loadNative(): NativeLoad {
  const override = process.env.VUGRAD_NATIVE_PATH;
  try {
    let binding: NativeBinding;
    let where: string;
    if (override) {
      const p = path.resolve(override);
      if (p.endsWith('.node')) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        binding = require(p) as NativeBinding;
        where = p;
      } else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
        where = nodeGypBuild.resolve(p);
        binding = nodeGypBuild(p) as NativeBinding;
      }
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
      where = nodeGypBuild.resolve(PACKAGE_ROOT);
      binding = nodeGypBuild(PACKAGE_ROOT) as NativeBinding;
    }
    if (typeof binding?.gemm !== 'function' || typeof binding.blasConfig !== 'function') {
      return { binding: null, detail: `${where} is not a vugrad addon (no gemm/blasConfig export)` };
    }
    return { binding, detail: where };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { binding: null, detail: override ? `VUGRAD_NATIVE_PATH=${override}: ${msg}` : msg };
  }
}

/**
 * Below these sizes (elements; for gemm, m*n*k multiply-adds) a kernel stays in JS: the native call costs more
 * than it saves. Measured on a 2-core machine with `npm run bench:kernels` (section 2): an addon call costs
 * about 0.3-0.4 us before any work (mostly N-API reading each typed array), a JS add loop about 1-4 ns per
 * element and a JS exp loop about 15 ns, so elementwise adds break even near 100 elements and exp near 30.
 * A native gemm costs about 1.3 us even for 2x2 (OpenBLAS's own set-up); the JS gemm passes it near 8x8x8.
 * Kernels with index arrays always go native (their range checks live in C++).
 */
export const SMALL_INPUT_CUTOFF = {
  cheapElementwise: 128,
  transcendental: 32,
  reduce: 128,
  gemm: 512,
} as const;

/** Small-input cut-offs by kind of kernel (elements; gemm: multiply-adds). */
export type SmallInputCutoffs = { readonly [K in keyof typeof SMALL_INPUT_CUTOFF]: number };

/**
 * The cut-offs in effect: `SMALL_INPUT_CUTOFF`, or every one set to `VUGRAD_NATIVE_MIN_SIZE` when that is a
 * non-negative integer. `VUGRAD_NATIVE_MIN_SIZE=0` sends every kernel call to the addon, however small: the test
 * suite's native pass runs that way, so that it tests native code and not the JS kernels a second time.
 *
 * @example
 * VUGRAD_NATIVE_MIN_SIZE=0 node train.js   # every call native (slower on tiny tensors; for testing)
 */
export function smallInputCutoffs(env: NodeJS.ProcessEnv = process.env): SmallInputCutoffs {
  const raw = env.VUGRAD_NATIVE_MIN_SIZE;
  if (raw === undefined || raw.trim() === '') return SMALL_INPUT_CUTOFF;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.emitWarning(`vugrad: VUGRAD_NATIVE_MIN_SIZE='${raw}' is not a non-negative integer; using the measured cut-offs`);
    return SMALL_INPUT_CUTOFF;
  }
  return { cheapElementwise: n, transcendental: n, reduce: n, gemm: n };
}

const TRANSCENDENTAL: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['exp', 'log', 'sigmoid', 'tanh']);

/**
 * Adapts the binding to KernelTable. `js` answers the calls that are too small to be worth crossing into C++.
 * Returns every kernel: the addon implements the whole table today; a kernel it lacked would be left out here
 * and dispatch would use the JS one (see `composeTable`).
 */
export function nativeTable(b: NativeBinding, js: KernelTable, cut: SmallInputCutoffs = SMALL_INPUT_CUTOFF): Partial<KernelTable> {
  const table = adapters(b, js, cut);
  // An addon built from older sources (a stale build/ or prebuild) may lack a newer kernel: leave it to JS.
  for (const name of Object.keys(table) as KernelName[]) {
    if (typeof (b as unknown as Record<string, unknown>)[name] !== 'function') delete table[name];
  }
  return table;
}

function adapters(b: NativeBinding, js: KernelTable, cut: SmallInputCutoffs): Partial<KernelTable> {
  return {
    gemm(ta, tb, m, n, k, alpha, a, bm, beta, c) {
      if (m * n * k < cut.gemm) return js.gemm(ta, tb, m, n, k, alpha, a, bm, beta, c);
      b.gemm(ta, tb, m, n, k, alpha, a, bm, beta, c);
    },
    unary(op, x, out) {
      const limit = TRANSCENDENTAL.has(op) ? cut.transcendental : cut.cheapElementwise;
      if (x.length < limit) return js.unary(op, x, out);
      b.unary(UNARY_CODES[op], x, out);
    },
    unaryBackward(op, x, y, g, out) {
      if (g.length < cut.cheapElementwise) return js.unaryBackward(op, x, y, g, out);
      b.unaryBackward(UNARY_CODES[op], x, y, g, out);
    },
    binary(op, a, bb, out) {
      if (a.length < cut.cheapElementwise) return js.binary(op, a, bb, out);
      b.binary(BINARY_CODES[op], a, bb, out);
    },
    binaryScalar(op, a, s, out) {
      if (a.length < cut.cheapElementwise) return js.binaryScalar(op, a, s, out);
      b.binaryScalar(BINARY_CODES[op], a, s, out);
    },
    axpy(alpha, x, y) {
      if (x.length < cut.cheapElementwise) return js.axpy(alpha, x, y);
      b.axpy(alpha, x, y);
    },
    axpby(alpha, x, beta, y, out) {
      if (x.length < cut.cheapElementwise) return js.axpby(alpha, x, beta, y, out);
      b.axpby(alpha, x, beta, y, out);
    },
    sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov) {
      if (param.length < cut.cheapElementwise) return js.sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov);
      b.sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov ? 1 : 0);
    },
    adam(param, grad, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps) {
      if (param.length < cut.transcendental) return js.adam(param, grad, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps);
      b.adam(param, grad, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps);
    },
    rmsprop(param, grad, sq, gAvg, buf, lr, alpha, eps, momentum) {
      if (param.length < cut.transcendental) return js.rmsprop(param, grad, sq, gAvg, buf, lr, alpha, eps, momentum);
      b.rmsprop(param, grad, sq, gAvg, buf, lr, alpha, eps, momentum);
    },
    adagrad(param, grad, sum, clr, eps) {
      if (param.length < cut.transcendental) return js.adagrad(param, grad, sum, clr, eps);
      b.adagrad(param, grad, sum, clr, eps);
    },
    adamax(param, grad, m, u, beta1, beta2, stepSize, eps) {
      if (param.length < cut.cheapElementwise) return js.adamax(param, grad, m, u, beta1, beta2, stepSize, eps);
      b.adamax(param, grad, m, u, beta1, beta2, stepSize, eps);
    },
    adadelta(param, grad, sq, acc, lr, rho, eps) {
      if (param.length < cut.transcendental) return js.adadelta(param, grad, sq, acc, lr, rho, eps);
      b.adadelta(param, grad, sq, acc, lr, rho, eps);
    },
    rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep) {
      if (param.length < cut.cheapElementwise) return js.rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep);
      b.rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep);
    },
    asgd(param, grad, ax, decay, eta, mu) {
      if (param.length < cut.cheapElementwise) return js.asgd(param, grad, ax, decay, eta, mu);
      b.asgd(param, grad, ax, decay, eta, mu);
    },
    fill(out, value) {
      if (out.length < cut.cheapElementwise) return js.fill(out, value);
      b.fill(out, value);
    },
    sumAll(x) {
      return x.length < cut.reduce ? js.sumAll(x) : b.sumAll(x);
    },
    dot(a, bb) {
      return a.length < cut.reduce ? js.dot(a, bb) : b.dot(a, bb);
    },
    sumAxis: (x, outer, n, inner, out) => (x.length < cut.reduce ? js : b).sumAxis(x, outer, n, inner, out),
    maxAxis: (x, outer, n, inner, out, am) => (x.length < cut.reduce ? js : b).maxAxis(x, outer, n, inner, out, am),
    broadcastAxis: (x, outer, n, inner, out) => (out.length < cut.reduce ? js : b).broadcastAxis(x, outer, n, inner, out),
    // NOTE: no JS path for kernels with index arrays: the addon range-checks indices, validated() skips that
    // pass for this table, so small calls must still go through C++.
    scatterAxis: (g, idx, outer, n, inner, out) => b.scatterAxis(g, idx, outer, n, inner, out),
    gather: (x, rows, cols, idx, out) => b.gather(x, rows, cols, idx, out),
    transpose: (x, rows, cols, out) => (x.length < cut.reduce ? js : b).transpose(x, rows, cols, out),
    softmax: (x, rows, cols, out) => b.softmax(x, rows, cols, out),
    softmaxBackward: (y, g, rows, cols, out) => b.softmaxBackward(y, g, rows, cols, out),
    logSoftmax: (x, rows, cols, out) => b.logSoftmax(x, rows, cols, out),
    logSoftmaxBackward: (y, g, rows, cols, out) => b.logSoftmaxBackward(y, g, rows, cols, out),
    crossEntropy: (x, rows, cols, t, losses, probs) => b.crossEntropy(x, rows, cols, t, losses, probs),
    crossEntropyBackward: (p, t, scale, rows, cols, out) => b.crossEntropyBackward(p, t, scale, rows, cols, out),
    im2col: (x, c, h, w, kh, kw, s, p, out) => b.im2col(x, c, h, w, kh, kw, s, p, out),
    col2im: (cols, c, h, w, kh, kw, s, p, out) => b.col2im(cols, c, h, w, kh, kw, s, p, out),
    conv2d: (x, wt, bias, n, c, h, w, o, kh, kw, s, p, out) => b.conv2d(x, wt, bias, n, c, h, w, o, kh, kw, s, p, out),
    conv2dBackwardWeight: (x, g, n, c, h, w, o, kh, kw, s, p, gw) => b.conv2dBackwardWeight(x, g, n, c, h, w, o, kh, kw, s, p, gw),
    conv2dBackwardInput: (g, wt, n, c, h, w, o, kh, kw, s, p, gx) => b.conv2dBackwardInput(g, wt, n, c, h, w, o, kh, kw, s, p, gx),
    maxPool2d: (x, planes, h, w, k, s, out, am) => b.maxPool2d(x, planes, h, w, k, s, out, am),
    maxPool2dBackward: (g, am, planes, h, w, oh, ow, out) => b.maxPool2dBackward(g, am, planes, h, w, oh, ow, out),
  };
}

/** A full table: `partial`'s entries where it has them, `fallback`'s elsewhere (per-kernel fallback). */
export function composeTable(partial: Partial<KernelTable>, fallback: KernelTable): { table: KernelTable; native: KernelName[] } {
  const table = { ...fallback } as Record<KernelName, unknown>;
  const native: KernelName[] = [];
  for (const name of Object.keys(fallback) as KernelName[]) {
    const f = partial[name];
    if (typeof f === 'function') {
      table[name] = f;
      native.push(name);
    }
  }
  return { table: table as unknown as KernelTable, native };
}
