/**
 * The array types of the whole library: the two dtypes vugrad computes in and the typed arrays that hold them.
 *
 * A leaf module (it imports nothing) in the bottom layer, kernels, which are the only code that reads and
 * writes these arrays: every layer above names them from here, and `lib/core/ndarray.ts` re-exports them, so
 * `import { type FloatArray } from 'vugrad'` (or from `core/ndarray`) is unchanged.
 *
 * @example
 * import type { DType, FloatArray } from './dtype';
 * const data: FloatArray = new Float32Array(4);
 * const dtype: DType = data instanceof Float64Array ? 'float64' : 'float32';
 */

/** The dtypes vugrad computes in: `'float32'` (the default) or `'float64'` (for `gradcheck`). */
export type DType = 'float32' | 'float64';

/** The data of an array of either dtype: what every kernel reads and writes. */
export type FloatArray = Float32Array | Float64Array;
