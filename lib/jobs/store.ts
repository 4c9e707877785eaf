/**
 * Where a `JobQueue` keeps what its users made: each job's record (spec, owner, status, history, error,
 * timestamps), its trained model and its training checkpoint. The queue holds live jobs in memory but never
 * reports a job, an epoch or a model before the store has it, so that a crash costs at most the epoch in flight.
 *
 * One small interface, so that stores can be swapped: `FileJobStore` (files in a state directory, written
 * atomically; the default, needs nothing else) and, for several machines, a store on a shared engine.
 *
 * @example
 * const queue = new JobQueue({ store: new FileJobStore('/var/lib/vugrad') });
 * await queue.ready;                     // stored jobs are listed again; interrupted ones resume
 */
import type { RunConfig } from '../train/config';
import type { EpochMetrics } from '../train/fit';
import type { JobInfo } from './protocol';

/**
 * A job's life: `queued` -> `running` -> `succeeded` | `failed` | `cancelled`. `interrupted`: the process
 * stopped while it ran (SIGTERM or a crash); the next start resumes it from its checkpoint or fails it.
 * `damaged`: the store could not read the job's record (listed, never run).
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'damaged';

/** A job as the store keeps it: plain JSON. */
export interface JobRecord {
  /** Format version of the record (1). */
  version: 1;
  id: string;
  /** Who submitted it (a server's token name); none for a queue used without owners. */
  owner?: string;
  config: RunConfig;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  info?: JobInfo;
  history: EpochMetrics[];
  error?: string;
  /** True once the trained model is in the store (false again when retention deleted it). */
  hasModel: boolean;
  /** How many times the job was resumed from a checkpoint after an interruption. */
  resumed?: number;
  /** Why the store thinks the job is damaged (a missing model file, an unreadable record). */
  damaged?: string;
}

/** What a store found when it was opened. */
export interface StoredJobs {
  /** Every readable record, oldest first (by `createdAt`). Records whose files are missing carry `damaged`. */
  records: JobRecord[];
  /** Jobs whose record could not be read: listed as damaged, never run, never deleted unless purged. */
  damaged: DamagedJob[];
}

/** A job the store knows of but whose record it cannot read (a truncated or missing record.json). */
export interface DamagedJob {
  id: string;
  reason: string;
  /** When its files were last changed (the best guess of its age). */
  modifiedAt: string;
}

/**
 * The storage behind `JobQueue`. Every method that writes resolves only when the data is durable (a later
 * crash keeps it). Writes for one job are applied in the order they were called.
 */
export interface JobStore {
  /** A short name for logs and /health (`files`). */
  readonly kind: string;
  /** Reads every stored job (called once, before anything else). Damaged records are reported, never dropped. */
  open(): Promise<StoredJobs>;
  /** Stores a job's record, replacing the previous one. */
  saveRecord(record: JobRecord): Promise<void>;
  /** Stores a job's trained model (safetensors bytes). */
  saveModel(id: string, bytes: Uint8Array): Promise<void>;
  /** A job's model, or undefined when the store has none. */
  readModel(id: string): Promise<Buffer | undefined>;
  /** Deletes a job's model (retention); the record stays. */
  deleteModel(id: string): Promise<void>;
  /** Deletes a job's checkpoint (once the job has ended it is not needed). */
  deleteCheckpoint(id: string): Promise<void>;
  /** Deletes everything about a job: record, model, checkpoint. */
  remove(id: string): Promise<void>;
  /**
   * A local directory where the job's training worker writes its checkpoints (lib/train's checkpoint format)
   * and reads them back on resume. Created on demand.
   */
  checkpointDir(id: string): string;
  /** Bytes the store takes on disk (for /health). */
  sizeOnDisk(): Promise<number>;
}

/** The store could not be used at all (its directory is not writable, a file is in the way). */
export class StoreError extends Error {
  override name = 'StoreError';
  readonly code = 'STORE_FAILED';
}
