/**
 * A training job that runs in a `worker_thread`, so that the event loop of the process that started it stays
 * free (a server keeps answering while it trains). The worker reports throttled batch progress and each
 * epoch's metrics; at the end the trained parameters come back as transferred ArrayBuffers, kept as
 * safetensors bytes (ready to download, or to load with `parseSafetensors` + `loadStateDict`).
 *
 * Events: `start` (JobInfo), `batch` (BatchProgress, throttled), `epoch` (EpochMetrics), `done` (the job, on
 * success), `error` (TrainingError; only emitted when someone listens, so that an unobserved failure never
 * throws) and `settled` (the job, after any end: succeeded, failed or cancelled).
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
import type { RunConfig } from '../cli/config';
import { NDArray } from '../core/ndarray';
import { serializeSafetensors } from '../io';
import type { EpochMetrics } from '../train/fit';
import { TrainingError } from './errors';
import type { BatchProgress, JobInfo, WorkerInput, WorkerMessage } from './protocol';
import { trainingWorkerFile } from './worker-file';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobStartOptions {
  /** BLAS threads in the worker (see `setNumThreads`; process-wide in OpenBLAS). Default: leave as is. */
  blasThreads?: number;
  /** At most one `batch` event per this many ms. Default 200. */
  progressEveryMs?: number;
  /** V8 heap limits for the worker (a runaway job then fails instead of exhausting the process). */
  resourceLimits?: ResourceLimits;
}

/** The JSON view of a job (what a server lists). */
export interface JobSummary {
  id: string;
  status: JobStatus;
  config: RunConfig;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  info?: JobInfo;
  progress?: BatchProgress;
  history: EpochMetrics[];
  error?: string;
  /** True while the trained model is kept (a queue keeps only the last few finished jobs' models). */
  hasModel: boolean;
}

export interface TrainingJobEvents {
  start: [JobInfo];
  batch: [BatchProgress];
  epoch: [EpochMetrics];
  done: [TrainingJob];
  error: [TrainingError];
  settled: [TrainingJob];
}

export class TrainingJob extends EventEmitter<TrainingJobEvents> {
  readonly id: string;
  readonly config: RunConfig;
  status: JobStatus = 'queued';
  readonly createdAt = new Date();
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
  /** The trained parameters as safetensors bytes (until released). */
  model?: Buffer;
  /** Resolves with the job when it has ended, whatever the outcome (never rejects). */
  readonly finished: Promise<TrainingJob>;

  private worker?: Worker;
  private resolveFinished!: (job: TrainingJob) => void;
  private exited: Promise<void> = Promise.resolve();

  constructor(config: RunConfig, id: string = randomUUID()) {
    super();
    this.id = id;
    this.config = config;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** True once the job has succeeded, failed or been cancelled. */
  get settled(): boolean {
    return this.status === 'succeeded' || this.status === 'failed' || this.status === 'cancelled';
  }

  /** Starts the worker. A job starts once. */
  start(options: JobStartOptions = {}): this {
    if (this.status !== 'queued') throw new Error(`TrainingJob ${this.id}: cannot start a job that is ${this.status}`);
    this.status = 'running';
    this.startedAt = new Date();
    const { file, entry } = trainingWorkerFile();
    const workerData: WorkerInput = {
      config: this.config,
      blasThreads: options.blasThreads,
      progressEveryMs: options.progressEveryMs ?? 200,
      entry,
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
    worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    worker.on('error', (e) => this.finish('failed', `the training worker crashed: ${e.message}`, 'WORKER_CRASHED'));
    worker.on('exit', (code) => {
      this.worker = undefined;
      if (!this.settled) this.finish('failed', `the training worker exited (code ${code}) before finishing`, 'WORKER_CRASHED');
    });
    return this;
  }

  /**
   * Cancels the job: a queued job never starts; a running one's worker is terminated at once (its memory
   * goes with it). Returns false when the job had already ended.
   */
  cancel(reason = 'cancelled'): boolean {
    if (this.settled) return false;
    this.finish('cancelled', reason);
    return true;
  }

  /**
   * Resolves when the job's worker thread has exited (at once for a job that never started). A job settles
   * first and its worker ends a moment later; `JobQueue` waits for this before starting the next job, so that
   * two workers never overlap on a slot (their threads and memory would).
   */
  workerExited(): Promise<void> {
    return this.exited;
  }

  /** Forgets the trained model bytes (a queue does this for all but the last few finished jobs). */
  releaseModel(): void {
    this.model = undefined;
  }

  toJSON(): JobSummary {
    return {
      id: this.id,
      status: this.status,
      config: this.config,
      createdAt: this.createdAt.toISOString(),
      startedAt: this.startedAt?.toISOString(),
      finishedAt: this.finishedAt?.toISOString(),
      info: this.info,
      progress: this.progress,
      history: this.history,
      error: this.error,
      hasModel: this.model !== undefined,
    };
  }

  private onMessage(m: WorkerMessage): void {
    if (this.settled) return;
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
        this.history.push(m.metrics);
        this.emit('epoch', m.metrics);
        break;
      case 'done': {
        const tensors: Record<string, NDArray> = {};
        for (const [name, t] of Object.entries(m.state)) {
          const data = t.dtype === 'float64' ? new Float64Array(t.buffer) : new Float32Array(t.buffer);
          tensors[name] = new NDArray(data, t.shape);
        }
        this.model = serializeSafetensors(tensors, { config: JSON.stringify(this.config), job: this.id });
        this.finish('succeeded');
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

  private finish(status: 'succeeded' | 'failed' | 'cancelled', error?: string, code?: TrainingError['code']): void {
    if (this.settled) return;
    this.status = status;
    this.error = error;
    this.finishedAt = new Date();
    const worker = this.worker;
    this.worker = undefined;
    // NOTE: terminate even after 'done': the worker would exit by itself, but terminating frees its heap now.
    if (worker) void worker.terminate().catch(() => undefined);
    this.resolveFinished(this);
    if (status === 'succeeded') this.emit('done', this);
    if (status === 'failed' && this.listenerCount('error') > 0) this.emit('error', new TrainingError(error ?? 'failed', code));
    this.emit('settled', this);
  }
}
