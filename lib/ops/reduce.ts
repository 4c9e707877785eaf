/**
 * Reductions: sums, means and maxima, of everything or along one axis, and the course's row normalisation.
 *
 * A sum's gradient is the broadcast of G back over what was summed: every summed element contributed with
 * weight 1. A max's gradient goes only to the element that won.
 */
import { NDArray, shapeSize, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import { checkRank, like, normalizeDim, splitAt } from './util';

/**
 * Sum of all elements, giving a scalar (shape `[]`).
 *
 * Gradient: dL/dX = G (a scalar) at every position. PyTorch: `x.sum()`.
 */
export class Sum extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    context.shape = x.shape;
    return NDArray.scalar(kernels.sumAll(x.data), x.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    return [NDArray.full(context.shape as number[], g.data[0], g.dtype)];
  }
}

/**
 * Mean of all elements, giving a scalar.
 *
 * Gradient: dL/dX = G / n at every position, n the number of elements. PyTorch: `x.mean()`.
 */
export class Mean extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    if (x.size === 0) throw new RangeError('mean: empty input has no mean');
    context.shape = x.shape;
    return NDArray.scalar(kernels.sumAll(x.data) / x.size, x.dtype);
  }

  static override backward(context: Context, g: NDArray): Grads {
    const shape = context.shape as number[];
    return [NDArray.full(shape, g.data[0] / shapeSize(shape), g.dtype)];
  }
}

function reducedShape(shape: readonly number[], dim: number, keepdim: boolean): number[] {
  const out = [...shape];
  if (keepdim) out[dim] = 1;
  else out.splice(dim, 1);
  return out;
}

/**
 * Sum along one axis (`dim`, default 1: the course's RowSum), removing it unless `keepdim`.
 *
 * Gradient: dL/dX = G repeated along the summed axis (the backward of a sum is an Expand).
 * PyTorch: `x.sum(dim)`.
 */
export class SumAxis extends Op {
  static override forward(context: Context, x: NDArray, options: { dim?: number; keepdim?: boolean } = {}): NDArray {
    const dim = normalizeDim('sum', options.dim ?? 1, x.ndim);
    const [outer, n, inner] = splitAt(x.shape, dim);
    const out = like(x, reducedShape(x.shape, dim, options.keepdim ?? false));
    kernels.sumAxis(x.data, outer, n, inner, out.data);
    context.shape = x.shape;
    context.split = [outer, n, inner];
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [outer, n, inner] = context.split as number[];
    const gx = like(g, context.shape as number[]);
    kernels.broadcastAxis(g.data, outer, n, inner, gx.data);
    return [gx];
  }
}

/** The course's RowSum: the sum of each row of a matrix, `[n, m] -> [n]`. Same as `SumAxis` with dim 1. */
export class RowSum extends SumAxis {
  static override forward(context: Context, x: NDArray): NDArray {
    checkRank('rowsum', x, 2);
    return super.forward(context, x, { dim: 1 });
  }
}

/**
 * Maximum along one axis (`dim`, default 1: the course's RowMax), removing it unless `keepdim`.
 *
 * Gradient: dL/dX = G at the position of each maximum (the first one on ties), zero elsewhere.
 * PyTorch: `x.max(dim).values`.
 */
export class MaxAxis extends Op {
  static override forward(context: Context, x: NDArray, options: { dim?: number; keepdim?: boolean } = {}): NDArray {
    const dim = normalizeDim('max', options.dim ?? 1, x.ndim);
    const [outer, n, inner] = splitAt(x.shape, dim);
    if (n === 0) throw new RangeError(`max: cannot take the maximum over an empty axis ${dim} of shape ${shapeString(x.shape)}`);
    const out = like(x, reducedShape(x.shape, dim, options.keepdim ?? false));
    const argmax = new Int32Array(outer * inner);
    kernels.maxAxis(x.data, outer, n, inner, out.data, argmax);
    context.shape = x.shape;
    context.split = [outer, n, inner];
    context.argmax = argmax;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [outer, n, inner] = context.split as number[];
    const gx = like(g, context.shape as number[]);
    kernels.scatterAxis(g.data, context.argmax as Int32Array, outer, n, inner, gx.data);
    return [gx];
  }
}

/** The course's RowMax: the largest value in each row, `[n, m] -> [n]`. Same as `MaxAxis` with dim 1. */
export class RowMax extends MaxAxis {
  static override forward(context: Context, x: NDArray): NDArray {
    checkRank('rowmax', x, 2);
    return super.forward(context, x, { dim: 1 });
  }
}

/**
 * The course's Normalize: divides each row by its sum, `Y_ij = X_ij / s_i` with `s_i = sum_j X_ij`
 * (turns positive scores into a distribution per row).
 *
 * Gradient: dL/dX_ij = (G_ij - sum_k G_ik Y_ik) / s_i.
 */
export class Normalize extends Op {
  static override forward(context: Context, x: NDArray): NDArray {
    checkRank('normalize', x, 2);
    const [rows, cols] = x.shape;
    const sums = like(x, [rows]);
    kernels.sumAxis(x.data, rows, cols, 1, sums.data);
    const expanded = like(x);
    kernels.broadcastAxis(sums.data, rows, cols, 1, expanded.data);
    const y = like(x);
    kernels.binary('div', x.data, expanded.data, y.data);
    context.y = y;
    context.expandedSums = expanded;
    return y;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const y = context.y as NDArray;
    const [rows, cols] = y.shape;
    const gy = like(g);
    kernels.binary('mul', g.data, y.data, gy.data);
    const dots = like(g, [rows]);
    kernels.sumAxis(gy.data, rows, cols, 1, dots.data); // sum_k G_ik Y_ik per row
    const gx = like(g);
    kernels.broadcastAxis(dots.data, rows, cols, 1, gx.data);
    kernels.binary('sub', g.data, gx.data, gx.data);
    kernels.binary('div', gx.data, (context.expandedSums as NDArray).data, gx.data);
    return [gx];
  }
}
