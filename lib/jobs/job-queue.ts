/**
 * A queue of training jobs that runs at most `concurrency` at once, each in its own worker thread, with BLAS
 * threads set so that workers x BLAS threads stays within the cores (oversubscription makes every job slower).
 * Beyond `maxQueued` waiting jobs, `submit` throws a `QueueFullError`.
 *
 * Memory: a worker's memory goes with it when its job ends (the worker is terminated). The queue then keeps
 * the trained model bytes of the last `keepModels` finished jobs only, and the records of the last `keepJobs`
 * finished jobs; older ones are released, so that a long-running server does not grow.
 *
 * @example
 * const queue = new JobQueue({ maxQueued: 8 });
 * const job = queue.submit({ dataset: 'mnist', hidden: [128], epochs: 2, limit: 10000 });
 * job.on('epoch', (m) => console.log(job.id, m.epoch, m.valAccuracy));
 * await job.finished;
 */
import * as os from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { RunConfig } from '../train/config';
import { QueueFullError } from './errors';
import { TrainingJob } from './job';
import { resolveTrainingSpec, type TrainingSpec } from './spec';
import { releaseFreedMemory } from '../kernels';

export interface JobQueueOptions {
  /** Trainings at once. Default: cores - 1 (at least 1), leaving a core to the process's own event loop. */
  concurrency?: number;
  /** Jobs that may wait for a free slot; one more is a QueueFullError. Default 16. */
  maxQueued?: number;
  /** BLAS threads per worker. Default: floor(cores / concurrency), at least 1. */
  blasThreads?: number;
  /** Finished jobs whose trained model bytes are kept. Default 5. */
  keepModels?: number;
  /** Finished jobs kept at all (for listing); older ones are forgotten. Default 100. */
  keepJobs?: number;
  /** At most one batch event per job per this many ms. Default 200. */
  progressEveryMs?: number;
  /** V8 heap limits for each worker. */
  resourceLimits?: ResourceLimits;
}

export interface QueueStats {
  running: number;
  queued: number;
  concurrency: number;
  maxQueued: number;
  blasThreads: number;
  cores: number;
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`JobQueue: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export class JobQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly blasThreads: number;
  readonly keepModels: number;
  readonly keepJobs: number;
  private readonly progressEveryMs: number;
  private readonly resourceLimits?: ResourceLimits;
  /** Every known job, in submission order. */
  private readonly jobs = new Map<string, TrainingJob>();
  private readonly waiting: TrainingJob[] = [];
  private readonly running = new Set<TrainingJob>();
  /** Finished jobs, oldest first. */
  private readonly finished: TrainingJob[] = [];
  private closed = false;

  constructor(options: JobQueueOptions = {}) {
    const n = cores();
    this.concurrency = positiveInt('concurrency', options.concurrency, Math.max(1, n - 1));
    this.maxQueued = positiveInt('maxQueued', options.maxQueued, 16, 0);
    this.blasThreads = positiveInt('blasThreads', options.blasThreads, Math.max(1, Math.floor(n / this.concurrency)));
    this.keepModels = positiveInt('keepModels', options.keepModels, 5, 0);
    this.keepJobs = positiveInt('keepJobs', options.keepJobs, 100, 0);
    this.progressEveryMs = options.progressEveryMs ?? 200;
    this.resourceLimits = options.resourceLimits;
  }

  /**
   * Adds a job (the spec is checked first: a `SpecError` names the bad field). It starts at once when a slot
   * is free, else waits. Throws a `QueueFullError` when `maxQueued` jobs already wait.
   */
  submit(spec: TrainingSpec | RunConfig): TrainingJob {
    if (this.closed) throw new Error('JobQueue: closed');
    const config = resolveTrainingSpec(spec);
    const hasSlot = this.running.size < this.concurrency;
    if (!hasSlot && this.waiting.length >= this.maxQueued) {
      throw new QueueFullError(this.running.size, this.waiting.length, this.maxQueued);
    }
    const job = new TrainingJob(config);
    this.jobs.set(job.id, job);
    job.once('settled', () => this.onSettled(job));
    this.waiting.push(job);
    this.pump();
    return job;
  }

  get(id: string): TrainingJob | undefined {
    return this.jobs.get(id);
  }

  /** Every job still known, oldest first. */
  list(): TrainingJob[] {
    return [...this.jobs.values()];
  }

  /** Cancels a queued or running job; false when there is no such job or it has already ended. */
  cancel(id: string, reason = 'cancelled'): boolean {
    return this.jobs.get(id)?.cancel(reason) ?? false;
  }

  stats(): QueueStats {
    return {
      running: this.running.size,
      queued: this.waiting.length,
      concurrency: this.concurrency,
      maxQueued: this.maxQueued,
      blasThreads: this.blasThreads,
      cores: cores(),
    };
  }

  /** Resolves when nothing runs or waits (every worker has exited). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.waiting.length > 0) {
      await Promise.all([...this.running, ...this.waiting].map((j) => j.finished.then(() => j.workerExited())));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Cancels everything (workers terminated) and refuses new jobs. */
  async close(): Promise<void> {
    this.closed = true;
    const open = [...this.waiting, ...this.running];
    for (const job of open) job.cancel('the job queue was closed');
    await Promise.all(open.map((j) => j.workerExited()));
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as TrainingJob;
      if (job.settled) continue;
      this.running.add(job);
      job.start({ blasThreads: this.blasThreads, progressEveryMs: this.progressEveryMs, resourceLimits: this.resourceLimits });
    }
  }

  private onSettled(job: TrainingJob): void {
    // The slot frees when the worker thread is gone, not when the job settles: until then it still holds a
    // thread and memory (terminate() is asynchronous).
    if (this.running.has(job)) {
      void job.workerExited().then(() => {
        this.running.delete(job);
        // The worker's buffers were freed, but glibc keeps freed heap memory mapped: give it back, so 20 jobs
        // in a row leave RSS where one left it.
        releaseFreedMemory();
        if (!this.closed) this.pump();
      });
    }
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
    this.finished.push(job);
    // Keep the models of the newest keepModels finished jobs, and the newest keepJobs records.
    let withModel = 0;
    for (let i = this.finished.length - 1; i >= 0; i--) {
      const j = this.finished[i];
      if (j.model && ++withModel > this.keepModels) j.releaseModel();
    }
    while (this.finished.length > this.keepJobs) {
      const old = this.finished.shift() as TrainingJob;
      this.jobs.delete(old.id);
      old.removeAllListeners();
    }
  }
}
