/**
 * An example training service: an HTTP JSON API over vugrad's JobQueue. Training runs in worker threads, so
 * this process keeps answering while jobs train. Every job, its history, checkpoints and model are kept in a
 * state directory (written atomically): a crash or a restart loses at most the epoch in flight, and
 * interrupted jobs resume. Clients authenticate with bearer tokens; each sees only its own jobs unless it is
 * an admin. Request bodies are checked with zod; bad input gets a 400 that names the field, requests over a
 * limit a 400 or 429 that names the limit, and nothing a client sends can crash the process.
 *
 *   POST   /jobs                 start a job            {dataset, model, hidden, lr, epochs, ...} -> 201 job
 *   GET    /jobs                 list jobs (yours; an admin sees all, damaged ones included)
 *   GET    /jobs/:id             one job: status, progress, metrics history, error
 *   GET    /jobs/:id/events      server-sent events: start, batch, epoch, then done (or interrupted) and the end
 *   DELETE /jobs/:id             cancel a queued or running job;  ?purge=1: delete the job and its files
 *   GET    /jobs/:id/model       the trained model (safetensors)
 *   POST   /jobs/:id/predict     {inputs: number[][]} -> {classes, probabilities}
 *   GET    /health               backend, queue and store state (no token needed)
 *   GET    /                     the dashboard, a web app over this API (static.ts; docs/dashboard.md)
 *
 * Run it: `npm run example:server` (configuration from the environment: see README.md next to this file and
 * docs/server.md). In your own project, import from 'vugrad' instead of '../../lib'.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  ACTIVATIONS,
  backendInfo,
  DATASET_NAMES,
  DTYPES,
  INITS,
  LOSSES,
  MODELS,
  InputError,
  createJobQueue,
  JobQueue,
  modelFromJob,
  OPTIMIZER_NAMES,
  PRECISIONS,
  predictRows,
  QueueFullError,
  resolveTrainingSpec,
  SpecError,
  StoreError,
  type BullJobQueueOptions,
  type JobQueueApi,
  type JobQueueOptions,
  type JobSummary,
  type Module,
  type TrainingJob,
} from '../../lib';
import { isLoopback, TokenTable, type Principal } from './auth';
import { serverConfigFromEnv, type ServerConfig } from './config';
import { checkActiveJobs, checkJobSize, DEFAULT_LIMITS, LimitError, RateLimiter, type Limits } from './limits';
import { DataRoot, PathError, scrubPaths } from './paths';
import { serveStatic } from './static';

/** The body of POST /jobs. Unknown fields are errors (a typo should not silently train with a default). */
export const JobRequest = z.strictObject({
  dataset: z.enum(DATASET_NAMES),
  model: z.enum(MODELS).optional(),
  hidden: z.array(z.int().min(1).max(4096)).min(1).max(8).optional(),
  activation: z.enum(ACTIVATIONS).optional(),
  init: z.enum(INITS).optional(),
  optimizer: z.enum(OPTIMIZER_NAMES).optional(),
  momentum: z.number().min(0).lt(1).optional(),
  lr: z.number().positive().optional(),
  epochs: z.int().min(1).max(100).optional(),
  batchSize: z.int().min(1).max(10_000).optional(),
  loss: z.enum(LOSSES).optional(),
  reduction: z.enum(['mean', 'sum']).optional(),
  seed: z.int().min(0).optional(),
  limit: z.int().min(1).optional(),
  final: z.boolean().optional(),
  raw: z.boolean().optional(),
  normalize: z.boolean().optional(),
  /** float64 trains at half the speed; a resumed float64 job ends with exactly the weights of an uninterrupted one. */
  dtype: z.enum(DTYPES).optional(),
  /** bf16 mixed precision (matmul and convolution inputs); a job refused with the reason where it cannot run. */
  precision: z.enum(PRECISIONS).optional(),
  /** A data directory, relative to the server's dataRoot (refused when the server has none). */
  data: z.string().min(1).optional(),
});
export type JobRequest = z.infer<typeof JobRequest>;

/** The body of POST /jobs/:id/predict: rows of flattened samples. */
export const PredictRequest = z.strictObject({
  inputs: z.array(z.array(z.number())).min(1).max(1000),
});

export interface ServerOptions {
  /** The queue to use; default a new one from `queue` options (its `stateDir` is where jobs are kept). */
  jobQueue?: JobQueueApi;
  /** Queue options; with `redisUrl`, jobs are shared through Redis (BullMQ) with other processes: see docs/scaling.md. */
  queue?: JobQueueOptions & BullJobQueueOptions;
  /**
   * Where `data` paths in job requests are resolved (it must exist). Without it, requests naming `data` are
   * refused: a public server should not read paths its clients choose.
   */
  dataRoot?: string;
  /** Bearer tokens (`TokenTable.parse`/`fromEnv`). None: no authentication, allowed on loopback only. */
  tokens?: TokenTable;
  /** Limits per request and per token; unset ones take `DEFAULT_LIMITS`. */
  limits?: Partial<Limits>;
  /** Largest request body accepted (bytes). Default 8 MiB (a predict request of 1000 MNIST rows fits). */
  maxBodyBytes?: number;
  /** Seconds between SSE keep-alive comments. Default 15. */
  heartbeatSeconds?: number;
  /**
   * On shutdown, how long running jobs may take to reach their next epoch end (and checkpoint) before they
   * are interrupted. Default 10 s; 0 interrupts at once (losing the epoch in flight).
   */
  shutdownGraceSeconds?: number;
}

export interface TrainingServer {
  server: http.Server;
  queue: JobQueueApi;
  /**
   * Starts listening; resolves with the base URL (port 0 picks a free port). Refuses (rejects) a
   * non-loopback host when no tokens are configured.
   */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting connections, ends event streams and cancels every job (for tests and embedding). */
  close(): Promise<void>;
  /**
   * Stops for a restart (SIGTERM): refuses new requests (503), lets running jobs reach their next epoch end
   * within `shutdownGraceSeconds`, interrupts them (they resume from that checkpoint at the next start),
   * stores everything, and ends every event stream with a final `interrupted` event.
   */
  shutdown(): Promise<void>;
}

/** An error that becomes an HTTP response. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** `inputs[3][1]`, `hidden[0]`, `dataset`: a zod path as a client reads it. */
function fieldName(pathParts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of pathParts) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function validationError(error: z.ZodError, what: string): HttpError {
  const issues = error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
    const field = keys.length > 0 ? fieldName([...issue.path, keys[0]]) : fieldName(issue.path) || what;
    return { field, message: keys.length > 0 ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : issue.message };
  });
  const first = issues[0];
  return new HttpError(400, `${first.field}: ${first.message}`, { field: first.field, issues });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new HttpError(413, `request body is over ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) throw new HttpError(400, 'body: expected a JSON object, got an empty body', { field: 'body' });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body: malformed JSON (${(e as Error).message})`, { field: 'body' });
  }
}

/** The path's segments, percent-decoded; malformed encoding (`%E0%A4%A`) is the client's mistake: a 400. */
function pathSegments(pathname: string): string[] {
  return pathname
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new HttpError(400, `path: malformed percent-encoding in '${part}'`, { field: 'path' });
      }
    });
}

/** Who may use the server when no tokens are configured (loopback only): one local admin. */
const LOCAL: Principal = { name: 'local', admin: true };

/**
 * The example server's request handler and its job queue (not yet listening).
 *
 * @example
 * const app = createServer({ queue: { maxQueued: 4, stateDir: './vugrad-state' }, tokens: TokenTable.fromEnv() });
 * const url = await app.listen(0, '127.0.0.1');
 */
export function createServer(options: ServerOptions = {}): TrainingServer {
  const queue = options.jobQueue ?? createJobQueue(options.queue);
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;
  const tokens = options.tokens ?? TokenTable.empty();
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const rate = new RateLimiter(limits.ratePerMinute);
  const dataRootReady = options.dataRoot ? DataRoot.open(options.dataRoot) : Promise.resolve(undefined);
  dataRootReady.catch(() => undefined); // reported by listen()
  let dataRoot: DataRoot | undefined;
  const streams = new Map<http.ServerResponse, string>();
  // Models rebuilt for /predict, newest last, a few at most.
  const models = new Map<TrainingJob, Module>();
  let stopping = false;

  /** A job as its owner sees it: no server paths in its config or error. */
  function jobView(job: TrainingJob): JobSummary {
    const view = job.toJSON();
    const config = { ...view.config };
    if (config.data !== undefined) config.data = dataRoot ? dataRoot.relative(config.data) : '<server path>';
    return { ...view, config, error: view.error === undefined ? undefined : scrubPaths(view.error, dataRoot) };
  }

  function authenticate(req: http.IncomingMessage): Principal {
    if (tokens.size === 0) return LOCAL;
    const who = tokens.check(req.headers.authorization);
    if (!who) {
      const why = req.headers.authorization ? 'the bearer token is not valid' : 'this server needs an Authorization: Bearer <token> header';
      throw new HttpError(401, `unauthorized: ${why}`, { code: 'UNAUTHORIZED' });
    }
    return who;
  }

  /** The job, if `who` may see it; another owner's job is a 404 as if it did not exist. */
  function jobOr404(id: string, who: Principal): TrainingJob {
    const job = queue.get(id);
    if (!job || (!who.admin && job.owner !== who.name)) throw new HttpError(404, `no job '${id}'`);
    return job;
  }

  async function finishedModel(job: TrainingJob): Promise<Buffer> {
    if (job.status !== 'succeeded') throw new HttpError(409, `job ${job.id} is ${job.status}; only a succeeded job has a model`);
    const bytes = job.info ? await queue.readModel(job) : undefined;
    if (!bytes) {
      const why = job.damaged ? `its model is missing from the store (${job.damaged})` : `the server keeps the models of the last ${queue.keepModels} jobs`;
      throw new HttpError(410, `job ${job.id}'s model is no longer kept: ${why}`);
    }
    return bytes;
  }

  async function predictModel(job: TrainingJob): Promise<Module> {
    let model = models.get(job);
    if (model && job.hasModel) {
      models.delete(job);
    } else {
      model = modelFromJob(job.config, job.info!, await finishedModel(job));
    }
    models.set(job, model);
    for (const j of [...models.keys()]) if (!j.hasModel) models.delete(j); // deleted by retention
    while (models.size > 4) models.delete(models.keys().next().value as TrainingJob);
    return model;
  }

  async function submit(who: Principal, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const parsed = JobRequest.safeParse(await readJson(req, maxBody));
    if (!parsed.success) throw validationError(parsed.error, 'body');
    const spec = { ...parsed.data };
    if (spec.data !== undefined) {
      if (!dataRoot) throw new HttpError(400, 'data: this server does not accept data paths', { field: 'data' });
      try {
        spec.data = await dataRoot.resolve(spec.data);
      } catch (e) {
        if (e instanceof PathError) throw new HttpError(400, e.message, { field: 'data' });
        throw e;
      }
    }
    let job: TrainingJob;
    try {
      const config = resolveTrainingSpec(spec);
      checkJobSize(config, limits);
      const active = queue.list().filter((j) => j.owner === who.name && (j.status === 'queued' || j.status === 'running')).length;
      checkActiveJobs(who.name, active, limits);
      job = await queue.add(config, { owner: who.name });
    } catch (e) {
      if (e instanceof SpecError) throw new HttpError(400, e.message, { field: e.field });
      if (e instanceof LimitError) throw new HttpError(e.status, e.message, { code: 'LIMIT', limit: e.limit, value: e.value, field: e.field });
      if (e instanceof QueueFullError) throw new HttpError(429, e.message, { code: e.code, retryAfterSeconds: 30 });
      if (e instanceof StoreError) {
        // The operator's problem (a full or read-only disk), reported to them in the log; the client may retry.
        console.error(`training-server: ${e.message}`);
        throw new HttpError(503, 'the job store cannot be written at the moment; try again later', { code: e.code, retryAfterSeconds: 30 });
      }
      throw e;
    }
    sendJson(res, 201, jobView(job), { location: `/jobs/${job.id}` });
  }

  function events(job: TrainingJob, req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('status', jobView(job));
    const done = () => {
      send('done', { id: job.id, status: job.status, error: jobView(job).error, history: job.history });
      res.end();
    };
    if (job.settled || job.status === 'damaged') {
      done();
      return;
    }
    const onStart = (info: unknown) => send('start', info);
    const onBatch = (p: unknown) => send('batch', p);
    const onEpoch = (m: unknown) => send('epoch', m);
    job.on('start', onStart).on('batch', onBatch).on('epoch', onEpoch).once('settled', done);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.set(res, job.id);
    res.on('close', () => {
      clearInterval(heartbeat);
      streams.delete(res);
      job.off('start', onStart).off('batch', onBatch).off('epoch', onEpoch).off('settled', done);
    });
    req.on('error', () => res.destroy());
  }

  async function predict(job: TrainingJob, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const parsed = PredictRequest.safeParse(await readJson(req, maxBody));
    if (!parsed.success) throw validationError(parsed.error, 'body');
    const model = await predictModel(job);
    try {
      sendJson(res, 200, predictRows(model, parsed.data.inputs, job.info!.inputShape));
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(400, e.message, { field: e.field });
      throw e;
    }
  }

  async function remove(job: TrainingJob, url: URL, res: http.ServerResponse): Promise<void> {
    const purge = url.searchParams.get('purge');
    if (purge !== null && purge !== '0' && purge !== 'false') {
      await queue.purge(job.id);
      models.delete(job);
      return sendJson(res, 200, { id: job.id, purged: true });
    }
    if (!job.cancel('cancelled by a client')) throw new HttpError(409, `job ${job.id} has already ended (${job.status}); DELETE with ?purge=1 deletes it`);
    sendJson(res, 200, jobView(job));
  }

  async function health(res: http.ServerResponse): Promise<void> {
    const info = backendInfo();
    sendJson(res, 200, {
      ok: !stopping && !queue.unavailable?.(),
      backend: info.backend,
      blasThreads: info.threads,
      queue: queue.stats(),
      store: { kind: queue.store.kind, unavailable: queue.unavailable?.(), bytes: await queue.store.sizeOnDisk(), jobs: queue.list().length, damaged: queue.damaged().length },
      auth: tokens.size > 0 ? 'bearer' : 'none (loopback only)',
    });
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = pathSegments(url.pathname);
    const method = req.method ?? 'GET';
    const allow = (methods: string[]) => {
      if (!methods.includes(method)) throw new HttpError(405, `${method} is not allowed on ${url.pathname}`, { allow: methods });
    };
    if (parts.length === 1 && parts[0] === 'health') {
      allow(['GET']);
      return health(res);
    }
    // The dashboard's page, script and styles (no data in them: the app calls the API below with its token).
    if (await serveStatic(req, res, parts)) return;
    if (stopping) throw new HttpError(503, 'the server is shutting down; try again in a moment', { code: 'SHUTTING_DOWN' });
    const who = authenticate(req);
    // A shared store (Redis) that cannot be reached: say so, instead of answering from a stale view.
    const down = queue.unavailable?.();
    if (down) throw new HttpError(503, down, { code: 'STORE_UNAVAILABLE', retryAfterSeconds: 5 });
    try {
      // Per token; an open loopback server (no tokens) has one local user, who is not limited.
      if (tokens.size > 0) rate.take(who.name);
    } catch (e) {
      const le = e as LimitError;
      throw new HttpError(429, le.message, { code: 'LIMIT', limit: le.limit, value: le.value, retryAfterSeconds: rate.retryAfter(who.name) });
    }
    if (parts[0] !== 'jobs' || parts.length > 3) throw new HttpError(404, `no route ${method} ${url.pathname}`);
    if (parts.length === 1) {
      allow(['GET', 'POST']);
      if (method === 'POST') return submit(who, req, res);
      const jobs = queue
        .list()
        .filter((j) => who.admin || j.owner === who.name)
        .map(jobView);
      const damaged = who.admin ? queue.damaged().map((d) => ({ id: d.id, status: 'damaged', error: d.reason, modifiedAt: d.modifiedAt })) : [];
      return sendJson(res, 200, { jobs, damaged, queue: queue.stats() });
    }
    if (who.admin && parts.length === 2) {
      const d = queue.damaged().find((x) => x.id === parts[1]);
      if (d) {
        allow(['GET', 'DELETE']);
        if (method === 'DELETE' && url.searchParams.get('purge')) {
          await queue.purge(d.id);
          return sendJson(res, 200, { id: d.id, purged: true });
        }
        if (method === 'DELETE') throw new HttpError(409, `job ${d.id} is damaged (${d.reason}); DELETE with ?purge=1 deletes it`);
        return sendJson(res, 200, { id: d.id, status: 'damaged', error: d.reason, modifiedAt: d.modifiedAt });
      }
    }
    const job = jobOr404(parts[1], who);
    if (parts.length === 2) {
      allow(['GET', 'DELETE']);
      if (method === 'GET') return sendJson(res, 200, jobView(job));
      return remove(job, url, res);
    }
    switch (parts[2]) {
      case 'events':
        allow(['GET']);
        return events(job, req, res);
      case 'model': {
        allow(['GET']);
        const bytes = await finishedModel(job);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': bytes.length,
          'content-disposition': `attachment; filename="${job.id}.safetensors"`,
        });
        res.end(bytes);
        return;
      }
      case 'predict':
        allow(['POST']);
        return predict(job, req, res);
      default:
        throw new HttpError(404, `no route ${method} ${url.pathname}`);
    }
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      // The shared store (Redis) went away during the request: a 503 that says so, not a 500.
      if ((e as { code?: unknown } | null)?.code === 'STORE_UNAVAILABLE') e = new HttpError(503, (e as Error).message, { code: 'STORE_UNAVAILABLE', retryAfterSeconds: 5 });
      if (e instanceof HttpError) {
        const headers: http.OutgoingHttpHeaders = {};
        if (e.status === 429 || e.status === 503) headers['retry-after'] = String(e.extra.retryAfterSeconds ?? 30);
        if (e.status === 401) headers['www-authenticate'] = 'Bearer';
        if (e.status === 413) headers.connection = 'close';
        if (e.status === 405) headers.allow = (e.extra.allow as string[]).join(', ');
        sendJson(res, e.status, { error: e.message, ...e.extra }, headers);
      } else {
        // A bug, not the client's fault: logged here with its stack, answered without internals (no server
        // paths or stack in the response), and the server keeps serving.
        const ref = Math.random().toString(36).slice(2, 10);
        console.error(`training-server: internal error ${ref} on ${req.method} ${req.url}:`, e);
        sendJson(res, 500, { error: `internal error (reference ${ref} in the server's log)` });
      }
    });
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  function endStreams(event: string, data: (id: string) => unknown): void {
    for (const [res, id] of streams) {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data(id))}\n\n`);
      // Once the final event is flushed, close the connection too: a kept-alive socket would hold up close().
      res.end(() => res.socket?.destroy());
    }
    streams.clear();
  }

  async function stopListening(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  return {
    server,
    queue,
    async listen(port = 0, host = '127.0.0.1') {
      if (tokens.size === 0 && !isLoopback(host)) {
        throw new Error(`refusing to listen on ${host} without authentication: set API_TOKENS or API_TOKENS_FILE, or listen on 127.0.0.1`);
      }
      dataRoot = await dataRootReady;
      await queue.ready;
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    async close() {
      stopping = true;
      endStreams('done', (id) => ({ id, status: 'cancelled', error: 'the server was closed' }));
      await stopListening();
      await queue.close();
    },
    async shutdown() {
      stopping = true;
      const closed = stopListening();
      await queue.shutdown({ graceMs: (options.shutdownGraceSeconds ?? 10) * 1000 });
      endStreams('interrupted', (id) => ({
        id,
        status: queue.get(id)?.status ?? 'interrupted',
        message: 'the server is restarting; the job resumes from its last checkpoint when it is back',
      }));
      server.closeIdleConnections();
      await closed;
    },
  };
}

if (require.main === module) {
  void main();
}

/** Runs the server from the environment (see config.ts); SIGTERM and SIGINT shut it down for a restart. */
async function main(): Promise<void> {
  let app: TrainingServer;
  let url: string;
  let config: ServerConfig;
  try {
    config = serverConfigFromEnv(process.env);
    app = createServer(config.options);
    url = await app.listen(config.port, config.host);
  } catch (e) {
    // A configuration mistake: say what, without a stack trace.
    console.error(`training-server: cannot start: ${(e as Error).message}`);
    process.exit(1);
  }
  const info = backendInfo();
  const stats = app.queue.stats();
  const damaged = app.queue.damaged().length;
  console.log(
    `training server on ${url} (${info.backend} kernels; ${stats.concurrency} job(s) at once, ${stats.blasThreads} BLAS thread(s) each; ` +
      `state in ${app.queue.store.kind === 'redis' ? 'Redis (shared)' : config.stateDir}; ${app.queue.list().length} stored job(s)${damaged ? `, ${damaged} damaged` : ''}; auth ${config.tokens.size > 0 ? `${config.tokens.size} token(s)` : 'none (loopback)'})`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`training-server: ${signal}: interrupting running jobs (they resume at the next start)`);
    app.shutdown().then(
      () => process.exit(0),
      (e: Error) => {
        console.error(`training-server: shutdown failed: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
