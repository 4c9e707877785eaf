/**
 * Training from a server (npm run bench:server): not a test, a report printed in one run.
 *
 * 1. Event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while the MNIST MLP trains in a
 *    worker thread (trainInWorker), against the same training in this thread with fit's regular yields.
 *    Target: p99 below 20 ms with the worker.
 * 2. Memory: RSS after 1 and after 20 small jobs in a row through a JobQueue (each job's worker is
 *    terminated; the queue keeps the last `keepModels` models). Target: within 10% of the first.
 *
 * Options (environment): BENCH_LIMIT (MNIST samples per split, default 20000), BENCH_EPOCHS (default 1),
 * BENCH_JOBS (default 20). Run with --expose-gc (the npm script does) so that RSS is read after a collection.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
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

  console.log('1. event-loop delay while training');
  await trainInWorker({ ...SPEC, limit: 500 }); // warm-up: first worker start, file cache
  const worker = await measureDelay(inWorker);
  console.log(`   worker thread:       ${fmt(worker.delay)}  (${worker.seconds.toFixed(1)} s, ${Math.round(worker.samplesPerSec)} samples/s)`);
  const config = resolveTrainingSpec(SPEC);
  const data = await loadDataset(config.dataset, dataOptions(config));
  const local = await measureDelay(() => inProcess(data));
  console.log(`   in-process (yields): ${fmt(local.delay)}  (${local.seconds.toFixed(1)} s, ${Math.round(local.samplesPerSec)} samples/s)`);
  console.log(`   target p99 < 20 ms with the worker: ${worker.delay.p99 < 20 ? 'met' : 'NOT met'}\n`);

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
}

/** Runs JOBS small jobs one after another; prints RSS after 1, 2, 5, 10 and JOBS jobs. */
async function rssRun(): Promise<void> {
  const queue = new JobQueue({ concurrency: 1 });
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
