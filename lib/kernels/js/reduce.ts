/** Reductions, broadcasts, gathers and scatters along an axis, and the row-wise softmax family. */
import type { FloatArray } from '../dtype';
import { indexAt } from './indices';

export function sumAll(x: FloatArray): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

export function dot(a: FloatArray, b: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function sumAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  out.fill(0, 0, outer * inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let j = 0; j < n; j++) {
      const xb = (o * n + j) * inner;
      for (let i = 0; i < inner; i++) out[ob + i] += x[xb + i];
    }
  }
}

export function maxAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray, argmax: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    const xb0 = o * n * inner;
    for (let i = 0; i < inner; i++) {
      out[ob + i] = x[xb0 + i];
      argmax[ob + i] = 0;
    }
    for (let j = 1; j < n; j++) {
      const xb = xb0 + j * inner;
      for (let i = 0; i < inner; i++) {
        const v = x[xb + i];
        if (v > out[ob + i]) {
          out[ob + i] = v;
          argmax[ob + i] = j;
        }
      }
    }
  }
}

export function broadcastAxis(x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    const src = x.subarray(o * inner, (o + 1) * inner);
    for (let j = 0; j < n; j++) out.set(src, (o * n + j) * inner);
  }
}

export function scatterAxis(g: FloatArray, idx: Int32Array, outer: number, n: number, inner: number, out: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const k = o * inner + i;
      out[(o * n + indexAt('scatterAxis', 'idx', idx, k, n)) * inner + i] += g[k];
    }
  }
}

export function gather(x: FloatArray, rows: number, cols: number, idx: Int32Array, out: FloatArray): void {
  for (let r = 0; r < rows; r++) out[r] = x[r * cols + indexAt('gather', 'idx', idx, r, cols)];
}

export function transpose(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c];
    }
  }
}

function rowMax(x: FloatArray, base: number, cols: number): number {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) if (x[base + c] > m) m = x[base + c];
  return m;
}

export function softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(x[base + c] - m);
      out[base + c] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) out[base + c] *= inv;
  }
}

export function softmaxBackward(y: FloatArray, g: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += g[base + c] * y[base + c];
    for (let c = 0; c < cols; c++) out[base + c] = y[base + c] * (g[base + c] - s);
  }
}

export function logSoftmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[base + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) out[base + c] = x[base + c] - lse;
  }
}

export function logSoftmaxBackward(y: FloatArray, g: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += g[base + c];
    for (let c = 0; c < cols; c++) out[base + c] = g[base + c] - Math.exp(y[base + c]) * s;
  }
}

export function crossEntropy(
  x: FloatArray,
  rows: number,
  cols: number,
  targets: Int32Array,
  losses: FloatArray,
  probs: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(x[base + c] - m);
      probs[base + c] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) probs[base + c] *= inv;
    losses[r] = m + Math.log(s) - x[base + indexAt('crossEntropy', 'targets', targets, r, cols)];
  }
}

export function crossEntropyBackward(
  probs: FloatArray,
  targets: Int32Array,
  scale: FloatArray,
  rows: number,
  cols: number,
  out: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = scale[r];
    const t = indexAt('crossEntropyBackward', 'targets', targets, r, cols);
    for (let c = 0; c < cols; c++) out[base + c] = s * probs[base + c];
    out[base + t] -= s;
  }
}
