/**
 * Index reads for the JS kernels: each index is read once and checked where it is used.
 *
 * `validated()` already range-checks index arrays before a kernel runs, but an Int32Array may be a view of a
 * SharedArrayBuffer that another thread rewrites between that check and the kernel's read. A JS typed array
 * never reads out of bounds (it yields `undefined`, and a write there is dropped), so the danger here is not a
 * crash but a silent wrong answer: a NaN loss, or a gradient added to the wrong row. Reading the value once into
 * a local and checking that local closes the window, at the cost of one comparison per index.
 */

/** `idx[k]`, read once, or a named Error when it is not in `[0, bound)`. */
export function indexAt(kernel: string, name: string, idx: Int32Array, k: number, bound: number): number {
  const v = idx[k];
  if (v >= 0 && v < bound) return v;
  throw new Error(`${kernel}: ${name}[${k}] = ${v} is out of range [0, ${bound})`);
}
