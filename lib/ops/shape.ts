/**
 * Ops that move values around without arithmetic: broadcasting (Expand), squeezing, reshaping, transposing,
 * and selecting one entry per row.
 *
 * Their gradients move G back to where each value came from: a value copied to several places (Expand)
 * collects the sum of their gradients; a value that was dropped (Select) gets zero.
 */
import { NDArray, shapeSize, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import { checkRank, like, normalizeDim, splitAt, toIndices } from './util';

/**
 * Broadcasting by repetition, the course's Broadcasting example: repeats a size-1 axis `dim` `repeats` times,
 * e.g. `[3, 1] -> [3, 6]` with `{ dim: 1, repeats: 6 }`.
 *
 * Gradient: each input value was copied to `repeats` outputs, so by the multivariate chain rule its gradient
 * is the sum of theirs: dL/dX = sum of G along `dim` (kept as size 1). PyTorch: `x.expand(...)`; numpy:
 * `np.repeat(x, repeats, axis=dim)`.
 */
export class Expand extends Op {
  static override forward(context: Context, x: NDArray, options: { dim: number; repeats: number }): NDArray {
    const dim = normalizeDim('expand', options.dim, x.ndim);
    const repeats = options.repeats;
    if (x.shape[dim] !== 1) {
      throw new RangeError(`expand: axis ${dim} of shape ${shapeString(x.shape)} must have size 1 to be repeated`);
    }
    if (!Number.isInteger(repeats) || repeats < 0) throw new RangeError(`expand: repeats must be a non-negative integer, got ${repeats}`);
    const shape = [...x.shape];
    shape[dim] = repeats;
    const [outer, , inner] = splitAt(x.shape, dim);
    const out = like(x, shape);
    kernels.broadcastAxis(x.data, outer, repeats, inner, out.data);
    context.split = [outer, repeats, inner];
    context.shape = x.shape;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [outer, repeats, inner] = context.split as number[];
    const gx = like(g, context.shape as number[]);
    kernels.sumAxis(g.data, outer, repeats, inner, gx.data);
    return [gx];
  }
}

/** Reshape with a new shape of the same size (`-1` once infers a size). Gradient: G reshaped back. */
export class Reshape extends Op {
  static override forward(context: Context, x: NDArray, options: { shape: readonly number[] }): NDArray {
    context.shape = x.shape;
    return x.reshape(resolveShape(x, options.shape));
  }

  static override backward(context: Context, g: NDArray): Grads {
    return [g.reshape(context.shape as number[])];
  }
}

function resolveShape(x: NDArray, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free >= 0) {
    const known = shapeSize(out.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(`reshape: cannot reshape ${shapeString(x.shape)} to ${shapeString(shape)}`);
    }
    out[free] = x.size / known;
  }
  if (shapeSize(out) !== x.size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`reshape: cannot reshape ${shapeString(x.shape)} (${x.size} values) to ${shapeString(shape)}`);
  }
  return out;
}

/** Removes axis `dim`, which must have size 1: `[3, 1, 4] -> [3, 4]`. Gradient: G with the axis put back. */
export class Squeeze extends Op {
  static override forward(context: Context, x: NDArray, options: { dim: number }): NDArray {
    const dim = normalizeDim('squeeze', options.dim, x.ndim);
    if (x.shape[dim] !== 1) throw new RangeError(`squeeze: axis ${dim} of shape ${shapeString(x.shape)} has size ${x.shape[dim]}, not 1`);
    context.shape = x.shape;
    return x.reshape(x.shape.filter((_, i) => i !== dim));
  }

  static override backward(context: Context, g: NDArray): Grads {
    return [g.reshape(context.shape as number[])];
  }
}

/** Inserts an axis of size 1 at `dim`: `[3, 4] -> [1, 3, 4]` for dim 0. Gradient: G with that axis removed. */
export class Unsqueeze extends Op {
  static override forward(context: Context, x: NDArray, options: { dim: number }): NDArray {
    const dim = normalizeDim('unsqueeze', options.dim, x.ndim + 1);
    const shape = [...x.shape];
    shape.splice(dim, 0, 1);
    context.shape = x.shape;
    return x.reshape(shape);
  }

  static override backward(context: Context, g: NDArray): Grads {
    return [g.reshape(context.shape as number[])];
  }
}

/** Matrix transpose, `[n, m] -> [m, n]`. Gradient: dL/dX = G^T. */
export class Transpose extends Op {
  static override forward(_context: Context, x: NDArray): NDArray {
    checkRank('transpose', x, 2);
    const [rows, cols] = x.shape;
    const out = like(x, [cols, rows]);
    kernels.transpose(x.data, rows, cols, out.data);
    return out;
  }

  static override backward(_context: Context, g: NDArray): Grads {
    const [cols, rows] = g.shape;
    const gx = like(g, [rows, cols]);
    kernels.transpose(g.data, cols, rows, gx.data);
    return [gx];
  }
}

/**
 * The course's Select: picks one entry per row, `out[i] = X[i, indices[i]]` (`[n, m] -> [n]`), as a loss
 * picks the score of each instance's target class. `indices` is an option (integers get no gradient).
 *
 * Gradient: dL/dX[i, indices[i]] = G[i], zero elsewhere. PyTorch: `x.gather(1, idx[:, None]).squeeze(1)`.
 */
export class Select extends Op {
  static override forward(context: Context, x: NDArray, options: { indices: ArrayLike<number> }): NDArray {
    checkRank('select', x, 2);
    const [rows, cols] = x.shape;
    const idx = toIndices('select', options.indices, rows, cols);
    const out = like(x, [rows]);
    kernels.gather(x.data, rows, cols, idx, out.data);
    context.shape = x.shape;
    context.indices = idx;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [rows, cols] = context.shape as number[];
    const gx = like(g, [rows, cols]);
    kernels.scatterAxis(g.data, context.indices as Int32Array, rows, cols, 1, gx.data);
    return [gx];
  }
}
