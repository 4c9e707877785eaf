/** Small helpers shared by the ops: allocation in the shape of an input, and argument checks. */
import { NDArray, allocateUninitialized, sameShape, shapeString, shapeSize } from '../core/ndarray';
import type { Context } from '../core/op';

/** A zero array with the shape and dtype of `x` (or another shape, same dtype). */
export function like(x: NDArray, shape: readonly number[] = x.shape): NDArray {
  return NDArray.zeros(shape, x.dtype);
}

/**
 * An array with the shape and dtype of `x` (or another shape) whose contents are unspecified: only for outputs
 * the next kernel call overwrites entirely (gemm with beta = 0, unary, softmax, ...). Cheaper than `like`.
 */
export function uninitialized(x: NDArray, shape: readonly number[] = x.shape): NDArray {
  return new NDArray(allocateUninitialized(x.dtype, shapeSize(shape), shape, 'op output'), shape);
}

/**
 * Where backward writes input i's gradient: the buffer backward was offered for it (`context.gradInto`, the
 * input's own zeroed gradient) when there is one, else a new array shaped like `x`. Only for gradients the op
 * then writes entirely (gemm with beta = 0, a conv kernel, a reduction into out).
 */
export function gradInto(context: Context, i: number, x: NDArray, shape: readonly number[] = x.shape): NDArray {
  return context.gradInto?.[i] ?? uninitialized(x, shape);
}

export function checkSameShape(op: string, a: NDArray, b: NDArray): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new RangeError(`${op}: shapes differ: ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
}

export function checkRank(op: string, x: NDArray, rank: number, what = 'input'): void {
  if (x.ndim !== rank) {
    throw new RangeError(`${op}: ${what} must have ${rank} dimensions, got shape ${shapeString(x.shape)}`);
  }
}

/** Resolves a possibly negative axis against a rank, with an error naming the op. */
export function normalizeDim(op: string, dim: unknown, rank: number): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new RangeError(`${op}: dim ${String(dim)} out of range for ${rank} dimensions`);
  }
  return dim < 0 ? dim + rank : dim;
}

/** Splits a shape around `dim` into `[outer, n, inner]` (products of the sizes before, at and after). */
export function splitAt(shape: readonly number[], dim: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[dim], inner];
}

/** Class indices as an Int32Array, checked against the number of rows and classes. */
export function toIndices(op: string, indices: unknown, rows: number, cols: number): Int32Array {
  if (!Array.isArray(indices) && !ArrayBuffer.isView(indices)) throw new TypeError(`${op}: indices must be an array of integers`);
  const src = indices as ArrayLike<number>;
  if (src.length !== rows) {
    throw new RangeError(`${op}: ${src.length} indices for ${rows} rows`);
  }
  // NOTE: always a copy, each value read once, checked, then stored: backward reads the indices again later, and
  // a caller that reuses its array for the next batch (or shares it with a worker) must not change this graph's
  // gradients. The check is on the value read, since the Int32 conversion would turn 1.5 or 2^32 into an index.
  const idx = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const k = src[r];
    idx[r] = k;
    if (!Number.isInteger(k) || k < 0 || k >= cols) {
      throw new RangeError(`${op}: index ${k} at row ${r} out of range [0, ${cols})`);
    }
  }
  return idx;
}
