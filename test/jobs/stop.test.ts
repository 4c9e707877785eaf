/**
 * Stopping a training job's worker thread is cooperative: `cancel()` and `interrupt()` post the worker a
 * cancel message and it stops at its next batch and exits by itself; `worker.terminate()` (which can abort the
 * process when it catches the thread inside a native kernel call) is only the fallback for a worker that does
 * not stop within `stopTimeoutMs`. Whatever a stopping worker still reports changes nothing: an interrupted
 * job stays interrupted (it was handed back to its queue), a cancelled one stays cancelled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TrainingJob, resolveTrainingSpec } from '../../lib/jobs';

/** Far longer than any test here waits: it is stopped, never finished. */
const LONG = resolveTrainingSpec({ dataset: 'synth', epochs: 200, limit: 4000, hidden: [64], batchSize: 16 });

/** Resolves at the job's first batch report: its worker is then inside the training loop (kernel calls). */
function training(job: TrainingJob): Promise<void> {
  return new Promise((resolve) => job.once('batch', () => resolve()));
}

let terminate: jest.SpyInstance;
beforeEach(() => {
  terminate = jest.spyOn(Worker.prototype, 'terminate');
});
afterEach(() => {
  terminate.mockRestore();
});

describe('stopping a training job', () => {
  jest.setTimeout(60_000);

  test('interrupt(): interrupted at once, the worker exits by itself at its next batch, nothing it says afterwards counts', async () => {
    const job = new TrainingJob(LONG);
    const changes: string[] = [];
    for (const e of ['settled', 'done', 'epoch'] as const) job.on(e, () => changes.push(e));
    job.start({ progressEveryMs: 0 });
    await training(job);
    const t0 = Date.now();
    expect(job.interrupt()).toBe(true);
    expect(job.status).toBe('interrupted');
    await job.workerExited();
    const stoppedMs = Date.now() - t0;
    expect(terminate).not.toHaveBeenCalled();
    // The worker answered the cancel message well within the fallback's timeout.
    expect(stoppedMs).toBeLessThan(4000);
    // It posted 'cancelled' (and may have posted a batch or an epoch) on its way out: none of it was heard.
    await new Promise((r) => setTimeout(r, 50));
    expect(job.status).toBe('interrupted');
    expect(job.settled).toBe(false);
    expect(job.error).toBeUndefined();
    expect(changes).toEqual([]);
  });

  test('cancel(): cancelled at once, the worker exits by itself', async () => {
    const job = new TrainingJob(LONG);
    job.start({ progressEveryMs: 0 });
    await training(job);
    expect(job.cancel('enough')).toBe(true);
    expect(job.status).toBe('cancelled');
    expect((await job.finished).error).toBe('enough');
    await job.workerExited();
    expect(terminate).not.toHaveBeenCalled();
    expect(job.status).toBe('cancelled');
    expect(job.error).toBe('enough');
  });

  test('cancel() right after start(), before the worker has loaded anything: it still exits by itself', async () => {
    const job = new TrainingJob(LONG);
    job.start();
    job.cancel();
    await job.workerExited();
    expect(terminate).not.toHaveBeenCalled();
    expect(job.status).toBe('cancelled');
  });

  test('a worker that does not answer is terminated after stopTimeoutMs, and the job keeps its status', async () => {
    // The worker never hears the cancel message (as one stuck in a long synchronous step would not).
    const post = jest.spyOn(Worker.prototype, 'postMessage').mockImplementation(() => undefined);
    try {
      const job = new TrainingJob(LONG);
      job.start({ progressEveryMs: 0, stopTimeoutMs: 300 });
      await training(job);
      expect(job.interrupt()).toBe(true);
      const t0 = Date.now();
      await job.workerExited();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(terminate).toHaveBeenCalledTimes(1);
      expect(job.status).toBe('interrupted');
      expect(job.settled).toBe(false);
    } finally {
      post.mockRestore();
    }
  });

  test('an interrupted job with checkpoints: the stopping worker leaves a loadable checkpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-stop-'));
    try {
      const job = new TrainingJob(resolveTrainingSpec({ dataset: 'synth', epochs: 200, limit: 500, hidden: [16] }));
      job.start({ checkpointDir: dir });
      await new Promise((resolve) => job.once('epoch', resolve));
      expect(job.interrupt()).toBe(true);
      await job.workerExited();
      expect(terminate).not.toHaveBeenCalled();
      const again = new TrainingJob(job.config, job.id);
      again.start({ checkpointDir: dir, resume: true });
      await training(again);
      expect(again.history.length).toBeGreaterThanOrEqual(1);
      again.cancel();
      await again.workerExited();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
