/**
 * Adadelta (`torch.optim.Adadelta`): step sizes from running averages of squared gradients and squared
 * updates, so the default learning rate is 1.
 *
 * With g the gradient (plus `weightDecay * p`):
 *   v = rho * v + (1 - rho) * g^2
 *   delta = sqrt(u + eps) / sqrt(v + eps) * g
 *   u = rho * u + (1 - rho) * delta^2
 *   p = p - lr * delta
 *
 * @example
 * const opt = new Adadelta(params);            // lr 1, rho 0.9, eps 1e-6
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, numberIn, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface AdadeltaOptions {
  lr: number;
  /** Decay rate of the running averages, in [0, 1]. */
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export type AdadeltaInput = Partial<AdadeltaOptions> & { weight_decay?: number };

const SPECS: OptionSpecs<AdadeltaOptions> = {
  lr: { default: 1, check: nonNegative },
  rho: { default: 0.9, check: numberIn(0, 1) },
  eps: { default: 1e-6, check: nonNegative },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  maximize: { default: false, check: boolean },
};

interface AdadeltaState {
  [key: string]: number | FloatArray;
  step: number;
  squareAvg: FloatArray;
  accDelta: FloatArray;
}

/**
 * Adadelta. Defaults: lr 1, rho 0.9, eps 1e-6. PyTorch: `torch.optim.Adadelta`.
 *
 * @example
 * const opt = new Adadelta(params, { rho: 0.95 });
 */
export class Adadelta extends Optimizer<AdadeltaOptions, AdadeltaState> {
  constructor(params: readonly TensorNode[], options: AdadeltaInput = {}) {
    super('Adadelta', params, SPECS, options);
  }

  protected initState(value: NDArray): AdadeltaState {
    return { step: 0, squareAvg: zerosLike(value), accDelta: zerosLike(value) };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: AdadeltaState): void {
    const { lr, rho, eps, weightDecay, maximize } = this.options;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    st.step++;
    // One fused pass: the square averages of g and of the update, and the update itself.
    kernels.adadelta(p, g, st.squareAvg, st.accDelta, lr, rho, eps);
  }
}
