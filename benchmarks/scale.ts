/**
 * Scale-out on Redis (npm run bench:scale): not a test, a report printed in one run.
 *
 * 1. Throughput: BENCH_SCALE_JOBS (default 20) small jobs submitted at once to an API-side `BullJobQueue`
 *    (training nothing itself), trained by 1 `vugrad worker` process (2 BLAS threads) against 2 worker
 *    processes (1 BLAS thread each), from the first submission to the last job's end. On a 2-core machine
 *    expect little gain: both runs use the same two cores; the second only overlaps one job's data loading
 *    and store writes with another's training.
 * 2. Store overhead per job: the same jobs trained one at a time in this process, through `JobQueue` over
 *    the file store against `BullJobQueue` with one local worker over Redis (each epoch's record and
 *    checkpoint and the model in Redis, BullMQ's queueing and events). Target: at most 10% per job.
 *
 * Each measurement is the median of BENCH_SCALE_ROUNDS (default 3) rounds. Needs /usr/bin/redis-server
 * (or VUGRAD_REDIS_SERVER); starts its own on a free port in a temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { BullJobQueue, JobQueue, type TrainingJob, type TrainingSpec } from '../lib/jobs';
import { backendInfo } from '../lib/kernels';

const JOBS = Number(process.env.BENCH_SCALE_JOBS ?? 20);
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 3);
const SPEC: TrainingSpec = { dataset: 'synth', epochs: 2, limit: 5000, hidden: [64], seed: 1 };
const REDIS_SERVER = process.env.VUGRAD_REDIS_SERVER ?? '/usr/bin/redis-server';
const ROOT = path.resolve(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function waitFor(proc: ChildProcess, re: RegExp): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (re.test(out)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`exited (${code}): ${out}`)));
  });
}

async function startWorkers(url: string, n: number, threads: number): Promise<ChildProcess[]> {
  const procs = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, 'lib/cli/main.ts'), 'worker', '--redis', url, '--threads', String(threads)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(procs.map((p) => waitFor(p, /vugrad worker: ready/)));
  return procs;
}

async function stop(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
}

async function runAll(add: (s: TrainingSpec) => Promise<TrainingJob>): Promise<number> {
  const t0 = performance.now();
  const jobs = await Promise.all(Array.from({ length: JOBS }, (_, i) => add({ ...SPEC, seed: i })));
  await Promise.all(jobs.map((j) => j.finished));
  const bad = jobs.filter((j) => j.status !== 'succeeded');
  if (bad.length) throw new Error(`${bad.length} job(s) did not succeed: ${bad[0].error}`);
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  if (!fs.existsSync(REDIS_SERVER)) {
    console.log(`bench:scale: skipped: ${REDIS_SERVER} is missing`);
    return;
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-redis-'));
  const redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitFor(redis, /Ready to accept connections/);
  const url = `redis://127.0.0.1:${port}`;
  const admin = new IORedis(url);
  const info = backendInfo();
  console.log(`bench:scale: ${JOBS} jobs of ${JSON.stringify(SPEC)}, ${os.availableParallelism()} cores, ${info.backend} kernels, OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}, median of ${ROUNDS} rounds`);
  try {
    // 1. one worker process vs two
    const workersRun = async (n: number, threads: number) => {
      const times: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        await admin.flushall();
        const procs = await startWorkers(url, n, threads);
        const queue = new BullJobQueue({ redisUrl: url, localWorkers: 0, maxQueued: JOBS });
        await queue.ready;
        times.push(await runAll((s) => queue.add(s)));
        await queue.close();
        await stop(procs);
      }
      return median(times);
    };
    const one = await workersRun(1, 2);
    const two = await workersRun(2, 1);
    console.log(`1. ${JOBS} jobs: 1 worker (2 BLAS threads) ${one.toFixed(2)} s, 2 workers (1 thread each) ${two.toFixed(2)} s: ${(one / two).toFixed(2)}x`);

    // 2. store overhead per job, one job at a time in this process
    const fileTimes: number[] = [];
    const redisTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-state-'));
      const fq = new JobQueue({ stateDir, concurrency: 1, maxQueued: JOBS });
      await fq.ready;
      fileTimes.push(await runAll((s) => fq.add(s)));
      await fq.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
      await admin.flushall();
      const rq = new BullJobQueue({ redisUrl: url, localWorkers: 1, maxQueued: JOBS });
      await rq.ready;
      redisTimes.push(await runAll((s) => rq.add(s)));
      await rq.close();
    }
    const f = (median(fileTimes) / JOBS) * 1000;
    const rr = (median(redisTimes) / JOBS) * 1000;
    console.log(`2. per job, one at a time: file store ${f.toFixed(0)} ms, Redis store + BullMQ ${rr.toFixed(0)} ms: overhead ${(((rr - f) / f) * 100).toFixed(1)}% (target at most 10%)`);
  } finally {
    await admin.quit();
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
