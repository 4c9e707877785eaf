/**
 * 2-D convolution and max-pooling on NCHW batches, written as the course teaches convolution: **im2col**
 * turns every receptive field of an image into a column, so that the convolution becomes one matrix product.
 *
 * For one image X `[C, H, W]` and a weight W `[O, C, kh, kw]` (viewed as a matrix `[O, K]`, K = C kh kw):
 * `cols = im2col(X)` is `[K, L]` (L = oh ow output positions) and the output is `Y = W cols + b` (`[O, L]`).
 * The gradients follow from the matrix product's (see matmul.ts) and from im2col being a linear map:
 * **dL/dW = sum over images of G cols^T**, **dL/dcols = W^T G** and then **dL/dX = col2im(dL/dcols)** (col2im
 * is the adjoint of im2col: each input pixel collects the gradient of every column it was copied into), and
 * **dL/db = G summed over images and positions**.
 */
import { NDArray, allocate, allocateUninitialized, shapeString, type DType, type FloatArray } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import type { TensorNode } from '../core/tensor-node';
import { kernels } from '../kernels';
import { convOutputSize } from '../kernels/names';
import { checkRank, like, uninitialized } from './util';

export { convOutputSize };

// NOTE: scratch buffers (im2col columns and their gradient) are reused across calls instead of being
// allocated per image or per batch. This is safe because kernels are synchronous and an op never re-enters
// itself; nothing outside the current forward/backward call holds a scratch buffer. Each worker thread has its
// own copy of this module, so threads do not share them. A buffer only grows (to the largest conv seen).
const scratchPool = new Map<string, FloatArray>();

function scratch(slot: string, dtype: DType, size: number): FloatArray {
  const key = `${slot}:${dtype}`;
  let buf = scratchPool.get(key);
  if (buf === undefined || buf.length < size) {
    buf = allocate(dtype, size);
    scratchPool.set(key, buf);
  }
  return buf.length === size ? buf : buf.subarray(0, size);
}

/**
 * Columns kept from the forward pass for the weight gradient, so backward does not redo im2col (it was a fifth
 * of a LeNet batch-64 step). One buffer per weight array, that is per conv layer, reused every batch, so a
 * steady training loop allocates nothing. `owner` is the context of the forward whose columns the buffer
 * holds: a layer applied twice before backward (shared weights) overwrites it, and the earlier application's
 * backward sees another owner and recomputes. Batches whose columns exceed KEEP_BUDGET values (evaluation of
 * large batches) are not kept.
 */
interface KeptColumns {
  buf: FloatArray;
  owner: Context | null;
}
const keptColumns = new WeakMap<FloatArray, KeptColumns>();
const KEEP_BUDGET = 1 << 23;

function keepColumns(context: Context, weight: NDArray, size: number): KeptColumns | null {
  if (!context.needsInputGrad[1] || size > KEEP_BUDGET) return null;
  let kept = keptColumns.get(weight.data);
  if (kept === undefined || kept.buf.length < size) {
    kept = { buf: allocateUninitialized(weight.dtype, size), owner: null };
    keptColumns.set(weight.data, kept);
  }
  kept.owner = context;
  return kept;
}

/**
 * Images per im2col chunk: as many as fit in COLS_BUDGET column values (about 1 MB of float32, so the columns
 * stay in cache between im2col and the gemms that read them), at least one. Measured for LeNet's first layer
 * at batch 64 on 1 BLAS thread: 1 image per gemm 7.6 ms per batch (forward + backward), 4 images 8.4 ms,
 * all 64 images 11.0 ms (the 15 MB of columns no longer fit in cache); the chunks mostly save calls, which
 * matters at small batches (batch 4 makes one chunk instead of four).
 */
const COLS_BUDGET = 1 << 18;
function chunkSize(n: number, perImage: number): number {
  return Math.max(1, Math.min(n, Math.floor(COLS_BUDGET / Math.max(1, perImage))));
}

function checkInteger(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export interface Conv2dOptions {
  /** Step between receptive fields (default 1). */
  stride?: number;
  /** Zeros added on every side of each image (default 0). */
  padding?: number;
}

/**
 * 2-D convolution (strictly, cross-correlation, as in every deep-learning library) of a batch X
 * `[N, C, H, W]` with a weight `[O, C, kh, kw]` and an optional bias `[O]`, giving `[N, O, oh, ow]` with
 * `oh = floor((H + 2 padding - kh) / stride) + 1` (same for ow).
 *
 * Computed for the whole batch at once: the columns of every image side by side (`im2colBatch`, `[K, N L]`)
 * make the convolution one gemm, `Y^T = W cols + b` (`[O, N L]`, swapped to `[N, O, L]`). Gradient, with G^T
 * the output gradient swapped the same way: dL/dW = G^T cols^T (one gemm summing over images and positions),
 * dL/dX = col2im(W^T G^T), dL/db = sum of G over images and positions. Large batches go in chunks of images
 * (COLS_BUDGET). When the weight needs a gradient, the columns are kept for backward in a buffer per layer
 * (see `keptColumns`); otherwise, and for very large batches, nothing beyond the output is kept.
 * PyTorch: `F.conv2d`.
 *
 * @example
 * const y = Conv2dFunction.doForward(x, weight, bias, { stride: 1, padding: 2 });
 */
export class Conv2dFunction extends Op {
  static override forward(
    context: Context,
    x: NDArray,
    weight: NDArray,
    biasOrOptions?: NDArray | Conv2dOptions,
    maybeOptions?: Conv2dOptions,
  ): NDArray {
    const bias = biasOrOptions instanceof NDArray ? biasOrOptions : null;
    const options = (biasOrOptions instanceof NDArray ? maybeOptions : biasOrOptions) ?? {};
    const stride = checkInteger('conv2d', 'stride', options.stride ?? 1, 1);
    const pad = checkInteger('conv2d', 'padding', options.padding ?? 0, 0);
    checkRank('conv2d', x, 4, 'input (NCHW)');
    checkRank('conv2d', weight, 4, 'weight [out, in, kh, kw]');
    const [n, c, h, w] = x.shape;
    const [o, c2, kh, kw] = weight.shape;
    if (c !== c2) {
      throw new RangeError(
        `conv2d: input ${shapeString(x.shape)} has ${c} channels but weight ${shapeString(weight.shape)} expects ${c2}`,
      );
    }
    if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== o)) {
      throw new RangeError(`conv2d: bias must have shape [${o}], got ${shapeString(bias.shape)}`);
    }
    const oh = convOutputSize(h, kh, stride, pad);
    const ow = convOutputSize(w, kw, stride, pad);
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `conv2d: kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${pad} (output would be ${oh}x${ow})`,
      );
    }
    const k = c * kh * kw;
    const l = oh * ow;
    const out = uninitialized(x, [n, o, oh, ow]); // swapAxes writes every value
    const image = c * h * w;
    const chunk = chunkSize(n, k * l);
    const kept = keepColumns(context, weight, k * n * l);
    const cols = kept === null ? scratch('cols', x.dtype, k * chunk * l) : kept.buf;
    const yT = scratch('yT', x.dtype, o * chunk * l);
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      const ml = m * l;
      // Kept columns: chunk after chunk in one buffer; else the chunk's columns in scratch.
      const colsM = kept === null ? cols.subarray(0, k * ml) : cols.subarray(k * i0 * l, k * (i0 + m) * l);
      const yM = yT.subarray(0, o * ml);
      kernels.im2colBatch(x.data.subarray(i0 * image, (i0 + m) * image), m, c, h, w, kh, kw, stride, pad, colsM);
      // Y^T = W cols for all m images at once ([O, m*L]), onto the bias when there is one (beta = 1).
      if (bias !== null) kernels.broadcastAxis(bias.data, o, ml, 1, yM);
      kernels.gemm(false, false, o, ml, k, 1, weight.data, colsM, bias !== null ? 1 : 0, yM);
      kernels.swapAxes(yM, o, m, l, out.data.subarray(i0 * o * l, (i0 + m) * o * l)); // [O, m, L] -> [m, O, L]
    }
    context.x = x;
    context.weight = weight;
    context.kept = kept;
    context.geometry = { n, c, h, w, o, kh, kw, stride, pad, k, l };
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const x = context.x as NDArray;
    const weight = context.weight as NDArray;
    const { n, c, h, w, o, kh, kw, stride, pad, k, l } = context.geometry as Record<string, number>;
    const [needX, needW, needB] = context.needsInputGrad;
    let gx: NDArray | null = null;
    let gw: NDArray | null = null;
    let gb: NDArray | null = null;
    if (needX || needW) {
      if (needX) gx = like(x);
      if (needW) gw = n > 0 ? uninitialized(weight) : like(weight); // the first chunk's gemm has beta = 0
      const image = c * h * w;
      const chunk = chunkSize(n, k * l);
      const gT = scratch('yT', x.dtype, o * chunk * l);
      const kept = context.kept as KeptColumns | null;
      const useKept = kept !== null && kept.owner === context;
      const cols = needW && !useKept ? scratch('cols', x.dtype, k * chunk * l) : null;
      const gcols = needX ? scratch('gcols', x.dtype, k * chunk * l) : null;
      for (let i0 = 0; i0 < n; i0 += chunk) {
        const m = Math.min(chunk, n - i0);
        const ml = m * l;
        const gM = gT.subarray(0, o * ml);
        kernels.swapAxes(g.data.subarray(i0 * o * l, (i0 + m) * o * l), m, o, l, gM); // G^T: [O, m*L]
        if (gw !== null) {
          let colsM: FloatArray;
          if (useKept) {
            colsM = (kept as KeptColumns).buf.subarray(k * i0 * l, k * (i0 + m) * l);
          } else {
            colsM = (cols as FloatArray).subarray(0, k * ml);
            kernels.im2colBatch(x.data.subarray(i0 * image, (i0 + m) * image), m, c, h, w, kh, kw, stride, pad, colsM);
          }
          kernels.gemm(false, true, o, k, ml, 1, gM, colsM, i0 === 0 ? 0 : 1, gw.data); // dW (+)= G^T cols^T
        }
        if (gx !== null && gcols !== null) {
          const gcolsM = gcols.subarray(0, k * ml);
          kernels.gemm(true, false, k, ml, o, 1, weight.data, gM, 0, gcolsM); // dcols = W^T G^T
          kernels.col2imBatch(gcolsM, m, c, h, w, kh, kw, stride, pad, gx.data.subarray(i0 * image, (i0 + m) * image));
        }
      }
    }
    if (needB) {
      gb = uninitialized(g, [o]);
      // Sum over images first (long contiguous rows), then over the positions of the one remaining plane.
      const plane = scratch('plane', g.dtype, o * l);
      kernels.sumAxis(g.data, 1, n, o * l, plane);
      kernels.sumAxis(plane, o, l, 1, gb.data);
    }
    return context.needsInputGrad.length === 3 ? [gx, gw, gb] : [gx, gw];
  }
}

/**
 * 2-D max-pooling of `[N, C, H, W]` (or `[C, H, W]`) with a square window `kernel` and step `stride`
 * (default: the kernel size), no padding: `oh = floor((H - kernel) / stride) + 1`.
 *
 * Gradient: each output's G goes to the input position that was the maximum of its window (the first one on
 * ties); windows that overlap add up. Everything else gets zero. PyTorch: `F.max_pool2d(x, kernel, stride)`.
 */
export class MaxPool2dFunction extends Op {
  static override forward(context: Context, x: NDArray, options: { kernel: number; stride?: number }): NDArray {
    const k = checkInteger('maxpool2d', 'kernel', options.kernel, 1);
    const stride = checkInteger('maxpool2d', 'stride', options.stride ?? k, 1);
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new RangeError(`maxpool2d: input must be [N, C, H, W] or [C, H, W], got shape ${shapeString(x.shape)}`);
    }
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const oh = convOutputSize(h, k, stride);
    const ow = convOutputSize(w, k, stride);
    if (oh < 1 || ow < 1) throw new RangeError(`maxpool2d: window ${k} does not fit input ${h}x${w}`);
    const planes = x.size / (h * w);
    const out = uninitialized(x, [...x.shape.slice(0, -2), oh, ow]);
    const argmax = new Int32Array(out.size);
    kernels.maxPool2d(x.data, planes, h, w, k, stride, out.data, argmax);
    context.shape = x.shape;
    context.argmax = argmax;
    context.geometry = [planes, h, w, oh, ow];
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const [planes, h, w, oh, ow] = context.geometry as number[];
    const gx = like(g, context.shape as number[]);
    kernels.maxPool2dBackward(g.data, context.argmax as Int32Array, planes, h, w, oh, ow, gx.data);
    return [gx];
  }
}

/**
 * Convolves a batch `[N, C, H, W]` with a weight `[O, C, kh, kw]` and an optional bias `[O]`
 * (PyTorch's `F.conv2d`). See `Conv2dFunction`.
 */
export function conv2d(x: TensorNode, weight: TensorNode, bias: TensorNode | null = null, options: Conv2dOptions = {}): TensorNode {
  return bias === null ? Conv2dFunction.doForward(x, weight, { ...options }) : Conv2dFunction.doForward(x, weight, bias, { ...options });
}

/** Max-pools a batch `[N, C, H, W]` (PyTorch's `F.max_pool2d`). See `MaxPool2dFunction`. */
export function maxPool2d(x: TensorNode, kernel: number, stride: number = kernel): TensorNode {
  return MaxPool2dFunction.doForward(x, { kernel, stride });
}
