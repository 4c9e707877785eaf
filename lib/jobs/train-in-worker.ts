/**
 * One training run in a worker thread, as a promise: the simplest way to train from a server without
 * blocking it. For several jobs at once with a limit, use `JobQueue`.
 *
 * @example
 * const { history, model, stateDict } = await trainInWorker(
 *   { dataset: 'mnist', hidden: [128], epochs: 2, limit: 10000 },
 *   { signal: AbortSignal.timeout(60_000), onProgress: (p) => console.log(p.epoch, p.batch, p.loss) },
 * );
 * fs.writeFileSync('mnist.safetensors', model);           // or: net.loadStateDict(stateDict)
 */
import type { RunConfig } from '../train/config';
import { parseSafetensors } from '../io';
import type { NDArray } from '../core/ndarray';
import type { EpochMetrics } from '../train/fit';
import { TrainingError } from './errors';
import { TrainingJob, type JobStartOptions } from './job';
import type { BatchProgress, JobInfo } from './protocol';
import { resolveTrainingSpec, type TrainingSpec } from './spec';

export interface TrainInWorkerOptions extends JobStartOptions {
  /**
   * Aborting stops the worker at its next batch; the promise rejects with the signal's reason (an AbortError)
   * once the worker thread has exited.
   */
  signal?: AbortSignal;
  /** Throttled batch progress (see `progressEveryMs`). */
  onProgress?: (p: BatchProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
}

export interface TrainingResult {
  config: RunConfig;
  info: JobInfo;
  history: EpochMetrics[];
  /** The trained parameters as safetensors bytes. */
  model: Buffer;
  /** The same parameters by name, for `loadStateDict` on a model of the same architecture. */
  stateDict: Record<string, NDArray>;
}

/**
 * Trains `spec` (a `TrainingSpec`, checked with `resolveTrainingSpec`, or a resolved `RunConfig`) in a new
 * worker thread. Rejects with a `SpecError` for a bad spec, a `TrainingError` when training fails (data that
 * will not load, a NaN loss), or the abort reason when cancelled.
 */
export async function trainInWorker(spec: TrainingSpec | RunConfig, options: TrainInWorkerOptions = {}): Promise<TrainingResult> {
  const config = resolveTrainingSpec(spec);
  const { signal } = options;
  signal?.throwIfAborted();
  const job = new TrainingJob(config);
  if (options.onProgress) job.on('batch', options.onProgress);
  if (options.onEpoch) job.on('epoch', options.onEpoch);
  const onAbort = () => job.cancel('cancelled');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    job.start(options);
    await job.finished;
    // NOTE: settled first, thread gone a moment later: a caller that exits the process right after this promise
    // settles must not cut off a thread that is still in a native kernel call.
    await job.workerExited();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (job.status === 'cancelled') {
    throw signal?.reason ?? new DOMException('training was cancelled', 'AbortError');
  }
  if (job.status !== 'succeeded' || !job.model || !job.info) throw new TrainingError(job.error ?? 'training failed');
  return {
    config,
    info: job.info,
    history: job.history,
    model: job.model,
    stateDict: parseSafetensors(job.model).tensors,
  };
}
