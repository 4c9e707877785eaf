/**
 * Training from a server: jobs in worker threads (the event loop stays free), a queue with a concurrency
 * limit over a durable job store (records, checkpoints and models survive a crash), and helpers to use a
 * finished job's model. See docs/server.md.
 */
export { JobQueue, type JobQueueOptions, type QueueStats, type SubmitOptions } from './job-queue';
export { TrainingJob, type JobStatus, type JobSummary, type JobStartOptions, type TrainingJobEvents, type TrainingJobOptions } from './job';
export { trainInWorker, type TrainInWorkerOptions, type TrainingResult } from './train-in-worker';
export { resolveTrainingSpec, type TrainingSpec } from './spec';
export { SpecError, QueueFullError, TrainingError, InputError } from './errors';
export { modelFromJob, predictRows, type Predictions } from './predict';
export { FileJobStore } from './file-store';
export { StoreError, type DamagedJob, type JobRecord, type JobStore, type StoredJobs } from './store';
export type { BatchProgress, JobInfo } from './protocol';
// Scale-out on Redis (issue 15): bullmq and ioredis load only when a BullJobQueue or worker is made.
export { BullJobQueue, createJobQueue, RemoteTrainingJob, type BullJobQueueOptions, type JobQueueApi } from './bullmq-queue';
export { BullTrainingWorker, type BullTrainingWorkerOptions } from './bullmq-worker';
export { RedisJobStore, StoreUnavailableError, type RedisJobStoreOptions } from './redis-store';
