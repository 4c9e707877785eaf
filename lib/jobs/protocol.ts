/** The messages between a `TrainingJob` and its worker thread (structured-clone data only). */
import type { RunConfig } from '../train/config';
import type { DType } from '../core/ndarray';
import type { EpochMetrics } from '../train/fit';

/** What the worker is started with (its `workerData`). */
export interface WorkerInput {
  config: RunConfig;
  /** BLAS threads for this worker's gemms (`setNumThreads`); none leaves the process setting. */
  blasThreads?: number;
  /** At most one batch message per this many ms (the last batch of each epoch is always sent). */
  progressEveryMs: number;
  /** For the TypeScript bootstrap: the module that runs the job. */
  entry?: string;
  /**
   * Where to write a checkpoint at every epoch end (lib/train's format, the one `vugrad train --resume` reads);
   * none: no checkpoints.
   */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` when there is one (else start from the beginning). */
  resume?: boolean;
}

/** A throttled batch report: the batch's loss and accuracy and the epoch's throughput so far. */
export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  /** Samples seen so far in this epoch. */
  samples: number;
  samplesPerSec: number;
}

/** What the worker learnt about the data and the kernels before training. */
export interface JobInfo {
  /** One sample's shape: `[784]` for the MNIST MLP, `[1, 28, 28]` for LeNet. */
  inputShape: number[];
  numClasses: number;
  trainSize: number;
  heldOutSize: number;
  heldOutName: 'val' | 'test';
  backend: 'js' | 'native';
  blasThreads: number;
  classes?: string[];
}

/** A tensor on its way between threads: the ArrayBuffer is transferred, not copied. */
export interface TransferredTensor {
  dtype: DType;
  shape: number[];
  buffer: ArrayBuffer;
}

export type WorkerMessage =
  | { type: 'started'; info: JobInfo }
  | { type: 'batch'; progress: BatchProgress }
  | { type: 'epoch'; metrics: EpochMetrics }
  /** Training continues from a checkpoint: the epochs it already holds (they replace the job's history). */
  | { type: 'resumed'; epoch: number; history: EpochMetrics[] }
  | { type: 'done'; history: EpochMetrics[]; state: Record<string, TransferredTensor> }
  | { type: 'cancelled' }
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'cancel' };
