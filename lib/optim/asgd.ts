/**
 * Averaged SGD (`torch.optim.ASGD`, Polyak-Ruppert averaging), with PyTorch 1.13's schedules for the step
 * size eta and the averaging rate mu.
 *
 * With g the gradient (plus `weightDecay * p`), at step t (eta starts at lr, mu at 1):
 *   p = p * (1 - lambd * eta) - eta * g
 *   ax = mu == 1 ? p : ax + mu * (p - ax)          (the running average of the iterates, `ax`)
 *   eta = lr / (1 + lambd * lr * t)^alpha
 *   mu = 1 / max(1, t - t0)                         (averaging starts after step t0)
 *
 * Evaluate with the averaged parameters `ax`, the point of the method.
 *
 * @example
 * const opt = new ASGD(params, { lr: 0.01, t0: 100 });
 * // ... train ...
 * const averaged = opt.ax;      // one NDArray per parameter
 */
import { NDArray, type FloatArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface ASGDOptions {
  lr: number;
  /** Decay term. */
  lambd: number;
  /** Power of the eta schedule. */
  alpha: number;
  /** The step after which averaging starts. */
  t0: number;
  weightDecay: number;
  maximize: boolean;
}

export type ASGDInput = Partial<ASGDOptions> & { weight_decay?: number };

const SPECS: OptionSpecs<ASGDOptions> = {
  lr: { default: 1e-2, check: nonNegative },
  lambd: { default: 1e-4, check: nonNegative },
  alpha: { default: 0.75, check: nonNegative },
  t0: { default: 1e6, check: nonNegative },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  maximize: { default: false, check: boolean },
};

interface ASGDState {
  [key: string]: number | FloatArray;
  step: number;
  eta: number;
  mu: number;
  ax: FloatArray;
}

/**
 * Averaged SGD; `ax` holds the averaged parameters. Defaults: lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6. PyTorch: `torch.optim.ASGD`.
 *
 * @example
 * const opt = new ASGD(params, { lr: 0.01, t0: 1000 });
 */
export class ASGD extends Optimizer<ASGDOptions, ASGDState> {
  constructor(params: readonly TensorNode[], options: ASGDInput = {}) {
    super('ASGD', params, SPECS, options);
  }

  /**
   * The averaged parameters, one per parameter (same shape). They share the optimizer's buffers: copy them
   * to keep them past the next step. A parameter not yet updated gets zeros, as PyTorch's initial `ax`.
   */
  get ax(): NDArray[] {
    return this.params.map((p, i) => {
      const st = this.state[i];
      return st ? new NDArray(st.ax, p.value.shape) : NDArray.zeros(p.value.shape, p.value.dtype);
    });
  }

  protected initState(value: NDArray, o: ASGDOptions = this.options): ASGDState {
    return { step: 0, eta: o.lr, mu: 1, ax: zerosLike(value) };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: ASGDState): void {
    const { lr, lambd, alpha, t0, weightDecay, maximize } = this.options;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    const step = ++st.step;
    kernels.asgd(p, g, st.ax, 1 - lambd * st.eta, st.eta, st.mu);
    st.eta = lr / (1 + lambd * lr * step) ** alpha;
    st.mu = 1 / Math.max(1, step - t0);
  }
}
