/**
 * A small n-dimensional array: a shape and a contiguous, row-major typed array.
 *
 * This is vugrad's stand-in for a numpy array. It deliberately has no arithmetic of its own: ops do
 * arithmetic through the kernel table (see `lib/kernels`), and NDArray only carries data around.
 *
 * @example
 * const a = NDArray.from([[1, 2], [3, 4]]);      // float32, shape [2, 2]
 * const b = NDArray.from([1, 2, 3], 'float64');  // float64, shape [3]
 * a.get(1, 0); // 3
 */
import { constants as bufferConstants } from 'node:buffer';
import * as os from 'node:os';
import type { DType, FloatArray } from '../kernels/dtype';

// NOTE: the array types live in the kernels' leaf module (the ground floor, which imports nothing from core);
// re-exported here so that every import of them from core/ndarray, core and 'vugrad' keeps working.
export type { DType, FloatArray };

/** A nested JS array of numbers, such as `[[1, 2], [3, 4]]`, or a single number (a scalar). */
export type NestedArray = number | NestedArray[];

/** The dtypes vugrad computes in. */
export const DTYPES: readonly DType[] = Object.freeze(['float32', 'float64'] as DType[]);

const BYTES_PER_VALUE: Record<DType, number> = { float32: 4, float64: 8 };

/**
 * Returns `dtype` when it is one vugrad computes in, else throws a `TypeError` naming the supported dtypes.
 * NOTE: without this check any other string (`'int8'`) quietly made float32 arrays.
 *
 * @example
 * checkDType('int8', 'NDArray.from'); // TypeError: NDArray.from: unsupported dtype 'int8'; ...
 */
export function checkDType(dtype: unknown, where: string): DType {
  if (dtype === 'float32' || dtype === 'float64') return dtype;
  throw new TypeError(
    `${where}: unsupported dtype ${typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}; vugrad computes in ` +
      `'float32' (the default) or 'float64'. Keep integer data such as class labels in an Int32Array beside the ` +
      'tensor, and pass other values through NDArray.from(values) (or Float32Array.from) to convert them',
  );
}

/**
 * A byte count for people: `40 GB`, `1.5 MB`, `512 bytes` (decimal units, three significant digits).
 *
 * @example
 * formatBytes(4e10); // '40 GB'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes >= 1e15) return `${bytes.toPrecision(3).replace(/\.?0+e/, 'e')} bytes`;
  for (const [unit, scale] of [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) {
    if (bytes >= scale) return `${Number((bytes / scale).toPrecision(3))} ${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * An array too large to allocate. The message names what was being made (`NDArray.zeros`, or a layer's
 * parameter such as `Linear(100000 -> 100000).weight`), its shape, dtype and the memory it would need, where
 * the engine would only say `Invalid typed array length: 10000000000`.
 *
 * @example
 * try { NDArray.zeros([100000, 100000]); } catch (e) { if (e instanceof AllocationError) console.log(e.bytes); }
 */
export class AllocationError extends RangeError {
  override name = 'AllocationError';
  /** Bytes the array would take. */
  readonly bytes: number;

  constructor(
    readonly what: string,
    readonly dtype: DType,
    readonly size: number,
    readonly shape: readonly number[] | undefined,
    readonly reason: string,
    /** `what` names the array itself (`Linear(...).weight [..]`), not the function making it (`zeros: [..]`). */
    isName = false,
  ) {
    const bytes = size * BYTES_PER_VALUE[dtype];
    const array = `${shape ? shapeString(shape) : `${size} values of`} ${dtype}`;
    super(`${what}${isName ? ' ' : ': '}${array} needs ${formatBytes(bytes)}, ${reason}`);
    this.bytes = bytes;
  }

  /** The same error, naming the array being made (a layer's parameter): `Linear(784 -> 100000).weight`. */
  named(what: string): AllocationError {
    return new AllocationError(what, this.dtype, this.size, this.shape, this.reason, true);
  }
}

// NOTE: only arrays above this size are compared with the machine's memory (os.totalmem() is a system call;
// allocate() runs for every op's output).
const CHECK_MEMORY_ABOVE = 1 << 30;
const ADVICE = 'choose smaller sizes (fewer or narrower layers, a smaller batch)';

/** The machine's memory (or the container's limit, when lower) and what is available now, in bytes. */
function memory(): { total: number; available: number } {
  let total = os.totalmem();
  // os.constrainedMemory (Node >= 19.6; not in @types/node 20): the cgroup's limit, 0 or huge when there is none.
  const limit = (os as { constrainedMemory?: () => number }).constrainedMemory?.() ?? 0;
  if (limit > 0 && limit < total) total = limit;
  return { total, available: Math.min(os.freemem(), total) };
}

/**
 * Checks that `size` values of `dtype` can be allocated: a non-negative integer count, not more than the
 * machine's memory, and not more than is available now. NOTE: the system hands out large arrays lazily, so an
 * array larger than the free memory is "allocated" and the process is then killed while the array is filled:
 * refusing it here turns that crash into an error. Returns the bytes.
 */
function checkSize(dtype: DType, size: number, shape: readonly number[] | undefined, what: string): number {
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`${what}: invalid size ${size}${shape ? ` for shape ${shapeString(shape)}` : ''} (a count of values)`);
  }
  const bytes = size * BYTES_PER_VALUE[dtype];
  if (bytes > CHECK_MEMORY_ABOVE) {
    const { total, available } = memory();
    if (bytes > total) {
      throw new AllocationError(what, dtype, size, shape, `more than this machine's ${formatBytes(total)} of memory; ${ADVICE}`);
    }
    if (bytes > available) {
      throw new AllocationError(
        what,
        dtype,
        size,
        shape,
        `more than the ${formatBytes(available)} of memory available now (of ${formatBytes(total)}); ${ADVICE}`,
      );
    }
  }
  return bytes;
}

/**
 * Throws the `AllocationError` that allocating `size` values of `dtype` would throw, without allocating: for
 * code that is about to build many arrays (a model's layers) and should fail before spending time on the
 * first ones. Checks the dtype, the count, the largest typed array the engine makes, and the machine's memory.
 *
 * @example
 * checkAllocation('float32', 1e10, [100000, 100000], 'MLP'); // AllocationError: MLP: [100000,100000] float32 needs 40 GB, ...
 */
export function checkAllocation(dtype: DType, size: number, shape?: readonly number[], what = 'allocate'): void {
  checkDType(dtype, what);
  checkSize(dtype, size, shape, what);
  // buffer.constants.MAX_LENGTH is the engine's largest typed-array length (in elements).
  if (size > bufferConstants.MAX_LENGTH) {
    throw new AllocationError(what, dtype, size, shape, `more values than a JavaScript typed array holds (${bufferConstants.MAX_LENGTH}); ${ADVICE}`);
  }
}

function allocationFailed(e: unknown, dtype: DType, size: number, shape: readonly number[] | undefined, what: string): never {
  if (e instanceof RangeError) {
    throw new AllocationError(what, dtype, size, shape, `which could not be allocated (${e.message}); ${ADVICE}`);
  }
  throw e;
}

/**
 * A zeroed array of `size` values. `shape` and `what` only name the array in errors: an unsupported dtype is a
 * `TypeError`, a size that cannot be allocated an `AllocationError` with the shape, dtype and bytes.
 *
 * @example
 * const w = allocate('float32', 300 * 784, [300, 784], 'Linear(784 -> 300).weight');
 */
export function allocate(dtype: DType, size: number, shape?: readonly number[], what = 'allocate'): FloatArray {
  checkDType(dtype, what);
  checkSize(dtype, size, shape, what);
  try {
    return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  } catch (e) {
    return allocationFailed(e, dtype, size, shape, what);
  }
}

/**
 * Like `allocate`, but the contents are unspecified (whatever the memory held): only for outputs that a kernel
 * overwrites entirely. Skipping the zero-fill halves the cost of a fresh gradient or activation array
 * (235,200 float32: 73 us zeroed vs 25 us here). Small arrays are zeroed as usual (no gain there).
 */
export function allocateUninitialized(dtype: DType, size: number, shape?: readonly number[], what = 'allocate'): FloatArray {
  checkDType(dtype, what);
  const bytes = checkSize(dtype, size, shape, what);
  // NOTE: a Buffer holds at most buffer.constants.MAX_LENGTH bytes, a typed array that many values: above
  // it, take a zeroed array rather than fail.
  if (bytes < 4096 || bytes > bufferConstants.MAX_LENGTH) return allocate(dtype, size, shape, what);
  let buf: ArrayBuffer;
  try {
    buf = Buffer.allocUnsafeSlow(bytes).buffer;
  } catch (e) {
    return allocationFailed(e, dtype, size, shape, what);
  }
  return dtype === 'float64' ? new Float64Array(buf, 0, size) : new Float32Array(buf, 0, size);
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

/** What a value is, for errors: `an Int32Array`, `an Array`, `a string`. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const name = (v as object).constructor?.name ?? 'Object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

const NUMERIC_TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array];

function isNumericTypedArray(v: unknown): v is ArrayLike<number> {
  return NUMERIC_TYPED_ARRAYS.some((C) => v instanceof C);
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array of sizes such as [2, 3], got ${kindOf(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${where}: invalid shape ${shapeString(shape)} (sizes must be non-negative integers)`);
    }
  }
}

export class NDArray {
  readonly shape: readonly number[];
  readonly data: FloatArray;

  /**
   * Wraps `data` (not copied) as an array of the given shape. `data` must be a Float32Array or Float64Array
   * (the kernels read nothing else); `NDArray.from` converts other numbers.
   */
  constructor(data: FloatArray, shape: readonly number[]) {
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new TypeError(
        `NDArray: data is ${kindOf(data)}; vugrad computes on a Float32Array or Float64Array only. ` +
          'Convert with NDArray.from(data) (a copy in float32, or pass \'float64\') or Float32Array.from(data)',
      );
    }
    checkShape(shape, 'NDArray');
    if (shapeSize(shape) !== data.length) {
      throw new RangeError(`NDArray: shape ${shapeString(shape)} needs ${shapeSize(shape)} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /**
   * Builds an array from nested JS arrays (or a single number, giving a scalar of shape `[]`), or copies a
   * typed array of numbers (Float32Array, Float64Array, or an integer one such as Int32Array or Uint8Array,
   * whose values are converted) into a 1-D array. Always a copy, in `dtype` (float32 or float64).
   */
  static from(values: NestedArray | FloatArray | ArrayLike<number>, dtype: DType = 'float32'): NDArray {
    checkDType(dtype, 'NDArray.from');
    if (isNumericTypedArray(values)) {
      const data = allocate(dtype, values.length, [values.length], 'NDArray.from');
      data.set(values);
      return new NDArray(data, [values.length]);
    }
    if (typeof values !== 'number' && !Array.isArray(values)) {
      throw new TypeError(
        `NDArray.from: expected a number, nested arrays of numbers or a typed array, got ${kindOf(values)}` +
          (ArrayBuffer.isView(values) ? '; convert it first, e.g. Float64Array.from(values, Number)' : ''),
      );
    }
    const shape: number[] = [];
    let probe: NestedArray = values;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (probe.length === 0) break;
      probe = probe[0];
    }
    const data = allocate(dtype, shapeSize(shape), shape, 'NDArray.from');
    let offset = 0;
    const walk = (v: NestedArray, depth: number): void => {
      if (depth === shape.length) {
        if (typeof v !== 'number') {
          throw new TypeError(`NDArray.from: ragged or non-numeric nested array (expected a number at depth ${depth}, got ${kindOf(v)})`);
        }
        data[offset++] = v;
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) {
        throw new TypeError(`NDArray.from: ragged nested array (expected ${shape[depth]} entries at depth ${depth})`);
      }
      for (const item of v) walk(item, depth + 1);
    };
    walk(values, 0);
    return new NDArray(data, shape);
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): NDArray {
    checkShape(shape, 'NDArray.zeros');
    return new NDArray(allocate(dtype, shapeSize(shape), shape, 'NDArray.zeros'), shape);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): NDArray {
    if (typeof value !== 'number') throw new TypeError(`NDArray.full: value must be a number, got ${kindOf(value)}`);
    const a = NDArray.zeros(shape, dtype);
    a.data.fill(value);
    return a;
  }

  static ones(shape: readonly number[], dtype: DType = 'float32'): NDArray {
    return NDArray.full(shape, 1, dtype);
  }

  static scalar(value: number, dtype: DType = 'float32'): NDArray {
    return NDArray.full([], value, dtype);
  }

  /** Same values, other shape (shares the data). */
  reshape(shape: readonly number[]): NDArray {
    return new NDArray(this.data, shape);
  }

  /** A copy, optionally in another dtype. */
  copy(dtype: DType = this.dtype): NDArray {
    const data = allocate(dtype, this.size, this.shape, 'NDArray.copy');
    data.set(this.data);
    return new NDArray(data, this.shape);
  }

  /** Casts to a dtype; returns `this` when it already has it. */
  astype(dtype: DType): NDArray {
    checkDType(dtype, 'NDArray.astype');
    return dtype === this.dtype ? this : this.copy(dtype);
  }

  /** The value at an index, one integer per axis. */
  get(...index: number[]): number {
    return this.data[this.offset(index)];
  }

  set(index: number[], value: number): void {
    if (typeof value !== 'number') throw new TypeError(`set: value must be a number, got ${kindOf(value)}`);
    this.data[this.offset(index)] = value;
  }

  /** The single value of a one-element array (a loss, say). */
  item(): number {
    if (this.size !== 1) throw new RangeError(`item: array of shape ${shapeString(this.shape)} has ${this.size} values, not 1`);
    return this.data[0];
  }

  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0];
    let offset = 0;
    const build = (depth: number): NestedArray => {
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[depth]; i++) {
        out.push(depth === this.shape.length - 1 ? this.data[offset++] : build(depth + 1));
      }
      return out;
    };
    return build(0);
  }

  toString(): string {
    const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(5));
    const body = (v: NestedArray, indent: number): string => {
      if (typeof v === 'number') return fmt(v);
      if (v.length > 0 && typeof v[0] === 'number') return `[${v.map((x) => fmt(x as number)).join(', ')}]`;
      return `[${v.map((x) => body(x, indent + 1)).join(',\n' + ' '.repeat(indent + 1))}]`;
    };
    const shown = this.size > 1000 ? `[... ${this.size} values]` : body(this.toArray(), 8);
    return `NDArray(${shown}, shape=${shapeString(this.shape)}, dtype=${this.dtype})`;
  }

  private offset(index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new RangeError(`index: ${index.length} indices for an array of shape ${shapeString(this.shape)}`);
    }
    let o = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.shape[i]) {
        throw new RangeError(`index: ${k} out of range for axis ${i} of shape ${shapeString(this.shape)}`);
      }
      o = o * this.shape[i] + k;
    }
    return o;
  }
}
