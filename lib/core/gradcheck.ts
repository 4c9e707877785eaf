/**
 * Gradient checking: compares the analytic gradients of a function (from backward) with central finite
 * differences, in float64, as PyTorch's `torch.autograd.gradcheck` does.
 *
 * The function's output may have any shape: it is reduced to the scalar `sum(output * U)` with a fixed random
 * U, so one backward checks a random vector-Jacobian product of every output at once.
 *
 * @example
 * const r = gradcheck((a, b) => a.div(b), [NDArray.from([[1, 2]], 'float64'), NDArray.from([[3, 4]], 'float64')]);
 * r.ok;            // true
 * r.maxRelError;   // about 1e-10
 */
import { NDArray } from './ndarray';
import { Random } from './random';
import { TensorNode } from './tensor-node';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Largest relative error accepted (default 1e-5). */
  tolerance?: number;
  /** Seed of the random projection U (default 0). */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /**
   * The worst relative error `|analytic - numeric| / (max(|analytic|, |numeric|) + 1e-6)` over all entries;
   * Infinity when any analytic or numeric gradient is NaN or infinite (then `ok` is false).
   */
  maxRelError: number;
  /** Where the worst error is: which input, which flat index, and both values. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/**
 * `|analytic - numeric| / (max(|analytic|, |numeric|) + 1e-6)`, or Infinity when either is NaN or infinite:
 * a gradient that is not a finite number cannot be checked, so it fails (never NaN, which every comparison
 * would let through).
 */
function relativeError(analytic: number, numeric: number): number {
  if (!Number.isFinite(analytic) || !Number.isFinite(numeric)) return Infinity;
  return Math.abs(analytic - numeric) / (Math.max(Math.abs(analytic), Math.abs(numeric)) + 1e-6);
}

export function gradcheck(
  fn: (...inputs: TensorNode[]) => TensorNode,
  inputs: NDArray[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const tolerance = options.tolerance ?? 1e-5;
  for (const [i, x] of inputs.entries()) {
    if (x.dtype !== 'float64') {
      throw new TypeError(`gradcheck: input ${i} is ${x.dtype}; finite differences need float64 (use .astype('float64'))`);
    }
  }
  const values = inputs.map((x) => x.copy());
  const rng = new Random(options.seed ?? 0);

  const nodes = values.map((v) => new TensorNode(v));
  const out = fn(...nodes);
  const u = NDArray.zeros(out.value.shape, 'float64');
  for (let i = 0; i < u.size; i++) u.data[i] = rng.uniform(-1, 1);
  out.backward(u);
  const analytic = nodes.map((n) => n.grad.data);

  const project = (): number => {
    const y = fn(...values.map((v) => new TensorNode(v, { requiresGrad: false }))).value;
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * u.data[i];
    return s;
  };

  let maxRelError = 0;
  let worst: GradcheckResult['worst'] = null;
  for (let k = 0; k < values.length; k++) {
    const data = values[k].data;
    for (let i = 0; i < data.length; i++) {
      const saved = data[i];
      data[i] = saved + eps;
      const plus = project();
      data[i] = saved - eps;
      const minus = project();
      data[i] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[k][i];
      const err = relativeError(a, numeric);
      if (worst === null || err > maxRelError) {
        maxRelError = err;
        worst = { input: k, index: i, analytic: a, numeric };
      }
    }
  }
  return { ok: maxRelError <= tolerance, maxRelError, worst };
}
