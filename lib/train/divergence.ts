/**
 * Telling a diverged run from a slow one, so that training stops with a clear message instead of ending with
 * a loss of 1e22, chance accuracy and success (Adam at `-l 1e6` used to).
 *
 * The rule (`fit` applies it; `FitOptions.divergence` tunes or disables it):
 * 1. a batch whose loss is NaN or infinite stops training at once;
 * 2. an epoch whose mean training loss per sample exceeds `factor` (default 1000) times the reference loss
 *    stops training at the end of that epoch, before it is reported or checkpointed. The reference is the
 *    loss of the run's first batch, measured before any update (the loss at initialisation: ln 10 = 2.3 for
 *    cross-entropy over 10 classes), and at least 1, so that a tiny starting loss does not make the rule
 *    trigger-happy.
 *
 * Why these numbers: a healthy run's epoch loss stays below its starting loss (it may spike for a few
 * batches, hence a whole epoch's mean). An epoch loss 1000x the start is far outside anything that
 * recovers; the runs that motivated the rule were at 1e10 to 1e22 x.
 *
 * @example
 * try { await fit(model, data, options); } catch (e) { if (e instanceof DivergenceError) console.error(e.message); }
 */

/** The default `factor` of the divergence rule. */
export const DIVERGENCE_FACTOR = 1000;

/** Training stopped because the loss diverged; `loss` is the offending value, `reference` the loss at the start. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    readonly epoch: number,
    readonly loss: number,
    readonly reference: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The threshold an epoch's mean loss must not exceed: `factor x max(reference, 1)`. */
export function divergenceThreshold(reference: number, factor = DIVERGENCE_FACTOR): number {
  return factor * Math.max(reference, 1);
}

const fmt = (x: number): string => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4));

/** The error for a non-finite batch loss. */
export function nonFiniteLoss(epoch: number, batch: number, loss: number, reference: number | undefined): DivergenceError {
  return new DivergenceError(epoch, loss, reference, `training diverged: the loss became ${loss} at epoch ${epoch}, batch ${batch}`);
}

/** The error for an epoch loss over the threshold, or null when it is within it. */
export function checkEpochLoss(epoch: number, loss: number, reference: number, factor = DIVERGENCE_FACTOR): DivergenceError | null {
  const limit = divergenceThreshold(reference, factor);
  if (!(loss > limit)) return null;
  return new DivergenceError(
    epoch,
    loss,
    reference,
    `training diverged: epoch ${epoch}'s training loss ${fmt(loss)} is over ${factor}x the loss at the start (${fmt(reference)})`,
  );
}
