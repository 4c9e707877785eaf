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
import { kernels } from '../kernels';
import { gradInto, uninitialized } from './util';

/**
 * `Y = X W^T + b` for X `[..., in]` (every leading axis is batch), weight W `[out, in]` and an optional bias
 * b `[out]`, giving `[..., out]`.
 *
 * Gradient (with X viewed as a matrix `[rows, in]`): dL/dX = G W, dL/dW = G^T X, and dL/db = the sum of G over
 * the rows (b was repeated on every row: the backward of that broadcast is a sum). PyTorch: `F.linear`.
 *
 * @example
 * const y = LinearOp.doForward(x, weight, bias);   // or linear(x, weight, bias)
 */
export class LinearOp extends Op {
  static override forward(context: Context, x: NDArray, weight: NDArray, bias?: NDArray): NDArray {
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
    context.x = x;
    context.weight = weight;
    context.rows = rows;
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
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

/** `x @ weight^T + bias` (PyTorch's `F.linear`); the bias is optional. See `LinearOp`. */
export function linear(x: TensorNode, weight: TensorNode, bias: TensorNode | null = null): TensorNode {
  return bias === null ? LinearOp.doForward(x, weight) : LinearOp.doForward(x, weight, bias);
}

/** @deprecated use `LinearOp` (op names: docs/conventions.md); removed in 0.3 */
export const LinearFunction = LinearOp;
