/**
 * A queue of training jobs that runs at most `concurrency` at once, each in its own worker thread, with BLAS
 * threads set so that workers x BLAS threads stays within the cores (oversubscription makes every job slower).
 * Beyond `maxQueued` waiting jobs, `submit` throws a `QueueFullError`.
 *
 * Durable: every job lives in a `JobStore` (by default files in a state directory: the `stateDir` option,
 * else `VUGRAD_STATE_DIR`, else `./vugrad-state`). A job's record is stored before it starts, each epoch's
 * metrics as they come, a checkpoint at every epoch end and the model before the job is reported succeeded.
 * A new queue over the same store lists every stored job again and, with `resume: 'auto'` (the default),
 * resumes the ones a crash or a SIGTERM interrupted from their last checkpoint. See docs/server.md.
 *
 * Retention is the store's policy: the models of the newest `keepModels` finished jobs and the records of the
 * newest `keepJobs` are kept; older ones are deleted from the store.
 *
 * @example
 * const queue = new JobQueue({ maxQueued: 8, stateDir: '/var/lib/vugrad' });
 * await queue.ready;                                    // stored jobs loaded, interrupted ones re-queued
 * const job = await queue.add({ dataset: 'mnist', hidden: [128], epochs: 2, limit: 10000 }, { owner: 'ada' });
 * job.on('epoch', (m) => console.log(job.id, m.epoch, m.valAccuracy));
 * await job.finished;
 * const bytes = await queue.readModel(job);             // safetensors
 */
import * as os from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { RunConfig } from '../train/config';
import { QueueFullError } from './errors';
import { FileJobStore } from './file-store';
import { TrainingJob } from './job';
import { resolveTrainingSpec, type TrainingSpec } from './spec';
import { StoreError, type DamagedJob, type JobStore } from './store';
import { releaseFreedMemory } from '../kernels';

export interface JobQueueOptions {
  /** Trainings at once. Default: cores - 1 (at least 1), leaving a core to the process's own event loop. */
  concurrency?: number;
  /** Jobs that may wait for a free slot; one more is a QueueFullError. Default 16. */
  maxQueued?: number;
  /** BLAS threads per worker. Default: floor(cores / concurrency), at least 1. */
  blasThreads?: number;
  /** Finished jobs whose trained models the store keeps (older ones are deleted). Default 100. */
  keepModels?: number;
  /**
   * Of those, how many newest also keep their model bytes in memory (`job.model`, for `modelFromJob` without a
   * read). Default 5. The rest are read from the store (`readModel`).
   */
  modelsInMemory?: number;
  /** Finished jobs the store keeps at all (older ones are deleted with their files). Default 1000. */
  keepJobs?: number;
  /** At most one batch event per job per this many ms. Default 200. */
  progressEveryMs?: number;
  /** V8 heap limits for each worker. */
  resourceLimits?: ResourceLimits;
  /** Where jobs are kept. Default: a `FileJobStore` in `stateDir`. */
  store?: JobStore;
  /** The state directory of the default store. Default: `VUGRAD_STATE_DIR`, else `./vugrad-state`. */
  stateDir?: string;
  /**
   * Jobs that a crash or a SIGTERM interrupted: `'auto'` (default) resumes each from its last checkpoint,
   * `'fail'` marks them failed.
   */
  resume?: 'auto' | 'fail';
  /** Called when a store write fails (default: logged to stderr). The job itself fails when it can. */
  onStoreError?: (error: Error, job: TrainingJob) => void;
}

/** Options of one submission. */
export interface SubmitOptions {
  /** Who submits it (recorded with the job; a server shows a user only their own jobs). */
  owner?: string;
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

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

export class JobQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly blasThreads: number;
  readonly keepModels: number;
  readonly keepJobs: number;
  readonly modelsInMemory: number;
  readonly resume: 'auto' | 'fail';
  readonly store: JobStore;
  /**
   * Resolves when the stored jobs are loaded (interrupted ones re-queued); rejects with a `StoreError` when
   * the store cannot be used. Jobs submitted before wait for it.
   */
  readonly ready: Promise<void>;
  private readonly progressEveryMs: number;
  private readonly resourceLimits?: ResourceLimits;
  private readonly onStoreError: (error: Error, job: TrainingJob) => void;
  /** Every known job, in submission order. */
  private readonly jobs = new Map<string, TrainingJob>();
  private readonly waiting: TrainingJob[] = [];
  private readonly running = new Set<TrainingJob>();
  /** Finished jobs, oldest first. */
  private readonly finished: TrainingJob[] = [];
  /** Per job, its latest store write (a job starts only once its record is stored). */
  private readonly writes = new Map<TrainingJob, Promise<void>>();
  private damagedJobs: DamagedJob[] = [];
  private loaded = false;
  private closed = false;

  constructor(options: JobQueueOptions = {}) {
    const n = cores();
    this.concurrency = positiveInt('concurrency', options.concurrency, Math.max(1, n - 1));
    this.maxQueued = positiveInt('maxQueued', options.maxQueued, 16, 0);
    this.blasThreads = positiveInt('blasThreads', options.blasThreads, Math.max(1, Math.floor(n / this.concurrency)));
    this.keepModels = positiveInt('keepModels', options.keepModels, 100, 0);
    this.keepJobs = positiveInt('keepJobs', options.keepJobs, 1000, 0);
    this.modelsInMemory = positiveInt('modelsInMemory', options.modelsInMemory, 5, 0);
    if (options.resume !== undefined && options.resume !== 'auto' && options.resume !== 'fail') {
      throw new RangeError(`JobQueue: resume must be 'auto' or 'fail', got ${JSON.stringify(options.resume)}`);
    }
    this.resume = options.resume ?? 'auto';
    this.progressEveryMs = options.progressEveryMs ?? 200;
    this.resourceLimits = options.resourceLimits;
    this.onStoreError = options.onStoreError ?? ((e, job) => console.error(`vugrad jobs: storing job ${job.id} failed: ${e.message}`));
    this.store = options.store ?? new FileJobStore(options.stateDir ?? process.env.VUGRAD_STATE_DIR ?? './vugrad-state');
    this.ready = this.load();
    // An unobserved failure to open the store must not crash the process: submit and add report it.
    this.ready.catch(() => undefined);
  }

  /**
   * Adds a job (the spec is checked first: a `SpecError` names the bad field). It starts when a slot is free
   * and its record is stored, else waits. Throws a `QueueFullError` when `maxQueued` jobs already wait.
   * Use `add` to know when the store has the job.
   */
  submit(spec: TrainingSpec | RunConfig, options: SubmitOptions = {}): TrainingJob {
    if (this.closed) throw new Error('JobQueue: closed');
    const config = resolveTrainingSpec(spec);
    const hasSlot = this.running.size < this.concurrency;
    const waiting = this.waiting.filter((j) => !j.settled).length;
    if (!hasSlot && waiting >= this.maxQueued) {
      throw new QueueFullError(this.running.size, waiting, this.maxQueued);
    }
    const job = this.track(new TrainingJob(config, undefined, { owner: options.owner, ...this.hooks(() => job.id) }));
    this.waiting.push(job);
    this.save(job);
    void this.whenSaved(job).then(() => this.pump(), () => undefined);
    return job;
  }

  /**
   * `submit`, resolved once the store holds the job. Rejects with a `StoreError` when the store cannot be
   * opened or the job cannot be stored (the job is then cancelled).
   */
  async add(spec: TrainingSpec | RunConfig, options: SubmitOptions = {}): Promise<TrainingJob> {
    await this.ready;
    const job = this.submit(spec, options);
    try {
      await this.whenSaved(job);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StoreError(`job ${job.id} could not be stored (${code && code !== 'STORE_FAILED' ? code : (e as Error).message})`);
    }
    return job;
  }

  get(id: string): TrainingJob | undefined {
    return this.jobs.get(id);
  }

  /** Every job still known, oldest first. */
  list(): TrainingJob[] {
    return [...this.jobs.values()];
  }

  /** Jobs whose stored record could not be read at startup (listed, never run). */
  damaged(): DamagedJob[] {
    return [...this.damagedJobs];
  }

  /** Cancels a queued or running job; false when there is no such job or it has already ended. */
  cancel(id: string, reason = 'cancelled'): boolean {
    return this.jobs.get(id)?.cancel(reason) ?? false;
  }

  /**
   * Deletes a job and all its files from the store (a running or queued one is cancelled first). False when
   * the queue knows no such job, damaged ones included.
   */
  async purge(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    const damaged = this.damagedJobs.some((d) => d.id === id);
    if (!job && !damaged) return false;
    if (job) {
      job.cancel('purged');
      await job.workerExited();
      await this.writes.get(job)?.catch(() => undefined);
      this.forget(job);
    }
    this.damagedJobs = this.damagedJobs.filter((d) => d.id !== id);
    await this.store.remove(id);
    return true;
  }

  /** A finished job's model (safetensors bytes), from memory or the store; undefined when none is kept. */
  async readModel(job: TrainingJob): Promise<Buffer | undefined> {
    if (job.model) return job.model;
    if (!job.modelStored) return undefined;
    return this.store.readModel(job.id);
  }

  stats(): QueueStats {
    return {
      running: this.running.size,
      queued: this.waiting.filter((j) => !j.settled).length,
      concurrency: this.concurrency,
      maxQueued: this.maxQueued,
      blasThreads: this.blasThreads,
      cores: cores(),
    };
  }

  /** Resolves when nothing runs or waits (every worker has exited) and every store write has landed. */
  async idle(): Promise<void> {
    await this.ready.catch(() => undefined);
    while (this.running.size > 0 || this.waiting.length > 0) {
      await Promise.all([...this.running, ...this.waiting].map((j) => j.finished.then(() => j.workerExited())));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.flush();
  }

  /**
   * Cancels everything and refuses new jobs; resolves once every worker has stopped (at its next batch) and
   * exited. Cancelled jobs are stored as cancelled.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    const open = [...this.waiting, ...this.running];
    for (const job of open) job.cancel('the job queue was closed');
    await Promise.all(open.map((j) => j.workerExited()));
    await this.flush();
  }

  /**
   * Stops for a restart (SIGTERM): refuses new jobs, lets each running job reach its next epoch end (and so
   * its next checkpoint) for at most `graceMs`, then interrupts it (its worker ends; it resumes from its last
   * checkpoint when a queue opens the store again), and leaves queued jobs queued in the store. Resolves when
   * every worker has exited and every record is stored.
   *
   * @param options.graceMs how long to wait for epoch ends; default 0 (interrupt at once, losing the epoch in
   *   flight). A job that finishes within the grace ends normally.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    const running = [...this.running];
    const grace = options.graceMs ?? 0;
    await Promise.all(
      running.map(async (job) => {
        if (grace > 0 && job.status === 'running') {
          let timer: NodeJS.Timeout | undefined;
          let onEnd = () => undefined as void;
          await new Promise<void>((resolve) => {
            onEnd = () => resolve();
            timer = setTimeout(resolve, grace);
            job.once('epoch', onEnd).once('settled', onEnd);
          });
          clearTimeout(timer);
          job.off('epoch', onEnd).off('settled', onEnd);
        }
        if (job.interrupt()) this.save(job);
        else if (!job.settled) await job.finished; // its model is being stored: let it succeed
        await job.workerExited();
      }),
    );
    await this.flush();
  }

  /** Waits for every store write in flight. */
  private async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes.values()].map((p) => p.catch(() => undefined)));
  }

  private whenSaved(job: TrainingJob): Promise<void> {
    return this.writes.get(job) ?? Promise.resolve();
  }

  /** Stores the job's record now (after its earlier writes). */
  private save(job: TrainingJob): void {
    this.enqueue(job, () => this.store.saveRecord(job.toRecord()), true);
  }

  /**
   * Runs a store operation for `job` after its earlier ones; `idle()`, `close()` and `shutdown()` wait for it.
   * A failed record write (`critical`) fails a job that is still going.
   */
  private enqueue(job: TrainingJob, op: () => Promise<void>, critical = false): void {
    const prev = this.writes.get(job) ?? this.ready;
    const write = prev.catch(() => undefined).then(op);
    this.writes.set(job, write);
    write.then(
      () => {
        if (this.writes.get(job) === write) this.writes.delete(job);
      },
      (e: Error) => {
        if (this.writes.get(job) === write) this.writes.delete(job);
        this.onStoreError(e, job);
        // A job that cannot be stored must not run as if it were: cancel it with the reason.
        if (critical && !job.settled && job.status !== 'interrupted') job.cancel(`the job could not be stored: ${e.message}`);
      },
    );
  }

  /** Listens to a job's changes and stores them. */
  private track(job: TrainingJob): TrainingJob {
    this.jobs.set(job.id, job);
    job.on('start', () => this.save(job));
    job.once('settled', () => this.onSettled(job));
    return job;
  }

  /** What a job of this queue stores: its model before it succeeds, its record before an epoch is reported. */
  private hooks(id: () => string) {
    return {
      saveModel: (bytes: Buffer) => this.store.saveModel(id(), bytes),
      saveEpoch: (job: TrainingJob) => {
        this.save(job);
        return this.whenSaved(job);
      },
    };
  }

  private forget(job: TrainingJob): void {
    this.jobs.delete(job.id);
    const at = this.finished.indexOf(job);
    if (at >= 0) this.finished.splice(at, 1);
    const w = this.waiting.indexOf(job);
    if (w >= 0) this.waiting.splice(w, 1);
    job.removeAllListeners();
  }

  private async load(): Promise<void> {
    const stored = await this.store.open();
    this.damagedJobs = stored.damaged;
    const resumeNow: TrainingJob[] = [];
    for (const record of stored.records) {
      const job = TrainingJob.fromRecord(record, this.hooks(() => record.id));
      if (ENDED.has(record.status)) {
        this.jobs.set(job.id, job);
        this.finished.push(job);
        continue;
      }
      // queued, running or interrupted when the last process stopped
      const wasRunning = record.status !== 'queued';
      if (wasRunning && this.resume === 'fail') {
        this.track(job);
        job.fail(`interrupted by a restart at epoch ${record.history.length + 1} of ${record.config.epochs} (resume is 'fail')`);
        continue;
      }
      if (wasRunning) job.resumed++;
      this.track(job);
      resumeNow.push(job);
      this.save(job);
    }
    this.finished.sort((a, b) => (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0));
    // Interrupted jobs first, then those that were waiting, each in submission order.
    resumeNow.sort((a, b) => b.resumed - a.resumed || a.createdAt.getTime() - b.createdAt.getTime());
    this.waiting.unshift(...resumeNow);
    this.loaded = true;
    this.applyRetention();
    this.pump();
  }

  private pump(): void {
    if (!this.loaded || this.closed) return;
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting[0];
      if (job.settled) {
        this.waiting.shift();
        continue;
      }
      // In order: the head waits until its record is stored (a submission's write is in flight).
      if (this.writes.has(job) && !job.resumed) {
        void this.whenSaved(job).then(() => this.pump(), () => undefined);
        return;
      }
      this.waiting.shift();
      this.running.add(job);
      job.start({
        blasThreads: this.blasThreads,
        progressEveryMs: this.progressEveryMs,
        resourceLimits: this.resourceLimits,
        checkpointDir: this.store.checkpointDir(job.id),
        resume: job.resumed > 0,
      });
      // A job that could not even start its worker is settled already; its record says why.
      if (job.status === 'running') this.save(job);
    }
  }

  private onSettled(job: TrainingJob): void {
    // The slot frees when the worker thread is gone, not when the job settles: until then it still holds a
    // thread and memory (a worker asked to stop finishes its batch first).
    if (this.running.has(job)) {
      void job.workerExited().then(() => {
        this.running.delete(job);
        // The worker's buffers were freed, but glibc keeps freed heap memory mapped: give it back, so 20 jobs
        // in a row leave RSS where one left it.
        releaseFreedMemory();
        this.pump();
      });
    }
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
    // A finished job's checkpoint is no longer needed; nor is a model stored just before a cancellation.
    this.save(job);
    this.enqueue(job, () => this.store.deleteCheckpoint(job.id));
    if (job.status !== 'succeeded') this.enqueue(job, () => this.store.deleteModel(job.id));
    this.finished.push(job);
    this.applyRetention();
  }

  /**
   * Deletes the oldest finished jobs' models beyond keepModels and records beyond keepJobs, and drops model
   * bytes from memory beyond modelsInMemory (they stay in the store).
   */
  private applyRetention(): void {
    let withModel = 0;
    let inMemory = 0;
    for (let i = this.finished.length - 1; i >= 0; i--) {
      const j = this.finished[i];
      if (j.model && j.modelStored && ++inMemory > this.modelsInMemory) j.model = undefined;
      if (j.hasModel && ++withModel > this.keepModels) {
        j.releaseModel();
        this.save(j);
        this.enqueue(j, () => this.store.deleteModel(j.id));
      }
    }
    while (this.finished.length > this.keepJobs) {
      const old = this.finished[0];
      this.forget(old);
      this.enqueue(old, () => this.store.remove(old.id));
    }
  }
}
