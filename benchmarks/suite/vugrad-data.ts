/** The vugrad runners' synthetic MNIST-shaped data (benchmarks/suite/vugrad.ts, benchmarks/rss-probe.ts). */
import { NDArray } from '../../lib/core/ndarray';
import { labels, synthetic } from './common';

/** `n` samples of 784 values in batches of `batch`, pre-sliced (views, no copies): loading stays out of timing. */
export function batches(n: number, batch: number): { x: NDArray; y: Int32Array }[] {
  const xs = synthetic(n * 784);
  const ys = labels(n);
  const out: { x: NDArray; y: Int32Array }[] = [];
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    out.push({ x: new NDArray(xs.subarray(i * 784, (i + b) * 784), [b, 784]), y: ys.subarray(i, i + b) });
  }
  return out;
}
