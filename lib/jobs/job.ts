/**
 * A training job that runs in a `worker_thread`, so that the event loop of the process that started it stays
 * free (a server keeps answering while it trains). The worker reports throttled batch progress and each
 * epoch's metrics; at the end the trained parameters come back as transferred ArrayBuffers, kept as
 * safetensors bytes (ready to download, or to load with `parseSafetensors` + `loadStateDict`).
 *
 * Events: `start` (JobInfo), `batch` (BatchProgress, throttled), `epoch` (EpochMetrics), `done` (the job, on
 * success), `error` (TrainingError; only emitted when someone listens, so that an unobserved failure never
 * throws), `settled` (the job, after any end: succeeded, failed or cancelled) and `interrupted` (the process
 * is stopping; the job is not over and resumes from its checkpoint at the next start).
 *
 * @example
 * const job = new TrainingJob(resolveTrainingSpec({ dataset: 'synth', epochs: 2 }));
 * job.on('epoch', (m) => console.log(m.epoch, m.trainLoss));
 * job.start();
 * await job.finished;               // resolves whatever the outcome; see job.status and job.error
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { RunConfig } from '../train/config';
import { NDArray } from '../core/ndarray';
import { serializeSafetensors } from '../io';
import type { EpochMetrics } from '../train/fit';
import { TrainingError } from './errors';
import type { BatchProgress, JobInfo, ParentMessage, WorkerInput, WorkerMessage } from './protocol';
import type { JobRecord, JobStatus } from './store';
import { trainingWorkerFile } from './worker-file';

export type { JobStatus } from './store';

export interface JobStartOptions {
  /** BLAS threads in the worker (see `setNumThreads`; process-wide in OpenBLAS). Default: leave as is. */
  blasThreads?: number;
  /** At most one `batch` event per this many ms. Default 200. */
  progressEveryMs?: number;
  /** V8 heap limits for the worker (a runaway job then fails instead of exhausting the process). */
  resourceLimits?: ResourceLimits;
  /** Where the worker writes a checkpoint at every epoch end (see `WorkerInput.checkpointDir`). */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` when there is one. */
  resume?: boolean;
  /**
   * How long a worker asked to stop (cancel, interrupt) may take to stop by itself before it is terminated.
   * Default `STOP_TIMEOUT_MS` (5 s); a training worker stops at its next batch, within milliseconds.
   */
  stopTimeoutMs?: number;
}

/**
 * How long a worker asked to stop gets before `worker.terminate()`. NOTE: terminating a worker thread while it
 * is inside a native kernel call can abort the whole process (node-addon-api treats the `napi_pending_exception`
 * of a terminating environment as fatal: nodejs/node-addon-api#902), so stopping is cooperative: the worker is
 * posted `{type: 'cancel'}`, checks its AbortSignal between batches and exits by itself; `terminate()` is only
 * the fallback for a worker that does not answer (one stuck in a long synchronous step).
 */
export const STOP_TIMEOUT_MS = 5000;

/** Options of a new job. */
export interface TrainingJobOptions {
  /** Who submitted it (a server's token name). */
  owner?: string;
  /**
   * Stores the trained model before the job is reported as succeeded (a `JobQueue` passes its store's).
   * Without it the job keeps the model bytes in `model`.
   */
  saveModel?: (bytes: Buffer) => Promise<void>;
  /**
   * Stores the job's record after an epoch, before the `epoch` event is emitted (a `JobQueue` passes one), so
   * that no client hears of an epoch that a crash could still lose.
   */
  saveEpoch?: (job: TrainingJob) => Promise<void>;
}

/** The JSON view of a job (what a server lists). */
export interface JobSummary {
  id: string;
  owner?: string;
  status: JobStatus;
  config: RunConfig;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  info?: JobInfo;
  progress?: BatchProgress;
  history: EpochMetrics[];
  error?: string;
  /** True while the trained model is kept (a queue keeps only the last `keepModels` finished jobs' models). */
  hasModel: boolean;
  /** How many times the job was resumed from a checkpoint after an interruption. */
  resumed?: number;
  /** What the store found wrong with the job at startup (a missing model file). */
  damaged?: string;
}

export interface TrainingJobEvents {
  start: [JobInfo];
  batch: [BatchProgress];
  epoch: [EpochMetrics];
  done: [TrainingJob];
  error: [TrainingError];
  settled: [TrainingJob];
  interrupted: [TrainingJob];
}

export class TrainingJob extends EventEmitter<TrainingJobEvents> {
  readonly id: string;
  readonly config: RunConfig;
  /** Who submitted it, when the queue records owners. */
  readonly owner?: string;
  status: JobStatus = 'queued';
  createdAt = new Date();
  startedAt?: Date;
  finishedAt?: Date;
  /** Data shape, classes and backend, once the worker has loaded the data. */
  info?: JobInfo;
  /** The latest batch report. */
  progress?: BatchProgress;
  /** One entry per finished epoch. */
  readonly history: EpochMetrics[] = [];
  /** Why the job failed (or was cancelled). */
  error?: string;
  /** The trained parameters as safetensors bytes (until released; a job with a store keeps them there instead). */
  model?: Buffer;
  /** True when the trained model is in the job's store. */
  modelStored = false;
  /** Times resumed from a checkpoint. */
  resumed = 0;
  /** What the store found wrong with the job (see `JobSummary.damaged`). */
  damaged?: string;
  /** Resolves with the job when it has ended, whatever the outcome (never rejects). */
  readonly finished: Promise<TrainingJob>;

  /** The worker whose messages count; a worker asked to stop is no longer this one, and nothing it says counts. */
  private worker?: Worker;
  private stopTimeoutMs = STOP_TIMEOUT_MS;
  private resolveFinished!: (job: TrainingJob) => void;
  private exited: Promise<void> = Promise.resolve();
  private readonly saveModel?: (bytes: Buffer) => Promise<void>;
  private readonly saveEpoch?: (job: TrainingJob) => Promise<void>;
  /** True between the worker's 'done' and the store holding the model. */
  private storing = false;

  constructor(config: RunConfig, id: string = randomUUID(), options: TrainingJobOptions = {}) {
    super();
    this.id = id;
    this.config = config;
    this.owner = options.owner;
    this.saveModel = options.saveModel;
    this.saveEpoch = options.saveEpoch;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /**
   * A job from its stored record. A job that was queued, running or interrupted comes back `queued` (the
   * queue then resumes or fails it); an ended one comes back as it ended.
   */
  static fromRecord(record: JobRecord, options: Omit<TrainingJobOptions, 'owner'> = {}): TrainingJob {
    const job = new TrainingJob(record.config, record.id, { ...options, owner: record.owner });
    job.createdAt = new Date(record.createdAt);
    if (record.startedAt) job.startedAt = new Date(record.startedAt);
    if (record.finishedAt) job.finishedAt = new Date(record.finishedAt);
    job.info = record.info;
    job.history.push(...record.history);
    job.error = record.error;
    job.modelStored = record.hasModel;
    job.resumed = record.resumed ?? 0;
    job.damaged = record.damaged;
    const ended = record.status === 'succeeded' || record.status === 'failed' || record.status === 'cancelled';
    job.status = ended ? record.status : 'queued';
    if (ended) job.resolveFinished(job);
    return job;
  }

  /** The job as its store keeps it. */
  toRecord(): JobRecord {
    return {
      version: 1,
      id: this.id,
      owner: this.owner,
      config: this.config,
      status: this.status,
      createdAt: this.createdAt.toISOString(),
      startedAt: this.startedAt?.toISOString(),
      finishedAt: this.finishedAt?.toISOString(),
      info: this.info,
      history: this.history,
      error: this.error,
      hasModel: this.modelStored,
      resumed: this.resumed || undefined,
      damaged: this.damaged,
    };
  }

  /** True while the trained model can be had (in memory or in the store). */
  get hasModel(): boolean {
    return this.model !== undefined || this.modelStored;
  }

  /** True once the job has succeeded, failed or been cancelled. */
  get settled(): boolean {
    return this.status === 'succeeded' || this.status === 'failed' || this.status === 'cancelled';
  }

  /** Starts the worker. A job starts once (a restored job once per process). */
  start(options: JobStartOptions = {}): this {
    if (this.status !== 'queued') throw new Error(`TrainingJob ${this.id}: cannot start a job that is ${this.status}`);
    this.status = 'running';
    this.startedAt ??= new Date();
    this.stopTimeoutMs = options.stopTimeoutMs ?? STOP_TIMEOUT_MS;
    const { file, entry } = trainingWorkerFile();
    const workerData: WorkerInput = {
      config: this.config,
      blasThreads: options.blasThreads,
      progressEveryMs: options.progressEveryMs ?? 200,
      entry,
      checkpointDir: options.checkpointDir,
      resume: options.resume,
    };
    let worker: Worker;
    try {
      worker = new Worker(file, { workerData, resourceLimits: options.resourceLimits, stdout: false, stderr: false });
    } catch (e) {
      this.finish('failed', `could not start a worker: ${(e as Error).message}`);
      return this;
    }
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    // Only the current worker is heard: one that was asked to stop may still post an epoch or 'cancelled', or
    // fail while it stops; none of that may change a job that was interrupted (and handed back) or has ended.
    worker.on('message', (m: WorkerMessage) => {
      if (this.worker === worker) this.onMessage(m);
    });
    worker.on('error', (e) => {
      if (this.worker === worker) this.finish('failed', `the training worker crashed: ${e.message}`, 'WORKER_CRASHED');
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // NOTE: after 'done' the worker may exit by itself while the model is being stored: not a crash.
      if (!this.settled && this.status !== 'interrupted' && !this.storing) this.finish('failed', `the training worker exited (code ${code}) before finishing`, 'WORKER_CRASHED');
    });
    return this;
  }

  /**
   * Cancels the job: a queued job never starts; a running one is `cancelled` at once and its worker stops at
   * its next batch (see `STOP_TIMEOUT_MS`; `workerExited()` resolves when it has). Returns false when the job
   * had already ended.
   */
  cancel(reason = 'cancelled'): boolean {
    if (this.settled) return false;
    this.finish('cancelled', reason);
    return true;
  }

  /**
   * Marks a job that has not ended as failed, with the reason (a queue does this to an interrupted job when
   * its `resume` policy is `'fail'`). Returns false when the job had already ended.
   */
  fail(reason: string): boolean {
    if (this.settled) return false;
    this.finish('failed', reason);
    return true;
  }

  /**
   * Stops a running job because the process is stopping (SIGTERM): its status becomes `interrupted` at once
   * and it emits `interrupted`; its worker is asked to stop and does at its next batch (`workerExited()`
   * resolves then; see `STOP_TIMEOUT_MS`), and nothing it reports after this changes the job. It has not
   * ended: a queue over the same store resumes it from its last checkpoint. Returns false when the job was not
   * running, or had finished training and its model is being stored (it is about to succeed).
   */
  interrupt(): boolean {
    if (this.status !== 'running' || this.storing) return false;
    this.status = 'interrupted';
    this.stopWorker();
    this.emit('interrupted', this);
    return true;
  }

  /**
   * Resolves when the job's worker thread has exited (at once for a job that never started). A job settles
   * (or is interrupted) first and its worker ends a moment later; `JobQueue` waits for this before starting the
   * next job, so that two workers never overlap on a slot (their threads and memory would), and a process
   * waits for it before it exits (a thread in the middle of a native kernel must not be cut off).
   */
  workerExited(): Promise<void> {
    return this.exited;
  }

  /** Forgets the trained model bytes (in memory, and the note that the store has them). */
  releaseModel(): void {
    this.model = undefined;
    this.modelStored = false;
  }

  toJSON(): JobSummary {
    return {
      id: this.id,
      owner: this.owner,
      status: this.status,
      config: this.config,
      createdAt: this.createdAt.toISOString(),
      startedAt: this.startedAt?.toISOString(),
      finishedAt: this.finishedAt?.toISOString(),
      info: this.info,
      progress: this.progress,
      history: this.history,
      error: this.error,
      hasModel: this.hasModel,
      resumed: this.resumed || undefined,
      damaged: this.damaged,
    };
  }

  private onMessage(m: WorkerMessage): void {
    if (this.status !== 'running') return;
    switch (m.type) {
      case 'started':
        this.info = m.info;
        this.emit('start', m.info);
        break;
      case 'batch':
        this.progress = m.progress;
        this.emit('batch', m.progress);
        break;
      case 'epoch':
        // An epoch run again after a resume replaces its entry (and any after it), never appends a second one.
        this.history.length = Math.min(this.history.length, m.metrics.epoch - 1);
        this.history.push(m.metrics);
        if (!this.saveEpoch) this.emit('epoch', m.metrics);
        else {
          const report = () => this.emit('epoch', m.metrics);
          this.saveEpoch(this).then(report, report); // a failed write is the store's to report
        }
        break;
      case 'resumed':
        this.history.length = 0;
        this.history.push(...m.history);
        break;
      case 'done': {
        const tensors: Record<string, NDArray> = {};
        for (const [name, t] of Object.entries(m.state)) {
          const data = t.dtype === 'float64' ? new Float64Array(t.buffer) : new Float32Array(t.buffer);
          tensors[name] = new NDArray(data, t.shape);
        }
        // NOTE: the data path is left out of the model's metadata: it is the server's path, and the model file
        // goes to clients.
        const bytes = serializeSafetensors(tensors, { config: JSON.stringify({ ...this.config, data: undefined }), job: this.id });
        if (!this.saveModel) {
          this.model = bytes;
          this.finish('succeeded');
          break;
        }
        // Succeeded only once the store holds the model: a crash right after must not lose it.
        this.storing = true;
        this.saveModel(bytes).then(
          () => {
            if (this.settled) return; // cancelled while the model was being stored
            this.model = bytes;
            this.modelStored = true;
            this.finish('succeeded');
          },
          (e: Error) => this.finish('failed', `training finished but the model could not be stored: ${e.message}`),
        );
        break;
      }
      case 'cancelled':
        this.finish('cancelled', this.error ?? 'cancelled');
        break;
      case 'error':
        this.finish('failed', m.message);
        break;
    }
  }

  protected finish(status: 'succeeded' | 'failed' | 'cancelled', error?: string, code?: TrainingError['code']): void {
    if (this.settled) return;
    this.status = status;
    this.error = error;
    this.finishedAt = new Date();
    // After 'done', 'error' or 'cancelled' the worker is already on its way out; otherwise it stops at its next batch.
    this.stopWorker();
    this.resolveFinished(this);
    if (status === 'succeeded') this.emit('done', this);
    if (status === 'failed' && this.listenerCount('error') > 0) this.emit('error', new TrainingError(error ?? 'failed', code));
    this.emit('settled', this);
  }

  /**
   * Asks the current worker to stop (it aborts at its next batch and exits by itself) and stops listening to
   * it; terminates it only if it has not exited within `stopTimeoutMs`. See `STOP_TIMEOUT_MS` for why.
   */
  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    try {
      worker.postMessage({ type: 'cancel' } satisfies ParentMessage);
    } catch {
      // already gone: its 'exit' is on the way
    }
    const timer = setTimeout(() => void worker.terminate().catch(() => undefined), this.stopTimeoutMs);
    // The worker itself keeps the process alive while it runs; the timer need not.
    timer.unref();
    worker.once('exit', () => clearTimeout(timer));
  }
}
