/**
 * `Optimizer`: the base of every optimizer, as `torch.optim.Optimizer` with a single parameter group.
 *
 * An optimizer holds the parameters it updates, its options (PyTorch's names, camelCase) and a state per
 * parameter (moment estimates, step counts, ...). Subclasses give the update rule for one parameter as a short
 * sequence of kernel calls on preallocated buffers: after the first step nothing is allocated.
 *
 * As in PyTorch, a parameter whose gradient was never computed (`!p.hasGrad`, PyTorch's `p.grad is None`) is
 * skipped, and its state is created on its first update.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   lossOf(model, x, y).backward();
 *   opt.step();
 * }
 * fs.writeFileSync('opt.json', JSON.stringify(opt.stateDict()));   // and later: opt.loadStateDict(JSON.parse(...))
 */
import { NDArray, allocate, type FloatArray } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { numberIn, resolveOptions, type OptionSpecs } from './options';

/** The state of one parameter: named buffers (the parameter's size and dtype) and named numbers. */
export type ParamState = Record<string, number | FloatArray>;

/** Options every optimizer has. */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/**
 * A saved optimizer state, plain data: `JSON.stringify` keeps it exactly (float64 numbers round-trip, and
 * float32 values are float64 numbers). `state[i]` belongs to the i-th parameter (null before its first
 * update); buffers are arrays of numbers. `options` are the camelCase options, the learning rate included.
 */
export interface OptimizerStateDict {
  state: (Record<string, number | number[]> | null)[];
  options: Record<string, unknown>;
}

/**
 * `stateDict()` with each buffer a typed-array copy in the parameter's dtype instead of a plain array (see
 * `Optimizer.stateDictTyped`): for checkpoints that store tensors. Not JSON as it is.
 */
export interface OptimizerTypedStateDict {
  state: (Record<string, number | FloatArray> | null)[];
  options: Record<string, unknown>;
}

/**
 * The base of every optimizer: parameters, checked options, per-parameter state, `step()`, `zeroGrad()`,
 * `stateDict()`/`loadStateDict()` and the `lr` property schedulers set. See the file comment for an example.
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions, S extends ParamState = ParamState> {
  /** The parameters this optimizer updates, in the order given. */
  readonly params: readonly TensorNode[];
  /** The options in use (defaults filled in). Change `lr` through the `lr` property so it is checked. */
  readonly options: O;
  /** Per-parameter state, created at a parameter's first update. */
  protected readonly state: (S | null)[];
  /** Per-parameter scratch for the effective gradient (`gradient()`), allocated once, never saved. */
  private readonly scratch: (FloatArray | undefined)[];

  /**
   * @param name  the class name used in error messages.
   * @param params  the parameters to update (leaf TensorNodes); at least one, no duplicates.
   * @param specs  the option table: defaults, snake_case aliases and checks.
   * @param options  the options given by the user (camelCase or PyTorch's snake_case names).
   */
  protected constructor(
    readonly name: string,
    params: readonly TensorNode[],
    private readonly specs: OptionSpecs<O>,
    options: object | undefined,
  ) {
    if (!Array.isArray(params) && !(params && typeof (params as Iterable<TensorNode>)[Symbol.iterator] === 'function')) {
      throw new TypeError(`${name}: params must be an array of TensorNodes`);
    }
    const list = [...params];
    if (list.length === 0) throw new RangeError(`${name}: got an empty parameter list`);
    const seen = new Set<TensorNode>();
    list.forEach((p, i) => {
      if (!(p instanceof TensorNode)) throw new TypeError(`${name}: params[${i}] is not a TensorNode`);
      if (seen.has(p)) throw new RangeError(`${name}: params[${i}] appears more than once`);
      seen.add(p);
    });
    this.params = list;
    this.options = resolveOptions(name, specs, options);
    this.validate(this.options);
    this.state = list.map(() => null);
    this.scratch = list.map(() => undefined);
  }

  /** The learning rate (what schedulers change). */
  get lr(): number {
    return this.options.lr;
  }

  set lr(value: number) {
    const problem = numberIn(0)(value);
    if (problem) throw new RangeError(`${this.name}: invalid option lr = ${value} (${problem})`);
    this.options.lr = value;
  }

  /** Updates every parameter that has a gradient, once. */
  step(): void {
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (!p.hasGrad) continue;
      const grad = p.grad;
      if (grad.size !== p.value.size || grad.dtype !== p.value.dtype) {
        throw new RangeError(`${this.name}: params[${i}] has a ${grad.dtype} gradient of ${grad.size} values for a ${p.value.dtype} value of ${p.value.size}`);
      }
      let st = this.state[i];
      if (st === null) st = this.state[i] = this.initState(p.value);
      this.update(i, p.value.data, grad.data, st);
    }
  }

  /**
   * Sets every parameter's gradient to zero (lazily, see `TensorNode.resetGrad`): read before the next backward
   * it is the same buffer, zeroed (PyTorch's `zero_grad(set_to_none=False)`); the next backward replaces it.
   */
  zeroGrad(): void {
    for (const p of this.params) p.resetGrad();
  }

  /** The optimizer's state and options as plain data (see `OptimizerStateDict`). */
  stateDict(): OptimizerStateDict {
    const state = this.state.map((st) => {
      if (st === null) return null;
      const out: Record<string, number | number[]> = {};
      for (const [key, v] of Object.entries(st)) out[key] = typeof v === 'number' ? v : Array.from(v);
      return out;
    });
    const options: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(this.options)) options[key] = Array.isArray(v) ? [...(v as unknown[])] : v;
    return { state, options };
  }

  /**
   * The state as `stateDict()` gives it, but each buffer a copy in a typed array of the parameter's dtype:
   * far cheaper for large models (Adam over 536k parameters: about 100 ms as plain arrays, 1-2 ms as typed
   * copies), which matters when a checkpoint is written after every epoch. `loadStateDict` takes it back.
   */
  stateDictTyped(): OptimizerTypedStateDict {
    const state = this.state.map((st) => {
      if (st === null) return null;
      const out: Record<string, number | FloatArray> = {};
      for (const [key, v] of Object.entries(st)) out[key] = typeof v === 'number' ? v : v.slice();
      return out;
    });
    const options: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(this.options)) options[key] = Array.isArray(v) ? [...(v as unknown[])] : v;
    return { state, options };
  }

  /**
   * Restores a state saved by `stateDict()` (also after a JSON round trip) into an optimizer over parameters
   * of the same sizes. Options are restored too, as PyTorch restores its param groups. Buffers are copied
   * into arrays of the parameters' dtype.
   */
  loadStateDict(sd: OptimizerStateDict | OptimizerTypedStateDict): void {
    if (!sd || !Array.isArray(sd.state) || typeof sd.options !== 'object') {
      throw new TypeError(`${this.name}.loadStateDict: expected {state: [...], options: {...}}`);
    }
    if (sd.state.length !== this.params.length) {
      throw new RangeError(`${this.name}.loadStateDict: state has ${sd.state.length} parameters, the optimizer has ${this.params.length}`);
    }
    const options = resolveOptions<O>(this.name, this.specs, sd.options);
    this.validate(options);
    const restored = sd.state.map((saved, i) => {
      if (saved === null || saved === undefined) return null;
      const value = this.params[i].value;
      // A template built with the loaded options says which keys this state must have.
      const template = this.initState(value, options);
      for (const key of Object.keys(saved)) {
        if (!(key in template)) throw new RangeError(`${this.name}.loadStateDict: params[${i}] has an unexpected state entry '${key}'`);
      }
      for (const [key, slot] of Object.entries(template)) {
        const v = saved[key];
        if (v === undefined) throw new RangeError(`${this.name}.loadStateDict: params[${i}] lacks state entry '${key}'`);
        if (typeof slot === 'number') {
          if (typeof v !== 'number') throw new TypeError(`${this.name}.loadStateDict: params[${i}].${key} must be a number`);
          (template as ParamState)[key] = v;
        } else {
          const n = (v as ArrayLike<number>).length;
          if (typeof v === 'number' || n !== value.size) {
            throw new RangeError(`${this.name}.loadStateDict: params[${i}].${key} has ${typeof v === 'number' ? 'a number' : n + ' values'}, the parameter has ${value.size}`);
          }
          slot.set(v as ArrayLike<number>);
        }
      }
      return template;
    });
    Object.assign(this.options, options);
    restored.forEach((st, i) => (this.state[i] = st));
  }

  /** Checks relations between options (`nesterov` needs `momentum`); throws naming the option. */
  protected validate(_options: O): void {}

  /** A fresh state for a parameter with this value (zeros, usually), under the given options. */
  protected abstract initState(value: NDArray, options?: O): S;

  /**
   * The update rule for the i-th parameter: change `param` (its value) in place, given its gradient `grad`.
   * Must not change `grad` (PyTorch's rules never write to `p.grad`).
   */
  protected abstract update(i: number, param: FloatArray, grad: FloatArray, state: S): void;

  /**
   * The gradient the rule works with: `grad + weightDecay * param` (L2 penalty, PyTorch's `grad.add(param,
   * alpha=weight_decay)`), negated first when maximizing. Returns `grad` itself when there is nothing to add;
   * otherwise writes into the parameter's scratch array, so `p.grad` is left as backward made it.
   */
  protected gradient(i: number, param: FloatArray, grad: FloatArray, weightDecay: number, maximize: boolean): FloatArray {
    if (weightDecay === 0 && !maximize) return grad;
    let g = this.scratch[i];
    if (g === undefined || g.length !== grad.length || g.constructor !== grad.constructor) g = this.scratch[i] = zerosLike(grad);
    kernels.axpby(maximize ? -1 : 1, grad, weightDecay, param, g);
    return g;
  }
}

/** Zeros like a parameter's value or buffer (same size and dtype), for state buffers. */
export function zerosLike(like: NDArray | FloatArray): FloatArray {
  if (like instanceof NDArray) return allocate(like.dtype, like.size);
  return allocate(like instanceof Float64Array ? 'float64' : 'float32', like.length);
}
