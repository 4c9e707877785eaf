/**
 * The run configuration moved to the training recipe (`lib/train/config`), which the job queue shares; this
 * module re-exports it so that existing imports keep working.
 */
export * from '../train/config';
