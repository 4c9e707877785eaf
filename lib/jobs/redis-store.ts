/**
 * The job store on Redis: every job's record, its model and its training checkpoint live in one Redis that
 * any number of API and worker machines share (durability is Redis's: run it with `appendonly yes`, and
 * `maxmemory-policy noeviction` so that it never drops a key to make room). Used by `BullJobQueue`
 * (`redisUrl`); it also implements the plain `JobStore` interface.
 *
 * ```
 * <prefix>:jobs             sorted set of job ids, scored by creation time (ms)
 * <prefix>:job:<id>         hash: record (JobRecord as JSON), status (the record's status, for cheap checks)
 * <prefix>:model:<id>       the trained model (safetensors bytes)
 * <prefix>:ckpt:<id>        the training checkpoint (lib/train's checkpoint.safetensors bytes)
 * ```
 *
 * Delivery of queued jobs is at least once, so writes that a worker makes are conditional (`saveIfOpen`, a
 * Lua script run atomically by Redis): a record whose job has ended (succeeded, failed, cancelled) or was
 * purged is never overwritten, so a job that two workers ran ends exactly once, and a cancelled job stays
 * cancelled. An epoch's record and its checkpoint are written together, so a resumed job's history and
 * weights always agree.
 *
 * NOTE: ioredis is required lazily (in `connect`): a program that never names a Redis never loads it.
 *
 * @example
 * const store = new RedisJobStore('redis://127.0.0.1:6379');
 * const { records } = await store.open();
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Redis, RedisOptions } from 'ioredis';
import { StoreError, type DamagedJob, type JobRecord, type JobStatus, type JobStore, type StoredJobs } from './store';

const ENDED: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** The store cannot reach Redis right now (it reconnects by itself); a server answers 503 with the message. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
}

export interface RedisJobStoreOptions {
  /** Key prefix (several services can share one Redis). Default `vugrad`. */
  prefix?: string;
  /**
   * `true` (an API process): commands fail at once while Redis is unreachable, so that requests get a 503
   * instead of hanging. `false` (a worker): commands wait for the reconnection, so that a Redis restart in
   * the middle of a job does not fail it. Default true.
   */
  failFast?: boolean;
  /** How long `open` waits for a first connection. Default 10 s. */
  connectTimeoutMs?: number;
}

/** The result of a conditional write: `ok`, or why it was not made (the job ended with that status, or is gone). */
export type SaveResult = 'ok' | 'gone' | 'succeeded' | 'failed' | 'cancelled';

// KEYS: job hash, checkpoint key, jobs zset. ARGV: record JSON, status, checkpoint bytes ('' for none),
// mode ('open': only while the job has not ended; 'any'), score, id.
const SAVE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'status')
if ARGV[4] == 'open' then
  if not cur then return 'gone' end
  if cur == 'succeeded' or cur == 'failed' or cur == 'cancelled' then return cur end
end
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'status', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
return 'ok'
`;

type ScriptedRedis = Redis & {
  vugradSave(job: string, ckpt: string, jobs: string, record: string, status: string, checkpoint: Buffer | string, mode: string, score: number, id: string): Promise<string>;
};

/** `redis://host:port/db` without its password, for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'Redis';
  }
}

export class RedisJobStore implements JobStore {
  readonly kind = 'redis';
  readonly url: string;
  readonly prefix: string;
  private readonly failFast: boolean;
  private readonly connectTimeoutMs: number;
  private client?: ScriptedRedis;
  private lastError?: string;
  private sizeCache?: { at: number; bytes: number };
  private readonly scratch: string;

  constructor(url: string, options: RedisJobStoreOptions = {}) {
    this.url = url;
    this.prefix = options.prefix ?? 'vugrad';
    this.failFast = options.failFast ?? true;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.scratch = path.join(os.tmpdir(), `vugrad-checkpoints-${process.pid}`);
  }

  /** The Redis connection options this store uses (BullMQ's own connections take `maxRetriesPerRequest: null`). */
  static connectionOptions(failFast: boolean): RedisOptions {
    return {
      lazyConnect: true,
      // Reconnect for ever, at most a second apart: the store recovers by itself when Redis is back.
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
      maxRetriesPerRequest: failFast ? 0 : null,
      enableOfflineQueue: !failFast,
      connectTimeout: 2000,
    };
  }

  private key(kind: 'job' | 'model' | 'ckpt', id: string): string {
    return `${this.prefix}:${kind}:${id}`;
  }

  private get jobsKey(): string {
    return `${this.prefix}:jobs`;
  }

  /** Connects (once); rejects with a `StoreError` when Redis cannot be reached within `connectTimeoutMs`. */
  async connect(): Promise<Redis> {
    if (this.client) return this.client;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const IORedis = (require('ioredis') as typeof import('ioredis')).default;
    const client = new IORedis(this.url, RedisJobStore.connectionOptions(this.failFast)) as ScriptedRedis;
    client.defineCommand('vugradSave', { numberOfKeys: 3, lua: SAVE_SCRIPT });
    client.on('error', (e: Error) => (this.lastError = e.message));
    client.on('ready', () => (this.lastError = undefined));
    this.client = client;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreError(`job store: Redis at ${describeRedisUrl(this.url)} is unreachable (${this.lastError ?? 'no answer'}) after ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.connect().catch(() => undefined); // retried by retryStrategy; 'ready' says when it worked
    try {
      await ready;
    } catch (e) {
      client.disconnect();
      this.client = undefined;
      throw e;
    }
    return client;
  }

  /** The connection (after `connect`/`open`). */
  get redis(): Redis {
    if (!this.client) throw new StoreError('job store: not connected to Redis (call open() first)');
    return this.client;
  }

  /** Why the store cannot be used right now (Redis unreachable), or undefined when it can. */
  unavailable(): string | undefined {
    if (!this.client) return `the job store (Redis at ${describeRedisUrl(this.url)}) is not connected`;
    if (this.client.status === 'ready') return undefined;
    return `the job store (Redis at ${describeRedisUrl(this.url)}) is unreachable${this.lastError ? ` (${this.lastError})` : ''}; it reconnects by itself, try again in a moment`;
  }

  /** Runs a command, turning a connection failure into a `StoreUnavailableError`. */
  private async call<T>(run: (r: ScriptedRedis) => Promise<T>): Promise<T> {
    const down = this.failFast ? this.unavailable() : undefined;
    if (down) throw new StoreUnavailableError(down);
    try {
      return await run(this.redis as ScriptedRedis);
    } catch (e) {
      const down2 = this.unavailable();
      if (down2) throw new StoreUnavailableError(down2);
      throw e;
    }
  }

  async open(): Promise<StoredJobs> {
    await this.connect();
    const ids = await this.call((r) => r.zrange(this.jobsKey, 0, -1));
    const records: JobRecord[] = [];
    const damaged: DamagedJob[] = [];
    const BATCH = 256;
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      const texts = await this.call((r) => {
        const p = r.pipeline();
        for (const id of part) p.hget(this.key('job', id), 'record');
        return p.exec();
      });
      const withModel: JobRecord[] = [];
      part.forEach((id, k) => {
        const [err, text] = texts?.[k] ?? [null, null];
        const parsed = err ? undefined : parseRecord(id, text as string | null);
        if (!parsed || typeof parsed === 'string') {
          damaged.push({ id, reason: err ? err.message : (parsed ?? 'its record is missing'), modifiedAt: new Date(0).toISOString() });
          return;
        }
        records.push(parsed);
        if (parsed.hasModel) withModel.push(parsed);
      });
      if (withModel.length > 0) {
        const found = await this.call((r) => {
          const p = r.pipeline();
          for (const rec of withModel) p.exists(this.key('model', rec.id));
          return p.exec();
        });
        withModel.forEach((rec, k) => {
          if (found?.[k]?.[1] === 0) {
            rec.hasModel = false;
            rec.damaged = 'its model is missing from the store';
          }
        });
      }
    }
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return { records, damaged };
  }

  /** Every job id, oldest first. */
  ids(): Promise<string[]> {
    return this.call((r) => r.zrange(this.jobsKey, 0, -1));
  }

  /** One job's record; undefined when there is none (purged), a string saying why when it cannot be read. */
  async readRecord(id: string): Promise<JobRecord | string | undefined> {
    const text = await this.call((r) => r.hget(this.key('job', id), 'record'));
    return text === null ? undefined : parseRecord(id, text);
  }

  /** Several records at once (one round trip). */
  async readRecords(ids: string[]): Promise<(JobRecord | string | undefined)[]> {
    if (ids.length === 0) return [];
    const texts = await this.call((r) => {
      const p = r.pipeline();
      for (const id of ids) p.hget(this.key('job', id), 'record');
      return p.exec();
    });
    return ids.map((id, k) => {
      const text = texts?.[k]?.[1] as string | null | undefined;
      return text == null ? undefined : parseRecord(id, text);
    });
  }

  /** A job's status, undefined when the job is gone. */
  async status(id: string): Promise<JobStatus | undefined> {
    return ((await this.call((r) => r.hget(this.key('job', id), 'status'))) ?? undefined) as JobStatus | undefined;
  }

  saveRecord(record: JobRecord): Promise<void> {
    return this.save(record, 'any').then(() => undefined);
  }

  /**
   * Stores `record` (and `checkpoint`, in the same atomic step) only while the stored job has not ended and
   * still exists; says what it found otherwise. A worker's every write goes through here.
   */
  saveIfOpen(record: JobRecord, checkpoint?: Uint8Array): Promise<SaveResult> {
    return this.save(record, 'open', checkpoint);
  }

  private async save(record: JobRecord, mode: 'open' | 'any', checkpoint?: Uint8Array): Promise<SaveResult> {
    const score = Date.parse(record.createdAt) || Date.now();
    const ck = checkpoint ? Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength) : '';
    return (await this.call((r) =>
      r.vugradSave(this.key('job', record.id), this.key('ckpt', record.id), this.jobsKey, JSON.stringify(record), record.status, ck, mode, score, record.id),
    )) as SaveResult;
  }

  async saveModel(id: string, bytes: Uint8Array): Promise<void> {
    await this.call((r) => r.set(this.key('model', id), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  }

  async readModel(id: string): Promise<Buffer | undefined> {
    return (await this.call((r) => r.getBuffer(this.key('model', id)))) ?? undefined;
  }

  /** The job's last checkpoint (lib/train's format), undefined when it has none. */
  async readCheckpoint(id: string): Promise<Buffer | undefined> {
    return (await this.call((r) => r.getBuffer(this.key('ckpt', id)))) ?? undefined;
  }

  async deleteModel(id: string): Promise<void> {
    await this.call((r) => r.del(this.key('model', id)));
  }

  async deleteCheckpoint(id: string): Promise<void> {
    await this.call((r) => r.del(this.key('ckpt', id)));
    fs.rmSync(this.checkpointDir(id), { recursive: true, force: true });
  }

  async remove(id: string): Promise<void> {
    await this.call((r) => r.multi().del(this.key('job', id), this.key('model', id), this.key('ckpt', id)).zrem(this.jobsKey, id).exec());
  }

  /**
   * A local scratch directory for the job's checkpoint while this process trains it (the training worker
   * writes there; `BullJobQueue`'s workers copy each epoch's checkpoint into Redis with the epoch's record).
   */
  checkpointDir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(id)) throw new StoreError(`job store: '${id}' is not a job id`);
    return path.join(this.scratch, id);
  }

  /** Redis's memory use (`used_memory`), refreshed at most every 5 s; the last known value while unreachable. */
  async sizeOnDisk(): Promise<number> {
    const now = Date.now();
    if (this.sizeCache && now - this.sizeCache.at < 5000) return this.sizeCache.bytes;
    try {
      const info = await this.call((r) => r.info('memory'));
      const bytes = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      this.sizeCache = { at: now, bytes };
      return bytes;
    } catch {
      return this.sizeCache?.bytes ?? 0;
    }
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    await c.quit().catch(() => c.disconnect());
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** A stored record's JSON as a JobRecord, or why it is not one. */
function parseRecord(id: string, text: string | null): JobRecord | string | undefined {
  if (text === null) return undefined;
  let r: JobRecord;
  try {
    r = JSON.parse(text) as JobRecord;
  } catch (e) {
    return `its record is not valid JSON (${(e as Error).message})`;
  }
  if (r === null || typeof r !== 'object' || r.id !== id || !Array.isArray(r.history) || typeof r.config !== 'object') return 'its record is not a job record';
  return r;
}

/** True for a status after which a job never changes. */
export function isEnded(status: JobStatus | undefined): boolean {
  return status !== undefined && ENDED.includes(status);
}
