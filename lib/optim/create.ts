/**
 * `createOptimizer`: an optimizer chosen by name (from a config file or the command line).
 *
 * @example
 * const opt = createOptimizer('adam', model.parameters(), { lr: 3e-4 });
 */
import type { TensorNode } from '../core/tensor-node';
import { Adadelta } from './adadelta';
import { Adagrad } from './adagrad';
import { Adam, AdamW } from './adam';
import { Adamax } from './adamax';
import { ASGD } from './asgd';
import type { Optimizer } from './optimizer';
import { RMSprop } from './rmsprop';
import { Rprop } from './rprop';
import { SGD, type SGDInput } from './sgd';

/** The names `createOptimizer` accepts, lowercase. */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'adamax', 'adadelta', 'adagrad', 'rprop', 'asgd', 'rmsprop'] as const;

export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

type Factory = (params: readonly TensorNode[], options: object) => Optimizer;

const FACTORIES: Record<OptimizerName, Factory> = {
  sgd: (p, o) => new SGD(p, o as SGDInput),
  adam: (p, o) => new Adam(p, o),
  adamw: (p, o) => new AdamW(p, o),
  adamax: (p, o) => new Adamax(p, o),
  adadelta: (p, o) => new Adadelta(p, o),
  adagrad: (p, o) => new Adagrad(p, o),
  rprop: (p, o) => new Rprop(p, o),
  asgd: (p, o) => new ASGD(p, o),
  rmsprop: (p, o) => new RMSprop(p, o),
};

/**
 * Makes the optimizer called `name` (case-insensitive, one of `OPTIMIZER_NAMES`) over `params`. Options are
 * the optimizer's own, in camelCase or PyTorch's snake_case; SGD needs `lr`.
 */
export function createOptimizer(name: OptimizerName | string, params: readonly TensorNode[], options: object = {}): Optimizer {
  const key = String(name).toLowerCase() as OptimizerName;
  if (!Object.prototype.hasOwnProperty.call(FACTORIES, key)) {
    throw new RangeError(`createOptimizer: unknown optimizer '${name}' (known: ${OPTIMIZER_NAMES.join(', ')})`);
  }
  return FACTORIES[key](params, options);
}
