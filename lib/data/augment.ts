/**
 * Image augmentation for training batches, seeded: the CIFAR recipe of He et al. 2015 (torchvision's
 * `RandomCrop(32, padding=4)` then `RandomHorizontalFlip()`): each image is padded by `padding` pixels on
 * every side, a window of the original size is cut at a random offset, and the result is mirrored left-right
 * with probability 1/2. One pass over the batch: every output pixel is read from its source pixel (or is the
 * fill value), nothing padded is materialised.
 *
 * Padding is zeros *before* normalisation in torchvision's pipeline; a loader that normalised its images
 * already passes `fill` = `-mean / std` per channel, which is what a black pixel becomes (see
 * `paddingFill`).
 *
 * @example
 * const augment = randomCropFlip({ padding: 4, random: new Random(0) });
 * const loader = new DataLoader(train, { batchSize: 128, shuffle: true, augment });
 */
import { NDArray, allocateUninitialized } from '../core/ndarray';
import { Random } from '../core/random';
import type { ChannelStats } from './normalize';

/** Rewrites a batch of images `[N, C, H, W]` (a new array, or the same one). */
export type Augment = (x: NDArray) => NDArray;

export interface RandomCropFlipOptions {
  /** Pixels of padding on every side before cropping (default 4); 0: no crop. */
  padding?: number;
  /** Mirror left-right with probability 1/2 (default true). */
  flip?: boolean;
  /** The value of padded pixels, one per channel or one for all (default 0). */
  fill?: number | readonly number[];
  /** The generator (default: a new one seeded with `seed`). */
  random?: Random;
  /** Seeds the generator when `random` is not given (default 0). */
  seed?: number;
}

/** What a black (0) pixel becomes after standardising with `stats`: `-mean / std` per channel. */
export function paddingFill(stats: ChannelStats, channels: number): number[] {
  const at = (v: number | readonly number[], c: number): number => (typeof v === 'number' ? v : v[c]);
  return Array.from({ length: channels }, (_, c) => -at(stats.mean, c) / at(stats.std, c));
}

/**
 * Random crop with padding and random horizontal flip of every image of a batch `[N, C, H, W]` (see the file
 * comment). Returns a new batch; the input is not changed. Draws 3 numbers per image from the generator, in
 * image order: reproducible for a seed.
 */
export function randomCropFlip(options: RandomCropFlipOptions = {}): Augment {
  const pad = options.padding ?? 4;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`randomCropFlip: padding must be a non-negative integer, got ${pad}`);
  const flip = options.flip ?? true;
  const random = options.random ?? new Random(options.seed ?? 0);
  const fillOption = options.fill ?? 0;
  return (x: NDArray): NDArray => {
    if (x.ndim !== 4) throw new RangeError(`randomCropFlip: expected images [N, C, H, W], got shape [${x.shape.join(', ')}]`);
    const [n, c, h, w] = x.shape;
    const fill = typeof fillOption === 'number' ? new Array<number>(c).fill(fillOption) : [...fillOption];
    if (fill.length !== c) throw new RangeError(`randomCropFlip: ${fill.length} fill values for ${c} channels`);
    const src = x.data;
    const out = allocateUninitialized(x.dtype, x.size, x.shape, 'augmented batch');
    for (let i = 0; i < n; i++) {
      // offsets of the window in the padded image, 0..2 pad, then the flip
      const oy = pad > 0 ? random.int(2 * pad + 1) - pad : 0;
      const ox = pad > 0 ? random.int(2 * pad + 1) - pad : 0;
      const mirror = flip && random.uniform() < 0.5;
      for (let ch = 0; ch < c; ch++) {
        const plane = (i * c + ch) * h * w;
        const f = fill[ch];
        for (let y = 0; y < h; y++) {
          const sy = y + oy;
          const row = plane + y * w;
          if (sy < 0 || sy >= h) {
            out.fill(f, row, row + w);
            continue;
          }
          const srow = plane + sy * w;
          if (!mirror) {
            // out[y, x] = src[sy, x + ox]: a shifted copy with fill at one end
            const x0 = Math.max(0, -ox);
            const x1 = Math.min(w, w - ox);
            if (x0 > 0) out.fill(f, row, row + x0);
            out.set(src.subarray(srow + x0 + ox, srow + x1 + ox), row + x0);
            if (x1 < w) out.fill(f, row + x1, row + w);
          } else {
            // flip after the crop: out[y, x] = crop[y, w - 1 - x] = src[sy, w - 1 - x + ox]
            for (let xx = 0; xx < w; xx++) {
              const sx = w - 1 - xx + ox;
              out[row + xx] = sx >= 0 && sx < w ? src[srow + sx] : f;
            }
          }
        }
      }
    }
    return new NDArray(out, x.shape);
  };
}
