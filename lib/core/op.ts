/**
 * `Op` and `OpNode`: the operation half of the computation graph.
 *
 * An Op is a class of two static functions. `forward(context, ...inputs, options)` computes the output value
 * from input *values* (NDArrays) and may store in `context` whatever the backward needs. `backward(context,
 * gradOutput)` returns the gradient of the loss for each input, given the gradient of the output. Neither
 * function sees the graph: `doForward` is the one place where graph is built, so an op is plain arithmetic.
 *
 * This is the same contract as PyTorch's `torch.autograd.Function` (`ctx.save_for_backward`,
 * `ctx.needs_input_grad`).
 *
 * @example
 * class Square extends Op {
 *   static override forward(context: Context, x: NDArray): NDArray {
 *     context.x = x;
 *     return mulArrays(x, x);
 *   }
 *   static override backward(context: Context, g: NDArray): Grads {
 *     return [scaleMul(g, context.x, 2)];   // dL/dX = 2 X * G
 *   }
 * }
 * const y = Square.doForward(x);
 */
import { NDArray } from './ndarray';
import { TensorNode } from './tensor-node';

/**
 * What forward leaves for backward. `needsInputGrad[i]` says whether input i wants a gradient, so backward can
 * skip work nobody asked for (return null for it).
 */
export interface Context {
  needsInputGrad: boolean[];
  /**
   * Set only while backward runs: for input i, an array of the input's shape that backward may write input i's
   * whole gradient into instead of allocating one (the input's own gradient buffer, zeroed by `zeroGrad` and
   * not otherwise needed), or null. An op that writes into it returns that array as input i's gradient.
   * Parameters then keep one gradient buffer for the whole training run (see `gradInto` in ops/util.ts).
   */
  gradInto?: (NDArray | null)[];
  [key: string]: unknown;
}

/** One gradient per input, or null where the input needs none. */
export type Grads = (NDArray | null)[];

/** Constants an op is configured with (`dim`, `repeats`, `indices`, ...): they get no gradient. */
export type OpOptions = Record<string, unknown>;

/** The class side of an Op, as stored in `OpNode.op`. */
export interface OpClass {
  readonly name: string;
  forward(context: Context, ...args: never[]): NDArray;
  backward(context: Context, gradOutput: NDArray): Grads;
}

/** The node recording one application of an Op: which op, what it saved, its inputs and outputs. */
export class OpNode {
  constructor(
    readonly op: OpClass,
    public context: Context,
    public inputs: TensorNode[],
    public outputs: TensorNode[] = [],
  ) {}

  toString(): string {
    return `OpNode(${this.op.name}, inputs=${this.inputs.length})`;
  }
}

export abstract class Op {
  /** Computes the output value from the input values; stores what backward needs in `context`. */
  static forward(_context: Context, ..._args: unknown[]): NDArray {
    throw new Error(`${this.name}.forward is not implemented`);
  }

  /** Returns the gradient of the loss for each input, given the gradient of the output. */
  static backward(_context: Context, _gradOutput: NDArray): Grads {
    throw new Error(`${this.name}.backward is not implemented`);
  }

  /**
   * Applies the op to graph nodes and records it: `Op.doForward(a, b, { dim: 1 })`. Positional TensorNode
   * arguments are inputs (they get gradients); a trailing plain object is the options (constants).
   */
  static doForward(this: OpClass, ...args: (TensorNode | OpOptions)[]): TensorNode {
    const inputs: TensorNode[] = [];
    let options: OpOptions | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof TensorNode) inputs.push(a);
      else if (i === args.length - 1 && a !== null && typeof a === 'object') options = a;
      else throw new TypeError(`${this.name}.doForward: argument ${i} is not a TensorNode (options go last)`);
    }
    for (let i = 1; i < inputs.length; i++) {
      if (inputs[i].value.dtype !== inputs[0].value.dtype) {
        throw new TypeError(
          `${this.name}: inputs mix ${inputs[0].value.dtype} and ${inputs[i].value.dtype}; cast one with value.astype()`,
        );
      }
    }
    const needsInputGrad = inputs.map((n) => n.requiresGrad);
    const context: Context = { needsInputGrad };
    const values = inputs.map((n) => n.value);
    const forward = this.forward as (context: Context, ...args: unknown[]) => NDArray;
    const value = options === undefined ? forward.call(this, context, ...values) : forward.call(this, context, ...values, options);
    if (!(value instanceof NDArray)) {
      const got = value === null || typeof value !== 'object' ? String(value) : `an object of class ${(value as object).constructor?.name}`;
      throw new TypeError(`${this.name}.forward returned ${got}, expected an NDArray`);
    }
    const requiresGrad = needsInputGrad.some(Boolean);
    const opNode = new OpNode(this, context, inputs);
    const out = new TensorNode(value, { source: opNode, requiresGrad });
    opNode.outputs.push(out);
    return out;
  }
}
