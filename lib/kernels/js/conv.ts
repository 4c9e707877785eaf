/** im2col / col2im for 2-D convolution, and max-pooling. */
import type { FloatArray } from '../dtype';
import { convOutputSize } from '../names';
import { gemm } from './gemm';
import { indexAt } from './indices';

/** Output positions L of a kh x kw window over an h x w image: the columns of its im2col matrix. */
function positions(h: number, w: number, kh: number, kw: number, stride: number, pad: number): number {
  return convOutputSize(h, kh, stride, pad) * convOutputSize(w, kw, stride, pad);
}

export function im2col(
  x: FloatArray,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  out: FloatArray,
): void {
  im2colAt(x, 0, c, h, w, kh, kw, stride, pad, out);
}

/** im2col of the image at `x[x0...]` into `out` (`[c*kh*kw, oh*ow]`). */
function im2colAt(
  x: FloatArray,
  x0: number,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  out: FloatArray,
): void {
  const oh = convOutputSize(h, kh, stride, pad);
  const ow = convOutputSize(w, kw, stride, pad);
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    const xc = x0 + ch * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const ob = row * oh * ow;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * stride - pad + ky;
          const o = ob + oy * ow;
          if (iy < 0 || iy >= h) {
            out.fill(0, o, o + ow);
            continue;
          }
          const xr = xc + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * stride - pad + kx;
            out[o + ox] = ix >= 0 && ix < w ? x[xr + ix] : 0;
          }
        }
      }
    }
  }
}

export function col2im(
  cols: FloatArray,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  out: FloatArray,
): void {
  col2imAt(cols, c, h, w, kh, kw, stride, pad, out, 0);
}

/** col2im of `cols` (`[c*kh*kw, oh*ow]`) accumulated into the image at `out[x0...]`. */
function col2imAt(
  cols: FloatArray,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
  out: FloatArray,
  x0: number,
): void {
  const oh = convOutputSize(h, kh, stride, pad);
  const ow = convOutputSize(w, kw, stride, pad);
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    const xc = x0 + ch * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const cb = row * oh * ow;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * stride - pad + ky;
          if (iy < 0 || iy >= h) continue;
          const xr = xc + iy * w;
          const o = cb + oy * ow;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * stride - pad + kx;
            if (ix >= 0 && ix < w) out[xr + ix] += cols[o + ox];
          }
        }
      }
    }
  }
}

export function maxPool2d(
  x: FloatArray,
  planes: number,
  h: number,
  w: number,
  k: number,
  stride: number,
  out: FloatArray,
  argmax: Int32Array,
): void {
  const oh = Math.floor((h - k) / stride) + 1;
  const ow = Math.floor((w - k) / stride) + 1;
  for (let p = 0; p < planes; p++) {
    const xb = p * h * w;
    const ob = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let bestIdx = (oy * stride) * w + ox * stride;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride + ky;
          for (let kx = 0; kx < k; kx++) {
            const idx = iy * w + ox * stride + kx;
            const v = x[xb + idx];
            if (v > best) {
              best = v;
              bestIdx = idx;
            }
          }
        }
        out[ob + oy * ow + ox] = x[xb + bestIdx];
        argmax[ob + oy * ow + ox] = bestIdx;
      }
    }
  }
}

export function maxPool2dBackward(
  g: FloatArray,
  argmax: Int32Array,
  planes: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  out: FloatArray,
): void {
  const plane = oh * ow;
  const hw = h * w;
  for (let p = 0; p < planes; p++) {
    const gb = p * plane;
    const xb = p * hw;
    for (let o = 0; o < plane; o++) out[xb + indexAt('maxPool2dBackward', 'argmax', argmax, gb + o, hw)] += g[gb + o];
  }
}

// Scratch columns for the conv2d kernels, reused across calls (kernels are synchronous and never re-entered;
// each worker thread has its own copy of this module). Grows to the largest image seen.
const scratchCols: { f32: Float32Array; f64: Float64Array } = { f32: new Float32Array(0), f64: new Float64Array(0) };

function colsScratch(like: FloatArray, size: number): FloatArray {
  if (like instanceof Float64Array) {
    if (scratchCols.f64.length < size) scratchCols.f64 = new Float64Array(size);
    return scratchCols.f64.subarray(0, size);
  }
  if (scratchCols.f32.length < size) scratchCols.f32 = new Float32Array(size);
  return scratchCols.f32.subarray(0, size);
}

/**
 * Convolution, image by image: `out_i [o, L] = weight [o, K] @ im2col(x_i) [K, L] + bias`, K = c kh kw,
 * L = oh ow (the course's im2col formulation).
 */
export function conv2d(
  x: FloatArray, weight: FloatArray, bias: FloatArray | null, n: number, c: number, h: number, w: number, o: number,
  kh: number, kw: number, stride: number, pad: number, out: FloatArray,
): void {
  const l = positions(h, w, kh, kw, stride, pad);
  const k = c * kh * kw;
  const image = c * h * w;
  const cols = colsScratch(x, k * l);
  for (let i = 0; i < n; i++) {
    im2colAt(x, i * image, c, h, w, kh, kw, stride, pad, cols);
    const y = out.subarray(i * o * l, (i + 1) * o * l);
    if (bias !== null) for (let p = 0; p < o; p++) y.fill(bias[p], p * l, (p + 1) * l);
    gemm(false, false, o, l, k, 1, weight, cols, bias !== null ? 1 : 0, y);
  }
}

/** Weight gradient, image by image: `gw += g_i [o, L] @ im2col(x_i)^T [L, K]`. */
export function conv2dBackwardWeight(
  x: FloatArray, g: FloatArray, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number,
  stride: number, pad: number, gw: FloatArray,
): void {
  const l = positions(h, w, kh, kw, stride, pad);
  const k = c * kh * kw;
  const image = c * h * w;
  const cols = colsScratch(x, k * l);
  if (n === 0) gw.fill(0);
  for (let i = 0; i < n; i++) {
    im2colAt(x, i * image, c, h, w, kh, kw, stride, pad, cols);
    gemm(false, true, o, k, l, 1, g.subarray(i * o * l, (i + 1) * o * l), cols, i === 0 ? 0 : 1, gw);
  }
}

/** Input gradient, image by image: `gx_i = col2im(weight^T [K, o] @ g_i [o, L])`. */
export function conv2dBackwardInput(
  g: FloatArray, weight: FloatArray, n: number, c: number, h: number, w: number, o: number, kh: number, kw: number,
  stride: number, pad: number, gx: FloatArray,
): void {
  const l = positions(h, w, kh, kw, stride, pad);
  const k = c * kh * kw;
  const image = c * h * w;
  const gcols = colsScratch(g, k * l);
  gx.fill(0);
  for (let i = 0; i < n; i++) {
    gemm(true, false, k, l, o, 1, weight, g.subarray(i * o * l, (i + 1) * o * l), 0, gcols);
    col2imAt(gcols, c, h, w, kh, kw, stride, pad, gx, i * image);
  }
}
