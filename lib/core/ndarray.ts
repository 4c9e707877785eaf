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

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;
/** A nested JS array of numbers, such as `[[1, 2], [3, 4]]`, or a single number (a scalar). */
export type NestedArray = number | NestedArray[];

export function allocate(dtype: DType, size: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/**
 * Like `allocate`, but the contents are unspecified (whatever the memory held): only for outputs that a kernel
 * overwrites entirely. Skipping the zero-fill halves the cost of a fresh gradient or activation array
 * (235,200 float32: 73 us zeroed vs 25 us here). Small arrays are zeroed as usual (no gain there).
 */
export function allocateUninitialized(dtype: DType, size: number): FloatArray {
  const bytes = dtype === 'float64' ? 8 : 4;
  if (size * bytes < 4096) return allocate(dtype, size);
  const buf = Buffer.allocUnsafeSlow(size * bytes).buffer;
  return dtype === 'float64' ? new Float64Array(buf, 0, size) : new Float32Array(buf, 0, size);
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
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
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${where}: invalid shape ${shapeString(shape)} (sizes must be non-negative integers)`);
    }
  }
}

export class NDArray {
  readonly shape: readonly number[];
  readonly data: FloatArray;

  /** Wraps `data` (not copied) as an array of the given shape. */
  constructor(data: FloatArray, shape: readonly number[]) {
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

  /** Builds an array from nested JS arrays (or a single number, giving a scalar of shape `[]`). */
  static from(values: NestedArray | FloatArray, dtype: DType = 'float32'): NDArray {
    if (values instanceof Float32Array || values instanceof Float64Array) {
      const data = allocate(dtype, values.length);
      data.set(values);
      return new NDArray(data, [values.length]);
    }
    const shape: number[] = [];
    let probe: NestedArray = values;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (probe.length === 0) break;
      probe = probe[0];
    }
    const data = allocate(dtype, shapeSize(shape));
    let offset = 0;
    const walk = (v: NestedArray, depth: number): void => {
      if (depth === shape.length) {
        if (typeof v !== 'number') throw new TypeError(`NDArray.from: ragged nested array (expected a number at depth ${depth})`);
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
    return new NDArray(allocate(dtype, shapeSize(shape)), shape);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): NDArray {
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
    const data = allocate(dtype, this.size);
    data.set(this.data);
    return new NDArray(data, this.shape);
  }

  /** Casts to a dtype; returns `this` when it already has it. */
  astype(dtype: DType): NDArray {
    return dtype === this.dtype ? this : this.copy(dtype);
  }

  /** The value at an index, one integer per axis. */
  get(...index: number[]): number {
    return this.data[this.offset(index)];
  }

  set(index: number[], value: number): void {
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
