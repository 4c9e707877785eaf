/**
 * Helpers for the scale-out tests: a real `redis-server` per test file (its own free port and directory,
 * AOF on, never evicting), `vugrad worker` processes as real children (each in its own working and temp
 * directory, as if on its own machine), and the example server pointed at the Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServer, type ServerProcess } from '../server/helpers';

export const REDIS_SERVER = process.env.VUGRAD_REDIS_SERVER ?? '/usr/bin/redis-server';
const ROOT = path.resolve(__dirname, '../..');
const TSX = require.resolve('tsx/cjs');

/** True when the tests can start a Redis; otherwise says why, once. */
export function haveRedis(): boolean {
  if (fs.existsSync(REDIS_SERVER)) return true;
  console.warn(`test/scale: skipped: ${REDIS_SERVER} is missing (apt-get install -y redis-server, or set VUGRAD_REDIS_SERVER)`);
  return false;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisProcess {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Stops it (SIGTERM: a clean shutdown that flushes the AOF; SIGKILL: a crash) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (it reloads its AOF). */
  start(): Promise<void>;
}

function once(proc: ChildProcess, ready: RegExp, timeoutMs: number, what: string): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Starts a Redis for one test file. */
export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-redis-'));
  const r: RedisProcess = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    proc: undefined as unknown as ChildProcess,
    async start() {
      const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      r.proc = proc;
      await once(proc, /Ready to accept connections/, 20_000, 'redis-server');
    },
    async stop(signal = 'SIGTERM') {
      const proc = r.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      process.kill(proc.pid!, signal);
      await exited;
    },
  };
  await r.start();
  return r;
}

export interface WorkerProcess {
  proc: ChildProcess;
  name: string;
  log(): string;
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `vugrad worker --redis URL` (from the TypeScript sources) in its own working and temporary directory,
 * as on a machine of its own. `args` are more flags (`--lock-ms 2000`...). Resolves once it says it is ready.
 */
export async function startWorker(name: string, redisUrl: string, args: string[] = []): Promise<WorkerProcess> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `vugrad-${name}-`));
  const proc = spawn(process.execPath, ['--require', TSX, path.join(ROOT, 'lib/cli/main.ts'), 'worker', '--redis', redisUrl, ...args], {
    cwd: home,
    env: { ...process.env, TMPDIR: home, REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  // VUGRAD_SCALE_LOGS=DIR: each worker's output also goes to DIR/<name>.log (to see what a failed test's workers did).
  const logDir = process.env.VUGRAD_SCALE_LOGS;
  if (logDir) {
    const file = fs.createWriteStream(path.join(logDir, `${name}.log`));
    proc.stdout!.pipe(file);
    proc.stderr!.pipe(file);
  }
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  void exited.then(() => fs.rmSync(home, { recursive: true, force: true }));
  await once(proc, /vugrad worker: ready/, 60_000, `worker ${name}`);
  return {
    proc,
    name,
    log: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, signal);
      return exited;
    },
  };
}

/** The example server over `redisUrl`, training nothing itself (LOCAL_WORKERS=0) unless `env` says so. */
export function startApi(redisUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServer({
    REDIS_URL: redisUrl,
    LOCAL_WORKERS: '0',
    STATE_DIR: path.join(os.tmpdir(), 'vugrad-unused-state'),
    // The tests poll and submit more than the per-token defaults allow.
    MAX_JOBS_PER_TOKEN: '100',
    RATE_LIMIT_PER_MIN: '1000000',
    ...env,
  });
}

/** Polls `check` until it returns a value other than undefined. */
export async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
