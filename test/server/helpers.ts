/**
 * Helpers for the service tests: start the example server as a real child process (its own port, state
 * directory and environment), call it over HTTP, follow its event streams, and stop or kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/**
 * Starts `examples/training-server/server.ts` with `env` added to this process's environment (PORT 0, HOST
 * 127.0.0.1 unless given). Resolves once it prints its URL; rejects with its output if it exits first.
 */
export function startServer(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--require', 'tsx/cjs', 'examples/training-server/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not start in ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    const onData = () => {
      const m = /training server on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve({ url: m[1], proc, stdout: () => out, stderr: () => err, exited });
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before it was ready:\n${out}\n${err}`));
    });
  });
}

/** Kills the server with `signal` and waits for it to exit. */
export async function stopServer(server: ServerProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string | undefined> {
  if (!server || server.proc.exitCode !== null || server.proc.signalCode !== null) return undefined;
  server.proc.kill(signal);
  return server.exited;
}

/** One HTTP request; a JSON body is parsed into `json`. */
export function request(base: string, method: string, url: string, options: { body?: string | object; token?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const req = http.request(base + url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json: unknown;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(buf.toString('utf8'));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const { body } = options;
    if (body !== undefined) req.end(typeof body === 'string' ? body : JSON.stringify(body));
    else req.end();
  });
}

export interface SseEvent {
  event: string;
  data: any;
}

/** A `data` handler for a text/event-stream response: calls `onEvent` for each complete event (keep-alives skipped). */
export function sseParser(onEvent: (e: SseEvent) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) onEvent({ event, data: JSON.parse(data) });
    }
  };
}

/**
 * Follows `/jobs/:id/events` until the server ends the stream (or the connection breaks); `onEvent` sees each
 * event as it arrives.
 */
export function followEvents(base: string, id: string, token?: string, onEvent: (e: SseEvent) => void = () => undefined): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = token ? { authorization: `Bearer ${token}` } : {};
    const events: SseEvent[] = [];
    http
      .get(`${base}/jobs/${id}/events`, { headers }, (res) => {
        res.setEncoding('utf8');
        res.on('data', sseParser((e) => {
          events.push(e);
          onEvent(e);
        }));
        res.on('end', () => resolve(events));
        res.on('close', () => resolve(events));
        res.on('error', () => resolve(events));
      })
      .on('error', reject);
  });
}

/** Polls a job until its status is one of `statuses`. */
export async function waitForStatus(base: string, id: string, statuses: string[], token?: string, timeoutMs = 60_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await request(base, 'GET', `/jobs/${id}`, { token });
    if (statuses.includes(r.json?.status)) return r.json;
    if (Date.now() > until) throw new Error(`job ${id} is still ${r.json?.status ?? r.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
