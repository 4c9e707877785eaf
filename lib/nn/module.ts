/**
 * `Module`: the base of every layer and model, as PyTorch's `nn.Module`.
 *
 * A module finds its parameters by itself: it walks its own enumerable properties and collects every
 * `TensorNode` (a parameter), every sub-`Module`, and every array of them, in the order they were assigned.
 * Names follow the property path, as in PyTorch: `fc1.weight`, `layers.0.bias`. Properties whose name starts
 * with `_` are private state and are not walked. A parameter shared by two sub-modules is listed once.
 *
 * @example
 * class Net extends Module {
 *   fc1 = new Linear(4, 8);
 *   fc2 = new Linear(8, 3);
 *   forward(x: TensorNode): TensorNode {
 *     return this.fc2.call(this.fc1.call(x).relu());
 *   }
 * }
 * const net = new Net();
 * net.namedParameters().map(([name]) => name); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
import { NDArray, sameShape, shapeString } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';

/** What a module holds that `parameters()` walks: a parameter, a sub-module. */
export type ModuleEntry = TensorNode | Module;

export abstract class Module {
  /** True in training mode (the default), false after `eval()`. Dropout is the identity in eval mode. */
  training = true;

  /** Computes the module's output. */
  abstract forward(x: TensorNode): TensorNode;

  /** Same as `forward` (PyTorch's `module(x)`). */
  call(x: TensorNode): TensorNode {
    return this.forward(x);
  }

  /**
   * Registers a parameter: wraps `value` in a TensorNode that requires a gradient, stores it as the property
   * `name` and returns it. (Assigning a TensorNode to a property directly registers it just as well.)
   */
  protected param(name: string, value: NDArray): TensorNode {
    const node = new TensorNode(value, { name });
    (this as unknown as Record<string, unknown>)[name] = node;
    return node;
  }

  /**
   * The direct children: `[name, parameter or sub-module]` pairs, from the own enumerable properties in
   * assignment order (arrays give `name.0`, `name.1`, ...). Containers may override this (Sequential does).
   */
  protected namedEntries(): [string, ModuleEntry][] {
    const out: [string, ModuleEntry][] = [];
    for (const key of Object.keys(this)) {
      if (key.startsWith('_') || key === 'training') continue;
      const value = (this as unknown as Record<string, unknown>)[key];
      if (value instanceof TensorNode || value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof TensorNode || item instanceof Module) out.push([`${key}.${i}`, item]);
        });
      }
    }
    return out;
  }

  /** The direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return this.namedEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** This module and every module inside it, depth first, with dotted names (this one is `''`). */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (prefix: string, m: Module): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.namedChildren()) visit(prefix ? `${prefix}.${name}` : name, child);
    };
    visit('', this);
    return out;
  }

  /** Every parameter with its dotted name (`fc1.weight`), each once, in definition order. */
  namedParameters(): [string, TensorNode][] {
    const out: [string, TensorNode][] = [];
    const seen = new Set<TensorNode>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, entry] of m.namedEntries()) {
        if (entry instanceof TensorNode && !seen.has(entry)) {
          seen.add(entry);
          out.push([prefix ? `${prefix}.${name}` : name, entry]);
        }
      }
    }
    return out;
  }

  /**
   * Non-parameter state of this module itself (BatchNorm's `running_mean`, `running_var`,
   * `num_batches_tracked`): `[name, array]` pairs the module updates in place. They are in `stateDict` but get
   * no gradient and are not given to optimizers (PyTorch's buffers). Default: none.
   */
  protected ownBuffers(): [string, NDArray][] {
    return [];
  }

  /** Every buffer with its dotted name (`bn1.running_mean`), in definition order. */
  namedBuffers(): [string, NDArray][] {
    const out: [string, NDArray][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.ownBuffers()) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  /** Every parameter, each once (what an optimizer is given). */
  parameters(): TensorNode[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sets every parameter's gradient to zero (before the next backward, or gradients accumulate). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Switches this module and all inside it to training mode (`training = true`, or the given value). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Switches to evaluation mode: Dropout becomes the identity. Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** A copy of every parameter's value and every buffer, by name (PyTorch's `state_dict`). */
  stateDict(): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.value.copy();
    for (const [name, b] of this.namedBuffers()) out[name] = b.copy();
    return out;
  }

  /**
   * Copies values into the parameters, by name. Every parameter must be given and every name must be a
   * parameter, with the same shape; values of the other float dtype are converted. Values must be finite (a
   * NaN or infinite weight, as a diverged run leaves, would make every prediction NaN). Nothing is changed
   * when any check fails. The error names the tensor.
   */
  loadStateDict(state: Record<string, NDArray>): void {
    // Parameters and buffers alike: name -> the array to fill.
    const params: [string, { value: NDArray }][] = [
      ...this.namedParameters(),
      ...this.namedBuffers().map(([name, b]): [string, { value: NDArray }] => [name, { value: b }]),
    ];
    const own = new Set(params.map(([name]) => name));
    const missing = params.filter(([name]) => !(name in state)).map(([name]) => name);
    const unexpected = Object.keys(state).filter((name) => !own.has(name));
    if (missing.length > 0 || unexpected.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`missing ${missing.map((n) => `'${n}'`).join(', ')}`);
      if (unexpected.length > 0) parts.push(`unexpected ${unexpected.map((n) => `'${n}'`).join(', ')}`);
      throw new Error(`loadStateDict: ${this.constructor.name} parameters do not match: ${parts.join('; ')}`);
    }
    for (const [name, p] of params) {
      const v = state[name];
      if (!(v instanceof NDArray)) throw new TypeError(`loadStateDict: '${name}' is not an NDArray`);
      if (!sameShape(v.shape, p.value.shape)) {
        throw new RangeError(
          `loadStateDict: '${name}' has shape ${shapeString(v.shape)} but the model expects ${shapeString(p.value.shape)}`,
        );
      }
      const d = v.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) {
          throw new RangeError(
            `loadStateDict: '${name}' holds ${d[i]} at index ${i}: the weights are not usable (were they saved from a run that diverged?)`,
          );
        }
      }
    }
    for (const [name, p] of params) p.value.data.set(state[name].data);
  }

  toString(): string {
    const children = this.namedChildren();
    if (children.length === 0) return this.describe();
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.describe()}(\n${lines.join('\n')}\n)`;
  }

  /** One-line description used by `toString` (class name and options). */
  protected describe(): string {
    return this.constructor.name;
  }
}
