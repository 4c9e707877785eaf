/**
 * Adagrad (`torch.optim.Adagrad`): per-coordinate step sizes from the sum of all past squared gradients.
 *
 * With g the gradient (plus `weightDecay * p`), at step t:
 *   s = s + g^2                          (s starts at initialAccumulatorValue)
 *   p = p - lr / (1 + (t - 1) * lrDecay) * g / (sqrt(s) + eps)
 *
 * @example
 * const opt = new Adagrad(params, { lr: 0.1, lr_decay: 1e-3 });
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface AdagradOptions {
  lr: number;
  /** The learning rate at step t is `lr / (1 + (t - 1) * lrDecay)`. */
  lrDecay: number;
  weightDecay: number;
  /** The starting value of the sum of squared gradients. */
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export type AdagradInput = Partial<AdagradOptions> & {
  weight_decay?: number;
  lr_decay?: number;
  initial_accumulator_value?: number;
};

const SPECS: OptionSpecs<AdagradOptions> = {
  lr: { default: 1e-2, check: nonNegative },
  lrDecay: { default: 0, check: nonNegative, alias: 'lr_decay' },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  initialAccumulatorValue: { default: 0, check: nonNegative, alias: 'initial_accumulator_value' },
  eps: { default: 1e-10, check: nonNegative },
  maximize: { default: false, check: boolean },
};

interface AdagradState {
  [key: string]: number | FloatArray;
  step: number;
  sum: FloatArray;
}

/**
 * Adagrad with learning-rate decay. Defaults: lr 1e-2, lrDecay 0, eps 1e-10. PyTorch: `torch.optim.Adagrad`.
 *
 * @example
 * const opt = new Adagrad(params, { lr: 0.1, initial_accumulator_value: 0.1 });
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: readonly TensorNode[], options: AdagradInput = {}) {
    super('Adagrad', params, SPECS, options);
  }

  protected initState(value: NDArray, o: AdagradOptions = this.options): AdagradState {
    const sum = zerosLike(value);
    kernels.fill(sum, o.initialAccumulatorValue);
    return { step: 0, sum };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: AdagradState): void {
    const { lr, lrDecay, eps, weightDecay, maximize } = this.options;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    const step = ++st.step;
    kernels.adagrad(p, g, st.sum, lr / (1 + (step - 1) * lrDecay), eps); // sum += g^2; p -= clr g / (sqrt(sum) + eps)
  }
}
