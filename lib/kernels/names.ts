/**
 * The kernel vocabulary: every piece of arithmetic vugrad does goes through one of these names.
 *
 * Kernels are the only code that touches raw typed arrays. They take typed arrays and integer sizes (never
 * NDArrays), write into an `out` array the caller allocated, and return nothing. All arrays passed to one call
 * have the same dtype (Float32Array or Float64Array); integer arrays (indices, argmax) are Int32Array.
 * Arrays are contiguous and row-major. Which arrays may share memory is the aliasing contract,
 * `KERNEL_ALIASING` below: in short, an array a kernel writes may share no memory with any other array of the
 * call, except that elementwise kernels may work in place.
 *
 * The JS table (`lib/kernels/js`) is complete and is the reference; a native table may implement any subset,
 * and dispatch falls back per kernel (see `lib/kernels/index.ts`).
 *
 * Axis reductions describe an array as `[outer, n, inner]` and reduce or expand the middle axis; that covers
 * "sum along dim d" for any d of any shape (outer = product of sizes before d, inner = product after).
 */
import type { FloatArray } from './dtype';
import { arrayArgs, BINARY_OPS, isWritten, KERNEL_SPECS, UNARY_OPS, type KernelSpec, type KernelSpecs } from './specs';

/** A unary op's name (the list, with each op's code in the addon, is UNARY_OPS in specs.ts). */
export type UnaryOp = (typeof UNARY_OPS)[number];

/** A binary op's name (BINARY_OPS in specs.ts). */
export type BinaryOp = (typeof BINARY_OPS)[number];

/**
 * The kernels with a hand-written signature and TSDoc (what an op's author reads). Each must agree with its
 * declaration in specs.ts: the compiler checks it (`SignaturesAgree` below). A kernel declared in specs.ts and
 * not listed here gets the signature derived from its declaration (`SpecSignature`), so a new kernel needs no
 * entry here; document it here when it earns a page of prose.
 */
interface DocumentedKernels {
  /**
   * General matrix multiply, row-major: `C = alpha * op(A) @ op(B) + beta * C`, where `op(A)` is `[m, k]`
   * (`A` is stored `[k, m]` when `transA`), `op(B)` is `[k, n]` (`B` stored `[n, k]` when `transB`), `C` is
   * `[m, n]`. `alpha` and `beta` are finite. With `beta = 0` the old contents of C are ignored (NaN included). `c` may share no memory with
   * `a` or `b` (see KERNEL_ALIASING); `a` and `b` may be the same array.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    b: FloatArray,
    beta: number,
    c: FloatArray,
  ): void;

  /** `out[i] = f(x[i])`. `out` may be `x` itself (in place). `sigmoid` must not overflow for large negative x. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray): void;

  /**
   * Gradient of a unary op: `out[i] = g[i] * f'(x[i])`, given the input `x` and the forward output `y`
   * (each op uses whichever is cheaper: sigmoid, tanh, exp, sqrt use y; log, relu, abs, square, reciprocal use x).
   */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, g: FloatArray, out: FloatArray): void;

  /** `out[i] = a[i] (op) b[i]`, all the same length. `out` may be `a` or `b` itself. */
  binary(op: BinaryOp, a: FloatArray, b: FloatArray, out: FloatArray): void;

  /** `out[i] = a[i] (op) s` for a scalar s. `out` may be `a` itself. */
  binaryScalar(op: BinaryOp, a: FloatArray, s: number, out: FloatArray): void;

  /** `y[i] += alpha * x[i]` (BLAS axpy). Used to accumulate gradients and by optimizers. */
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;

  /** `out[i] = alpha * x[i] + beta * y[i]`. `out` may be x or y itself. */
  axpby(alpha: number, x: FloatArray, beta: number, y: FloatArray, out: FloatArray): void;

  /**
   * One SGD-with-momentum update, fused (`torch.optim.SGD` after its first step):
   * `buf = momentum * buf + (1 - dampening) * g`, then `param -= lr * (nesterov ? g + momentum * buf : buf)`.
   * Updates `param` and `buf` in place; one pass instead of two or three axpy calls.
   */
  sgdMomentum(param: FloatArray, grad: FloatArray, buf: FloatArray, lr: number, momentum: number, dampening: number, nesterov: boolean): void;

  /**
   * One Adam update after its moments' bias corrections are known (`torch.optim.Adam`, one pass):
   * `m = beta1 * m + (1 - beta1) * g`, `v = beta2 * v + (1 - beta2) * g^2`, with AMSGrad (`vmax` given)
   * `vmax = max(vmax, v)` and vmax used below in place of v, then
   * `param -= stepSize * m / (sqrt(v) / bc2Sqrt + eps)`, where stepSize = lr / (1 - beta1^t) and
   * bc2Sqrt = sqrt(1 - beta2^t). Updates `param`, `m`, `v` (and `vmax`) in place.
   */
  adam(
    param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null,
    beta1: number, beta2: number, stepSize: number, bc2Sqrt: number, eps: number,
  ): void;

  /**
   * One RMSprop update (`torch.optim.RMSprop`, one pass): `sq = alpha * sq + (1 - alpha) * g^2`; centered
   * (`gAvg` given): `gAvg = alpha * gAvg + (1 - alpha) * g` and `d = g / (sqrt(sq - gAvg^2) + eps)`, else
   * `d = g / (sqrt(sq) + eps)`; with `buf` given: `buf = momentum * buf + d` and `param -= lr * buf`, else
   * `param -= lr * d`. Updates its arrays in place.
   */
  rmsprop(
    param: FloatArray, grad: FloatArray, sq: FloatArray, gAvg: FloatArray | null, buf: FloatArray | null,
    lr: number, alpha: number, eps: number, momentum: number,
  ): void;

  /** One Adagrad update (`torch.optim.Adagrad`): `sum += g^2`, then `param -= clr * g / (sqrt(sum) + eps)`. */
  adagrad(param: FloatArray, grad: FloatArray, sum: FloatArray, clr: number, eps: number): void;

  /**
   * One Adamax update (`torch.optim.Adamax`): `m = beta1 * m + (1 - beta1) * g`,
   * `u = max(beta2 * u, |g| + eps)`, then `param -= stepSize * m / u` (stepSize = lr / (1 - beta1^t)).
   */
  adamax(param: FloatArray, grad: FloatArray, m: FloatArray, u: FloatArray, beta1: number, beta2: number, stepSize: number, eps: number): void;

  /**
   * One Adadelta update (`torch.optim.Adadelta`): `sq = rho * sq + (1 - rho) * g^2`,
   * `delta = sqrt(acc + eps) / sqrt(sq + eps) * g`, `acc = rho * acc + (1 - rho) * delta^2`, `param -= lr * delta`.
   */
  adadelta(param: FloatArray, grad: FloatArray, sq: FloatArray, acc: FloatArray, lr: number, rho: number, eps: number): void;

  /**
   * One Rprop update (`torch.optim.Rprop`), per element: the step size grows by `etaplus` where g kept the sign
   * of `prev`, shrinks by `etaminus` where it flipped (and that g counts as 0), is clamped to
   * `[minStep, maxStep]`; then `param -= sign(g) * stepSize` and `prev = g`.
   */
  rprop(
    param: FloatArray, grad: FloatArray, prev: FloatArray, stepSize: FloatArray,
    etaminus: number, etaplus: number, minStep: number, maxStep: number,
  ): void;

  /**
   * One ASGD update (`torch.optim.ASGD`): `param = param * decay - eta * g` (decay = 1 - lambd * eta), then the
   * average `ax += mu * (param - ax)`, or `ax = param` when mu is 1.
   */
  asgd(param: FloatArray, grad: FloatArray, ax: FloatArray, decay: number, eta: number, mu: number): void;

  /** `out[i] = value`. */
  fill(out: FloatArray, value: number): void;

  /** Sum of all elements (accumulated in float64). */
  sumAll(x: FloatArray): number;

  /** Dot product `sum(a[i] * b[i])` (accumulated in float64). */
  dot(a: FloatArray, b: FloatArray): number;

  /** Viewing x as `[outer, n, inner]`: `out[o, i] = sum_j x[o, j, i]`. `out` has outer*inner entries. */
  sumAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;

  /**
   * Viewing x as `[outer, n, inner]`: `out[o, i] = max_j x[o, j, i]` and `argmax[o, i]` = the first j that
   * attains it. Requires n >= 1.
   */
  maxAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray, argmax: Int32Array): void;

  /**
   * Expands (repeats) the middle axis: viewing out as `[outer, n, inner]`, `out[o, j, i] = x[o, i]`.
   * The backward of this is `sumAxis`. This is the course's "broadcasting by repeat".
   */
  broadcastAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;

  /**
   * Scatters into the middle axis: viewing `out` as `[outer, n, inner]`, `out[o, idx[o, i], i] += g[o, i]`.
   * The backward of `maxAxis` (with idx = argmax) and of `gather`. Does not clear `out` first.
   */
  scatterAxis(g: FloatArray, idx: Int32Array, outer: number, n: number, inner: number, out: FloatArray): void;

  /** Viewing x as `[rows, cols]`: `out[r] = x[r, idx[r]]`. Indices must be in range (checked by the caller). */
  gather(x: FloatArray, rows: number, cols: number, idx: Int32Array, out: FloatArray): void;

  /** 2-D transpose: x is `[rows, cols]`, out is `[cols, rows]`. */
  transpose(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** Row-wise stable softmax of x viewed as `[rows, cols]`. */
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** Backward of softmax, from its output y: `out = y * (g - sum_row(g * y))`. */
  softmaxBackward(y: FloatArray, g: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** Row-wise stable log-softmax: `out = x - max - log(sum(exp(x - max)))`. Finite for inputs of +-1000. */
  logSoftmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** Backward of log-softmax, from its output y: `out = g - exp(y) * sum_row(g)`. */
  logSoftmaxBackward(y: FloatArray, g: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /**
   * Fused, stable softmax cross-entropy from logits `[rows, cols]` and integer targets: writes the per-row
   * losses `-log softmax(x)[r, t[r]]` to `losses` (length rows) and the softmax probabilities to `probs`.
   */
  crossEntropy(x: FloatArray, rows: number, cols: number, targets: Int32Array, losses: FloatArray, probs: FloatArray): void;

  /**
   * Backward of the fused cross-entropy: `out[r, c] = scale[r] * (probs[r, c] - [c == t[r]])`, where `scale`
   * is the gradient of each row's loss (length rows).
   */
  crossEntropyBackward(probs: FloatArray, targets: Int32Array, scale: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /**
   * im2col for one image: x is `[c, h, w]`, out is `[c * kh * kw, oh * ow]` with
   * `oh = floor((h + 2 * pad - kh) / stride) + 1` (same for ow); padded positions read as 0.
   */
  im2col(x: FloatArray, c: number, h: number, w: number, kh: number, kw: number, stride: number, pad: number, out: FloatArray): void;

  /** The adjoint of im2col: accumulates `cols` (`[c*kh*kw, oh*ow]`) into `out` (`[c, h, w]`, not cleared first). */
  col2im(cols: FloatArray, c: number, h: number, w: number, kh: number, kw: number, stride: number, pad: number, out: FloatArray): void;

  /**
   * 2-D convolution (cross-correlation) of a batch: x `[n, c, h, w]`, weight `[o, c, kh, kw]`, bias `[o]` (or
   * null), out `[n, o, oh, ow]` (overwritten), `out[i, p, y, x] = bias[p] + sum_{ch, ky, kx} weight[p, ch, ky, kx] *
   * xpad[i, ch, y stride + ky, x stride + kx]` with xpad zero-padded by `pad` on every side. Each backend picks
   * its method (im2col + gemm per image; the addon has a direct convolution for few channels).
   */
  conv2d(x: FloatArray, weight: FloatArray, bias: FloatArray | null, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, stride: number, pad: number, out: FloatArray): void;

  /**
   * Weight gradient of conv2d: `gw[p, ch, ky, kx] = sum_{i, y, x} g[i, p, y, x] * xpad[i, ch, y stride + ky,
   * x stride + kx]` (overwritten), from the input x `[n, c, h, w]` and the output gradient g `[n, o, oh, ow]`.
   */
  conv2dBackwardWeight(x: FloatArray, g: FloatArray, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, stride: number, pad: number, gw: FloatArray): void;

  /**
   * Input gradient of conv2d: `gx = col2im(weight^T g)` per image (overwritten), `[n, c, h, w]`, from the output
   * gradient g `[n, o, oh, ow]` and the weight `[o, c, kh, kw]`.
   */
  conv2dBackwardInput(g: FloatArray, weight: FloatArray, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, stride: number, pad: number, gx: FloatArray): void;

  /**
   * Max-pooling over planes: x is `[planes, h, w]` (planes = batch * channels), out is `[planes, oh, ow]` with
   * `oh = floor((h - k) / stride) + 1`; `argmax` (same size as out) gets the flat index within the plane
   * (`y * w + x`) of the first maximum of each window.
   */
  maxPool2d(x: FloatArray, planes: number, h: number, w: number, k: number, stride: number, out: FloatArray, argmax: Int32Array): void;

  /** Backward of maxPool2d: `out[p, argmax[p, o]] += g[p, o]`; out (`[planes, h, w]`) is not cleared first. */
  maxPool2dBackward(g: FloatArray, argmax: Int32Array, planes: number, h: number, w: number, oh: number, ow: number, out: FloatArray): void;
}

/** Every kernel's name: the keys of KERNEL_SPECS (specs.ts). */
export type KernelName = keyof KernelSpecs;

/** The value an argument of a declaration takes (see ArgSpec in specs.ts). */
type ArgValue<A> = A extends { readonly kind: 'read' | 'write'; readonly optional?: true }
  ? FloatArray | null
  : A extends { readonly kind: 'read' | 'write' }
    ? FloatArray
    : A extends { readonly kind: 'indices' | 'indicesOut' }
      ? Int32Array
      : A extends { readonly kind: 'op'; readonly ops: 'unary' }
        ? UnaryOp
        : A extends { readonly kind: 'op'; readonly ops: 'binary' }
          ? BinaryOp
          : A extends { readonly kind: 'flag' | 'bool' }
            ? boolean
            : number;
type ArgValues<A extends readonly unknown[]> = { -readonly [I in keyof A]: ArgValue<A[I]> };

/**
 * The JS signature a declaration implies: read/write arrays are FloatArray (`| null` when optional), index
 * arrays Int32Array, `op` a UnaryOp or BinaryOp, `flag`/`bool` boolean, every other kind a number; it returns
 * a number when the declaration says `returns: 'number'`, else nothing.
 */
export type SpecSignature<S extends KernelSpec> = (
  ...args: ArgValues<S['args']>
) => S extends { readonly returns: 'number' } ? number : void;

/**
 * Every kernel's signature: the documented ones above, and the one derived from its declaration for each kernel
 * specs.ts declares and DocumentedKernels does not list.
 */
export type KernelTable = DocumentedKernels & {
  [K in Exclude<KernelName, keyof DocumentedKernels>]: SpecSignature<KernelSpecs[K]>;
};

/** A documented kernel whose signature differs from its declaration's (or that specs.ts does not declare). */
type Disagreeing = {
  [K in keyof DocumentedKernels]: K extends KernelName
    ? [DocumentedKernels[K]] extends [SpecSignature<KernelSpecs[K]>]
      ? [SpecSignature<KernelSpecs[K]>] extends [DocumentedKernels[K]]
        ? never
        : K
      : K
    : K;
}[keyof DocumentedKernels];
/**
 * Compile-time check, nothing at run time: `true` when every documented signature is its declaration's, else
 * the type names the kernels that disagree (and this line fails to compile).
 */
export type SignaturesAgree = [Disagreeing] extends [never] ? true : { disagree: Disagreeing };
const signaturesAgree: SignaturesAgree = true;
void signaturesAgree;

/**
 * Output size of a convolution or pooling window along one axis, as the conv kernels define it:
 * `floor((size + 2 pad - k) / stride) + 1`.
 */
export function convOutputSize(size: number, k: number, stride = 1, pad = 0): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** Every kernel name, in table order (the order of KERNEL_SPECS in specs.ts). Conformance tests iterate over this list. */
export const KERNEL_NAMES: readonly KernelName[] = Object.keys(KERNEL_SPECS) as KernelName[];

/**
 * The aliasing contract of one kernel: the arrays it writes, the arrays it only reads, and the pairs that may be
 * the same memory. `validated()` enforces it in front of both backends, so a call either computes what the
 * kernel documents or throws an Error naming the kernel and both arrays.
 */
export interface AliasRule {
  /** Arrays the kernel writes (outputs and in-place state), by argument name. */
  readonly writes: readonly string[];
  /** Arrays the kernel only reads, by argument name. */
  readonly reads: readonly string[];
  /**
   * `[written, other]` pairs that may be the very same elements: views of one ArrayBuffer with the same byte
   * offset and length (the same array object, or an equal view of it). A partial overlap is never allowed.
   */
  readonly inPlace?: readonly (readonly [string, string])[];
}

/**
 * Which arrays of each kernel may share memory. Two arrays overlap when they view the same ArrayBuffer (or
 * SharedArrayBuffer) and their byte ranges intersect: the same object, or `subarray` views of one buffer.
 * Empty arrays overlap nothing. The rules:
 * - arrays a kernel only reads may overlap each other freely (`gemm` of `a` with itself computes A Aᵀ);
 * - an array a kernel writes may overlap no other array of the call, read or written, because no backend can
 *   honour it: BLAS clears C before it reads A when beta = 0 (the result was zeros), the JS and C++ loops read
 *   an input after an earlier iteration wrote over it, and each backend does so in a different order;
 * - except the pairs in `inPlace`: elementwise kernels (`unary`, `unaryBackward`, `binary`, `binaryScalar`,
 *   `axpy`, `axpby`) read each element before they write it, so their output may be one of their inputs
 *   exactly. A view shifted by even one element is still rejected: element i would read what i-1 wrote in a
 *   scalar loop but not in a vectorized one.
 *
 * Integer arrays count too: `gather`'s `out` may not share memory with its `idx`.
 *
 * Derived from KERNEL_SPECS (specs.ts): an array declared `write` is written, `inPlace` lists its partners.
 */
export const KERNEL_ALIASING: { readonly [K in KernelName]: AliasRule } = Object.fromEntries(
  KERNEL_NAMES.map((name) => {
    const arrays = arrayArgs(KERNEL_SPECS[name]);
    const inPlace = arrays.flatMap((a) =>
      'inPlace' in a && a.inPlace ? a.inPlace.map((o) => [a.name, o] as const) : [],
    );
    const rule: AliasRule = {
      writes: arrays.filter((a) => isWritten(a)).map((a) => a.name),
      reads: arrays.filter((a) => !isWritten(a)).map((a) => a.name),
      ...(inPlace.length > 0 ? { inPlace } : {}),
    };
    return [name, rule];
  }),
) as { readonly [K in KernelName]: AliasRule };
