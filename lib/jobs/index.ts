/**
 * Training from a server: jobs in worker threads (the event loop stays free), a queue with a concurrency
 * limit, and helpers to use a finished job's model. See docs/server.md.
 */
export { JobQueue, type JobQueueOptions, type QueueStats } from './job-queue';
export { TrainingJob, type JobStatus, type JobSummary, type JobStartOptions, type TrainingJobEvents } from './job';
export { trainInWorker, type TrainInWorkerOptions, type TrainingResult } from './train-in-worker';
export { resolveTrainingSpec, type TrainingSpec } from './spec';
export { SpecError, QueueFullError, TrainingError } from './errors';
export { modelFromJob, predictRows, type Predictions } from './predict';
export type { BatchProgress, JobInfo } from './protocol';
