/**
 * `TensorNode`: the tensor half of the computation graph, as in the course's vugrad.
 *
 * A TensorNode holds a `value` (an NDArray), its `grad` (the gradient of the loss with respect to the value;
 * zeros until backward) and its `source`: the OpNode that computed it, or null for a leaf (a parameter, an
 * input). Arithmetic methods (`add`, `mul`, `matmul`, ...) apply ops and so build the graph as you compute.
 *
 * @example
 * const a = new TensorNode(NDArray.from([[1, 2], [3, 4]]));
 * const b = new TensorNode(NDArray.from([[5, 6], [7, 8]]));
 * const c = a.add(b);      // c.source.op === Add, c.source.inputs[0] === a
 * c.sum().backward();      // a.grad and b.grad are now all ones
 */
import { kernels } from '../kernels';
import { NDArray, type DType, type FloatArray, sameShape, shapeString } from './ndarray';
import type { OpNode } from './op-node';

export interface TensorNodeOptions {
  /** The OpNode that computed this node; null or absent for a leaf. */
  source?: OpNode<TensorNode> | null;
  /**
   * Whether a gradient is wanted for this node (default true). Mark input data `false`: no gradient is stored
   * for it and no work is spent computing one (PyTorch's `requires_grad`).
   */
  requiresGrad?: boolean;
  name?: string;
}

export class TensorNode {
  value: NDArray;
  source: OpNode<TensorNode> | null;
  name?: string;
  requiresGrad: boolean;
  private _grad: NDArray | null = null;
  // NOTE: zeroGrad only marks the gradient stale; it is zeroed when read (`grad`), or replaced by the next
  // backward's gradient (no fill and no add). Saves two passes over every parameter per batch.
  private _gradStale = false;
  // NOTE: set by clear() on every node whose source it cut. Such a node looks like a leaf, so backward from it
  // (or through it) would silently stop there and leave the parameters' gradients at zero: we refuse instead.
  private _cleared = false;

  constructor(value: NDArray, options: TensorNodeOptions = {}) {
    if (!(value instanceof NDArray)) throw new TypeError('TensorNode: value must be an NDArray (use NDArray.from)');
    this.value = value;
    this.source = options.source ?? null;
    this.requiresGrad = options.requiresGrad ?? true;
    this.name = options.name;
  }

  /** A leaf holding data that needs no gradient (an input batch, targets, constants). */
  static constant(value: NDArray, name?: string): TensorNode {
    return new TensorNode(value, { requiresGrad: false, name });
  }

  /** The gradient of the loss with respect to this node's value: zeros until backward has reached it. */
  get grad(): NDArray {
    if (this._grad === null) this._grad = NDArray.zeros(this.value.shape, this.value.dtype);
    else if (this._gradStale) {
      kernels.fill(this._grad.data, 0);
      this._gradStale = false;
    }
    return this._grad;
  }

  set grad(g: NDArray) {
    if (!(g instanceof NDArray)) throw new TypeError(`grad: expected an NDArray, got ${describe(g)}`);
    if (!sameShape(g.shape, this.value.shape) || g.dtype !== this.value.dtype) {
      throw new RangeError(
        `grad: expected ${this.value.dtype} ${shapeString(this.value.shape)}, got ${g.dtype} ${shapeString(g.shape)}`,
      );
    }
    this._grad = g;
    this._gradStale = false;
  }

  /**
   * True when `clear()` cut this node from the op that computed it: its value is still there, but backward
   * cannot pass through it any more.
   */
  get cleared(): boolean {
    return this._cleared;
  }

  /** True when backward has stored a gradient here (or `grad` was read) since the last zeroGrad. */
  get hasGrad(): boolean {
    return this._grad !== null;
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  get dtype(): DType {
    return this.value.dtype;
  }

  /** The single value of a scalar node (a loss). */
  item(): number {
    return this.value.item();
  }

  /** A new leaf with the same value and no history (PyTorch's `detach`). */
  detach(): TensorNode {
    return new TensorNode(this.value, { requiresGrad: false, name: this.name });
  }

  /**
   * Backpropagates from this node: fills `grad` of every node it depends on that requires a gradient.
   * Without an argument the node must hold a single value (a loss); otherwise pass the gradient of the
   * output. Gradients accumulate across calls until `zeroGrad()`, as in PyTorch.
   *
   * Throws when the graph was cut by `clear()` (here or anywhere behind this node): the gradients would be
   * zeros, silently. PyTorch says the same when backward runs twice through a freed graph.
   */
  backward(gradOutput?: NDArray): void {
    if (this._cleared) throw new Error(clearedMessage('backward', this, this));
    if (gradOutput !== undefined && !(gradOutput instanceof NDArray)) {
      throw new TypeError(`backward: the gradient must be an NDArray, got ${describe(gradOutput)}`);
    }
    let seed: NDArray;
    if (gradOutput === undefined) {
      if (this.value.size !== 1) {
        throw new RangeError(
          `backward: called on a node of shape ${shapeString(this.value.shape)} without a gradient; ` +
            'backward() needs a scalar (a loss), or pass the gradient of this output',
        );
      }
      seed = NDArray.ones(this.value.shape, this.value.dtype);
    } else {
      if (!sameShape(gradOutput.shape, this.value.shape)) {
        throw new RangeError(
          `backward: gradient of shape ${shapeString(gradOutput.shape)} for a node of shape ${shapeString(this.value.shape)}`,
        );
      }
      if (gradOutput.dtype !== this.value.dtype) {
        throw new TypeError(`backward: gradient is ${gradOutput.dtype} but the node is ${this.value.dtype}`);
      }
      seed = gradOutput;
    }
    if (!this.requiresGrad) {
      // NOTE: returning quietly here left every gradient at zero; PyTorch raises the same error.
      throw new Error(
        `backward: ${this} does not require a gradient: nothing behind it does (every leaf is a constant or ` +
          'has requiresGrad false), so no gradient would be computed. Make the parameters with requiresGrad true',
      );
    }

    const order = topologicalOrder(this);
    for (const node of order) if (node._cleared) throw new Error(clearedMessage('backward', this, node));
    // Arrays handed to a node by backward in this pass: a grad array an op returns twice (Add returns G for
    // both inputs) must be copied rather than shared, so each node owns its grad.
    const owned = new Set<FloatArray>([seed.data]);
    this.accumulateGrad(seed, owned);
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      const source = node.source;
      if (source === null || node._grad === null || node._gradStale) continue;
      const inputs = source.inputs;
      source.context.gradInto = TensorNode.reusableGrads(inputs, owned);
      const grads = source.op.backward(source.context, node._grad);
      source.context.gradInto = undefined;
      if (!Array.isArray(grads) || grads.length < inputs.length) {
        throw new TypeError(
          `${source.op.name}.backward returned ${Array.isArray(grads) ? `${grads.length} gradients` : describe(grads)}, ` +
            `expected an array of ${inputs.length} (an NDArray or null per input)`,
        );
      }
      for (let j = 0; j < inputs.length; j++) {
        const g = grads[j];
        if (g && !(g instanceof NDArray)) {
          throw new TypeError(`${source.op.name}.backward returned ${describe(g)} for input ${j}, expected an NDArray or null`);
        }
        if (g && inputs[j].requiresGrad) inputs[j].accumulateGrad(g, owned);
      }
    }
  }

  /**
   * Resets to zero the gradient of this node and of every node behind it (each visited once). Throws when
   * `clear()` cut the graph (the parameters behind the cut would keep their gradients): zero the parameters
   * themselves then (`optimizer.zeroGrad()`, `module.zeroGrad()`).
   */
  zeroGrad(): void {
    const nodes = reachable(this);
    for (const node of nodes) if (node._cleared) throw new Error(clearedMessage('zeroGrad', this, node));
    for (const node of nodes) node.resetGrad();
  }

  /**
   * Resets this node's gradient to zero. Lazy: the buffer is zeroed when `grad` is next read (so it is kept,
   * as with PyTorch's `zero_grad(set_to_none=False)`), or replaced by the array the next backward computes
   * (as with `set_to_none=True`: no pass over the old buffer). `hasGrad` stays true.
   */
  resetGrad(): void {
    if (this._grad !== null) this._gradStale = true;
  }

  /**
   * Cuts the graph behind this node so that the intermediate values can be garbage-collected (the course's
   * `clear()`). Leaves (parameters) keep their values and gradients. Every node it cuts keeps its value and
   * is marked `cleared`: `backward` and `zeroGrad` through it throw rather than give zero gradients.
   */
  clear(): void {
    for (const node of reachable(this)) {
      const source = node.source;
      if (source !== null) {
        source.inputs = [];
        source.outputs = [];
        source.context = { needsInputGrad: [] };
        node.source = null;
        node._cleared = true;
      }
    }
  }

  /**
   * For each input, its gradient buffer when backward may overwrite it: zeroed by zeroGrad (stale), not handed
   * out in this pass, and not the same node as an earlier input of the op (x * x gets one buffer, not two).
   * Writing a parameter's gradient there saves allocating (and page-faulting) a fresh array every batch: 9.8 MB
   * per step for the course's 784-3136 layer.
   */
  private static reusableGrads(inputs: TensorNode[], owned: Set<FloatArray>): (NDArray | null)[] | undefined {
    let out: (NDArray | null)[] | undefined;
    for (let j = 0; j < inputs.length; j++) {
      const input = inputs[j];
      if (!input.requiresGrad || !input._gradStale || input._grad === null || owned.has(input._grad.data)) continue;
      if (inputs.indexOf(input) !== j) continue;
      out ??= new Array<NDArray | null>(inputs.length).fill(null);
      out[j] = input._grad;
    }
    return out;
  }

  /**
   * Adds `g` to this node's gradient during backward; `owned` holds the arrays handed to a node in this pass.
   * NOTE: works on the fields, not through the `grad` getter, which would allocate zeros to add to.
   */
  private accumulateGrad(g: NDArray, owned: Set<FloatArray>): void {
    if (!sameShape(g.shape, this.value.shape)) {
      throw new Error(
        `backward: ${this.source ? this.source.op.name + ' output' : 'a node'} of shape ${shapeString(this.value.shape)} ` +
          `received a gradient of shape ${shapeString(g.shape)}`,
      );
    }
    if (this._grad === null || this._gradStale) {
      // A stale (zeroed) gradient is replaced rather than added to: zero + g is g. A fresh array from the op is
      // taken as it is (no pass at all); one that another node already holds is copied.
      // (g may be the stale buffer itself, written in place through context.gradInto: taken the same way.)
      if (!owned.has(g.data)) this._grad = g;
      else if (this._grad !== null) this._grad.data.set(g.data);
      else this._grad = g.copy();
      this._gradStale = false;
    } else {
      kernels.axpy(1, g.data, this._grad.data);
    }
    owned.add(this._grad.data);
  }

  toString(): string {
    const label = this.name ? ` '${this.name}'` : '';
    const from = this.source ? `, source=${this.source.op.name}` : '';
    return `TensorNode${label}(shape=${shapeString(this.value.shape)}, dtype=${this.value.dtype}${from})`;
  }
}

/** What a value is, for errors. */
function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  const name = (v as object).constructor?.name ?? 'Object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** The error for using a graph that `clear()` cut: which node, and what to do instead. */
function clearedMessage(what: string, root: TensorNode, cut: TensorNode): string {
  const where = cut === root ? `${root}` : `${root}: it depends on ${cut}, which`;
  return (
    `${what}: ${where} was cut from its graph by clear(), so ${what} cannot reach the parameters behind it ` +
    `(their gradients would silently stay zero). Compute the loss again with a new forward pass` +
    (what === 'backward' ? ', and call backward() before clear()' : ', or zero the parameters themselves (optimizer.zeroGrad())')
  );
}

/**
 * The nodes that `root` depends on and that require a gradient, in topological order (inputs before the
 * nodes computed from them), found with an explicit stack: deep graphs cannot overflow the call stack.
 */
export function topologicalOrder(root: TensorNode): TensorNode[] {
  const order: TensorNode[] = [];
  const visited = new Set<TensorNode>([root]);
  // Each stack entry is a node and how many of its inputs have been pushed so far.
  const stack: [TensorNode, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].source?.inputs ?? [];
    let pushed = false;
    while (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}

/** Every node behind `root` (itself included), each once, in no particular order. */
function reachable(root: TensorNode): TensorNode[] {
  const seen = new Set<TensorNode>([root]);
  const todo = [root];
  while (todo.length > 0) {
    const node = todo.pop() as TensorNode;
    for (const input of node.source?.inputs ?? []) {
      if (!seen.has(input)) {
        seen.add(input);
        todo.push(input);
      }
    }
  }
  return [...seen];
}
