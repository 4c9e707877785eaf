/**
 * The job API without HTTP: specs are checked and name the field, the queue runs at most `concurrency` jobs
 * and refuses more than `maxQueued` waiting ones with a QUEUE_FULL error, failures (bad data path, NaN loss)
 * are reported and do not stop later jobs, cancellation ends a worker, only the last `keepModels` models are
 * kept, and trainInWorker returns parameters that load into the same architecture.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobQueue, QueueFullError, SpecError, TrainingError, resolveTrainingSpec, trainInWorker, type TrainingJob, type TrainingSpec } from '../../lib/jobs';
import { MLP } from '../../lib/nn';
import { parseSafetensors } from '../../lib/io';
import { backendInfo } from '../../lib/kernels';

const TINY: TrainingSpec = { dataset: 'synth', epochs: 1, limit: 500 };
/** Long enough to still be running when the test looks (cancelled before it ends). */
const LONG: TrainingSpec = { dataset: 'synth', epochs: 100, hidden: [64] };

function started(job: TrainingJob): Promise<void> {
  return job.info ? Promise.resolve() : new Promise((resolve) => job.once('start', () => resolve()));
}

describe('resolveTrainingSpec', () => {
  test('resolves defaults like the CLI', () => {
    const c = resolveTrainingSpec({ dataset: 'mnist', hidden: [32], lr: 0.01, epochs: 2 });
    expect(c).toMatchObject({ dataset: 'mnist', model: 'mlp', hidden: [32], lr: 0.01, epochs: 2, optimizer: 'adam', loss: 'ce' });
  });

  test.each([
    [{ dataset: 'imagenet' }, 'dataset'],
    [{ epochs: 1 }, 'dataset'],
    [{ dataset: 'synth', lr: '0.1' }, 'lr'],
    [{ dataset: 'synth', lr: -1 }, 'lr'],
    [{ dataset: 'synth', batchSize: 1.5 }, 'batchSize'],
    [{ dataset: 'synth', hidden: [] }, 'hidden'],
    [{ dataset: 'synth', hidden: [8, 'x'] }, 'hidden'],
    [{ dataset: 'synth', model: 'lenet' }, 'model'],
    [{ dataset: 'synth', optimizer: 'lbfgs' }, 'optimizer'],
    [{ dataset: 'synth', lerning_rate: 0.1 }, 'lerning_rate'],
  ])('%j is a SpecError about %s', (spec, field) => {
    let err: unknown;
    try {
      resolveTrainingSpec(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).field).toBe(field);
    expect((err as SpecError).code).toBe('INVALID_SPEC');
    expect((err as SpecError).message.startsWith(field)).toBe(true);
  });
});

describe('JobQueue', () => {
  let queue: JobQueue;
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-queue-'));
  });
  afterEach(async () => {
    await queue?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test('defaults fit the cores: workers x BLAS threads <= cores', () => {
    queue = new JobQueue({ stateDir });
    const s = queue.stats();
    expect(s.concurrency).toBeGreaterThanOrEqual(1);
    expect(s.concurrency * s.blasThreads).toBeLessThanOrEqual(Math.max(s.cores, 1));
    expect(() => new JobQueue({ stateDir, concurrency: 0 })).toThrow(/concurrency must be an integer >= 1/);
  });

  test('runs at most `concurrency` jobs at once and refuses a full queue with QUEUE_FULL', async () => {
    queue = new JobQueue({ stateDir, concurrency: 1, maxQueued: 1 });
    const a = await queue.add(LONG);
    const b = await queue.add(TINY);
    expect([a.status, b.status]).toEqual(['running', 'queued']);
    let err: unknown;
    try {
      queue.submit(TINY);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ code: 'QUEUE_FULL', running: 1, queued: 1, maxQueued: 1 });
    expect(queue.stats()).toMatchObject({ running: 1, queued: 1 });

    await started(a);
    expect(a.info?.blasThreads).toBe(backendInfo().backend === 'native' ? queue.blasThreads : 1);
    expect(b.status).toBe('queued');
    expect(queue.cancel(a.id)).toBe(true);
    expect(a.status).toBe('cancelled');
    await b.finished;
    expect(b.status).toBe('succeeded');
    expect(queue.cancel(a.id)).toBe(false);
  });

  test('with concurrency 2, never more than 2 workers', async () => {
    queue = new JobQueue({ stateDir, concurrency: 2, maxQueued: 10 });
    let live = 0;
    let peak = 0;
    const jobs = await Promise.all([0, 1, 2, 3].map(() => queue.add({ ...TINY, epochs: 2 })));
    for (const j of jobs) {
      j.on('start', () => {
        live++;
        peak = Math.max(peak, live);
      });
      j.on('settled', () => live--);
    }
    expect(jobs.map((j) => j.status)).toEqual(['running', 'running', 'queued', 'queued']);
    await queue.idle();
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(peak).toBeLessThanOrEqual(2);
    expect(jobs[0].history).toHaveLength(2);
  });

  test('failures are reported with their reason and later jobs still run', async () => {
    queue = new JobQueue({ stateDir, concurrency: 1 });
    const missing = queue.submit({ dataset: 'mnist', data: '/nonexistent/mnist-dir', limit: 100, epochs: 1 });
    const nan = queue.submit({ dataset: 'synth', optimizer: 'sgd', lr: 1e12, epochs: 1, limit: 2000 });
    const fine = queue.submit(TINY);
    const errors: TrainingError[] = [];
    nan.on('error', (e) => errors.push(e));
    await queue.idle();
    expect(missing.status).toBe('failed');
    expect(missing.error).toMatch(/\/nonexistent\/mnist-dir/);
    expect(nan.status).toBe('failed');
    expect(nan.error).toMatch(/loss became NaN|loss became Infinity/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TrainingError);
    expect(fine.status).toBe('succeeded');
    expect(missing.hasModel).toBe(false);
  });

  test('keeps only the last keepModels models and keepJobs records, in the store too', async () => {
    queue = new JobQueue({ stateDir, concurrency: 1, keepModels: 2, keepJobs: 3 });
    const jobs = [0, 1, 2, 3].map(() => queue.submit(TINY));
    await queue.idle();
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(jobs.map((j) => j.hasModel)).toEqual([false, false, true, true]);
    expect(jobs.map((j) => j.model !== undefined)).toEqual([false, false, true, true]); // newest also in memory
    expect(queue.get(jobs[0].id)).toBeUndefined();
    expect(queue.list().map((j) => j.id)).toEqual(jobs.slice(1).map((j) => j.id));
    // On disk: no directory for the forgotten job, a model file only for the two newest.
    const onDisk = (id: string, f: string) => fs.existsSync(path.join(stateDir, 'jobs', id, f));
    expect(jobs.map((j) => onDisk(j.id, 'record.json'))).toEqual([false, true, true, true]);
    expect(jobs.map((j) => onDisk(j.id, 'model.safetensors'))).toEqual([false, false, true, true]);
    expect(parseSafetensors((await queue.readModel(jobs[3]))!).metadata.job).toBe(jobs[3].id);
    expect(await queue.readModel(jobs[1])).toBeUndefined();
  });

  test('a new queue over the same state directory lists every stored job with its history and model', async () => {
    queue = new JobQueue({ stateDir, concurrency: 1 });
    const done = await queue.add({ ...TINY, epochs: 2 }, { owner: 'ada' });
    await done.finished;
    const failed = await queue.add({ dataset: 'synth', optimizer: 'sgd', lr: 1e12, epochs: 1, limit: 2000 });
    await queue.idle();
    const bytes = await queue.readModel(done);
    expect(bytes).toBeDefined();
    await queue.close();
    const again = new JobQueue({ stateDir, concurrency: 1 });
    queue = again;
    await again.ready;
    const a = again.get(done.id)!;
    expect(a.toJSON()).toMatchObject({ status: 'succeeded', owner: 'ada', hasModel: true, info: { trainSize: 500 } });
    expect(a.history).toEqual(done.history);
    expect(await again.readModel(a)).toEqual(bytes);
    expect(again.get(failed.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/loss became/) });
    // purge deletes the job and its files
    expect(await again.purge(done.id)).toBe(true);
    expect(again.get(done.id)).toBeUndefined();
    expect(fs.existsSync(path.join(stateDir, 'jobs', done.id))).toBe(false);
    expect(await again.purge(done.id)).toBe(false);
  });

  test("resume: 'fail' marks a job that was running when the process stopped as failed, and says why", async () => {
    queue = new JobQueue({ stateDir, concurrency: 1 });
    const job = await queue.add({ ...TINY, epochs: 2 });
    await queue.idle();
    await queue.close();
    // As a SIGKILL during its second epoch would have left it.
    const file = path.join(stateDir, 'jobs', job.id, 'record.json');
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...record, status: 'running', history: record.history.slice(0, 1), hasModel: false, finishedAt: undefined }));
    expect(() => new JobQueue({ stateDir, resume: 'never' as 'fail' })).toThrow(/resume must be 'auto' or 'fail', got "never"/);
    queue = new JobQueue({ stateDir, concurrency: 1, resume: 'fail' });
    await queue.ready;
    await queue.idle();
    expect(queue.get(job.id)).toMatchObject({ status: 'failed', error: "interrupted by a restart at epoch 2 of 2 (resume is 'fail')" });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).status).toBe('failed');
  });

  test('a job the store cannot write is refused with a StoreError and never runs', async () => {
    const errors: string[] = [];
    queue = new JobQueue({ stateDir, concurrency: 1, onStoreError: (e) => errors.push(e.message) });
    await queue.ready;
    // The disk "breaks" after startup: the jobs directory is now a file.
    fs.rmSync(path.join(stateDir, 'jobs'), { recursive: true });
    fs.writeFileSync(path.join(stateDir, 'jobs'), '');
    await expect(queue.add(TINY)).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringMatching(/could not be stored \(ENOTDIR\)/) });
    expect(errors.length).toBeGreaterThan(0);
    expect(queue.list().map((j) => j.status)).toEqual(['cancelled']);
  });

  test('a state directory that cannot be used rejects ready and add with a StoreError naming it', async () => {
    const blocker = path.join(stateDir, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    queue = new JobQueue({ stateDir: blocker });
    await expect(queue.ready).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining(`job store in ${blocker} cannot be used`) });
    await expect(queue.add(TINY)).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });
});

describe('trainInWorker', () => {
  test('returns history and parameters that load into the same architecture', async () => {
    const batches: number[] = [];
    const r = await trainInWorker({ dataset: 'synth', hidden: [8], epochs: 2, limit: 1000, seed: 3 }, { onProgress: (p) => batches.push(p.batch) });
    expect(r.history).toHaveLength(2);
    expect(r.history[1].valAccuracy).toBeGreaterThan(0.6);
    expect(batches.length).toBeGreaterThan(0);
    expect(r.info).toMatchObject({ inputShape: [2], numClasses: 2, trainSize: 1000 });
    const net = new MLP({ inputSize: 2, hiddenSizes: [8], outputSize: 2 });
    net.loadStateDict(r.stateDict);
    const fromBytes = parseSafetensors(r.model);
    expect(Object.keys(fromBytes.tensors)).toEqual(Object.keys(net.stateDict()));
    expect(JSON.parse(fromBytes.metadata.config)).toMatchObject({ dataset: 'synth', hidden: [8] });
  });

  test('an AbortSignal cancels it (the worker is terminated)', async () => {
    const controller = new AbortController();
    const p = trainInWorker(LONG, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('a bad spec rejects with a SpecError before any worker starts; a NaN loss with a TrainingError', async () => {
    await expect(trainInWorker({ dataset: 'synth', epochs: 0 })).rejects.toMatchObject({ code: 'INVALID_SPEC', field: 'epochs' });
    await expect(trainInWorker({ dataset: 'synth', optimizer: 'sgd', lr: 1e12, limit: 2000 })).rejects.toBeInstanceOf(TrainingError);
  });
});
