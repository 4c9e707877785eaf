/**
 * A training worker for the Redis-backed service: takes jobs from the BullMQ queue that API processes fill
 * (`BullJobQueue`), trains each in a worker thread (so that this process's event loop stays free and renews
 * BullMQ's job lock), and keeps the job's record, each epoch's checkpoint and the model in Redis
 * (`RedisJobStore`). `npx vugrad worker --redis URL` runs one; any number may run on any machines.
 *
 * BullMQ delivers a job at least once (a worker that dies holding one loses its lock, and another worker
 * takes the job up again), so every step is safe to repeat:
 * - a job whose stored record has ended (succeeded, failed, cancelled) or is gone is not run again;
 * - a job that had started resumes from its last checkpoint in Redis, on whichever machine takes it;
 * - an epoch's record and checkpoint are written together and replace what a previous run wrote for that
 *   epoch (history is never appended to twice);
 * - every write is conditional on the job not having ended, so a job ends exactly once, and a job cancelled
 *   from an API process stops here within `cancelPollMs`.
 *
 * @example
 * const worker = await BullTrainingWorker.start({ redisUrl: 'redis://127.0.0.1:6379', concurrency: 1 });
 * process.once('SIGTERM', () => void worker.shutdown().then(() => process.exit(0)));
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkpointFile } from '../train/checkpoint';
import { TrainingJob } from './job';
import { RedisJobStore, isEnded, type SaveResult } from './redis-store';
import type { JobRecord } from './store';

/** BullMQ queue name the API processes and workers share. */
export const QUEUE_NAME = 'training';

/** BullMQ's key prefix for a store prefix (`vugrad` -> keys `vugrad:bull:training:*`). */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/** An ioredis connection for BullMQ (which needs `maxRetriesPerRequest: null`): reconnects for ever. */
export function bullConnection(url: string): Redis {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const IORedis = (require('ioredis') as typeof import('ioredis')).default;
  const c = new IORedis(url, { maxRetriesPerRequest: null, retryStrategy: (n: number) => Math.min(100 * n, 1000), connectTimeout: 2000 });
  c.on('error', () => undefined); // reported by the store's connection; ioredis reconnects
  return c;
}

/** What a BullMQ job carries: only the id (the record, in the store, is the truth). */
export interface QueuedJobData {
  id: string;
}

/** What a progress event says (BullMQ's `job.updateProgress`, heard by every API process's QueueEvents). */
export type ProgressEvent = { type: 'batch'; progress: NonNullable<TrainingJob['progress']> } | { type: 'record' };

export interface BullTrainingWorkerOptions {
  redisUrl: string;
  /** Key prefix shared with the API processes. Default `vugrad`. */
  prefix?: string;
  /** Jobs trained at once by this process (one worker thread each). Default 1. */
  concurrency?: number;
  /** BLAS threads per job. Default floor(cores / concurrency), at least 1. */
  blasThreads?: number;
  /**
   * BullMQ's job lock (ms): a worker that has not renewed it for this long is taken for dead and its job is
   * given to another. Default 30 000.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose lock expired (ms). Default 30 000. */
  stalledIntervalMs?: number;
  /** Times a job may be taken up again after its worker died before it counts as failed. Default 10. */
  maxStalledCount?: number;
  /** At most one batch event per job per this many ms. Default 500. */
  progressEveryMs?: number;
  /** How often a running job checks whether it was cancelled (ms). Default 500. */
  cancelPollMs?: number;
  /** V8 heap limits for each training thread. */
  resourceLimits?: ResourceLimits;
  /** One line per job event (default: nothing). */
  log?: (line: string) => void;
}

interface Active {
  job: TrainingJob;
  /** Set when this process stops: the job is interrupted, not ended, and goes back to the queue. */
  interrupted?: () => void;
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * A BullMQ worker that trains vugrad jobs. Start with `BullTrainingWorker.start`; stop with `shutdown`
 * (running jobs are interrupted and handed back to the queue at once, to resume from their last checkpoint).
 */
export class BullTrainingWorker {
  readonly store: RedisJobStore;
  readonly concurrency: number;
  readonly blasThreads: number;
  private readonly options: BullTrainingWorkerOptions;
  private readonly log: (line: string) => void;
  private worker?: Worker<QueuedJobData, string>;
  private connection?: Redis;
  private readonly active = new Map<string, Active>();
  private stopping = false;
  /** Jobs this process finished (succeeded, failed or cancelled), for tests and the CLI's summary. */
  finished = 0;

  private constructor(options: BullTrainingWorkerOptions) {
    this.options = options;
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`worker: concurrency must be an integer >= 1, got ${options.concurrency}`);
    this.blasThreads = options.blasThreads ?? Math.max(1, Math.floor(cores() / this.concurrency));
    this.log = options.log ?? (() => undefined);
    this.store = new RedisJobStore(options.redisUrl, { prefix: options.prefix, failFast: false });
  }

  /** Connects to Redis (rejects with a `StoreError` when it cannot) and starts taking jobs. */
  static async start(options: BullTrainingWorkerOptions): Promise<BullTrainingWorker> {
    const w = new BullTrainingWorker(options);
    await w.run();
    return w;
  }

  private async run(): Promise<void> {
    await this.store.connect();
    const { Worker } = await import('bullmq');
    const o = this.options;
    this.connection = bullConnection(o.redisUrl);
    this.worker = new Worker<QueuedJobData, string>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: this.connection,
      prefix: bullPrefix(this.store.prefix),
      concurrency: this.concurrency,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 30_000,
      maxStalledCount: o.maxStalledCount ?? 10,
    });
    // Once per distinct error: while Redis is down, ioredis retries (and fails) every second.
    let last = '';
    this.worker.on('error', (e) => {
      if (e.message !== last) this.log(`worker: ${e.message}`);
      last = e.message;
    });
    this.store.redis.on('ready', () => {
      if (last) this.log('worker: connected to Redis again');
      last = '';
    });
    await this.worker.waitUntilReady();
  }

  /** Jobs training in this process now. */
  running(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Stops taking jobs; running ones are interrupted (their record says so, their last checkpoint is in
   * Redis) and handed back to the queue, where another worker resumes them. Then closes the connections.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    const closing = this.worker?.close();
    for (const a of this.active.values()) a.interrupted?.();
    await closing;
    // NOTE: BullMQ leaves a connection it was given open; an open socket would keep the process alive.
    await this.connection?.quit().catch(() => this.connection?.disconnect());
    await this.store.close();
  }

  /** `shutdown` (a distributed job is never cancelled because one worker stops). */
  close(): Promise<void> {
    return this.shutdown();
  }

  private async process(bjob: Job<QueuedJobData, string>, token?: string): Promise<string> {
    const id = bjob.data.id;
    const found = await this.store.readRecord(id);
    if (found === undefined) return 'gone'; // purged while it waited
    if (typeof found === 'string') return `damaged: ${found}`;
    if (isEnded(found.status)) return found.status; // a repeated delivery of a job that has ended
    if (this.stopping) {
      await bjob.moveToWait(token);
      const { WaitingError } = await import('bullmq');
      throw new WaitingError();
    }
    try {
      return await this.train(bjob, found, token);
    } catch (e) {
      // Unexpected (the training's own failures are stored and returned): BullMQ retries the job; after the
      // last attempt the record says why, so that it does not stay 'running' for ever.
      if ((e as Error).name !== 'WaitingError' && bjob.attemptsMade + 1 >= (bjob.opts.attempts ?? 1)) {
        const r = await this.store.readRecord(id).catch(() => undefined);
        if (r && typeof r !== 'string') {
          await this.store.saveIfOpen({ ...r, status: 'failed', error: `the worker failed: ${(e as Error).message}`, finishedAt: new Date().toISOString() }).catch(() => undefined);
        }
      }
      throw e;
    }
  }

  private async train(bjob: Job<QueuedJobData, string>, found: JobRecord, token?: string): Promise<string> {
    const id = found.id;
    const resuming = found.status === 'running' || found.status === 'interrupted';
    const dir = `${this.store.checkpointDir(id)}-${randomBytes(4).toString('hex')}`;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const file = checkpointFile(dir);
    const checkpoint = await this.store.readCheckpoint(id);
    if (checkpoint) fs.writeFileSync(file, checkpoint);

    let stopped: SaveResult | undefined;
    const report = (event: ProgressEvent) => void bjob.updateProgress(event).catch(() => undefined);
    const job = TrainingJob.fromRecord(found, {
      saveEpoch: async (j) => {
        // The training thread wrote this epoch's checkpoint before reporting the epoch.
        const bytes = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
        const r = await this.store.saveIfOpen(j.toRecord(), bytes);
        if (r !== 'ok') stop(r);
        else report({ type: 'record' });
      },
      saveModel: (bytes) => this.store.saveModel(id, bytes),
    });
    if (resuming) job.resumed++;
    const stop = (why: SaveResult) => {
      if (stopped) return;
      stopped = why;
      job.cancel(why === 'gone' ? 'the job was purged' : `the job was ${why} elsewhere`);
    };
    let onInterrupt!: () => void;
    const interrupted = new Promise<'interrupted'>((resolve) => (onInterrupt = () => resolve('interrupted')));
    const entry: Active = {
      job,
      interrupted: () => {
        if (job.interrupt()) onInterrupt();
      },
    };
    this.active.set(id, entry);
    const poll = setInterval(() => {
      this.store.status(id).then(
        (s) => {
          if (s === undefined) stop('gone');
          else if (isEnded(s)) stop(s as SaveResult);
        },
        () => undefined,
      );
    }, this.options.cancelPollMs ?? 500);
    let lastBatch = 0;
    job.on('start', () => {
      void this.store.saveIfOpen(job.toRecord()).then((r) => (r === 'ok' ? report({ type: 'record' }) : stop(r)), () => undefined);
    });
    job.on('batch', (p) => {
      const now = Date.now();
      if (now - lastBatch < (this.options.progressEveryMs ?? 500) && p.batch !== p.batches) return;
      lastBatch = now;
      report({ type: 'batch', progress: p });
    });
    try {
      this.log(`job ${id}: ${resuming ? `resuming${checkpoint ? ' from its checkpoint' : ''}` : 'starting'}`);
      job.start({ blasThreads: this.blasThreads, progressEveryMs: Math.min(200, this.options.progressEveryMs ?? 500), resourceLimits: this.options.resourceLimits, checkpointDir: dir, resume: checkpoint !== undefined });
      const first = await this.store.saveIfOpen(job.toRecord());
      if (first !== 'ok') stop(first);
      else report({ type: 'record' });
      if (this.stopping) entry.interrupted?.();
      const outcome = await Promise.race([job.finished.then(() => job.status), interrupted]);
      if (outcome === 'interrupted' || job.status === 'interrupted') {
        await job.workerExited();
        await this.store.saveIfOpen(job.toRecord());
        this.log(`job ${id}: interrupted at epoch ${job.history.length + 1}; back in the queue`);
        await bjob.moveToWait(token);
        const { WaitingError } = await import('bullmq');
        throw new WaitingError();
      }
      if (stopped) {
        this.log(`job ${id}: stopped (${stopped})`);
        return stopped;
      }
      // Succeeded or failed: the record ends once, whichever worker gets here first.
      const r = await this.store.saveIfOpen(job.toRecord());
      this.finished++;
      if (r === 'ok') {
        if (job.status === 'succeeded') await this.store.deleteCheckpoint(id);
        report({ type: 'record' });
        this.log(`job ${id}: ${job.status}${job.error ? `: ${job.error}` : ''}`);
        return job.status;
      }
      this.log(`job ${id}: finished here too, but its record already says ${r}; kept that`);
      return r;
    } finally {
      clearInterval(poll);
      this.active.delete(id);
      await job.workerExited();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
