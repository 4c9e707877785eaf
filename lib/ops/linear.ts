/**
 * The fully connected layer as one fused op, `Y = X W^T + b`.
 *
 * The course builds it from BatchMM and a broadcast Add; fusing saves the intermediate product and one pass:
 * the output is first filled with the bias repeated on every row, then the matrix product is accumulated onto
 * it (gemm with beta = 1).
 */
import { NDArray, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import type { TensorNode } from '../core/tensor-node';
import { kernels, type UnaryOp } from '../kernels';
import { gradInto, uninitialized } from './util';

/** The activations `LinearOp` can apply to its output in the same op (`{ activation }`). */
export type LinearActivation = 'relu' | 'sigmoid' | 'tanh';
const ACTIVATIONS: readonly LinearActivation[] = ['relu', 'sigmoid', 'tanh'];

/**
 * `Y = X W^T + b` for X `[..., in]` (every leading axis is batch), weight W `[out, in]` and an optional bias
 * b `[out]`, giving `[..., out]`. With `{ activation: 'relu' | 'sigmoid' | 'tanh' }` it returns `f(X W^T + b)`: the
 * activation runs in place on the product (no second tensor, no second graph node), and its gradient
 * `G * f'(.)` is taken from the output (for ReLU, Y > 0 exactly where the pre-activation was; for sigmoid and
 * tanh the derivative is a function of Y), then fed to the three gradients below. MLP uses it between layers.
 *
 * Gradient (with X viewed as a matrix `[rows, in]`): dL/dX = G W, dL/dW = G^T X, and dL/db = the sum of G over
 * the rows (b was repeated on every row: the backward of that broadcast is a sum). PyTorch: `F.linear`.
 *
 * @example
 * const y = LinearOp.doForward(x, weight, bias);   // or linear(x, weight, bias)
 */
export class LinearOp extends Op {
  static override forward(context: Context, x: NDArray, weight: NDArray, biasOrOptions?: NDArray | LinearOptions, maybeOptions?: LinearOptions): NDArray {
    const bias = biasOrOptions instanceof NDArray ? biasOrOptions : undefined;
    const activation = (biasOrOptions instanceof NDArray ? maybeOptions : biasOrOptions)?.activation;
    if (activation !== undefined && !ACTIVATIONS.includes(activation)) {
      throw new RangeError(`linear: activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`);
    }
    if (weight.ndim !== 2) throw new RangeError(`linear: weight must be [out, in], got shape ${shapeString(weight.shape)}`);
    const [outF, inF] = weight.shape;
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
      throw new RangeError(
        `linear: input ${shapeString(x.shape)} does not end in ${inF} features (weight ${shapeString(weight.shape)})`,
      );
    }
    if (bias !== undefined && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
      throw new RangeError(`linear: bias must have shape [${outF}], got ${shapeString(bias.shape)}`);
    }
    const rows = inF === 0 ? x.size : x.size / inF;
    const y = uninitialized(x, [...x.shape.slice(0, -1), outF]); // broadcast and/or gemm (beta 0) write it all
    if (bias !== undefined) kernels.broadcastAxis(bias.data, 1, rows, outF, y.data); // every row starts as b
    kernels.gemm(false, true, rows, outF, inF, 1, x.data, weight.data, bias !== undefined ? 1 : 0, y.data);
    if (activation !== undefined) {
      kernels.unary(activation as UnaryOp, y.data, y.data);
      context.activation = activation;
      context.y = y;
      // How drawings of the graph name this node (`vugrad graph`): the course's two steps, in one op.
      context.label = `${this.name} + ${{ relu: 'ReLU', sigmoid: 'Sigmoid', tanh: 'Tanh' }[activation]}`;
    }
    context.x = x;
    context.weight = weight;
    context.rows = rows;
    return y;
  }

  static override backward(context: Context, gradOutput: NDArray): Grads {
    let g = gradOutput;
    if (context.activation !== undefined) {
      const y = context.y as NDArray;
      g = uninitialized(gradOutput);
      // f'(.) from Y alone: relu's X > 0 is Y > 0, sigmoid's and tanh's derivatives are functions of Y.
      kernels.unaryBackward(context.activation as UnaryOp, y.data, y.data, gradOutput.data, g.data);
    }
    const x = context.x as NDArray;
    const weight = context.weight as NDArray;
    const rows = context.rows as number;
    const [outF, inF] = weight.shape;
    const [needX, needW, needB] = context.needsInputGrad;
    let gx: NDArray | null = null;
    let gw: NDArray | null = null;
    let gb: NDArray | null = null;
    if (needX) {
      gx = uninitialized(x);
      kernels.gemm(false, false, rows, inF, outF, 1, g.data, weight.data, 0, gx.data); // G W
    }
    if (needW) {
      gw = gradInto(context, 1, weight);
      kernels.gemm(true, false, outF, inF, rows, 1, g.data, x.data, 0, gw.data); // G^T X
    }
    if (needB) {
      gb = gradInto(context, 2, g, [outF]);
      kernels.sumAxis(g.data, 1, rows, outF, gb.data); // sum of G over rows
    }
    return context.needsInputGrad.length === 3 ? [gx, gw, gb] : [gx, gw];
  }
}

/** Options of `LinearOp`: an activation applied to the output in the same op. */
export interface LinearOptions {
  activation?: LinearActivation;
}

/**
 * `x @ weight^T + bias` (PyTorch's `F.linear`); the bias is optional. With an activation, `f(x @ weight^T + bias)`
 * as one op (see `LinearOp`).
 */
export function linear(x: TensorNode, weight: TensorNode, bias: TensorNode | null = null, activation?: LinearActivation): TensorNode {
  const options = activation === undefined ? undefined : { activation };
  if (bias === null) return options ? LinearOp.doForward(x, weight, options) : LinearOp.doForward(x, weight);
  return options ? LinearOp.doForward(x, weight, bias, options) : LinearOp.doForward(x, weight, bias);
}

/** @deprecated use `LinearOp` (op names: docs/conventions.md); removed in 0.3 */
export const LinearFunction = LinearOp;
