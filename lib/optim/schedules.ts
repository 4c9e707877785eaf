/**
 * Per-step learning-rate schedules (the rate changes after every batch, not every epoch), as functions
 * `step -> lr` over a run of `totalSteps` optimizer steps. `fit`'s `beforeStep` sets the optimizer's rate from
 * one before each step; the recipe wires them to `--schedule`, `--warmup`.
 *
 * - `onecycle`: PyTorch's `OneCycleLR` with its defaults (cosine annealing, `div_factor` 25,
 *   `final_div_factor` 1e4, two phases): from `maxLr / 25` up to `maxLr` over the first `pctStart` of the
 *   steps (default 0.3), then down to `maxLr / 25 / 1e4`. Checked against torch in the CNN fixture.
 * - `cosine`: linear warm-up from `maxLr / warmupSteps` to `maxLr` over `warmupSteps`, then cosine annealing
 *   to 0 at the last step (`CosineAnnealingLR` after `LinearLR` warm-up, per step).
 * - `constant`: `maxLr` throughout (with optional linear warm-up).
 *
 * @example
 * const lrAt = stepSchedule('onecycle', { maxLr: 0.1, totalSteps: 390 * 30 });
 * fit(model, data, { ..., beforeStep: (step) => (optimizer.lr = lrAt(step)) });
 */

export const SCHEDULES = ['constant', 'onecycle', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface StepScheduleOptions {
  /** The peak learning rate. */
  maxLr: number;
  /** Optimizer steps in the whole run (epochs x batches per epoch). */
  totalSteps: number;
  /** Linear warm-up steps (cosine, constant); for onecycle, the rising phase (default 30% of the steps). */
  warmupSteps?: number;
  /** onecycle: initial rate = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** onecycle: final rate = initial / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
}

function cosineAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/** The schedule `name` as a function of the step (0-based); steps past the end keep the last rate. */
export function stepSchedule(name: ScheduleName, options: StepScheduleOptions): (step: number) => number {
  const { maxLr, totalSteps } = options;
  if (!(maxLr > 0) || !Number.isFinite(maxLr)) throw new RangeError(`stepSchedule: maxLr must be a positive number, got ${maxLr}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new RangeError(`stepSchedule: totalSteps must be a positive integer, got ${totalSteps}`);
  const warmup = options.warmupSteps ?? 0;
  if (!(warmup >= 0) || warmup > totalSteps) {
    throw new RangeError(`stepSchedule: warmupSteps must be in [0, ${totalSteps}] (the run's steps), got ${warmup}`);
  }
  switch (name) {
    case 'constant':
      return (step) => (warmup > 0 && step < warmup ? (maxLr * (step + 1)) / warmup : maxLr);
    case 'cosine':
      return (step) => {
        if (warmup > 0 && step < warmup) return (maxLr * (step + 1)) / warmup;
        const span = totalSteps - warmup;
        const pct = span <= 1 ? 1 : Math.min(1, (step - warmup) / (span - 1));
        return cosineAnneal(maxLr, 0, span <= 1 ? 0 : pct);
      };
    case 'onecycle': {
      const initial = maxLr / (options.divFactor ?? 25);
      const min = initial / (options.finalDivFactor ?? 1e4);
      // PyTorch: phase ends at float(pct_start * total_steps) - 1 and total_steps - 1.
      const upEnd = (options.warmupSteps ?? 0.3 * totalSteps) - 1;
      const downEnd = totalSteps - 1;
      return (s) => {
        const step = Math.min(s, downEnd);
        if (step <= upEnd) return cosineAnneal(initial, maxLr, upEnd <= 0 ? 1 : step / upEnd);
        return cosineAnneal(maxLr, min, (step - upEnd) / (downEnd - upEnd));
      };
    }
    default:
      throw new RangeError(`stepSchedule: unknown schedule '${String(name)}', expected one of ${SCHEDULES.join(', ')}`);
  }
}
