/**
 * The body of a training worker thread: run the training recipe (`trainFromConfig`, the same one `vugrad
 * train` runs) and post progress and finally the trained parameters to the parent. Started by `TrainingJob`;
 * not imported by the library itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { backendInfo, getNumThreads, setNumThreads } from '../kernels';
import { hasCheckpoint, loadCheckpoint } from '../train/checkpoint';
import { trainFromConfig } from '../train/recipe';
import type { ParentMessage, TransferredTensor, WorkerInput, WorkerMessage } from './protocol';

async function run(input: WorkerInput, port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  // How the parent stops this thread (cancel, interrupt): training checks the signal between batches, so the
  // thread leaves its kernels and exits by itself; the parent terminates it only if it does not (see job.ts).
  const abort = new AbortController();
  port.on('message', (m: ParentMessage) => {
    if (m?.type === 'cancel') abort.abort();
  });
  const { config } = input;
  try {
    if (input.blasThreads !== undefined) setNumThreads(input.blasThreads);
    let lastPost = 0;
    let epochStart = Date.now();
    // A job resumed after a restart continues from its last epoch-end checkpoint (none yet: from the start).
    const dir = input.checkpointDir;
    const checkpoint = input.resume && dir && hasCheckpoint(dir) ? loadCheckpoint(dir) : undefined;
    if (checkpoint) post({ type: 'resumed', epoch: checkpoint.epoch, history: checkpoint.history });
    const { history, model } = await trainFromConfig(config, {
      signal: abort.signal,
      checkpointDir: dir,
      resume: checkpoint,
      onStart: ({ data, heldOut, heldOutName }) =>
        post({
          type: 'started',
          info: {
            inputShape: data.train.x.shape.slice(1),
            numClasses: data.train.numClasses,
            trainSize: data.train.y.length,
            heldOutSize: heldOut.y.length,
            heldOutName,
            backend: backendInfo().backend,
            blasThreads: getNumThreads(),
            classes: data.train.classes ? [...data.train.classes] : undefined,
          },
        }),
      onBatch: (m) => {
        if (m.batch === 1) epochStart = Date.now();
        const now = Date.now();
        if (now - lastPost < input.progressEveryMs && m.batch !== m.batches) return;
        lastPost = now;
        const seconds = Math.max((now - epochStart) / 1000, 1e-3);
        post({ type: 'batch', progress: { ...m, epochs: config.epochs, samplesPerSec: m.samples / seconds } });
      },
      onEpoch: (metrics) => post({ type: 'epoch', metrics }),
    });
    const state: Record<string, TransferredTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(model.stateDict())) {
      // stateDict() copies each parameter into a fresh array that owns its whole buffer: safe to transfer.
      const buffer = t.data.buffer as ArrayBuffer;
      state[name] = { dtype: t.dtype, shape: [...t.shape], buffer };
      transfer.push(buffer);
    }
    post({ type: 'done', history, state }, transfer);
  } catch (e) {
    if (abort.signal.aborted) post({ type: 'cancelled' });
    else post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    // Nothing keeps the thread alive after this, whether or not the parent terminates it.
    port.removeAllListeners('message');
    port.unref();
  }
}

if (parentPort) void run(workerData as WorkerInput, parentPort);
