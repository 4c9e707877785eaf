/**
 * Rprop (`torch.optim.Rprop`): each coordinate moves by its own step size in the direction opposite to its
 * gradient's sign; the step size grows (etaplus) while the sign holds and shrinks (etaminus) when it flips.
 *
 * Per coordinate, with s = g * gPrev:
 *   step = clamp(step * (s > 0 ? etaplus : s < 0 ? etaminus : 1), minStep, maxStep)   (step starts at lr)
 *   if s < 0: g = 0         (no move after a sign flip, and the next step sees no previous sign)
 *   p = p - sign(g) * step;  gPrev = g
 *
 * @example
 * const opt = new Rprop(params, { lr: 0.01, etas: [0.5, 1.2], step_sizes: [1e-6, 50] });
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, numberIn, pair, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface RpropOptions {
  /** The initial step size of every coordinate. */
  lr: number;
  /** `[etaminus, etaplus]`, with 0 < etaminus < 1 < etaplus. */
  etas: [number, number];
  /** `[minStep, maxStep]`: the bounds of the step sizes. */
  stepSizes: [number, number];
  maximize: boolean;
}

export type RpropInput = Partial<RpropOptions> & { step_sizes?: [number, number] };

const SPECS: OptionSpecs<RpropOptions> = {
  lr: { default: 1e-2, check: nonNegative },
  etas: {
    default: [0.5, 1.2],
    check: pair(numberIn(0, Infinity, { lo: true }), (minus, plus) =>
      minus < 1 && plus > 1 ? null : 'must satisfy 0 < etaminus < 1 < etaplus',
    ),
  },
  stepSizes: {
    default: [1e-6, 50],
    check: pair(nonNegative, (lo, hi) => (lo <= hi ? null : 'must satisfy minStep <= maxStep')),
    alias: 'step_sizes',
  },
  maximize: { default: false, check: boolean },
};

interface RpropState {
  [key: string]: number | FloatArray;
  step: number;
  prev: FloatArray;
  stepSize: FloatArray;
}

/**
 * Resilient backpropagation (full-batch). Defaults: lr 1e-2, etas [0.5, 1.2], stepSizes [1e-6, 50]. PyTorch: `torch.optim.Rprop`.
 *
 * @example
 * const opt = new Rprop(params, { etas: [0.5, 1.2] });
 */
export class Rprop extends Optimizer<RpropOptions, RpropState> {
  constructor(params: readonly TensorNode[], options: RpropInput = {}) {
    super('Rprop', params, SPECS, options);
  }

  protected initState(value: NDArray, o: RpropOptions = this.options): RpropState {
    const stepSize = zerosLike(value);
    kernels.fill(stepSize, o.lr);
    return { step: 0, prev: zerosLike(value), stepSize };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: RpropState): void {
    const { etas, stepSizes, maximize } = this.options;
    const [etaminus, etaplus] = etas;
    const [minStep, maxStep] = stepSizes;
    const g = this.gradient(i, p, grad, 0, maximize);
    const { prev, stepSize } = st;
    st.step++;
    kernels.rprop(p, g, prev, stepSize, etaminus, etaplus, minStep, maxStep); // PyTorch's update, element by element
  }
}
