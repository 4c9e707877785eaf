/** Elementwise kernels: unary functions and their gradients, binary ops, scaled adds. */
import type { FloatArray } from '../dtype';
import type { BinaryOp, UnaryOp } from '../names';

function sigmoid(x: number): number {
  // Two branches so that exp never overflows: for x < 0, use e^x / (1 + e^x).
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function unary(op: UnaryOp, x: FloatArray, out: FloatArray): void {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      return;
    default:
      throw new Error(`unary: unknown op '${op as string}'`);
  }
}

export function unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, g: FloatArray, out: FloatArray): void {
  const n = g.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -g[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = g[i] * y[i];
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = g[i] / x[i];
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = g[i] * y[i] * (1 - y[i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = g[i] * (1 - y[i] * y[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = g[i] / (2 * y[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0;
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = 2 * x[i] * g[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = -g[i] / (x[i] * x[i]);
      return;
    default:
      throw new Error(`unaryBackward: unknown op '${op as string}'`);
  }
}

export function binary(op: BinaryOp, a: FloatArray, b: FloatArray, out: FloatArray): void {
  const n = a.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      return;
    case 'max':
      for (let i = 0; i < n; i++) out[i] = a[i] >= b[i] ? a[i] : b[i];
      return;
    case 'min':
      for (let i = 0; i < n; i++) out[i] = a[i] <= b[i] ? a[i] : b[i];
      return;
    default:
      throw new Error(`binary: unknown op '${op as string}'`);
  }
}

export function binaryScalar(op: BinaryOp, a: FloatArray, s: number, out: FloatArray): void {
  const n = a.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + s;
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - s;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * s;
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / s;
      return;
    case 'max':
      for (let i = 0; i < n; i++) out[i] = a[i] >= s ? a[i] : s;
      return;
    case 'min':
      for (let i = 0; i < n; i++) out[i] = a[i] <= s ? a[i] : s;
      return;
    default:
      throw new Error(`binaryScalar: unknown op '${op as string}'`);
  }
}

export function axpy(alpha: number, x: FloatArray, y: FloatArray): void {
  const n = x.length;
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

export function axpby(alpha: number, x: FloatArray, beta: number, y: FloatArray, out: FloatArray): void {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta * y[i];
}

export function sgdMomentum(
  param: FloatArray, grad: FloatArray, buf: FloatArray, lr: number, momentum: number, dampening: number, nesterov: boolean,
): void {
  const n = param.length;
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const b = momentum * buf[i] + keep * grad[i];
    buf[i] = b;
    param[i] -= lr * (nesterov ? grad[i] + momentum * b : b);
  }
}

// The optimizer kernels below round in the order of the kernel calls they replace (g * g first, the quotient
// before the step size), so float64 training gives the same numbers as before they were fused.
export function adam(
  param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null,
  beta1: number, beta2: number, stepSize: number, bc2Sqrt: number, eps: number,
): void {
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * (g * g);
    let second = v[i];
    if (vmax !== null) second = vmax[i] = Math.max(vmax[i], second);
    param[i] -= stepSize * (m[i] / (Math.sqrt(second) / bc2Sqrt + eps));
  }
}

export function rmsprop(
  param: FloatArray, grad: FloatArray, sq: FloatArray, gAvg: FloatArray | null, buf: FloatArray | null,
  lr: number, alpha: number, eps: number, momentum: number,
): void {
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const s = (sq[i] = alpha * sq[i] + (1 - alpha) * (g * g));
    let d: number;
    if (gAvg !== null) {
      const a = (gAvg[i] = alpha * gAvg[i] + (1 - alpha) * g);
      d = g / (Math.sqrt(s - a * a) + eps);
    } else d = g / (Math.sqrt(s) + eps);
    if (buf !== null) d = buf[i] = momentum * buf[i] + d;
    param[i] -= lr * d;
  }
}

export function adagrad(param: FloatArray, grad: FloatArray, sum: FloatArray, clr: number, eps: number): void {
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const s = (sum[i] += g * g);
    param[i] -= clr * (g / (Math.sqrt(s) + eps));
  }
}

export function adamax(
  param: FloatArray, grad: FloatArray, m: FloatArray, u: FloatArray, beta1: number, beta2: number, stepSize: number, eps: number,
): void {
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
    const ui = (u[i] = Math.max(beta2 * u[i], Math.abs(g) + eps));
    param[i] -= stepSize * (mi / ui);
  }
}

export function adadelta(param: FloatArray, grad: FloatArray, sq: FloatArray, acc: FloatArray, lr: number, rho: number, eps: number): void {
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const s = (sq[i] = (1 - rho) * (g * g) + rho * sq[i]);
    const delta = (Math.sqrt(acc[i] + eps) / Math.sqrt(s + eps)) * g;
    acc[i] = (1 - rho) * (delta * delta) + rho * acc[i];
    param[i] -= lr * delta;
  }
}

export function rprop(
  param: FloatArray, grad: FloatArray, prev: FloatArray, stepSize: FloatArray,
  etaminus: number, etaplus: number, minStep: number, maxStep: number,
): void {
  // PyTorch's _single_tensor_rprop, element by element.
  // NOTE: PyTorch (and the addon) take the sign of grad * prev in the tensor's dtype; in float32 a product of
  // two tiny values underflows to 0 (keep the step), where a double product would say "same sign" (grow it).
  const f32 = param instanceof Float32Array;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const s = f32 ? Math.fround(grad[i] * prev[i]) : grad[i] * prev[i];
    let size = stepSize[i] * (s > 0 ? etaplus : s < 0 ? etaminus : 1);
    size = size < minStep ? minStep : size;
    size = size > maxStep ? maxStep : size;
    stepSize[i] = size;
    const g = s < 0 ? 0 : grad[i];
    param[i] -= Math.sign(g) * size;
    prev[i] = g;
  }
}

export function asgd(param: FloatArray, grad: FloatArray, ax: FloatArray, decay: number, eta: number, mu: number): void {
  const n = param.length;
  if (mu === 1) {
    for (let i = 0; i < n; i++) ax[i] = param[i] = param[i] * decay - eta * grad[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = (param[i] = param[i] * decay - eta * grad[i]);
    ax[i] = ax[i] + (p - ax[i]) * mu;
  }
}

export function fill(out: FloatArray, value: number): void {
  // NOTE: an empty array is left alone, as the addon does: a detached view has length 0 and passes validate()
  // (its byteLength is 0 too), and TypedArray's fill throws on a detached buffer where the addon fills nothing
  // (the fuzz's detach case, VUGRAD_FUZZ_SEED=73542206 with VUGRAD_NATIVE_MIN_SIZE=0).
  if (out.length > 0) out.fill(value);
}
