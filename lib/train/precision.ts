/**
 * Mixed precision for a training run (issue 20): `'bf16'` rounds the float32 inputs of every matmul and
 * convolution to bfloat16 and accumulates in float32 (the kernels' `setPrecision`); the weights, the optimizer's
 * state and the loss stay float32. This module holds what `fit`, the recipe, the CLI and the job spec share:
 * the allowed values, the check that bf16 can run here, and the scope that keeps a run's precision to the run.
 *
 * Like PyTorch's `torch.autocast(device_type='cpu', dtype=torch.bfloat16)`, the setting covers a region of code,
 * not the model: here the region is the run's own synchronous stretches. `fit` yields to the event loop every
 * few milliseconds, and whatever else runs on the thread meanwhile (a server's request, a second `fit`) must see
 * its own setting, so the scope puts the caller's precision back at every yield and takes the run's again after.
 *
 * @example
 * const why = bf16Unavailable();            // undefined where bf16 runs, else the reason
 * await fit(model, data, { ...options, precision: why ? 'fp32' : 'bf16' });
 */
import { bf16Support, getPrecision, setPrecision, type Precision } from '../kernels';

/** The precisions a run may ask for: `fp32` (the default) and `bf16` (mixed precision). */
export const PRECISIONS = ['fp32', 'bf16'] as const satisfies readonly Precision[];

/** A precision that cannot run here (bf16 without oneDNN or without a CPU that has bf16 instructions). */
export class PrecisionError extends Error {
  override name = 'PrecisionError';
}

/** Undefined when bf16 matmul and convolution can run in this thread, else the reason they cannot. */
export function bf16Unavailable(): string | undefined {
  const s = bf16Support();
  return s.supported ? undefined : s.reason;
}

/**
 * Checks a precision value (`what` names the setting in messages, e.g. `fit: precision`): a TypeError for a
 * value that is not one of `PRECISIONS`, a `PrecisionError` with the reason when it cannot run here.
 */
export function checkPrecision(p: unknown, what = 'precision'): Precision {
  if (!(PRECISIONS as readonly unknown[]).includes(p)) {
    throw new TypeError(`${what}: expected one of ${PRECISIONS.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(p)}`);
  }
  if (p === 'bf16') {
    const why = bf16Unavailable();
    if (why !== undefined) throw new PrecisionError(`${what} 'bf16' is not available here: ${why}. Use 'fp32' (the default)`);
  }
  return p as Precision;
}

/**
 * A run's precision, in force only while the run's code runs: `enter()` when the run (re)starts a synchronous
 * stretch, `exit()` before it awaits anything (and when it ends or throws). `exit()` puts back whatever the
 * thread had at the last `enter()`, so a caller that changes its own setting between two stretches keeps it.
 */
export class PrecisionScope {
  private outer: Precision | undefined;

  constructor(readonly precision: Precision) {}

  /** Sets the run's precision, remembering the thread's. Does nothing when already inside. */
  enter(): void {
    if (this.outer !== undefined) return;
    const outer = getPrecision();
    if (outer !== this.precision) setPrecision(this.precision);
    this.outer = outer;
  }

  /** Puts the thread's precision back. Does nothing when not inside. */
  exit(): void {
    const outer = this.outer;
    if (outer === undefined) return;
    this.outer = undefined;
    if (getPrecision() !== outer) setPrecision(outer);
  }

  /** `await`s `promise` outside the scope: the caller's precision holds while it is pending. */
  async outside<T>(promise: () => Promise<T>): Promise<T> {
    this.exit();
    let result: T;
    try {
      result = await promise();
    } catch (e) {
      // The run is failing anyway: its error matters more than one from re-entering (a backend switched meanwhile).
      try {
        this.enter();
      } catch {
        // left outside: the caller's exit() is then a no-op
      }
      throw e;
    }
    this.enter();
    return result;
  }
}

/** `await`s `promise` outside `scope` (see `PrecisionScope.outside`), or simply awaits it when there is none. */
export function awaitOutside<T>(scope: PrecisionScope | null, promise: () => Promise<T>): Promise<T> {
  return scope ? scope.outside(promise) : promise();
}
