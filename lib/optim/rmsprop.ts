/**
 * RMSprop (`torch.optim.RMSprop`), with momentum and the centred variant.
 *
 * With g the gradient (plus `weightDecay * p`):
 *   v = alpha * v + (1 - alpha) * g^2
 *   centred: gAvg = alpha * gAvg + (1 - alpha) * g, and avg = sqrt(v - gAvg^2) + eps; else avg = sqrt(v) + eps
 *   momentum > 0: buf = momentum * buf + g / avg, p = p - lr * buf;  else p = p - lr * g / avg
 *
 * @example
 * const opt = new RMSprop(params, { lr: 1e-3, momentum: 0.9, centered: true });
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface RMSpropOptions {
  lr: number;
  /** Smoothing constant of the running averages. */
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment. */
  centered: boolean;
  maximize: boolean;
}

export type RMSpropInput = Partial<RMSpropOptions> & { weight_decay?: number };

const SPECS: OptionSpecs<RMSpropOptions> = {
  lr: { default: 1e-2, check: nonNegative },
  alpha: { default: 0.99, check: nonNegative },
  eps: { default: 1e-8, check: nonNegative },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  momentum: { default: 0, check: nonNegative },
  centered: { default: false, check: boolean },
  maximize: { default: false, check: boolean },
};

interface RMSpropState {
  [key: string]: number | FloatArray;
  step: number;
  squareAvg: FloatArray;
}

/**
 * RMSprop with momentum and the centred variant. Defaults: lr 1e-2, alpha 0.99, eps 1e-8. PyTorch: `torch.optim.RMSprop`.
 *
 * @example
 * const opt = new RMSprop(params, { lr: 1e-3, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: readonly TensorNode[], options: RMSpropInput = {}) {
    super('RMSprop', params, SPECS, options);
  }

  protected initState(value: NDArray, o: RMSpropOptions = this.options): RMSpropState {
    const st: RMSpropState = { step: 0, squareAvg: zerosLike(value) };
    if (o.momentum > 0) st.momentumBuffer = zerosLike(value);
    if (o.centered) st.gradAvg = zerosLike(value);
    return st;
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: RMSpropState): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = this.options;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    st.step++;
    const gAvg = centered ? ((st.gradAvg as FloatArray | undefined) ?? (st.gradAvg = zerosLike(p))) : null;
    const buf = momentum > 0 ? ((st.momentumBuffer as FloatArray | undefined) ?? (st.momentumBuffer = zerosLike(p))) : null;
    // One fused pass: the square average (and the centered gradient average), the step and its momentum.
    kernels.rmsprop(p, g, st.squareAvg, gAvg, buf, lr, alpha, eps, momentum);
  }
}
