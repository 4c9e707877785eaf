/**
 * The job queue of a service spread over several machines: jobs are BullMQ jobs on a shared Redis, their
 * records, checkpoints and models are in Redis (`RedisJobStore`), and any number of API processes (each with
 * a `BullJobQueue`) and worker processes (`npx vugrad worker --redis URL`, a `BullTrainingWorker`) share them.
 * Same surface as `JobQueue` (`JobQueueApi`), so the example server runs over either; `createJobQueue` picks
 * this one when `redisUrl` is set.
 *
 * Each API process keeps a mirror of every job (`RemoteTrainingJob`, a `TrainingJob` whose state comes from
 * Redis). Workers report each change through BullMQ (`job.updateProgress`, heard by every process's
 * `QueueEvents`), so `start`, `batch`, `epoch` and `settled` events, and so event streams, work on whichever
 * API process a client reaches. A periodic resync (and one after every reconnection) catches up on anything
 * missed while Redis was unreachable. While it is, `unavailable()` says why (the server answers 503).
 *
 * `localWorkers` (default 0) also trains that many jobs in this process (a `BullTrainingWorker`).
 *
 * NOTE: bullmq and ioredis are loaded only when a `BullJobQueue` is made: `require('vugrad')` never loads them.
 *
 * @example
 * const queue = createJobQueue({ redisUrl: 'redis://127.0.0.1:6379' });   // a BullJobQueue
 * await queue.ready;
 * const job = await queue.add({ dataset: 'synth', epochs: 2 }, { owner: 'ada' });
 * job.on('epoch', (m) => console.log(m.epoch));        // trained by any `vugrad worker`
 * await job.finished;
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunConfig } from '../train/config';
import { bullConnection, bullPrefix, BullTrainingWorker, QUEUE_NAME, type BullTrainingWorkerOptions, type ProgressEvent, type QueuedJobData } from './bullmq-worker';
import { QueueFullError } from './errors';
import { TrainingJob } from './job';
import { JobQueue, type JobQueueOptions, type SubmitOptions } from './job-queue';
import { isEnded, RedisJobStore, StoreUnavailableError } from './redis-store';
import { resolveTrainingSpec, type TrainingSpec } from './spec';
import type { DamagedJob, JobRecord } from './store';

/** What a server needs of a job queue: `JobQueue` (one process) and `BullJobQueue` (Redis) both have it. */
export type JobQueueApi = Pick<
  JobQueue,
  'ready' | 'store' | 'keepModels' | 'list' | 'get' | 'add' | 'damaged' | 'cancel' | 'purge' | 'readModel' | 'stats' | 'idle' | 'close' | 'shutdown'
> & {
  /** Why the queue cannot be used right now (its store is unreachable), or undefined. */
  unavailable?(): string | undefined;
};

export interface BullJobQueueOptions extends JobQueueOptions {
  /** The Redis shared by the service (`redis://host:port`); a `JobQueue` is made when absent. */
  redisUrl?: string;
  /** Key prefix in Redis (several services can share one). Default `vugrad`. */
  redisPrefix?: string;
  /** Jobs this process trains itself (0: an API process only; `vugrad worker` processes train). Default 0. */
  localWorkers?: number;
  /** Options for the local workers (lock and stall intervals...). */
  worker?: Partial<BullTrainingWorkerOptions>;
  /** Full resync with Redis every this many ms (events carry changes in between). Default 5000. */
  resyncMs?: number;
}

/** A `JobQueue` in one process, or a `BullJobQueue` over Redis when `options.redisUrl` is set. */
export function createJobQueue(options: BullJobQueueOptions = {}): JobQueueApi {
  return options.redisUrl ? new BullJobQueue(options as BullJobQueueOptions & { redisUrl: string }) : new JobQueue(options);
}

/**
 * A job as an API process sees it: its state is the stored record, applied as it changes; events are
 * emitted for what changed. Cancelling it cancels the job in Redis (a worker training it stops).
 */
export class RemoteTrainingJob extends TrainingJob {
  private readonly onCancel: (job: RemoteTrainingJob, reason: string) => void;

  constructor(record: JobRecord, onCancel: (job: RemoteTrainingJob, reason: string) => void) {
    super(record.config, record.id, { owner: record.owner });
    this.onCancel = onCancel;
    this.apply(record, true);
  }

  /** Takes the stored record's state; unless `quiet`, emits start/epoch/settled for what is new. */
  apply(record: JobRecord, quiet = false): void {
    if (this.settled) return;
    const hadInfo = this.info !== undefined;
    const old = this.history.map((m) => JSON.stringify(m));
    this.createdAt = new Date(record.createdAt);
    this.startedAt = record.startedAt ? new Date(record.startedAt) : undefined;
    this.info = record.info;
    this.error = record.error;
    this.modelStored = record.hasModel;
    this.resumed = record.resumed ?? 0;
    this.damaged = record.damaged;
    this.history.length = 0;
    this.history.push(...record.history);
    let from = 0;
    while (from < old.length && from < this.history.length && old[from] === JSON.stringify(this.history[from])) from++;
    if (!quiet) {
      if (!hadInfo && this.info && record.status === 'running') this.emit('start', this.info);
      for (let i = from; i < this.history.length; i++) this.emit('epoch', this.history[i]);
    }
    if (isEnded(record.status)) {
      this.finish(record.status as 'succeeded' | 'failed' | 'cancelled', record.error);
      this.finishedAt = record.finishedAt ? new Date(record.finishedAt) : this.finishedAt;
      return;
    }
    this.status = record.status;
  }

  override cancel(reason = 'cancelled'): boolean {
    if (this.settled) return false;
    this.onCancel(this, reason);
    return super.cancel(reason);
  }
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export class BullJobQueue implements JobQueueApi {
  readonly store: RedisJobStore;
  readonly ready: Promise<void>;
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly blasThreads: number;
  readonly keepModels: number;
  readonly keepJobs: number;
  private readonly options: BullJobQueueOptions & { redisUrl: string };
  private readonly jobs = new Map<string, RemoteTrainingJob>();
  private damagedJobs: DamagedJob[] = [];
  private queue?: Queue<QueuedJobData, string>;
  private readonly connections: Redis[] = [];
  private events?: QueueEvents;
  private worker?: BullTrainingWorker;
  private timer?: NodeJS.Timeout;
  private readonly pending = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(options: BullJobQueueOptions & { redisUrl: string }) {
    this.options = options;
    this.concurrency = options.localWorkers ?? 0;
    this.maxQueued = options.maxQueued ?? 16;
    this.blasThreads = options.blasThreads ?? Math.max(1, Math.floor(cores() / Math.max(1, this.concurrency)));
    this.keepModels = options.keepModels ?? 100;
    this.keepJobs = options.keepJobs ?? 1000;
    this.store = new RedisJobStore(options.redisUrl, { prefix: options.redisPrefix });
    this.ready = this.load();
    this.ready.catch(() => undefined);
  }

  private async load(): Promise<void> {
    const stored = await this.store.open();
    this.damagedJobs = stored.damaged;
    for (const record of stored.records) this.jobs.set(record.id, this.mirror(record));
    const { Queue, QueueEvents } = await import('bullmq');
    const prefix = bullPrefix(this.store.prefix);
    const connection = () => {
      const c = bullConnection(this.options.redisUrl);
      this.connections.push(c);
      return c;
    };
    this.queue = new Queue<QueuedJobData, string>(QUEUE_NAME, { connection: connection(), prefix });
    this.queue.on('error', () => undefined); // the store's connection reports Redis's state
    this.events = new QueueEvents(QUEUE_NAME, { connection: connection(), prefix });
    this.events.on('error', () => undefined);
    this.events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as ProgressEvent));
    for (const name of ['added', 'active', 'completed', 'failed', 'removed', 'stalled', 'waiting'] as const) {
      this.events.on(name, (e: { jobId: string }) => this.refresh(e.jobId));
    }
    await this.events.waitUntilReady();
    // A job stored but never queued (an API process stopped between the two) is queued now; queueing an id
    // BullMQ already holds does nothing.
    for (const job of this.jobs.values()) if (!job.settled && job.status !== 'damaged') await this.enqueue(job.id);
    if (this.concurrency > 0) {
      this.worker = await BullTrainingWorker.start({ ...this.options.worker, redisUrl: this.options.redisUrl, prefix: this.store.prefix, concurrency: this.concurrency, blasThreads: this.blasThreads });
    }
    // After Redis comes back, catch up on what happened meanwhile.
    this.store.redis.on('ready', () => void this.resync());
    this.timer = setInterval(() => void this.resync(), this.options.resyncMs ?? 5000);
    this.timer.unref();
  }

  private mirror(record: JobRecord): RemoteTrainingJob {
    const job = new RemoteTrainingJob(record, (j, reason) => void this.cancelStored(j, reason));
    job.once('settled', () => this.applyRetention());
    return job;
  }

  private enqueue(id: string): Promise<unknown> {
    return this.queue!.add('train', { id }, { jobId: id, attempts: 5, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 });
  }

  /** Why the queue cannot be used now (Redis unreachable), or undefined. */
  unavailable(): string | undefined {
    return this.store.unavailable();
  }

  private check(): void {
    if (this.closed) throw new Error('JobQueue: closed');
    const down = this.unavailable();
    if (down) throw new StoreUnavailableError(down);
  }

  /**
   * Stores the job, then queues it for any worker. Throws a `SpecError` for a bad spec, a `QueueFullError`
   * when `maxQueued` jobs wait (over the whole service), a `StoreUnavailableError` while Redis is unreachable.
   */
  async add(spec: TrainingSpec | RunConfig, options: SubmitOptions = {}): Promise<TrainingJob> {
    await this.ready;
    this.check();
    const config = resolveTrainingSpec(spec);
    const { running, queued } = this.counts();
    if (queued >= this.maxQueued) throw new QueueFullError(running, queued, this.maxQueued);
    const record: JobRecord = { version: 1, id: randomUUID(), owner: options.owner, config, status: 'queued', createdAt: new Date().toISOString(), history: [], hasModel: false };
    await this.store.saveRecord(record);
    const job = this.mirror(record);
    this.jobs.set(record.id, job);
    await this.enqueue(record.id);
    return job;
  }

  get(id: string): TrainingJob | undefined {
    return this.jobs.get(id);
  }

  /** Every job of the service, oldest first. */
  list(): TrainingJob[] {
    return [...this.jobs.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  damaged(): DamagedJob[] {
    return [...this.damagedJobs];
  }

  cancel(id: string, reason = 'cancelled'): boolean {
    return this.jobs.get(id)?.cancel(reason) ?? false;
  }

  /** Stores the cancellation (unless the job ended meanwhile) and takes a waiting job out of BullMQ. */
  private async cancelStored(job: RemoteTrainingJob, reason: string): Promise<void> {
    try {
      const now = new Date().toISOString();
      const r = await this.store.saveIfOpen({ ...job.toRecord(), status: 'cancelled', error: reason, finishedAt: now });
      if (r !== 'ok' && r !== 'gone') {
        // It ended elsewhere first: show what the store says.
        const rec = await this.store.readRecord(job.id);
        if (rec && typeof rec !== 'string' && this.jobs.get(job.id) === job) this.jobs.set(job.id, this.mirror(rec));
      }
      await (await this.queue?.getJob(job.id))?.remove().catch(() => undefined); // a running one is locked: its worker stops by itself
    } catch {
      // Redis unreachable: the resync after it returns shows the stored state.
    }
  }

  async purge(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    const damaged = this.damagedJobs.some((d) => d.id === id);
    if (!job && !damaged) return false;
    this.check();
    if (job && !job.settled) job.cancel('purged');
    await this.store.remove(id);
    await (await this.queue?.getJob(id))?.remove().catch(() => undefined);
    this.jobs.delete(id);
    job?.removeAllListeners();
    this.damagedJobs = this.damagedJobs.filter((d) => d.id !== id);
    return true;
  }

  async readModel(job: TrainingJob): Promise<Buffer | undefined> {
    if (!job.modelStored) return undefined;
    return this.store.readModel(job.id);
  }

  private counts(): { running: number; queued: number } {
    let running = 0;
    let queued = 0;
    for (const j of this.jobs.values()) {
      if (j.status === 'running') running++;
      else if (j.status === 'queued' || j.status === 'interrupted') queued++;
    }
    return { running, queued };
  }

  /** Service-wide counts (every API process sees the same); `concurrency` is this process's own workers. */
  stats() {
    return { ...this.counts(), concurrency: this.concurrency, maxQueued: this.maxQueued, blasThreads: this.blasThreads, cores: cores() };
  }

  /** Resolves when no job of the service is queued or running. */
  async idle(): Promise<void> {
    await this.ready.catch(() => undefined);
    for (;;) {
      const open = [...this.jobs.values()].filter((j) => !j.settled && j.status !== 'damaged');
      if (open.length === 0) return;
      await Promise.race([Promise.all(open.map((j) => j.finished)), new Promise((r) => setTimeout(r, 1000))]);
    }
  }

  /**
   * Stops this process's part: its local workers hand their running jobs back to the queue (they resume
   * elsewhere or after a restart), and its connections close. Jobs of the service are not cancelled.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    clearInterval(this.timer);
    await this.worker?.shutdown();
    await this.events?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
    // NOTE: BullMQ leaves connections it was given open; close them, or they keep the process alive.
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    await this.store.close();
  }

  /** As `close` (SIGTERM): local jobs are interrupted and go back to the queue. */
  async shutdown(_options: { graceMs?: number } = {}): Promise<void> {
    await this.close();
  }

  private onProgress(id: string, event: ProgressEvent): void {
    if (event?.type !== 'batch') return this.refresh(id);
    const job = this.jobs.get(id);
    if (!job || job.settled) return;
    // A batch before the record says 'running' (its refresh is in flight) would reach clients before 'start'.
    if (job.status !== 'running') return this.refresh(id);
    job.progress = event.progress;
    job.emit('batch', event.progress);
  }

  /** Re-reads a job's record (coalesced, and in order per job). */
  private refresh(id: string): void {
    if (this.pending.has(id) || this.closed) return;
    this.pending.add(id);
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(async () => {
      this.pending.delete(id);
      const [rec] = await this.store.readRecords([id]);
      this.applyRecord(id, rec);
    }).catch(() => undefined);
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  private applyRecord(id: string, rec: JobRecord | string | undefined): void {
    const job = this.jobs.get(id);
    if (rec === undefined) {
      // Purged by another process.
      if (job) {
        this.jobs.delete(id);
        job.removeAllListeners();
      }
      return;
    }
    if (typeof rec === 'string') return;
    if (job) job.apply(rec);
    else this.jobs.set(id, this.mirror(rec));
  }

  /** Catches up with Redis: new jobs, purged ones, and every job that has not ended. */
  private async resync(): Promise<void> {
    if (this.closed || this.unavailable()) return;
    try {
      const ids = await this.store.ids();
      const known = new Set(ids);
      for (const id of [...this.jobs.keys()]) if (!known.has(id) && !this.damagedJobs.some((d) => d.id === id)) this.applyRecord(id, undefined);
      const stale = ids.filter((id) => !this.jobs.get(id)?.settled);
      const recs = await this.store.readRecords(stale);
      stale.forEach((id, k) => this.applyRecord(id, recs[k]));
    } catch {
      // unreachable again: the next 'ready' or tick retries
    }
  }

  /** Deletes the oldest finished jobs' models beyond keepModels and records beyond keepJobs (idempotent). */
  private applyRetention(): void {
    const finished = [...this.jobs.values()].filter((j) => j.settled).sort((a, b) => (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0));
    let withModel = 0;
    for (let i = finished.length - 1; i >= 0; i--) {
      const j = finished[i];
      if (j.modelStored && ++withModel > this.keepModels) {
        j.releaseModel();
        void this.store.saveRecord(j.toRecord()).then(() => this.store.deleteModel(j.id)).catch(() => undefined);
      }
    }
    for (let i = 0; i < finished.length - this.keepJobs; i++) {
      const old = finished[i];
      this.jobs.delete(old.id);
      old.removeAllListeners();
      void this.store.remove(old.id).catch(() => undefined);
    }
  }
}
