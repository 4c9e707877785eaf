/**
 * Training from a server (npm run bench:server): not a test, a report printed in one run.
 *
 * 1. Event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while the MNIST MLP trains in a
 *    worker thread (trainInWorker), against the same training in this thread with fit's regular yields.
 *    Target: p99 below 20 ms with the worker.
 * 2. Memory: RSS after 1 and after 20 small jobs in a row through a JobQueue (each job's worker is
 *    terminated; the queue keeps the last `keepModels` models). Target: within 10% of the first.
 *
 * 3. Checkpoint overhead per epoch: the time to save one epoch-end checkpoint (state dicts, serialization,
 *    atomic write with fsync: what a job does after each epoch) as a share of the epoch's training time, for
 *    the MNIST MLP (784-300-10, Adam) and the course MLP (784-3136-10, SGD), each on the full MNIST training
 *    split. Target: at most 5%.
 * 4. Restart-to-serving with 1,000 stored jobs (100 with models): a fresh server process over that state
 *    directory, from spawn until /health answers, against the same over an empty one; and in-process, from
 *    `createServer` to listening (the store's part). Target: under 1 s.
 *
 * Options (environment): BENCH_LIMIT (MNIST samples per split, default 20000), BENCH_EPOCHS (default 1),
 * BENCH_JOBS (default 20), BENCH_ONLY (comma-separated section numbers, e.g. `3,4`), BENCH_STORED_JOBS
 * (default 1000). Run with --expose-gc (the npm script does) so that RSS is read after a collection.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { getRngState } from '../lib/core/random';
import { saveCheckpoint } from '../lib/train/checkpoint';
import { trainFromConfig } from '../lib/train/recipe';
import { createServer } from '../examples/training-server/server';
import { buildLoss, buildModel, dataOptions, optimizerOptions } from '../lib/cli/run';
import { manualSeed } from '../lib/core/random';
import { spawnSync } from 'node:child_process';
import { heldOut, type DatasetSplits } from '../lib/data/dataset';
import { loadDataset } from '../lib/data/load-dataset';
import { JobQueue, resolveTrainingSpec, trainInWorker, type TrainingSpec } from '../lib/jobs';
import { backendInfo, getNumThreads } from '../lib/kernels';
import { createOptimizer } from '../lib/optim';
import { fit } from '../lib/train/fit';

const LIMIT = Number(process.env.BENCH_LIMIT ?? 20000);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const JOBS = Number(process.env.BENCH_JOBS ?? 20);
const STORED_JOBS = Number(process.env.BENCH_STORED_JOBS ?? 1000);
const ONLY = new Set((process.env.BENCH_ONLY ?? '1,2,3,4').split(',').map((x) => x.trim()));
const SPEC: TrainingSpec = { dataset: 'mnist', hidden: [300], batchSize: 128, epochs: EPOCHS, limit: LIMIT, seed: 1 };

interface Delay {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

async function measureDelay(work: () => Promise<number>): Promise<{ delay: Delay; seconds: number; samplesPerSec: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const t0 = process.hrtime.bigint();
  h.enable();
  const samplesPerSec = await work();
  h.disable();
  const ms = (ns: number) => ns / 1e6;
  return {
    delay: { p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) },
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    samplesPerSec,
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function inWorker(): Promise<number> {
  const r = await trainInWorker(SPEC);
  return mean(r.history.map((m) => m.samplesPerSec));
}

/** The same training in this thread; the data is loaded before measuring (the worker loads it in its thread). */
async function inProcess(data: DatasetSplits): Promise<number> {
  const config = resolveTrainingSpec(SPEC);
  manualSeed(config.seed);
  const model = buildModel(config, data.train);
  const optimizer = createOptimizer(config.optimizer, model.parameters(), optimizerOptions(config));
  const history = await fit(model, { train: data.train, val: heldOut(data) }, {
    optimizer,
    loss: buildLoss(config),
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
  });
  return mean(history.map((m) => m.samplesPerSec));
}

function rssMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

const fmt = (d: Delay) => `p50 ${d.p50.toFixed(1)} ms, p90 ${d.p90.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms`;

async function main(): Promise<void> {
  const info = backendInfo();
  console.log(
    `vugrad server benchmark: ${info.backend} kernels, BLAS threads ${getNumThreads()}, cores ${info.cores}, ` +
      `OPENBLAS_CORETYPE=${info.openblasCoretype ?? '(unset)'}, node ${process.version}`,
  );
  console.log(`MNIST MLP 784-300-10, batch 128, ${EPOCHS} epoch(s) on ${LIMIT} samples (+ validation each epoch)\n`);

  if (ONLY.has('1')) await delaySection();
  if (ONLY.has('2')) rssSection();
  if (ONLY.has('3')) await checkpointSection();
  if (ONLY.has('4')) await restartSection();
}

async function delaySection(): Promise<void> {
  console.log('1. event-loop delay while training');
  await trainInWorker({ ...SPEC, limit: 500 }); // warm-up: first worker start, file cache
  const worker = await measureDelay(inWorker);
  console.log(`   worker thread:       ${fmt(worker.delay)}  (${worker.seconds.toFixed(1)} s, ${Math.round(worker.samplesPerSec)} samples/s)`);
  const config = resolveTrainingSpec(SPEC);
  const data = await loadDataset(config.dataset, dataOptions(config));
  const local = await measureDelay(() => inProcess(data));
  console.log(`   in-process (yields): ${fmt(local.delay)}  (${local.seconds.toFixed(1)} s, ${Math.round(local.samplesPerSec)} samples/s)`);
  console.log(`   target p99 < 20 ms with the worker: ${worker.delay.p99 < 20 ? 'met' : 'NOT met'}\n`);
}

function rssSection(): void {
  console.log(`2. RSS over ${JOBS} small jobs in a row (JobQueue, MNIST MLP and synth alternating, 1 epoch each), in a fresh process`);
  // NOTE: glibc raises its mmap threshold after a large block is freed, so later workers' big buffers land in
  // malloc arenas that stay resident after the worker ends. The queue trims them (releaseFreedMemory) when a
  // worker exits; a fixed threshold (MALLOC_MMAP_THRESHOLD_) is shown for comparison.
  for (const [label, env] of [
    ['default malloc', {}],
    ['MALLOC_MMAP_THRESHOLD_=131072', { MALLOC_MMAP_THRESHOLD_: '131072' }],
  ] as const) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--rss'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (child.status !== 0) throw new Error(`RSS run failed: ${child.stderr}`);
    console.log(`   ${label}: ${child.stdout.trim()}`);
  }
  console.log('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Section 3: one epoch of each MLP on full MNIST, then its checkpoint saved 5 times (median). */
async function checkpointSection(): Promise<void> {
  console.log('3. checkpoint overhead per epoch (full MNIST training split; save = state dicts + serialize + write + fsync + rename)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-ckpt-'));
  try {
    for (const [label, spec] of [
      ['MNIST MLP 784-300-10, Adam, b128', { dataset: 'mnist', hidden: [300], batchSize: 128, epochs: 1, seed: 1 }],
      ['course MLP 784-3136-10, SGD, b128', { dataset: 'mnist', preset: 'course', epochs: 1, seed: 1 }],
    ] as [string, TrainingSpec][]) {
      const config = resolveTrainingSpec(spec);
      const r = await trainFromConfig(config);
      const epoch = r.history[0];
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 5; i++) {
        const t0 = process.hrtime.bigint();
        const file = saveCheckpoint(dir, {
          epoch: 1,
          history: r.history,
          config,
          model: r.model.stateDict(),
          optimizer: r.optimizer.stateDictTyped(), // what lib/train/recipe.ts saves after each epoch
          random: { global: getRngState() },
        });
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
        bytes = fs.statSync(file).size;
      }
      const save = median(times);
      const ratio = save / epoch.seconds;
      console.log(
        `   ${label}: epoch ${epoch.seconds.toFixed(2)} s (${Math.round(epoch.samplesPerSec)} samples/s), checkpoint ${(bytes / 2 ** 20).toFixed(1)} MiB ` +
          `saved in ${(save * 1000).toFixed(0)} ms (median of 5; min ${(Math.min(...times) * 1000).toFixed(0)}, max ${(Math.max(...times) * 1000).toFixed(0)}): ` +
          `${(ratio * 100).toFixed(1)}% of the epoch (target <= 5%: ${ratio <= 0.05 ? 'met' : 'NOT met'})`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
}

/** Fills `stateDir` with `n` job records copied from one real finished job (every tenth with its model). */
async function fillStore(stateDir: string, n: number): Promise<void> {
  const queue = new JobQueue({ stateDir, concurrency: 1 });
  const job = await queue.add({ dataset: 'mnist', hidden: [64], epochs: 3, limit: 2000, seed: 1 }, { owner: 'bench' });
  await queue.idle();
  await queue.close();
  if (job.status !== 'succeeded') throw new Error(`the template job ${job.status}: ${job.error}`);
  const jobsDir = path.join(stateDir, 'jobs');
  const record = JSON.parse(fs.readFileSync(path.join(jobsDir, job.id, 'record.json'), 'utf8'));
  const model = fs.readFileSync(path.join(jobsDir, job.id, 'model.safetensors'));
  fs.rmSync(path.join(jobsDir, job.id), { recursive: true });
  const t = Date.parse(record.createdAt);
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const withModel = i % 10 === 0;
    fs.mkdirSync(path.join(jobsDir, id));
    const at = new Date(t + i * 1000).toISOString();
    fs.writeFileSync(path.join(jobsDir, id, 'record.json'), JSON.stringify({ ...record, id, createdAt: at, finishedAt: at, hasModel: withModel }));
    if (withModel) fs.writeFileSync(path.join(jobsDir, id, 'model.safetensors'), model);
  }
}

/** Spawns the example server over `stateDir`; resolves with ms from spawn until /health answers 200. */
function spawnToServing(stateDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, '../examples/training-server/server.ts')], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', STATE_DIR: stateDir, API_TOKENS: '', API_TOKENS_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /training server on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout.removeAllListeners('data');
      http
        .get(`${m[1]}/health`, (res) => {
          res.resume();
          const ms = performance.now() - t0;
          child.kill('SIGKILL');
          if (res.statusCode === 200) resolve(ms);
          else reject(new Error(`/health answered ${res.statusCode}`));
        })
        .on('error', reject);
    });
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`server exited (${code ?? signal}): ${out}`));
    });
  });
}

/** Section 4: restart-to-serving over 1,000 stored jobs, against an empty store. */
async function restartSection(): Promise<void> {
  console.log(`4. restart-to-serving with ${STORED_JOBS} stored jobs (every tenth with its model)`);
  const full = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-store-'));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-empty-'));
  try {
    await fillStore(full, STORED_JOBS);
    // The in-process part: the store is read and the server listens (the page cache is warm, as after a restart).
    const inProcess: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const app = createServer({ queue: { stateDir: full, concurrency: 1 } });
      await app.listen(0, '127.0.0.1');
      inProcess.push(performance.now() - t0);
      if (app.queue.list().length !== STORED_JOBS) throw new Error(`listed ${app.queue.list().length} jobs, expected ${STORED_JOBS}`);
      await app.close();
    }
    const spawnFull: number[] = [];
    const spawnEmpty: number[] = [];
    for (let i = 0; i < 3; i++) {
      spawnEmpty.push(await spawnToServing(empty));
      spawnFull.push(await spawnToServing(full));
    }
    const store = median(inProcess);
    console.log(`   in-process (open the store, list ${STORED_JOBS} jobs, listen): median ${store.toFixed(0)} ms of 5 (min ${Math.min(...inProcess).toFixed(0)}, max ${Math.max(...inProcess).toFixed(0)})`);
    console.log(
      `   new process until /health answers: ${median(spawnFull).toFixed(0)} ms with ${STORED_JOBS} jobs, ${median(spawnEmpty).toFixed(0)} ms with none ` +
        `(medians of 3; the difference, ${(median(spawnFull) - median(spawnEmpty)).toFixed(0)} ms, is the store's; the rest is Node and tsx loading the code)`,
    );
    console.log(`   target < 1 s: ${median(spawnFull) < 1000 ? 'met' : store < 1000 ? 'met for the store (in-process); the process start itself is over' : 'NOT met'}`);
  } finally {
    fs.rmSync(full, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
}

/** Runs JOBS small jobs one after another; prints RSS after 1, 2, 5, 10 and JOBS jobs. */
async function rssRun(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-rss-'));
  const queue = new JobQueue({ concurrency: 1, stateDir });
  const small: TrainingSpec[] = [
    { dataset: 'mnist', hidden: [64], epochs: 1, limit: 2000 },
    { dataset: 'synth', hidden: [16], epochs: 1, limit: 2000 },
  ];
  const at = new Map<number, number>();
  for (let i = 1; i <= JOBS; i++) {
    const job = queue.submit(small[(i - 1) % 2]);
    await job.finished;
    if (job.status !== 'succeeded') throw new Error(`job ${i} ${job.status}: ${job.error}`);
    if ([1, 2, 5, 10, JOBS].includes(i)) {
      await new Promise((r) => setTimeout(r, 100)); // the terminated worker's thread exits
      at.set(i, rssMB());
    }
  }
  await queue.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  const first = at.get(1) as number;
  const last = at.get(JOBS) as number;
  const trend = [...at].map(([i, mb]) => `${i}: ${mb.toFixed(0)}`).join(', ');
  const gc = (globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc)';
  console.log(`RSS MiB after job ${trend}; after ${JOBS} vs after 1: ${(((last - first) / first) * 100).toFixed(1)}% (target within 10%)${gc}`);
}

(process.argv.includes('--rss') ? rssRun() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
