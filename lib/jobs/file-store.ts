/**
 * The embedded job store: plain files in a state directory, each written atomically (a temporary file,
 * fsync, rename, then fsync of the directory), so that a crash at any instant leaves either the old or the
 * new version of every file, never a torn one. Needs no server and no dependency.
 *
 * ```
 * STATE_DIR/store.json                       format marker ({ format: 'vugrad-jobs', version: 1 })
 * STATE_DIR/jobs/<id>/record.json            the job's record (JobRecord)
 * STATE_DIR/jobs/<id>/model.safetensors      its trained model, once it succeeded
 * STATE_DIR/jobs/<id>/checkpoint/            its training checkpoint (lib/train's format), while it runs
 * ```
 *
 * NOTE: files rather than SQLite (better-sqlite3): a job's largest parts are binary blobs (models and
 * checkpoints of several MB) that are written once per epoch and read rarely, which files do as well as a
 * database; the checkpoint is the same directory `vugrad train --resume` reads; and files need no native
 * dependency compiled at install (better-sqlite3 12 has no prebuilt binary for every platform, 13 needs
 * Node 22). The one thing SQLite would add, transactions over several jobs, the queue does not need: each
 * write concerns one job and is atomic by itself.
 *
 * @example
 * const store = new FileJobStore(process.env.VUGRAD_STATE_DIR ?? './vugrad-state');
 * const queue = new JobQueue({ store });
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StoreError, type DamagedJob, type JobRecord, type JobStatus, type JobStore, type StoredJobs } from './store';

const RECORD = 'record.json';
const MODEL = 'model.safetensors';
const CHECKPOINT = 'checkpoint';
const STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'damaged'];
/** Job ids become directory names: only these, so that no id can name a path outside the store. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Opens `dir` for reading only (to fsync a directory, which makes a rename or a new entry in it durable). */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `file` atomically and durably: temporary file in the same directory, fsync, rename over
 * the target, fsync of the directory. A reader sees the old file or the new one, never part of one.
 *
 * NOTE: the asynchronous twin of lib/io/atomic-file's `writeFileAtomic`: the store runs on a server's event
 * loop, which must not wait on fsync (the worker threads' checkpoints use the synchronous one).
 */
async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fsp.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(file));
}

/** Why a record's JSON cannot be a JobRecord, or undefined when it can. */
function recordProblem(r: unknown, id: string): string | undefined {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (o.id !== id) return `its id ${JSON.stringify(o.id)} is not its directory's name`;
  if (!STATUSES.includes(o.status as JobStatus)) return `unknown status ${JSON.stringify(o.status)}`;
  if (o.config === null || typeof o.config !== 'object') return 'no config';
  if (!Array.isArray(o.history)) return 'no history';
  if (typeof o.createdAt !== 'string') return 'no createdAt';
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Total bytes of the files under `dir` (0 when it does not exist). */
async function duSize(dir: string): Promise<number> {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await duSize(p);
    else if (e.isFile()) total += (await fsp.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Jobs in files under a state directory. See the module comment for the layout and the choice of files.
 */
export class FileJobStore implements JobStore {
  readonly kind = 'files';
  readonly dir: string;
  private damaged: DamagedJob[] = [];
  private readonly jobsDir: string;
  /** Per job, the last write in flight: writes for one job are chained so that they land in call order. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Job directories known to exist (created and their parent fsynced). */
  private readonly dirs = new Set<string>();
  private sizeCache?: { at: number; bytes: Promise<number> };

  /** @param dir the state directory (created when missing). */
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.jobsDir = path.join(this.dir, 'jobs');
  }

  async open(): Promise<StoredJobs> {
    try {
      await fsp.mkdir(this.jobsDir, { recursive: true });
      const marker = path.join(this.dir, 'store.json');
      if (await exists(marker)) {
        let m: { format?: string; version?: number };
        try {
          m = JSON.parse(await fsp.readFile(marker, 'utf8')) as { format?: string; version?: number };
        } catch (e) {
          throw new Error(`store.json is not valid JSON (${(e as Error).message}); if this directory holds vugrad jobs, delete store.json and start again`);
        }
        if (m.format !== 'vugrad-jobs' || m.version !== 1) throw new Error(`store.json says format ${m.format} version ${m.version}; this vugrad reads vugrad-jobs version 1`);
      } else {
        await writeFileAtomic(marker, JSON.stringify({ format: 'vugrad-jobs', version: 1 }) + '\n');
      }
    } catch (e) {
      throw new StoreError(`job store in ${this.dir} cannot be used: ${(e as Error).message}`);
    }
    const records: JobRecord[] = [];
    this.damaged = [];
    const names = (await fsp.readdir(this.jobsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && ID.test(e.name)).map((e) => e.name);
    // NOTE: read in parallel batches; one at a time makes a restart with 1,000 jobs wait on 1,000 round trips.
    const BATCH = 64;
    for (let i = 0; i < names.length; i += BATCH) {
      await Promise.all(names.slice(i, i + BATCH).map((id) => this.openOne(id, records)));
    }
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return { records, damaged: this.damaged };
  }

  private async openOne(id: string, records: JobRecord[]): Promise<void> {
    try {
      await this.readOne(id, records);
    } catch (e) {
      // Whatever is wrong with one job's directory, the others still load.
      await this.markDamaged(id, `its directory cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  private async readOne(id: string, records: JobRecord[]): Promise<void> {
    const dir = path.join(this.jobsDir, id);
    this.dirs.add(id);
    // Temporary files of writes that a crash interrupted: the rename never happened, so they hold nothing.
    for (const name of await fsp.readdir(dir)) if (name.endsWith('.tmp')) await fsp.rm(path.join(dir, name), { force: true });
    let text: string;
    try {
      text = await fsp.readFile(path.join(dir, RECORD), 'utf8');
    } catch (e) {
      return this.markDamaged(id, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its record file is missing' : `its record cannot be read (${(e as NodeJS.ErrnoException).code})`);
    }
    let record: JobRecord;
    try {
      record = JSON.parse(text) as JobRecord;
    } catch (e) {
      return this.markDamaged(id, `its record is not valid JSON (${(e as Error).message}); the file may be truncated`);
    }
    const problem = recordProblem(record, id);
    if (problem) return this.markDamaged(id, `its record is not a job record: ${problem}`);
    if (record.hasModel && !(await exists(path.join(dir, MODEL)))) {
      record.hasModel = false;
      record.damaged = 'its model file is missing from the store';
    }
    records.push(record);
  }

  private async markDamaged(id: string, reason: string): Promise<void> {
    const stat = await fsp.stat(path.join(this.jobsDir, id)).catch(() => undefined);
    this.damaged.push({ id, reason, modifiedAt: (stat?.mtime ?? new Date(0)).toISOString() });
  }

  /** Runs `write` after every earlier write for job `id` (whatever their outcome). */
  private chain<T>(id: string, write: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(write, write);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    this.sizeCache = undefined;
    return next;
  }

  private jobDir(id: string): string {
    if (!ID.test(id)) throw new StoreError(`job store: '${id}' is not a job id`);
    return path.join(this.jobsDir, id);
  }

  private async ensureDir(id: string): Promise<string> {
    const dir = this.jobDir(id);
    if (!this.dirs.has(id)) {
      await fsp.mkdir(dir, { recursive: true });
      await fsyncDir(this.jobsDir);
      this.dirs.add(id);
    }
    return dir;
  }

  saveRecord(record: JobRecord): Promise<void> {
    const text = JSON.stringify(record);
    return this.chain(record.id, async () => writeFileAtomic(path.join(await this.ensureDir(record.id), RECORD), text));
  }

  saveModel(id: string, bytes: Uint8Array): Promise<void> {
    return this.chain(id, async () => writeFileAtomic(path.join(await this.ensureDir(id), MODEL), bytes));
  }

  async readModel(id: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(path.join(this.jobDir(id), MODEL));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  deleteModel(id: string): Promise<void> {
    return this.chain(id, () => fsp.rm(path.join(this.jobDir(id), MODEL), { force: true }));
  }

  deleteCheckpoint(id: string): Promise<void> {
    return this.chain(id, () => fsp.rm(path.join(this.jobDir(id), CHECKPOINT), { recursive: true, force: true }));
  }

  remove(id: string): Promise<void> {
    return this.chain(id, async () => {
      await fsp.rm(this.jobDir(id), { recursive: true, force: true });
      this.dirs.delete(id);
    });
  }

  checkpointDir(id: string): string {
    return path.join(this.jobDir(id), CHECKPOINT);
  }

  /** Recomputed at most every 5 s (walking 1,000 job directories on every /health would cost). */
  sizeOnDisk(): Promise<number> {
    const now = Date.now();
    if (!this.sizeCache || now - this.sizeCache.at > 5000) this.sizeCache = { at: now, bytes: duSize(this.dir) };
    return this.sizeCache.bytes;
  }
}
