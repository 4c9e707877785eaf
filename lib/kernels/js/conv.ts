/** im2col / col2im for 2-D convolution, and max-pooling. */
import type { FloatArray } from '../../core/ndarray';

export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
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
  const oh = convOutSize(h, kh, stride, pad);
  const ow = convOutSize(w, kw, stride, pad);
  const plane = oh * ow;
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    const xc = ch * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const ob = row * plane;
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
  const oh = convOutSize(h, kh, stride, pad);
  const ow = convOutSize(w, kw, stride, pad);
  const plane = oh * ow;
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    const xc = ch * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const cb = row * plane;
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
  for (let p = 0; p < planes; p++) {
    const gb = p * plane;
    const xb = p * h * w;
    for (let o = 0; o < plane; o++) out[xb + argmax[gb + o]] += g[gb + o];
  }
}
