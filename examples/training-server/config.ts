/**
 * The example server's configuration from its environment. Every value is checked; a mistake stops the
 * server at startup with a message naming the variable and the value (a token is never shown).
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | PORT, HOST | 3000, 127.0.0.1 | where to listen (PORT=0: a free port) |
 * | STATE_DIR | ./vugrad-state | where jobs, checkpoints and models are kept (VUGRAD_STATE_DIR also works) |
 * | DATA_ROOT | (none) | the directory job `data` paths are confined to; none: `data` is refused |
 * | API_TOKENS, API_TOKENS_FILE | (none) | `token:name[:admin]` entries; none: loopback only, no auth |
 * | RESUME | auto | `auto` resumes interrupted jobs at startup, `fail` marks them failed |
 * | SHUTDOWN_GRACE_SECONDS | 10 | on SIGTERM, how long running jobs may take to reach their next checkpoint |
 * | CONCURRENCY, MAX_QUEUED | cores-1, 16 | jobs at once, jobs waiting |
 * | KEEP_JOBS, KEEP_MODELS | 1000, 100 | finished jobs and models kept in the store |
 * | REDIS_URL, LOCAL_WORKERS | (none), 0 | a shared Redis for jobs (BullMQ; docs/scaling.md); jobs trained in this process |
 * | MAX_PARAMS, MAX_EPOCH_SAMPLES, MAX_JOBS_PER_TOKEN, RATE_LIMIT_PER_MIN | see limits.ts | limits |
 *
 * @example
 * const { port, host, options } = serverConfigFromEnv(process.env);
 * await createServer(options).listen(port, host);
 */
import * as path from 'node:path';
import { TokenTable } from './auth';
import { DEFAULT_LIMITS, LIMIT_ENV, type Limits } from './limits';
import type { ServerOptions } from './server';

export interface ServerConfig {
  port: number;
  host: string;
  stateDir: string;
  tokens: TokenTable;
  options: ServerOptions;
}

/** A bad environment value; the message names the variable. */
export class ServerConfigError extends Error {
  override name = 'ServerConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new ServerConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return v;
}

/** Reads the server's configuration from `env`; throws a `ServerConfigError` (or `TokenConfigError`) naming the variable. */
export function serverConfigFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const port = int(env, 'PORT', 0) ?? 3000;
  if (port > 65535) throw new ServerConfigError(`PORT must be at most 65535, got ${port}`);
  const host = env.HOST?.trim() || '127.0.0.1';
  const stateDir = path.resolve(env.STATE_DIR || env.VUGRAD_STATE_DIR || './vugrad-state');
  const resume = env.RESUME?.trim() || 'auto';
  if (resume !== 'auto' && resume !== 'fail') throw new ServerConfigError(`RESUME must be 'auto' or 'fail', got '${resume}'`);
  const tokens = TokenTable.fromEnv(env);
  const limits: Partial<Limits> = {};
  for (const [key, name] of Object.entries(LIMIT_ENV) as [keyof Limits, string][]) {
    const v = int(env, name, 1);
    if (v !== undefined) limits[key] = v;
  }
  return {
    port,
    host,
    stateDir,
    tokens,
    options: {
      dataRoot: env.DATA_ROOT || undefined,
      shutdownGraceSeconds: int(env, 'SHUTDOWN_GRACE_SECONDS', 0),
      tokens,
      limits: { ...DEFAULT_LIMITS, ...limits },
      queue: {
        stateDir,
        resume,
        concurrency: int(env, 'CONCURRENCY', 1),
        maxQueued: int(env, 'MAX_QUEUED', 0),
        keepJobs: int(env, 'KEEP_JOBS', 0),
        keepModels: int(env, 'KEEP_MODELS', 0),
        // REDIS_URL: jobs, models and checkpoints in a shared Redis, trained by `vugrad worker` processes and
        // LOCAL_WORKERS (default 0) jobs at once here (docs/scaling.md).
        redisUrl: env.REDIS_URL?.trim() || undefined,
        localWorkers: int(env, 'LOCAL_WORKERS', 0),
      },
    },
  };
}
