/**
 * Adamax (`torch.optim.Adamax`): Adam with the infinity norm in place of the second moment.
 *
 * With g the gradient (plus `weightDecay * p`), at step t:
 *   m = beta1 * m + (1 - beta1) * g
 *   u = max(beta2 * u, |g| + eps)
 *   p = p - lr / (1 - beta1^t) * m / u
 *
 * @example
 * const opt = new Adamax(params, { lr: 2e-3 });
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, numberIn, pair, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface AdamaxOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export type AdamaxInput = Partial<AdamaxOptions> & { weight_decay?: number };

const SPECS: OptionSpecs<AdamaxOptions> = {
  lr: { default: 2e-3, check: nonNegative },
  betas: { default: [0.9, 0.999], check: pair(numberIn(0, 1, { hi: true })) },
  eps: { default: 1e-8, check: nonNegative },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  maximize: { default: false, check: boolean },
};

interface AdamaxState {
  [key: string]: number | FloatArray;
  step: number;
  expAvg: FloatArray;
  expInf: FloatArray;
}

/**
 * Adamax: Adam with an infinity-norm denominator. Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8. PyTorch: `torch.optim.Adamax`.
 *
 * @example
 * const opt = new Adamax(params, { lr: 2e-3 });
 */
export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  constructor(params: readonly TensorNode[], options: AdamaxInput = {}) {
    super('Adamax', params, SPECS, options);
  }

  protected initState(value: NDArray): AdamaxState {
    return { step: 0, expAvg: zerosLike(value), expInf: zerosLike(value) };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: AdamaxState): void {
    const { lr, betas, eps, weightDecay, maximize } = this.options;
    const [beta1, beta2] = betas;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    const step = ++st.step;
    // m = beta1 m + (1 - beta1) g; u = max(beta2 u, |g| + eps); p -= lr / (1 - beta1^t) * m / u, in one pass.
    kernels.adamax(p, g, st.expAvg, st.expInf, beta1, beta2, lr / (1 - beta1 ** step), eps);
  }
}
