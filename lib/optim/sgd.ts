/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay (`torch.optim.SGD`).
 *
 * With g the gradient (plus `weightDecay * p`):
 *   buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
 *   d = g + momentum * buf (Nesterov) or d = buf (momentum > 0) or d = g
 *   p = p - lr * d
 *
 * @example
 * const opt = new SGD(params, { lr: 0.01, momentum: 0.9, nesterov: true });
 */
import type { FloatArray } from '../core/ndarray';
import type { NDArray } from '../core/ndarray';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { boolean, invalidOption, nonNegative, type OptionSpecs } from './options';
import { Optimizer, zerosLike } from './optimizer';

export interface SGDOptions {
  /** Learning rate (required, as in PyTorch). */
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** What the constructor accepts: camelCase names or PyTorch's (`weight_decay`). */
export type SGDInput = Partial<SGDOptions> & { lr: number; weight_decay?: number };

const SPECS: OptionSpecs<SGDOptions> = {
  lr: { check: nonNegative },
  momentum: { default: 0, check: nonNegative },
  dampening: { default: 0, check: nonNegative },
  nesterov: { default: false, check: boolean },
  weightDecay: { default: 0, check: nonNegative, alias: 'weight_decay' },
  maximize: { default: false, check: boolean },
};

type SGDState = { step: number; momentumBuffer: FloatArray } | { step: number };

/**
 * SGD with momentum, dampening, Nesterov and L2 weight decay; `lr` is required. PyTorch: `torch.optim.SGD`.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weight_decay: 5e-4 });
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: readonly TensorNode[], options: SGDInput) {
    super('SGD', params, SPECS, options);
  }

  protected override validate(o: SGDOptions): void {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      invalidOption('SGD', 'nesterov', true, `needs momentum > 0 and dampening = 0, got momentum ${o.momentum}, dampening ${o.dampening}`);
    }
  }

  protected initState(value: NDArray, o: SGDOptions = this.options): SGDState {
    return o.momentum !== 0 ? { step: 0, momentumBuffer: zerosLike(value) } : { step: 0 };
  }

  protected update(i: number, p: FloatArray, grad: FloatArray, st: SGDState): void {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = this.options;
    const g = this.gradient(i, p, grad, weightDecay, maximize);
    if (momentum !== 0) {
      let buf = (st as { momentumBuffer?: FloatArray }).momentumBuffer;
      if (buf === undefined || st.step === 0) {
        // The first step (or momentum switched on later) starts the buffer at g, as PyTorch's clone.
        buf = (st as { momentumBuffer: FloatArray }).momentumBuffer = buf ?? zerosLike(g);
        buf.set(g);
        if (nesterov) {
          kernels.axpy(-lr, g, p);
          kernels.axpy(-lr * momentum, buf, p);
        } else {
          kernels.axpy(-lr, buf, p);
        }
      } else {
        // One fused pass over param, grad and buffer (was axpby + one or two axpy).
        kernels.sgdMomentum(p, g, buf, lr, momentum, dampening, nesterov);
      }
    } else {
      kernels.axpy(-lr, g, p);
    }
    st.step++;
  }
}
