/**
 * Errors of the job API. Each has a stable `code`, so that a server can map it to a status without parsing
 * messages (the pattern of Node's own `err.code`).
 */

/** A training spec that cannot run: an unknown value, a wrong type or an incompatible combination. */
export class SpecError extends Error {
  override name = 'SpecError';
  readonly code = 'INVALID_SPEC';
  /**
   * @param field the spec field at fault (`'lr'`, `'hidden'`...), for a 400 that names it
   */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `JobQueue.submit` when `maxQueued` jobs already wait: try again later (a server answers 429 or 503).
 *
 * @example
 * try { queue.submit(spec); } catch (e) { if (e instanceof QueueFullError) res.statusCode = 429; }
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
  constructor(
    readonly running: number,
    readonly queued: number,
    readonly maxQueued: number,
  ) {
    super(`job queue is full: ${running} running and ${queued} waiting (maxQueued ${maxQueued}); try again later`);
  }
}

/** A job that failed: its data would not load, its loss became NaN, or its worker died. */
export class TrainingError extends Error {
  override name = 'TrainingError';
  constructor(
    message: string,
    readonly code: 'TRAINING_FAILED' | 'WORKER_CRASHED' = 'TRAINING_FAILED',
  ) {
    super(message);
  }
}

/**
 * Inputs for a model that cannot be used: a row of the wrong length, or a value that is not finite once
 * converted to the model's float32 (1e308 overflows to Infinity). `field` names the place: `inputs[3][1]`.
 */
export class InputError extends RangeError {
  override name = 'InputError';
  readonly code = 'INVALID_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
