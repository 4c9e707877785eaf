/**
 * Naive reference implementations for the kernel conformance suite, written for clarity (plain loops in
 * float64 over index formulas), independent of both the JS table and the addon. Also a seeded generator.
 */
export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** mulberry32: a tiny seeded generator, so a failing shape can be reproduced. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randArray(C: FloatCtor, n: number, r: () => number, lo = -2, hi = 2): Float32Array | Float64Array {
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function refGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: ArrayLike<number>, b: ArrayLike<number>, beta: number, c: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      out.push(alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]));
    }
  }
  return out;
}

export const refUnary: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  tanh: Math.tanh,
  sqrt: Math.sqrt,
  abs: Math.abs,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
};

/** Derivative f'(x), used for unaryBackward: out = g * f'(x). */
export const refUnaryDeriv: Record<string, (x: number) => number> = {
  neg: () => -1,
  exp: Math.exp,
  log: (x) => 1 / x,
  sigmoid: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 - s);
  },
  relu: (x) => (x > 0 ? 1 : 0),
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  sqrt: (x) => 0.5 / Math.sqrt(x),
  abs: (x) => Math.sign(x),
  square: (x) => 2 * x,
  reciprocal: (x) => -1 / (x * x),
};

export const refBinary: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
};

export function refLogSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
}

export function rowsOf(x: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) out.push(Array.from({ length: cols }, (_, c) => x[r * cols + c]));
  return out;
}

/** im2col by definition: out[(ch*kh + ky)*kw + kx, oy*ow + ox] = x[ch, oy*s - p + ky, ox*s - p + kx] or 0. */
export function refIm2col(x: ArrayLike<number>, c: number, h: number, w: number, kh: number, kw: number, s: number, p: number): number[] {
  const oh = Math.floor((h + 2 * p - kh) / s) + 1;
  const ow = Math.floor((w + 2 * p - kw) / s) + 1;
  const out = new Array<number>(c * kh * kw * oh * ow).fill(0);
  for (let ch = 0; ch < c; ch++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            const iy = oy * s - p + ky;
            const ix = ox * s - p + kx;
            const row = (ch * kh + ky) * kw + kx;
            out[row * oh * ow + oy * ow + ox] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(ch * h + iy) * w + ix] : 0;
          }
  return out;
}

/** col2im as the adjoint of im2col: out[x position] += cols[every column entry that copied it]. */
export function refCol2im(cols: ArrayLike<number>, c: number, h: number, w: number, kh: number, kw: number, s: number, p: number, init: ArrayLike<number>): number[] {
  const out = Array.from(init);
  const oh = Math.floor((h + 2 * p - kh) / s) + 1;
  const ow = Math.floor((w + 2 * p - kw) / s) + 1;
  for (let ch = 0; ch < c; ch++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            const iy = oy * s - p + ky;
            const ix = ox * s - p + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
              out[(ch * h + iy) * w + ix] += cols[((ch * kh + ky) * kw + kx) * oh * ow + oy * ow + ox];
            }
          }
  return out;
}

/** max pooling by definition; argmax is the first (row-major) position attaining the max. */
export function refMaxPool(x: ArrayLike<number>, planes: number, h: number, w: number, k: number, s: number): { out: number[]; arg: number[] } {
  const oh = Math.floor((h - k) / s) + 1;
  const ow = Math.floor((w - k) / s) + 1;
  const out: number[] = [];
  const arg: number[] = [];
  for (let p = 0; p < planes; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let bi = -1;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const idx = (oy * s + ky) * w + ox * s + kx;
            if (x[p * h * w + idx] > best) {
              best = x[p * h * w + idx];
              bi = idx;
            }
          }
        out.push(best);
        arg.push(bi);
      }
  return { out, arg };
}
