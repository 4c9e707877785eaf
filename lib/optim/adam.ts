/**
 * Adam (`torch.optim.Adam`, with AMSGrad and L2 weight decay) and AdamW (`torch.optim.AdamW`, decoupled
 * weight decay), with PyTorch 1.13's update rules.
 *
 * With g the gradient (Adam: plus `weightDecay * p`; AdamW: first `p *= 1 - lr * weightDecay`), at step t:
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2          (AMSGrad: vmax = max(vmax, v), used in place of v below)
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * @example
 * const opt = new Adam(params, { lr: 1e-3, amsgrad: true });
 * const optW = new AdamW(params, { lr: 1e-3, weight_decay: 0.05 });
 */
import type { FloatArray, NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, nonNegative, numberIn, pair, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface AdamOptions {
  lr: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1). */
  betas: [number, number];
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay `p *= 1 - lr * weightDecay`. */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamInput = Partial<AdamOptions> & { weight_decay?: number };

function specs(lr: number, weightDecay: number): OptionSpecs<AdamOptions> {
  return {
    lr: { default: lr, check: nonNegative },
    betas: { default: [0.9, 0.999], check: pair(numberIn(0, 1, { hi: true })) },
    eps: { default: 1e-8, check: nonNegative },
    weightDecay: { default: weightDecay, check: nonNegative, alias: 'weight_decay' },
    amsgrad: { default: false, check: boolean },
    maximize: { default: false, check: boolean },
  };
}

export interface AdamState {
  [key: string]: number | FloatArray;
  step: number;
  expAvg: FloatArray;
  expAvgSq: FloatArray;
}

abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  /** True for AdamW: weight decay shrinks the parameter instead of adding to the gradient. */
  protected abstract readonly decoupled: boolean;

  protected initState(value: NDArray, o: AdamOptions = this.options): AdamState {
    const st: AdamState = { step: 0, expAvg: zerosLike(value), expAvgSq: zerosLike(value) };
    if (o.amsgrad) st.maxExpAvgSq = zerosLike(value);
    return st;
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: AdamState): void {
    const { lr, betas, eps, weightDecay, amsgrad, maximize } = this.options;
    const [beta1, beta2] = betas;
    const g = this.gradient(i, p, grad, this.decoupled ? 0 : weightDecay, maximize);
    if (this.decoupled && weightDecay !== 0) kernels.binaryScalar('mul', p, 1 - lr * weightDecay, p);
    const step = ++st.step;
    const vmax = amsgrad ? ((st.maxExpAvgSq as FloatArray | undefined) ?? (st.maxExpAvgSq = zerosLike(p))) : null;
    // One fused pass over p, g, m, v (and vmax): the moments, then p -= stepSize * m / (sqrt(v) / bc2Sqrt + eps).
    kernels.adam(p, g, st.expAvg, st.expAvgSq, vmax, beta1, beta2, lr / (1 - beta1 ** step), Math.sqrt(1 - beta2 ** step), eps);
  }
}

/**
 * Adam with L2 weight decay added to the gradient, and optional AMSGrad. Defaults: lr 1e-3, betas
 * [0.9, 0.999], eps 1e-8, weightDecay 0. PyTorch: `torch.optim.Adam`.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 3e-4, amsgrad: true });
 */
export class Adam extends AdamBase {
  protected readonly decoupled: boolean = false;
  constructor(params: readonly TensorNode[], options: AdamInput = {}) {
    super('Adam', params, specs(1e-3, 0), options);
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter). Defaults: lr 1e-3, weightDecay 1e-2. PyTorch:
 * `torch.optim.AdamW`.
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weight_decay: 0.05 });
 */
export class AdamW extends AdamBase {
  protected readonly decoupled: boolean = true;
  constructor(params: readonly TensorNode[], options: AdamInput = {}) {
    super('AdamW', params, specs(1e-3, 1e-2), options);
  }
}
