/**
 * `Op`: the operation half of the computation graph (the `OpNode` recording each application is in op-node.ts).
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
import { OpNode, type Context, type Grads, type OpClass, type OpOptions } from './op-node';
import { TensorNode } from './tensor-node';

// NOTE: Context, Grads, OpClass, OpOptions and OpNode live in ./op-node (so that tensor-node.ts and this file do
// not import each other); re-exported here, where every op imports them from.
export { OpNode, type Context, type Grads, type OpClass, type OpOptions };

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
