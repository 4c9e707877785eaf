/**
 * Argument checks for every kernel, applied in front of whichever table (JS or native) runs it.
 *
 * Kernels themselves trust their arguments (a JS kernel given a short array silently reads `undefined`; a native
 * one would read past the end). So dispatch checks each call first: typed-array kinds, dtype agreement, integer
 * sizes, exact lengths, and index ranges, and throws an Error that names the kernel and the values, e.g.
 * `gemm: 'c' has length 5, expected m*n = 6 (m=2, n=3)`, and the aliasing contract of names.ts
 * (`KERNEL_ALIASING`): an array a kernel writes shares no memory with its other arrays, except in place. The checks are O(1) except for index ranges, which are
 * O(number of indices) and can be left to a backend that checks them itself (the native addon does).
 */
import type { FloatArray } from './dtype';
import { convOutputSize, type BinaryOp, type KernelName, type KernelTable, type UnaryOp } from './names';

const UNARY_OPS: ReadonlySet<string> = new Set<UnaryOp>([
  'neg', 'exp', 'log', 'sigmoid', 'relu', 'tanh', 'sqrt', 'abs', 'square', 'reciprocal',
]);
const BINARY_OPS: ReadonlySet<string> = new Set<BinaryOp>(['add', 'sub', 'mul', 'div', 'max', 'min']);

/** Largest size accepted for one dimension (BLAS takes a C int). */
const MAX_DIM = 2147483647;

function fail(kernel: string, msg: string): never {
  throw new Error(`${kernel}: ${msg}`);
}

function float(kernel: string, name: string, a: unknown): FloatArray {
  if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) {
    throw new TypeError(`${kernel}: '${name}' must be a Float32Array or Float64Array, got ${describe(a)}`);
  }
  attached(kernel, name, a);
  return a;
}

function int32(kernel: string, name: string, a: unknown): Int32Array {
  if (!(a instanceof Int32Array)) throw new TypeError(`${kernel}: '${name}' must be an Int32Array, got ${describe(a)}`);
  attached(kernel, name, a);
  return a;
}

/**
 * The array's memory is there: its buffer is not detached (transferred, e.g. by postMessage or structuredClone)
 * and a resizable buffer has not shrunk under it (a detached view's byteLength is 0).
 * NOTE: `length` alone cannot tell. In Node 20 (V8 11.3), once optimized code has seen views of resizable or
 * growable buffers, `length` of a detached fixed-length view returns its old value while `byteLength` says 0:
 * every length check passed and the JS kernels read `undefined` (silent NaN). In a process whose code has gone
 * through very many kinds of buffers (the fuzz suite) V8 was seen to read `byteLength`, the buffer's
 * `byteLength` and `at()` stale too; a detached array can then still reach a JS kernel (the addon is not
 * affected: N-API reads the true length and it refuses). A check V8 cannot inline (ArrayBuffer's `slice`)
 * would allocate on every call; this one costs two loads.
 */
function attached(kernel: string, name: string, a: FloatArray | Int32Array): void {
  // Small enough for V8 to inline: the message is built out of line.
  if (a.byteLength !== a.length * a.BYTES_PER_ELEMENT) noMemory(kernel, name, a);
}

function noMemory(kernel: string, name: string, a: FloatArray | Int32Array): never {
  fail(kernel, `'${name}' has no memory (its buffer was detached or shrank): length ${a.length}, byteLength ${a.byteLength}`);
}

function describe(a: unknown): string {
  if (a === null) return 'null';
  if (typeof a === 'object') return (a as object).constructor?.name ?? 'object';
  return typeof a;
}

function sameDType(kernel: string, first: FloatArray, name: string, other: FloatArray): void {
  if (first instanceof Float64Array !== other instanceof Float64Array) {
    throw new TypeError(
      `${kernel}: '${name}' is a ${other.constructor.name} but the first array is a ${first.constructor.name} (dtypes must agree)`,
    );
  }
}

function size(kernel: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DIM) {
    fail(kernel, `'${name}' must be an integer in [0, 2^31), got ${String(v)}`);
  }
  return v;
}

function positive(kernel: string, name: string, v: unknown): number {
  const n = size(kernel, name, v);
  if (n < 1) fail(kernel, `'${name}' must be >= 1, got ${n}`);
  return n;
}

/**
 * A finite number. gemm's alpha and beta must be: BLAS applies alpha inside its sums and the JS kernel to the
 * sum, so an infinite alpha gives -Infinity on one backend and NaN on the other.
 */
function finite(kernel: string, name: string, v: unknown): number {
  if (!Number.isFinite(num(kernel, name, v))) fail(kernel, `'${name}' must be a finite number, got ${String(v)}`);
  return v as number;
}

function num(kernel: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${kernel}: '${name}' must be a number, got ${typeof v}`);
  return v;
}

/**
 * One of an optimizer kernel's state arrays: a float array of param's dtype and length. A null one is an option
 * that is off (AMSGrad's maximum, RMSprop's momentum buffer), allowed only where `optional`.
 * Checked one by one: no allocation on the training loop's path.
 */
function state(kernel: string, param: FloatArray, name: string, a: FloatArray | null, optional = false): void {
  if (a === null && optional) return;
  const f = float(kernel, name, a);
  sameDType(kernel, param, name, f), length(kernel, name, f, param.length, 'param.length');
}

function length(kernel: string, name: string, a: ArrayLike<number>, want: number, how: string): void {
  if (a.length !== want) fail(kernel, `'${name}' has length ${a.length}, expected ${how} = ${want}`);
}

function indices(kernel: string, name: string, idx: Int32Array, bound: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= bound) fail(kernel, `${name}[${i}] = ${v} is out of range [0, ${bound})`);
  }
}

type AnyArray = FloatArray | Int32Array;

/** Whether two views share any byte of one buffer (empty views share nothing). */
function overlaps(a: AnyArray, b: AnyArray): boolean {
  if (a.length === 0 || b.length === 0) return false;
  if (a === b) return true;
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function span(a: AnyArray): string {
  return `bytes [${a.byteOffset}, ${a.byteOffset + a.byteLength})`;
}

/**
 * `w` (written) and `o` share no memory (KERNEL_ALIASING in names.ts). Checked pair by pair, with no
 * allocation: these checks are on the training loop's path.
 */
function apart(kernel: string, wName: string, w: AnyArray | null, oName: string, o: AnyArray | null): void {
  // The usual call (separate buffers) stays small enough to inline; a shared buffer goes to the full check.
  if (w !== null && o !== null && w.buffer === o.buffer) apartSlow(kernel, wName, w, oName, o);
}

function apartSlow(kernel: string, wName: string, w: AnyArray, oName: string, o: AnyArray): void {
  if (overlaps(w, o)) {
    fail(
      kernel,
      `'${wName}' shares memory with '${oName}' (${w === o ? 'the same array' : `one buffer, ${span(w)} and ${span(o)}`}); ` +
        `'${wName}' is written, so it must be a separate array`,
    );
  }
}

/** A non-empty array's buffer, else null (an empty array overlaps nothing). */
function bufferOf(a: AnyArray | null): ArrayBufferLike | null {
  return a === null || a.length === 0 ? null : a.buffer;
}

function same(x: ArrayBufferLike | null, y: ArrayBufferLike | null): boolean {
  return x !== null && x === y;
}

/**
 * An optimizer kernel's arrays (names[i] for a[i]; null for an option that is off) share no memory pairwise:
 * each buffer is read once and compared with the others, and only arrays on one buffer get the byte-range check,
 * so the usual call (every array its own buffer) costs five property reads, not twenty.
 */
function disjoint(
  kernel: string, names: readonly string[],
  a0: AnyArray, a1: AnyArray, a2: AnyArray | null, a3: AnyArray | null = null, a4: AnyArray | null = null,
): void {
  const b0 = bufferOf(a0), b1 = bufferOf(a1), b2 = bufferOf(a2), b3 = bufferOf(a3), b4 = bufferOf(a4);
  if (!(same(b0, b1) || same(b0, b2) || same(b0, b3) || same(b0, b4) || same(b1, b2) || same(b1, b3) ||
        same(b1, b4) || same(b2, b3) || same(b2, b4) || same(b3, b4))) {
    return;
  }
  const arrays = [a0, a1, a2, a3, a4];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) apart(kernel, names[i], arrays[i], names[j], arrays[j]);
  }
}

/** `w` is either apart from `o` or exactly `o`'s elements (an in-place pair of an elementwise kernel). */
function apartOrSame(kernel: string, wName: string, w: AnyArray, oName: string, o: AnyArray): void {
  if (w !== o && w.buffer === o.buffer) apartOrSameSlow(kernel, wName, w, oName, o);
}

function apartOrSameSlow(kernel: string, wName: string, w: AnyArray, oName: string, o: AnyArray): void {
  if (!overlaps(w, o)) return;
  if (w.byteOffset === o.byteOffset && w.byteLength === o.byteLength) return;
  fail(
    kernel,
    `'${wName}' partly overlaps '${oName}' (one buffer, ${span(w)} and ${span(o)}); ` +
      `'${wName}' may be '${oName}' itself or a separate array, not a shifted view of it`,
  );
}

function unaryOp(kernel: string, op: unknown): void {
  if (typeof op !== 'string' || !UNARY_OPS.has(op)) fail(kernel, `unknown op '${String(op)}'`);
}

function binaryOp(kernel: string, op: unknown): void {
  if (typeof op !== 'string' || !BINARY_OPS.has(op)) fail(kernel, `unknown op '${String(op)}'`);
}

/** Output size of a convolution window, or an error when the window does not fit the padded input. */
function convOut(kernel: string, size: number, k: number, stride: number, pad: number, axis: string): number {
  if (k > size + 2 * pad) fail(kernel, `the ${k}-wide window does not fit ${axis} = ${size} with pad ${pad}`);
  return convOutputSize(size, k, stride, pad);
}

/** Each optimizer kernel's arrays, in the order `disjoint` gets them. */
const SGDMOMENTUM_ARRAYS = ['param', 'buf', 'grad'] as const;
const ADAM_ARRAYS = ['param', 'm', 'v', 'vmax', 'grad'] as const;
const RMSPROP_ARRAYS = ['param', 'sq', 'gAvg', 'buf', 'grad'] as const;
const ADAGRAD_ARRAYS = ['param', 'sum', 'grad'] as const;
const ADAMAX_ARRAYS = ['param', 'm', 'u', 'grad'] as const;
const ADADELTA_ARRAYS = ['param', 'sq', 'acc', 'grad'] as const;
const RPROP_ARRAYS = ['param', 'prev', 'stepSize', 'grad'] as const;
const ASGD_ARRAYS = ['param', 'ax', 'grad'] as const;

export interface ValidateOptions {
  /** Check that index arrays are in range (O(indices)); a backend that checks them itself may skip this. */
  checkIndices: boolean;
}

/**
 * Wraps each entry of `table` with its argument checks. The result has the same interface and the same
 * results, and throws a clear Error (TypeError for a wrong array kind or dtype) for any bad call.
 */
export function validated(table: KernelTable, options: ValidateOptions): KernelTable {
  const ci = options.checkIndices;
  const t = table;
  const checked: KernelTable = {
    gemm(transA, transB, m, n, k, alpha, a, b, beta, c) {
      const K = 'gemm';
      size(K, 'm', m), size(K, 'n', n), size(K, 'k', k), finite(K, 'alpha', alpha), finite(K, 'beta', beta);
      float(K, 'a', a), float(K, 'b', b), float(K, 'c', c);
      sameDType(K, a, 'b', b), sameDType(K, a, 'c', c);
      length(K, 'a', a, m * k, `m*k (m=${m}, k=${k})`);
      length(K, 'b', b, k * n, `k*n (k=${k}, n=${n})`);
      length(K, 'c', c, m * n, `m*n (m=${m}, n=${n})`);
      apart(K, 'c', c, 'a', a), apart(K, 'c', c, 'b', b);
      t.gemm(!!transA, !!transB, m, n, k, alpha, a, b, beta, c);
    },
    unary(op, x, out) {
      const K = 'unary';
      unaryOp(K, op), float(K, 'x', x), float(K, 'out', out), sameDType(K, x, 'out', out);
      length(K, 'out', out, x.length, 'x.length');
      apartOrSame(K, 'out', out, 'x', x);
      t.unary(op, x, out);
    },
    unaryBackward(op, x, y, g, out) {
      const K = 'unaryBackward';
      unaryOp(K, op), float(K, 'x', x), float(K, 'y', y), float(K, 'g', g), float(K, 'out', out);
      sameDType(K, g, 'x', x), sameDType(K, g, 'y', y), sameDType(K, g, 'out', out);
      length(K, 'x', x, g.length, 'g.length'), length(K, 'y', y, g.length, 'g.length');
      length(K, 'out', out, g.length, 'g.length');
      apartOrSame(K, 'out', out, 'x', x), apartOrSame(K, 'out', out, 'y', y), apartOrSame(K, 'out', out, 'g', g);
      t.unaryBackward(op, x, y, g, out);
    },
    binary(op, a, b, out) {
      const K = 'binary';
      binaryOp(K, op), float(K, 'a', a), float(K, 'b', b), float(K, 'out', out);
      sameDType(K, a, 'b', b), sameDType(K, a, 'out', out);
      length(K, 'b', b, a.length, 'a.length'), length(K, 'out', out, a.length, 'a.length');
      apartOrSame(K, 'out', out, 'a', a), apartOrSame(K, 'out', out, 'b', b);
      t.binary(op, a, b, out);
    },
    binaryScalar(op, a, s, out) {
      const K = 'binaryScalar';
      binaryOp(K, op), float(K, 'a', a), num(K, 's', s), float(K, 'out', out), sameDType(K, a, 'out', out);
      length(K, 'out', out, a.length, 'a.length');
      apartOrSame(K, 'out', out, 'a', a);
      t.binaryScalar(op, a, s, out);
    },
    axpy(alpha, x, y) {
      const K = 'axpy';
      num(K, 'alpha', alpha), float(K, 'x', x), float(K, 'y', y), sameDType(K, x, 'y', y);
      length(K, 'y', y, x.length, 'x.length');
      apartOrSame(K, 'y', y, 'x', x);
      t.axpy(alpha, x, y);
    },
    axpby(alpha, x, beta, y, out) {
      const K = 'axpby';
      num(K, 'alpha', alpha), num(K, 'beta', beta), float(K, 'x', x), float(K, 'y', y), float(K, 'out', out);
      sameDType(K, x, 'y', y), sameDType(K, x, 'out', out);
      length(K, 'y', y, x.length, 'x.length'), length(K, 'out', out, x.length, 'x.length');
      apartOrSame(K, 'out', out, 'x', x), apartOrSame(K, 'out', out, 'y', y);
      t.axpby(alpha, x, beta, y, out);
    },
    sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov) {
      const K = 'sgdMomentum';
      num(K, 'lr', lr), num(K, 'momentum', momentum), num(K, 'dampening', dampening);
      if (typeof nesterov !== 'boolean') throw new TypeError(`${K}: 'nesterov' must be a boolean, got ${typeof nesterov}`);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'buf', buf);
      disjoint(K, SGDMOMENTUM_ARRAYS, param, buf, grad);
      t.sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov);
    },
    adam(param, grad, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps) {
      const K = 'adam';
      num(K, 'beta1', beta1), num(K, 'beta2', beta2), num(K, 'stepSize', stepSize), num(K, 'bc2Sqrt', bc2Sqrt), num(K, 'eps', eps);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'm', m),
        state(K, param, 'v', v), state(K, param, 'vmax', vmax, true);
      disjoint(K, ADAM_ARRAYS, param, m, v, vmax, grad);
      t.adam(param, grad, m, v, vmax, beta1, beta2, stepSize, bc2Sqrt, eps);
    },
    rmsprop(param, grad, sq, gAvg, buf, lr, alpha, eps, momentum) {
      const K = 'rmsprop';
      num(K, 'lr', lr), num(K, 'alpha', alpha), num(K, 'eps', eps), num(K, 'momentum', momentum);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'sq', sq),
        state(K, param, 'gAvg', gAvg, true), state(K, param, 'buf', buf, true);
      disjoint(K, RMSPROP_ARRAYS, param, sq, gAvg, buf, grad);
      t.rmsprop(param, grad, sq, gAvg, buf, lr, alpha, eps, momentum);
    },
    adagrad(param, grad, sum, clr, eps) {
      const K = 'adagrad';
      num(K, 'clr', clr), num(K, 'eps', eps);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'sum', sum);
      disjoint(K, ADAGRAD_ARRAYS, param, sum, grad);
      t.adagrad(param, grad, sum, clr, eps);
    },
    adamax(param, grad, m, u, beta1, beta2, stepSize, eps) {
      const K = 'adamax';
      num(K, 'beta1', beta1), num(K, 'beta2', beta2), num(K, 'stepSize', stepSize), num(K, 'eps', eps);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'm', m), state(K, param, 'u', u);
      disjoint(K, ADAMAX_ARRAYS, param, m, u, grad);
      t.adamax(param, grad, m, u, beta1, beta2, stepSize, eps);
    },
    adadelta(param, grad, sq, acc, lr, rho, eps) {
      const K = 'adadelta';
      num(K, 'lr', lr), num(K, 'rho', rho), num(K, 'eps', eps);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'sq', sq), state(K, param, 'acc', acc);
      disjoint(K, ADADELTA_ARRAYS, param, sq, acc, grad);
      t.adadelta(param, grad, sq, acc, lr, rho, eps);
    },
    rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep) {
      const K = 'rprop';
      num(K, 'etaminus', etaminus), num(K, 'etaplus', etaplus), num(K, 'minStep', minStep), num(K, 'maxStep', maxStep);
      float(K, 'param', param), state(K, param, 'grad', grad),
        state(K, param, 'prev', prev), state(K, param, 'stepSize', stepSize);
      disjoint(K, RPROP_ARRAYS, param, prev, stepSize, grad);
      t.rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep);
    },
    asgd(param, grad, ax, decay, eta, mu) {
      const K = 'asgd';
      num(K, 'decay', decay), num(K, 'eta', eta), num(K, 'mu', mu);
      float(K, 'param', param), state(K, param, 'grad', grad), state(K, param, 'ax', ax);
      disjoint(K, ASGD_ARRAYS, param, ax, grad);
      t.asgd(param, grad, ax, decay, eta, mu);
    },
    fill(out, value) {
      float('fill', 'out', out), num('fill', 'value', value);
      t.fill(out, value);
    },
    sumAll(x) {
      float('sumAll', 'x', x);
      return t.sumAll(x);
    },
    dot(a, b) {
      const K = 'dot';
      float(K, 'a', a), float(K, 'b', b), sameDType(K, a, 'b', b), length(K, 'b', b, a.length, 'a.length');
      return t.dot(a, b);
    },
    sumAxis(x, outer, n, inner, out) {
      const K = 'sumAxis';
      size(K, 'outer', outer), size(K, 'n', n), size(K, 'inner', inner);
      float(K, 'x', x), float(K, 'out', out), sameDType(K, x, 'out', out);
      length(K, 'x', x, outer * n * inner, `outer*n*inner (${outer}*${n}*${inner})`);
      length(K, 'out', out, outer * inner, `outer*inner (${outer}*${inner})`);
      apart(K, 'out', out, 'x', x);
      t.sumAxis(x, outer, n, inner, out);
    },
    maxAxis(x, outer, n, inner, out, argmax) {
      const K = 'maxAxis';
      size(K, 'outer', outer), positive(K, 'n', n), size(K, 'inner', inner);
      float(K, 'x', x), float(K, 'out', out), int32(K, 'argmax', argmax), sameDType(K, x, 'out', out);
      length(K, 'x', x, outer * n * inner, `outer*n*inner (${outer}*${n}*${inner})`);
      length(K, 'out', out, outer * inner, `outer*inner (${outer}*${inner})`);
      length(K, 'argmax', argmax, outer * inner, `outer*inner (${outer}*${inner})`);
      apart(K, 'out', out, 'x', x), apart(K, 'out', out, 'argmax', argmax), apart(K, 'argmax', argmax, 'x', x);
      t.maxAxis(x, outer, n, inner, out, argmax);
    },
    broadcastAxis(x, outer, n, inner, out) {
      const K = 'broadcastAxis';
      size(K, 'outer', outer), size(K, 'n', n), size(K, 'inner', inner);
      float(K, 'x', x), float(K, 'out', out), sameDType(K, x, 'out', out);
      length(K, 'x', x, outer * inner, `outer*inner (${outer}*${inner})`);
      length(K, 'out', out, outer * n * inner, `outer*n*inner (${outer}*${n}*${inner})`);
      apart(K, 'out', out, 'x', x);
      t.broadcastAxis(x, outer, n, inner, out);
    },
    scatterAxis(g, idx, outer, n, inner, out) {
      const K = 'scatterAxis';
      size(K, 'outer', outer), size(K, 'n', n), size(K, 'inner', inner);
      float(K, 'g', g), int32(K, 'idx', idx), float(K, 'out', out), sameDType(K, g, 'out', out);
      length(K, 'g', g, outer * inner, `outer*inner (${outer}*${inner})`);
      length(K, 'idx', idx, outer * inner, `outer*inner (${outer}*${inner})`);
      length(K, 'out', out, outer * n * inner, `outer*n*inner (${outer}*${n}*${inner})`);
      apart(K, 'out', out, 'g', g), apart(K, 'out', out, 'idx', idx);
      if (ci) indices(K, 'idx', idx, n);
      t.scatterAxis(g, idx, outer, n, inner, out);
    },
    gather(x, rows, cols, idx, out) {
      const K = 'gather';
      size(K, 'rows', rows), size(K, 'cols', cols);
      float(K, 'x', x), int32(K, 'idx', idx), float(K, 'out', out), sameDType(K, x, 'out', out);
      length(K, 'x', x, rows * cols, `rows*cols (${rows}*${cols})`);
      length(K, 'idx', idx, rows, 'rows'), length(K, 'out', out, rows, 'rows');
      apart(K, 'out', out, 'x', x), apart(K, 'out', out, 'idx', idx);
      if (ci) indices(K, 'idx', idx, cols);
      t.gather(x, rows, cols, idx, out);
    },
    transpose(x, rows, cols, out) {
      const K = 'transpose';
      size(K, 'rows', rows), size(K, 'cols', cols);
      float(K, 'x', x), float(K, 'out', out), sameDType(K, x, 'out', out);
      length(K, 'x', x, rows * cols, `rows*cols (${rows}*${cols})`);
      length(K, 'out', out, rows * cols, `rows*cols (${rows}*${cols})`);
      apart(K, 'out', out, 'x', x);
      t.transpose(x, rows, cols, out);
    },
    softmax(x, rows, cols, out) {
      rowWise('softmax', x, rows, cols, out);
      t.softmax(x, rows, cols, out);
    },
    softmaxBackward(y, g, rows, cols, out) {
      rowWiseBackward('softmaxBackward', y, g, rows, cols, out);
      t.softmaxBackward(y, g, rows, cols, out);
    },
    logSoftmax(x, rows, cols, out) {
      rowWise('logSoftmax', x, rows, cols, out);
      t.logSoftmax(x, rows, cols, out);
    },
    logSoftmaxBackward(y, g, rows, cols, out) {
      rowWiseBackward('logSoftmaxBackward', y, g, rows, cols, out);
      t.logSoftmaxBackward(y, g, rows, cols, out);
    },
    crossEntropy(x, rows, cols, targets, losses, probs) {
      const K = 'crossEntropy';
      size(K, 'rows', rows), size(K, 'cols', cols);
      float(K, 'x', x), int32(K, 'targets', targets), float(K, 'losses', losses), float(K, 'probs', probs);
      sameDType(K, x, 'losses', losses), sameDType(K, x, 'probs', probs);
      length(K, 'x', x, rows * cols, `rows*cols (${rows}*${cols})`);
      length(K, 'targets', targets, rows, 'rows'), length(K, 'losses', losses, rows, 'rows');
      length(K, 'probs', probs, rows * cols, `rows*cols (${rows}*${cols})`);
      apart(K, 'losses', losses, 'probs', probs), apart(K, 'losses', losses, 'x', x), apart(K, 'losses', losses, 'targets', targets);
      apart(K, 'probs', probs, 'x', x), apart(K, 'probs', probs, 'targets', targets);
      if (ci) indices(K, 'targets', targets, cols);
      t.crossEntropy(x, rows, cols, targets, losses, probs);
    },
    crossEntropyBackward(probs, targets, scale, rows, cols, out) {
      const K = 'crossEntropyBackward';
      size(K, 'rows', rows), size(K, 'cols', cols);
      float(K, 'probs', probs), int32(K, 'targets', targets), float(K, 'scale', scale), float(K, 'out', out);
      sameDType(K, probs, 'scale', scale), sameDType(K, probs, 'out', out);
      length(K, 'probs', probs, rows * cols, `rows*cols (${rows}*${cols})`);
      length(K, 'targets', targets, rows, 'rows'), length(K, 'scale', scale, rows, 'rows');
      length(K, 'out', out, rows * cols, `rows*cols (${rows}*${cols})`);
      apart(K, 'out', out, 'probs', probs), apart(K, 'out', out, 'targets', targets), apart(K, 'out', out, 'scale', scale);
      if (ci) indices(K, 'targets', targets, cols);
      t.crossEntropyBackward(probs, targets, scale, rows, cols, out);
    },
    im2col(x, c, h, w, kh, kw, stride, pad, out) {
      const n = conv('im2col', x, c, h, w, kh, kw, stride, pad, out);
      length('im2col', 'x', x, n.image, `c*h*w (${c}*${h}*${w})`);
      length('im2col', 'out', out, n.cols, `c*kh*kw*oh*ow (${c}*${kh}*${kw}*${n.oh}*${n.ow})`);
      apart('im2col', 'out', out, 'x', x);
      t.im2col(x, c, h, w, kh, kw, stride, pad, out);
    },
    col2im(cols, c, h, w, kh, kw, stride, pad, out) {
      const n = conv('col2im', cols, c, h, w, kh, kw, stride, pad, out);
      length('col2im', 'cols', cols, n.cols, `c*kh*kw*oh*ow (${c}*${kh}*${kw}*${n.oh}*${n.ow})`);
      length('col2im', 'out', out, n.image, `c*h*w (${c}*${h}*${w})`);
      apart('col2im', 'out', out, 'cols', cols);
      t.col2im(cols, c, h, w, kh, kw, stride, pad, out);
    },
    conv2d(x, weight, bias, n, c, h, w, o, kh, kw, stride, pad, out) {
      const K = 'conv2d';
      const g = convLayer(K, n, c, h, w, o, kh, kw, stride, pad);
      float(K, 'x', x), float(K, 'weight', weight), float(K, 'out', out);
      sameDType(K, x, 'weight', weight), sameDType(K, x, 'out', out);
      length(K, 'x', x, n * c * h * w, `n*c*h*w (${n}*${c}*${h}*${w})`);
      length(K, 'weight', weight, o * c * kh * kw, `o*c*kh*kw (${o}*${c}*${kh}*${kw})`);
      if (bias !== null) {
        float(K, 'bias', bias), sameDType(K, x, 'bias', bias);
        length(K, 'bias', bias, o, 'o');
      }
      length(K, 'out', out, n * o * g.oh * g.ow, `n*o*oh*ow (${n}*${o}*${g.oh}*${g.ow})`);
      apart(K, 'out', out, 'x', x), apart(K, 'out', out, 'weight', weight), apart(K, 'out', out, 'bias', bias);
      t.conv2d(x, weight, bias, n, c, h, w, o, kh, kw, stride, pad, out);
    },
    conv2dBackwardWeight(x, gr, n, c, h, w, o, kh, kw, stride, pad, gw) {
      const K = 'conv2dBackwardWeight';
      const g = convLayer(K, n, c, h, w, o, kh, kw, stride, pad);
      float(K, 'x', x), float(K, 'g', gr), float(K, 'gw', gw);
      sameDType(K, x, 'g', gr), sameDType(K, x, 'gw', gw);
      length(K, 'x', x, n * c * h * w, `n*c*h*w (${n}*${c}*${h}*${w})`);
      length(K, 'g', gr, n * o * g.oh * g.ow, `n*o*oh*ow (${n}*${o}*${g.oh}*${g.ow})`);
      length(K, 'gw', gw, o * c * kh * kw, `o*c*kh*kw (${o}*${c}*${kh}*${kw})`);
      apart(K, 'gw', gw, 'x', x), apart(K, 'gw', gw, 'g', gr);
      t.conv2dBackwardWeight(x, gr, n, c, h, w, o, kh, kw, stride, pad, gw);
    },
    conv2dBackwardInput(gr, weight, n, c, h, w, o, kh, kw, stride, pad, gx) {
      const K = 'conv2dBackwardInput';
      const g = convLayer(K, n, c, h, w, o, kh, kw, stride, pad);
      float(K, 'g', gr), float(K, 'weight', weight), float(K, 'gx', gx);
      sameDType(K, gr, 'weight', weight), sameDType(K, gr, 'gx', gx);
      length(K, 'g', gr, n * o * g.oh * g.ow, `n*o*oh*ow (${n}*${o}*${g.oh}*${g.ow})`);
      length(K, 'weight', weight, o * c * kh * kw, `o*c*kh*kw (${o}*${c}*${kh}*${kw})`);
      length(K, 'gx', gx, n * c * h * w, `n*c*h*w (${n}*${c}*${h}*${w})`);
      apart(K, 'gx', gx, 'g', gr), apart(K, 'gx', gx, 'weight', weight);
      t.conv2dBackwardInput(gr, weight, n, c, h, w, o, kh, kw, stride, pad, gx);
    },
    maxPool2d(x, planes, h, w, k, stride, out, argmax) {
      const K = 'maxPool2d';
      size(K, 'planes', planes), size(K, 'h', h), size(K, 'w', w), positive(K, 'k', k), positive(K, 'stride', stride);
      float(K, 'x', x), float(K, 'out', out), int32(K, 'argmax', argmax), sameDType(K, x, 'out', out);
      const oh = convOut(K, h, k, stride, 0, 'h');
      const ow = convOut(K, w, k, stride, 0, 'w');
      length(K, 'x', x, planes * h * w, `planes*h*w (${planes}*${h}*${w})`);
      length(K, 'out', out, planes * oh * ow, `planes*oh*ow (${planes}*${oh}*${ow})`);
      length(K, 'argmax', argmax, planes * oh * ow, `planes*oh*ow (${planes}*${oh}*${ow})`);
      apart(K, 'out', out, 'x', x), apart(K, 'out', out, 'argmax', argmax), apart(K, 'argmax', argmax, 'x', x);
      t.maxPool2d(x, planes, h, w, k, stride, out, argmax);
    },
    maxPool2dBackward(g, argmax, planes, h, w, oh, ow, out) {
      const K = 'maxPool2dBackward';
      size(K, 'planes', planes), size(K, 'h', h), size(K, 'w', w), size(K, 'oh', oh), size(K, 'ow', ow);
      float(K, 'g', g), int32(K, 'argmax', argmax), float(K, 'out', out), sameDType(K, g, 'out', out);
      length(K, 'g', g, planes * oh * ow, `planes*oh*ow (${planes}*${oh}*${ow})`);
      length(K, 'argmax', argmax, planes * oh * ow, `planes*oh*ow (${planes}*${oh}*${ow})`);
      length(K, 'out', out, planes * h * w, `planes*h*w (${planes}*${h}*${w})`);
      apart(K, 'out', out, 'g', g), apart(K, 'out', out, 'argmax', argmax);
      if (ci) indices(K, 'argmax', argmax, h * w);
      t.maxPool2dBackward(g, argmax, planes, h, w, oh, ow, out);
    },
  };
  return checked;
}

function rowWise(K: string, x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  size(K, 'rows', rows), size(K, 'cols', cols);
  float(K, 'x', x), float(K, 'out', out), sameDType(K, x, 'out', out);
  length(K, 'x', x, rows * cols, `rows*cols (${rows}*${cols})`);
  length(K, 'out', out, rows * cols, `rows*cols (${rows}*${cols})`);
  apart(K, 'out', out, 'x', x);
}

function rowWiseBackward(K: string, y: FloatArray, g: FloatArray, rows: number, cols: number, out: FloatArray): void {
  size(K, 'rows', rows), size(K, 'cols', cols);
  float(K, 'y', y), float(K, 'g', g), float(K, 'out', out), sameDType(K, y, 'g', g), sameDType(K, y, 'out', out);
  length(K, 'y', y, rows * cols, `rows*cols (${rows}*${cols})`);
  length(K, 'g', g, rows * cols, `rows*cols (${rows}*${cols})`);
  length(K, 'out', out, rows * cols, `rows*cols (${rows}*${cols})`);
  apart(K, 'out', out, 'y', y), apart(K, 'out', out, 'g', g);
}

function conv(
  K: string,
  src: FloatArray,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  out: FloatArray,
): { oh: number; ow: number; image: number; cols: number } {
  const { oh, ow } = convWindow(K, c, h, w, kh, kw, stride, pad);
  float(K, K.startsWith('im2col') ? 'x' : 'cols', src), float(K, 'out', out), sameDType(K, src, 'out', out);
  return { oh, ow, image: c * h * w, cols: c * kh * kw * oh * ow };
}

/** Sizes of a convolution window over [c, h, w] images and its fit: the output's oh and ow. */
function convWindow(
  K: string, c: number, h: number, w: number, kh: number, kw: number, stride: number, pad: number,
): { oh: number; ow: number } {
  size(K, 'c', c), size(K, 'h', h), size(K, 'w', w), positive(K, 'kh', kh), positive(K, 'kw', kw);
  positive(K, 'stride', stride), size(K, 'pad', pad);
  return { oh: convOut(K, h, kh, stride, pad, 'h'), ow: convOut(K, w, kw, stride, pad, 'w') };
}

/** Sizes and window fit of a conv2d layer (a batch of n images, o filters): the output's oh and ow. */
function convLayer(
  K: string, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, stride: number, pad: number,
): { oh: number; ow: number } {
  size(K, 'n', n), size(K, 'o', o);
  return convWindow(K, c, h, w, kh, kw, stride, pad);
}

/** For tests and tooling: the names of kernels whose index arguments `validated` range-checks. */
export const INDEXED_KERNELS: readonly KernelName[] = ['scatterAxis', 'gather', 'crossEntropy', 'crossEntropyBackward', 'maxPool2dBackward'];
