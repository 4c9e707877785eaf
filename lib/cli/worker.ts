/**
 * `vugrad worker --redis URL`: trains the jobs that API processes (the example server with `REDIS_URL`) put
 * on the shared BullMQ queue, on this machine, until SIGTERM or SIGINT. Run as many as there are machines;
 * see docs/scaling.md. On SIGTERM the jobs it was training go back to the queue and resume, here or on
 * another worker, from their last epoch's checkpoint.
 *
 * @example
 * npx vugrad worker --redis redis://queue.internal:6379 --concurrency 1 --threads 2
 */
import type { Command } from 'commander';
import { BullTrainingWorker } from '../jobs/bullmq-worker';
import { describeRedisUrl } from '../jobs/redis-store';
import { ConfigError } from '../train/config';
import { availableCores, resolveThreads } from './threads';

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  threads?: string;
  prefix?: string;
  lockMs?: string;
  stalledMs?: string;
}

function positive(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new ConfigError(`${name}: expected an integer >= ${min}, got '${value}'`);
  return n;
}

/** Runs a worker until SIGTERM/SIGINT; resolves once it has handed its jobs back and disconnected. */
export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const url = flags.redis ?? process.env.REDIS_URL;
  if (!url) throw new ConfigError('worker: give the shared Redis with --redis redis://HOST:PORT (or set REDIS_URL)');
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`--redis: expected a redis:// or rediss:// URL, got '${describeRedisUrl(url)}'`);
  const concurrency = positive('--concurrency', flags.concurrency) ?? 1;
  const cores = availableCores();
  let threads = flags.threads !== undefined ? resolveThreads(flags.threads, (m) => console.warn(m)) : Math.max(1, Math.floor(cores / concurrency));
  if (concurrency * threads > cores) {
    const fit = Math.max(1, Math.floor(cores / concurrency));
    console.warn(`vugrad worker: ${concurrency} job(s) x ${threads} BLAS threads is more than the ${cores} cores here; using ${fit} thread(s) per job`);
    threads = fit;
  }
  const worker = await BullTrainingWorker.start({
    redisUrl: url,
    prefix: flags.prefix,
    concurrency,
    blasThreads: threads,
    lockDurationMs: positive('--lock-ms', flags.lockMs, 100),
    stalledIntervalMs: positive('--stalled-ms', flags.stalledMs, 100),
    log: (line) => console.log(`vugrad worker: ${line}`),
  });
  console.log(`vugrad worker: ready (Redis at ${describeRedisUrl(url)}; ${concurrency} job(s) at once, ${threads} BLAS thread(s) each; pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`vugrad worker: ${signal}: handing running jobs back to the queue`);
      worker.shutdown().then(resolve, (e: Error) => {
        console.error(`vugrad worker: shutdown failed: ${e.message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  console.log(`vugrad worker: stopped (${worker.finished} job(s) finished here)`);
  // Whatever a library left open (a socket closing slowly) must not keep a stopped worker alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}

/** Adds `worker` to the program. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('train jobs from the shared Redis queue (the example server with REDIS_URL adds them); see docs/scaling.md')
    .option('--redis <url>', 'the Redis the service shares (default: REDIS_URL)')
    .option('--concurrency <n>', 'jobs trained at once on this machine (default 1)')
    .option('--threads <n>', 'BLAS threads per job (default: cores / concurrency)')
    .option('--prefix <name>', 'key prefix in Redis (default vugrad)')
    .option('--lock-ms <ms>', "BullMQ's job lock: a worker silent this long is taken for dead (default 30000)")
    .option('--stalled-ms <ms>', 'how often to look for the jobs of dead workers (default 30000)')
    .action(workerCommand);
}
