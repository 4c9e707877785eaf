/**
 * The course's synthetic data: two standard-normal features and a quadratic decision boundary.
 *
 * Label 1 when `x^T Q x > 0.6` with `Q = [[1, 0.5], [1, 0.2]]`, else 0. The boundary is a conic, so a linear
 * model cannot separate the classes but a one-hidden-layer MLP can (the course's first experiment, reaching
 * >99% validation accuracy). Same role as vugrad's `load_synth`.
 *
 * @example
 * const { train, val } = loadSynth({ seed: 0 });   // 60,000 / 10,000 samples, x: [N, 2], 2 classes
 */
import { DType, NDArray, allocate, checkDType } from '../core/ndarray';
import { Random } from '../core/random';
import { DatasetSplits } from './dataset';

export interface SynthOptions {
  numTrain?: number;
  numVal?: number;
  /** Seeds the generator; the same seed gives the same data. Default 0, as in the course. */
  seed?: number;
  dtype?: DType;
}

/** The quadratic form's matrix and threshold (the course's values). */
export const SYNTH_Q: readonly (readonly number[])[] = [
  [1, 0.5],
  [1, 0.2],
];
export const SYNTH_THRESHOLD = 0.6;

/** The label the generator gives the point `(x0, x1)`: `x^T Q x > 0.6`. */
export function synthLabel(x0: number, x1: number): number {
  const q = x0 * (SYNTH_Q[0][0] * x0 + SYNTH_Q[0][1] * x1) + x1 * (SYNTH_Q[1][0] * x0 + SYNTH_Q[1][1] * x1);
  return q > SYNTH_THRESHOLD ? 1 : 0;
}

/** Generates the synthetic train and validation splits (train first, then validation, from one stream). */
export function loadSynth(options: SynthOptions = {}): DatasetSplits {
  const { numTrain = 60_000, numVal = 10_000, seed = 0, dtype = 'float32' } = options;
  checkDType(dtype, 'loadSynth');
  for (const [k, v] of [['numTrain', numTrain], ['numVal', numVal]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`loadSynth: ${k} must be a non-negative integer, got ${v}`);
  }
  const random = new Random(seed);
  const make = (n: number, split: string) => {
    const x = allocate(dtype, n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x0 = random.normal();
      const x1 = random.normal();
      x[2 * i] = x0;
      x[2 * i + 1] = x1;
      // NOTE: label the stored (possibly float32-rounded) values, so the rule holds exactly on the data.
      y[i] = synthLabel(x[2 * i], x[2 * i + 1]);
    }
    return { x: new NDArray(x, [n, 2]), y, numClasses: 2, name: `synth/${split}` };
  };
  const train = make(numTrain, 'train');
  const val = make(numVal, 'val');
  return { train, val };
}
