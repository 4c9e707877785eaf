/** Loads the PyTorch reference cases (test/fixtures/torch-reference.json, copied from shared/reference). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NDArray, type DType } from '../../lib';

export interface RefTensor {
  shape: number[];
  data: number[];
}

export interface RefCase {
  name: string;
  inputs: RefTensor[];
  output: RefTensor;
  upstream?: RefTensor;
  grads: RefTensor[];
  constants?: Record<string, unknown>;
  int_inputs?: Record<string, RefTensor>;
  params?: RefTensor[];
  note?: string;
  [key: string]: unknown;
}

let cache: RefCase[] | null = null;

export function referenceCases(): RefCase[] {
  if (!cache) {
    const file = path.join(__dirname, '..', 'fixtures', 'torch-reference.json');
    cache = JSON.parse(fs.readFileSync(file, 'utf8')).cases as RefCase[];
  }
  return cache;
}

export function referenceCase(name: string): RefCase {
  const c = referenceCases().find((x) => x.name === name);
  if (!c) throw new Error(`no reference case '${name}'`);
  return c;
}

export function toArray(t: RefTensor, dtype: DType = 'float64'): NDArray {
  const data = dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data);
  return new NDArray(data, t.shape);
}

/**
 * The error of one element against its reference: relative-plus-absolute, `|a - e| / (|e| + 1)`. Equal values
 * (the same infinity, or NaN where the reference is NaN) are 0; NaN against a number, a number against NaN, or
 * an infinity against anything else is Infinity, so no comparison can pass over it.
 */
export function elementError(actual: number, expected: number): number {
  if (actual === expected || (Number.isNaN(actual) && Number.isNaN(expected))) return 0;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return Infinity;
  return Math.abs(actual - expected) / (Math.abs(expected) + 1);
}

/**
 * Asserts two arrays have the same shape and agree elementwise to a relative-plus-absolute tolerance
 * (`elementError`). Reports the first element with the largest error.
 */
export function expectClose(actual: NDArray, expected: RefTensor | NDArray, tol = 1e-9, what = 'value'): void {
  const eshape = expected instanceof NDArray ? [...expected.shape] : expected.shape;
  const edata = expected.data;
  expect([...actual.shape]).toEqual(eshape);
  if (actual.size !== edata.length) {
    throw new Error(`${what}: ${actual.size} values, but the reference has ${edata.length}`);
  }
  let worst = 0;
  let where = -1;
  for (let i = 0; i < actual.size; i++) {
    const err = elementError(actual.data[i], edata[i]);
    // NOTE: elementError never returns NaN, so `>` sees every larger error (a NaN error once slipped past `<=`).
    if (err > worst) {
      worst = err;
      where = i;
    }
  }
  if (worst > tol) {
    throw new Error(`${what}: worst error ${worst} at index ${where}: got ${actual.data[where]}, expected ${edata[where]}`);
  }
}
