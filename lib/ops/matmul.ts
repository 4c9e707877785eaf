/**
 * Matrix multiplication.
 *
 * The course's derivation for `Z = X Y` (X: [n, k], Y: [k, m]): each Z_ij = sum_p X_ip Y_pj, so
 * dL/dX_ip = sum_j G_ij Y_pj and dL/dY_pj = sum_i X_ip G_ij, that is
 * **dL/dX = G Y^T** and **dL/dY = X^T G**. Both are again matrix multiplications (gemm with a transpose).
 */
import { NDArray, shapeString } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import { checkRank, like } from './util';

/**
 * `Z = X @ Y` for 2-D X `[n, k]` and Y `[k, m]`.
 *
 * Gradient: dL/dX = G Y^T, dL/dY = X^T G. PyTorch: `torch.mm`.
 */
export class MatrixMultiply extends Op {
  static override forward(context: Context, x: NDArray, y: NDArray): NDArray {
    checkRank('matmul', x, 2, 'left operand');
    checkRank('matmul', y, 2, 'right operand');
    const [n, k] = x.shape;
    const [k2, m] = y.shape;
    if (k !== k2) throw new RangeError(`matmul: inner sizes differ: ${shapeString(x.shape)} x ${shapeString(y.shape)}`);
    context.x = x;
    context.y = y;
    const out = NDArray.zeros([n, m], x.dtype);
    kernels.gemm(false, false, n, m, k, 1, x.data, y.data, 0, out.data);
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const x = context.x as NDArray;
    const y = context.y as NDArray;
    const [n, k] = x.shape;
    const m = y.shape[1];
    let gx: NDArray | null = null;
    let gy: NDArray | null = null;
    if (context.needsInputGrad[0]) {
      gx = like(x);
      kernels.gemm(false, true, n, k, m, 1, g.data, y.data, 0, gx.data); // G Y^T
    }
    if (context.needsInputGrad[1]) {
      gy = like(y);
      kernels.gemm(true, false, k, m, n, 1, x.data, g.data, 0, gy.data); // X^T G
    }
    return [gx, gy];
  }
}

/**
 * The course's batched matrix-vector product, as used by its Linear layer: given a weight `matrix` W of
 * shape `[out, in]` and a batch of row `vectors` X `[batch, in]`, computes `Z = X W^T` (`[batch, out]`), so
 * each row of Z is W times that row of X.
 *
 * Gradient: dL/dW = G^T X and dL/dX = G W. PyTorch: `torch.nn.functional.linear` without the bias.
 */
export class BatchMM extends Op {
  static override forward(context: Context, matrix: NDArray, vectors: NDArray): NDArray {
    checkRank('batchmm', matrix, 2, 'matrix');
    checkRank('batchmm', vectors, 2, 'vectors');
    const [out, inp] = matrix.shape;
    const [batch, inp2] = vectors.shape;
    if (inp !== inp2) {
      throw new RangeError(
        `batchmm: matrix ${shapeString(matrix.shape)} cannot multiply vectors ${shapeString(vectors.shape)} (sizes ${inp} and ${inp2} differ)`,
      );
    }
    context.matrix = matrix;
    context.vectors = vectors;
    const z = NDArray.zeros([batch, out], matrix.dtype);
    kernels.gemm(false, true, batch, out, inp, 1, vectors.data, matrix.data, 0, z.data);
    return z;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const w = context.matrix as NDArray;
    const x = context.vectors as NDArray;
    const [out, inp] = w.shape;
    const batch = x.shape[0];
    let gw: NDArray | null = null;
    let gx: NDArray | null = null;
    if (context.needsInputGrad[0]) {
      gw = like(w);
      kernels.gemm(true, false, out, inp, batch, 1, g.data, x.data, 0, gw.data); // G^T X
    }
    if (context.needsInputGrad[1]) {
      gx = like(x);
      kernels.gemm(false, false, batch, inp, out, 1, g.data, w.data, 0, gx.data); // G W
    }
    return [gw, gx];
  }
}
