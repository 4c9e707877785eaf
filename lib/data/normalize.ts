/**
 * Per-channel standardisation, `(x - mean[c]) / std[c]`, as torchvision's `transforms.Normalize`.
 *
 * The channel is axis 1 of a batch: the colour plane of `[N, C, H, W]` images, the feature of `[N, F]`
 * tables. One number for `mean`/`std` applies to every channel. Compute the statistics on the training split
 * only and apply them to every split (statistics from test data leak it into training).
 *
 * @example
 * const stats = channelStats(train.x);           // CIFAR-10: mean about [0.49, 0.48, 0.45]
 * const xn = normalizeChannels(val.x, stats);   // a new array; val.x is untouched
 */
import { NDArray, allocate } from '../core/ndarray';

export interface ChannelStats {
  mean: number | readonly number[];
  std: number | readonly number[];
}

/**
 * Mean and (population) standard deviation of each channel (axis 1) over all samples and positions.
 * A constant channel gets std 1, not 0, so that normalising with these statistics never divides by zero
 * (scikit-learn's StandardScaler does the same).
 */
export function channelStats(x: NDArray): { mean: number[]; std: number[] } {
  const [n, c, inner] = layout(x);
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const d = x.data;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * inner;
      let s = 0;
      let s2 = 0;
      for (let k = 0; k < inner; k++) {
        const v = d[base + k];
        s += v;
        s2 += v * v;
      }
      sum[ch] += s;
      sumSq[ch] += s2;
    }
  }
  const count = n * inner;
  const mean = Array.from(sum, (s) => s / Math.max(count, 1));
  const std = Array.from(sumSq, (s2, ch) => Math.sqrt(Math.max(s2 / Math.max(count, 1) - mean[ch] ** 2, 0)) || 1);
  return { mean, std };
}

/** Returns `(x - mean[c]) / std[c]` per channel (axis 1) as a new array; `inPlace` overwrites `x` instead. */
export function normalizeChannels(x: NDArray, stats: ChannelStats, inPlace = false): NDArray {
  const [n, c, inner] = layout(x);
  const mean = perChannel(stats.mean, c, 'mean');
  const std = perChannel(stats.std, c, 'std');
  const src = x.data;
  const out = inPlace ? src : allocate(x.dtype, src.length);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const m = mean[ch];
      const s = 1 / std[ch];
      const base = (i * c + ch) * inner;
      for (let k = base; k < base + inner; k++) out[k] = (src[k] - m) * s;
    }
  }
  return inPlace ? x : new NDArray(out, x.shape);
}

function layout(x: NDArray): [number, number, number] {
  if (x.ndim < 2) throw new RangeError(`normalize: expected [N, C, ...], got shape [${x.shape.join(',')}]`);
  const n = x.shape[0];
  const c = x.shape[1];
  return [n, c, n * c === 0 ? 0 : x.size / (n * c)];
}

function perChannel(v: number | readonly number[], c: number, what: string): readonly number[] {
  const arr = typeof v === 'number' ? new Array<number>(c).fill(v) : v;
  if (arr.length !== c) throw new RangeError(`normalize: ${what} has ${arr.length} values for ${c} channels`);
  if (what === 'std' && arr.some((s) => !(s > 0 && s < Infinity))) {
    throw new RangeError(`normalize: std must be positive and finite, got [${arr.join(', ')}]`);
  }
  // NOTE: a NaN or infinite mean would turn every value of the channel into NaN, silently.
  if (what === 'mean' && arr.some((m) => !Number.isFinite(m))) throw new RangeError(`normalize: mean must be finite, got [${arr.join(', ')}]`);
  return arr;
}
