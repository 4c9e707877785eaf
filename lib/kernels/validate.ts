/**
 * Argument checks for every kernel, applied in front of whichever table (JS or native) runs it.
 *
 * Kernels themselves trust their arguments (a JS kernel given a short array silently reads `undefined`; a native
 * one would read past the end). So dispatch checks each call first: typed-array kinds, dtype agreement, integer
 * sizes, exact lengths, and index ranges, and throws an Error that names the kernel and the values, e.g.
 * `gemm: 'c' has length 5, expected m*n (m=2, n=3) = 6`, and the aliasing contract of names.ts
 * (`KERNEL_ALIASING`): an array a kernel writes shares no memory with its other arrays, except in place. The checks are O(1) except for index ranges, which are
 * O(number of indices) and can be left to a backend that checks them itself (the native addon does).
 *
 * Nothing here is written per kernel: each kernel's checker is compiled from its declaration in specs.ts
 * (`KERNEL_SPECS`) into the straight-line code one would write by hand (no loop over the spec, no allocation per
 * call), so a small call costs what it did when each checker was written out.
 */
import type { FloatArray } from './dtype';
import { convOutputSize, type KernelName, type KernelTable } from './names';
import { generated } from './codegen';
import { arrayArgs, BINARY_OPS, isWritten, KERNEL_SPECS, UNARY_OPS, type ArgSpec, type KernelSpec } from './specs';

const UNARY_SET: ReadonlySet<string> = new Set<string>(UNARY_OPS);
const BINARY_SET: ReadonlySet<string> = new Set<string>(BINARY_OPS);

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

function badLength(kernel: string, name: string, a: ArrayLike<number>, want: number, how: string): never {
  fail(kernel, `'${name}' has length ${a.length}, expected ${how} = ${want}`);
}

function opName(kernel: string, ops: ReadonlySet<string>, op: unknown): void {
  if (typeof op !== 'string' || !ops.has(op)) fail(kernel, `unknown op '${String(op)}'`);
}

function notBoolean(kernel: string, name: string, v: unknown): never {
  throw new TypeError(`${kernel}: '${name}' must be a boolean, got ${typeof v}`);
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

/** Output size of a convolution window, or an error when the window does not fit the padded input. */
function convOut(kernel: string, size: number, k: number, stride: number, pad: number, axis: string): number {
  if (k > size + 2 * pad) fail(kernel, `the ${k}-wide window does not fit ${axis} = ${size} with pad ${pad}`);
  return convOutputSize(size, k, stride, pad);
}

export interface ValidateOptions {
  /** Check that index arrays are in range (O(indices)); a backend that checks them itself may skip this. */
  checkIndices: boolean;
}


/**
 * Wraps each entry of `table` with its argument checks. The result has the same interface and the same
 * results, and throws a clear Error (TypeError for a wrong array kind or dtype) for any bad call.
 */
export function validated(table: KernelTable, options: ValidateOptions): KernelTable {
  const checked: Record<string, unknown> = {};
  for (const name of Object.keys(KERNEL_SPECS) as KernelName[]) {
    checked[name] = compileChecker(name, KERNEL_SPECS[name], table, options.checkIndices);
  }
  return checked as unknown as KernelTable;
}

/** What the generated code calls, by the names it uses. */
const HELPERS = {
  $fail: fail, $float: float, $int32: int32, $sameDType: sameDType, $size: size, $positive: positive,
  $finite: finite, $num: num, $badLength: badLength, $opName: opName, $notBoolean: notBoolean,
  $indices: indices, $apart: apart, $apartOrSame: apartOrSame, $disjoint: disjoint, $convOut: convOut,
  $UNARY: UNARY_SET, $BINARY: BINARY_SET,
};

/** The source of one kernel's checks, then the call: `checkerSource('axpy', spec)`. Exported for tests. */
export function checkerSource(name: string, spec: KernelSpec): string {
  const q = (s: string) => JSON.stringify(s);
  const K = q(name);
  const lines: string[] = [];
  const arrays = arrayArgs(spec);
  const isArray = (n: string) => arrays.some((a) => a.name === n);
  /** A length formula as code and as the message's "how". */
  const formula = (f: string): { code: string; how: string } => {
    if (isArray(f)) return { code: `${f}.length`, how: q(`${f}.length`) };
    const factors = f.split('*');
    if (factors.length === 1) return { code: f, how: q(f) };
    const vals = factors.map((x) => `${x}=' + ${x} + '`).join(', ');
    return { code: factors.join(' * '), how: `'${f} (${vals})'` };
  };
  for (const a of spec.args) {
    const n = q(a.name);
    switch (a.kind) {
      case 'op': lines.push(`$opName(${K}, ${a.ops === 'unary' ? '$UNARY' : '$BINARY'}, ${a.name});`); break;
      case 'size': lines.push(`$size(${K}, ${n}, ${a.name});`); break;
      case 'positive': lines.push(`$positive(${K}, ${n}, ${a.name});`); break;
      case 'num': lines.push(`$num(${K}, ${n}, ${a.name});`); break;
      case 'finite': lines.push(`$finite(${K}, ${n}, ${a.name});`); break;
      case 'bool': lines.push(`if (typeof ${a.name} !== 'boolean') $notBoolean(${K}, ${n}, ${a.name});`); break;
      default: break;
    }
  }
  for (const c of spec.conv ?? []) {
    lines.push(`const ${c.name} = $convOut(${K}, ${c.size}, ${c.k}, ${c.stride}, ${c.pad}, ${q(c.size)});`);
  }
  const optional = (a: ArgSpec) => 'optional' in a && a.optional === true;
  const guard = (a: ArgSpec, code: string) => (optional(a) ? `if (${a.name} !== null) ${code}` : code);
  for (const a of arrays) {
    const f = a.kind === 'read' || a.kind === 'write' ? '$float' : '$int32';
    lines.push(guard(a, `${f}(${K}, ${q(a.name)}, ${a.name});`));
  }
  const floats = arrays.filter((a) => a.kind === 'read' || a.kind === 'write');
  const first = floats.find((a) => !optional(a));
  for (const a of floats) {
    if (a !== first && first) lines.push(guard(a, `$sameDType(${K}, ${first.name}, ${q(a.name)}, ${a.name});`));
  }
  for (const a of arrays) {
    if (a.length === undefined) continue;
    const { code, how } = formula(a.length);
    lines.push(guard(a, `if (${a.name}.length !== ${code}) $badLength(${K}, ${q(a.name)}, ${a.name}, ${code}, ${how});`));
  }
  // Aliasing: a written array shares no memory with any other, except its in-place partners (exactly).
  const written = arrays.filter((a) => isWritten(a));
  const readOnly = arrays.filter((a) => !isWritten(a));
  const anyInPlace = written.some((a) => 'inPlace' in a && a.inPlace !== undefined && a.inPlace.length > 0);
  if (!anyInPlace && readOnly.length <= 1 && arrays.length >= 3 && arrays.length <= 5) {
    // Every pair has a written array in it: one buffer comparison each, the byte ranges only on a shared one.
    const order = [...written, ...readOnly];
    lines.push(`$disjoint(${K}, $names, ${order.map((a) => a.name).join(', ')});`);
  } else {
    written.forEach((w, i) => {
      const inPlace = 'inPlace' in w ? (w.inPlace ?? []) : [];
      for (const o of arrays) {
        if (o === w || (isWritten(o) && written.indexOf(o) < i)) continue;
        const f = inPlace.includes(o.name) ? '$apartOrSame' : '$apart';
        lines.push(`${f}(${K}, ${q(w.name)}, ${w.name}, ${q(o.name)}, ${o.name});`);
      }
    });
  }
  for (const a of arrays) {
    if (a.kind === 'indices') lines.push(`if ($ci) $indices(${K}, ${q(a.name)}, ${a.name}, ${formula(a.bound).code});`);
  }
  const call = spec.args.map((a) => (a.kind === 'flag' ? `!!${a.name}` : a.name)).join(', ');
  lines.push(`return $t[${K}](${call});`);
  return `return function ${name}(${spec.args.map((a) => a.name).join(', ')}) {\n  ${lines.join('\n  ')}\n};`;
}

/** Each kernel's arrays in the order `$disjoint` gets them (written first). */
function disjointNames(spec: KernelSpec): string[] {
  const arrays = arrayArgs(spec);
  return [...arrays.filter((a) => isWritten(a)), ...arrays.filter((a) => !isWritten(a))].map((a) => a.name);
}

function compileChecker(name: KernelName, spec: KernelSpec, table: KernelTable, checkIndices: boolean): unknown {
  // Generated from the declarations in specs.ts only (no user input reaches this source); V8 optimizes it like
  // hand-written code.
  const names = Object.keys(HELPERS);
  const f = generated([...names, '$t', '$ci', '$names'], checkerSource(name, spec), [...Object.values(HELPERS), table, checkIndices, disjointNames(spec)]);
  return f ?? interpretedChecker(name, spec, table, checkIndices);
}

/**
 * The checker `checkerSource` writes, as a closure that reads the declaration on each call: for processes that
 * forbid code generation (see codegen.ts). The same checks in the same order, so the same messages.
 */
function interpretedChecker(name: KernelName, spec: KernelSpec, table: KernelTable, checkIndices: boolean): (...args: unknown[]) => unknown {
  const K = name;
  const arrays = arrayArgs(spec);
  const isArray = new Set(arrays.map((a) => a.name));
  const position = new Map(spec.args.map((a, i) => [a.name, i]));
  const floats = arrays.filter((a) => a.kind === 'read' || a.kind === 'write');
  const optional = (a: ArgSpec) => 'optional' in a && a.optional === true;
  const first = floats.find((a) => !optional(a));
  const written = arrays.filter((a) => isWritten(a));
  const readOnly = arrays.filter((a) => !isWritten(a));
  const anyInPlace = written.some((a) => 'inPlace' in a && a.inPlace !== undefined && a.inPlace.length > 0);
  const useDisjoint = !anyInPlace && readOnly.length <= 1 && arrays.length >= 3 && arrays.length <= 5;
  const order = [...written, ...readOnly];
  const names = disjointNames(spec);
  return (...args: unknown[]) => {
    const arg = (n: string) => args[position.get(n)!];
    const env = new Map<string, number>();
    const value = (x: string): number => (isArray.has(x) ? (arg(x) as AnyArray).length : env.has(x) ? env.get(x)! : Number(x));
    const formula = (f: string) => {
      const factors = f.split('*');
      const want = factors.reduce((p, x) => p * value(x), 1);
      const how = isArray.has(f) ? `${f}.length` : factors.length === 1 ? f : `${f} (${factors.map((x) => `${x}=${value(x)}`).join(', ')})`;
      return { want, how };
    };
    for (const a of spec.args) {
      const v = arg(a.name);
      if (a.kind === 'op') opName(K, a.ops === 'unary' ? UNARY_SET : BINARY_SET, v);
      else if (a.kind === 'size') env.set(a.name, size(K, a.name, v));
      else if (a.kind === 'positive') env.set(a.name, positive(K, a.name, v));
      else if (a.kind === 'num') num(K, a.name, v);
      else if (a.kind === 'finite') finite(K, a.name, v);
      else if (a.kind === 'bool' && typeof v !== 'boolean') notBoolean(K, a.name, v);
    }
    for (const c of spec.conv ?? []) env.set(c.name, convOut(K, value(c.size), value(c.k), value(c.stride), value(c.pad), c.size));
    const present = (a: ArgSpec) => !optional(a) || arg(a.name) !== null;
    for (const a of arrays) {
      if (!present(a)) continue;
      if (a.kind === 'read' || a.kind === 'write') float(K, a.name, arg(a.name));
      else int32(K, a.name, arg(a.name));
    }
    for (const a of floats) {
      if (a !== first && first && present(a)) sameDType(K, arg(first.name) as FloatArray, a.name, arg(a.name) as FloatArray);
    }
    for (const a of arrays) {
      if (a.length === undefined || !present(a)) continue;
      const { want, how } = formula(a.length);
      const x = arg(a.name) as AnyArray;
      if (x.length !== want) badLength(K, a.name, x, want, how);
    }
    if (useDisjoint) {
      const v = order.map((a) => arg(a.name) as AnyArray | null);
      disjoint(K, names, v[0]!, v[1]!, v[2] ?? null, v[3] ?? null, v[4] ?? null);
    } else {
      written.forEach((w, i) => {
        const inPlace = 'inPlace' in w ? (w.inPlace ?? []) : [];
        for (const o of arrays) {
          if (o === w || (isWritten(o) && written.indexOf(o) < i)) continue;
          const wa = arg(w.name) as AnyArray | null, oa = arg(o.name) as AnyArray | null;
          if (inPlace.includes(o.name)) apartOrSame(K, w.name, wa!, o.name, oa!);
          else apart(K, w.name, wa, o.name, oa);
        }
      });
    }
    if (checkIndices) {
      for (const a of arrays) if (a.kind === 'indices') indices(K, a.name, arg(a.name) as Int32Array, formula(a.bound).want);
    }
    const call = spec.args.map((a, i) => (a.kind === 'flag' ? !!args[i] : args[i]));
    return (table[name] as (...a: unknown[]) => unknown)(...call);
  };
}

/** For tests and tooling: the names of kernels whose index arguments `validated` range-checks. */
export const INDEXED_KERNELS: readonly KernelName[] = (Object.keys(KERNEL_SPECS) as KernelName[]).filter((k) =>
  KERNEL_SPECS[k].args.some((a) => a.kind === 'indices'),
);
