/**
 * An example training service: an HTTP JSON API over vugrad's JobQueue. Training runs in worker threads, so
 * this process keeps answering while jobs train. Request bodies are checked with zod; bad input gets a 400
 * that names the field, and nothing a client sends can crash the process.
 *
 *   POST   /jobs                 start a job            {dataset, model, hidden, lr, epochs, ...} -> 201 job
 *   GET    /jobs                 list jobs
 *   GET    /jobs/:id             one job: status, progress, metrics history, error
 *   GET    /jobs/:id/events      server-sent events: start, batch, epoch, then done (and the stream ends)
 *   DELETE /jobs/:id             cancel a queued or running job
 *   GET    /jobs/:id/model       the trained model (safetensors)
 *   POST   /jobs/:id/predict     {inputs: number[][]} -> {classes, probabilities}
 *   GET    /health               backend and queue state
 *
 * Run it: `npx tsx examples/training-server/server.ts` (PORT, HOST and DATA_ROOT from the environment).
 * In your own project, import from 'vugrad' instead of '../../lib'.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  backendInfo,
  DATASET_NAMES,
  JobQueue,
  modelFromJob,
  OPTIMIZER_NAMES,
  predictRows,
  QueueFullError,
  SpecError,
  type JobQueueOptions,
  type Module,
  type TrainingJob,
} from '../../lib';
import { ACTIVATIONS, INITS, LOSSES, MODELS } from '../../lib/cli/config';

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
  /** A data directory, relative to the server's dataRoot (refused when the server has none). */
  data: z.string().min(1).optional(),
});
export type JobRequest = z.infer<typeof JobRequest>;

/** The body of POST /jobs/:id/predict: rows of flattened samples. */
export const PredictRequest = z.strictObject({
  inputs: z.array(z.array(z.number())).min(1).max(1000),
});

export interface ServerOptions {
  /** The queue to use; default a new one from `queue` options. */
  jobQueue?: JobQueue;
  queue?: JobQueueOptions;
  /**
   * Where `data` paths in job requests are resolved. Without it, requests naming `data` are refused: a
   * public server should not read paths its clients choose.
   */
  dataRoot?: string;
  /** Largest request body accepted (bytes). Default 8 MiB (a predict request of 1000 MNIST rows fits). */
  maxBodyBytes?: number;
  /** Seconds between SSE keep-alive comments. Default 15. */
  heartbeatSeconds?: number;
}

export interface TrainingServer {
  server: http.Server;
  queue: JobQueue;
  /** Starts listening; resolves with the base URL (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting connections, ends event streams and cancels every job. */
  close(): Promise<void>;
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

/** A job as the API shows it. */
function jobView(job: TrainingJob) {
  return job.toJSON();
}

/**
 * The example server's request handler and its job queue (not yet listening).
 *
 * @example
 * const app = createServer({ queue: { maxQueued: 4 } });
 * const url = await app.listen(0, '127.0.0.1');
 */
export function createServer(options: ServerOptions = {}): TrainingServer {
  const queue = options.jobQueue ?? new JobQueue(options.queue);
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;
  const dataRoot = options.dataRoot ? path.resolve(options.dataRoot) : undefined;
  const streams = new Set<http.ServerResponse>();
  // Models rebuilt for /predict, newest last; only while the queue still keeps the job's model bytes.
  const models = new Map<TrainingJob, Module>();

  function jobOr404(id: string): TrainingJob {
    const job = queue.get(id);
    if (!job) throw new HttpError(404, `no job '${id}'`);
    return job;
  }

  function finishedModel(job: TrainingJob): Buffer {
    if (job.status !== 'succeeded') throw new HttpError(409, `job ${job.id} is ${job.status}; only a succeeded job has a model`);
    if (!job.model || !job.info) throw new HttpError(410, `job ${job.id}'s model is no longer kept (the server keeps the last ${queue.keepModels})`);
    return job.model;
  }

  function predictModel(job: TrainingJob): Module {
    const bytes = finishedModel(job);
    let model = models.get(job);
    if (model) models.delete(job);
    else model = modelFromJob(job.config, job.info!, bytes);
    models.set(job, model);
    for (const j of [...models.keys()]) if (!j.model) models.delete(j); // released by the queue
    while (models.size > Math.max(1, queue.keepModels)) models.delete(models.keys().next().value as TrainingJob);
    return model;
  }

  async function submit(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const parsed = JobRequest.safeParse(await readJson(req, maxBody));
    if (!parsed.success) throw validationError(parsed.error, 'body');
    const spec = { ...parsed.data };
    if (spec.data !== undefined) {
      if (!dataRoot) throw new HttpError(400, 'data: this server does not accept data paths', { field: 'data' });
      const resolved = path.resolve(dataRoot, spec.data);
      if (resolved !== dataRoot && !resolved.startsWith(dataRoot + path.sep)) {
        throw new HttpError(400, `data: '${spec.data}' is outside the server's data root`, { field: 'data' });
      }
      spec.data = resolved;
    }
    let job: TrainingJob;
    try {
      job = queue.submit(spec);
    } catch (e) {
      if (e instanceof SpecError) throw new HttpError(400, e.message, { field: e.field });
      if (e instanceof QueueFullError) throw new HttpError(429, e.message, { code: e.code, retryAfterSeconds: 30 });
      throw e;
    }
    sendJson(res, 201, jobView(job), { location: `/jobs/${job.id}` });
  }

  function events(job: TrainingJob, req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('status', jobView(job));
    const done = () => {
      send('done', { id: job.id, status: job.status, error: job.error, history: job.history });
      res.end();
    };
    if (job.settled) {
      done();
      return;
    }
    const onStart = (info: unknown) => send('start', info);
    const onBatch = (p: unknown) => send('batch', p);
    const onEpoch = (m: unknown) => send('epoch', m);
    job.on('start', onStart).on('batch', onBatch).on('epoch', onEpoch).once('settled', done);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
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
    const model = predictModel(job);
    const shape = job.info!.inputShape;
    const width = shape.reduce((a, b) => a * b, 1);
    const bad = parsed.data.inputs.findIndex((row) => row.length !== width);
    if (bad >= 0) {
      const field = `inputs[${bad}]`;
      throw new HttpError(400, `${field}: expected ${width} numbers (a sample of shape [${shape.join(',')}]), got ${parsed.data.inputs[bad].length}`, { field });
    }
    sendJson(res, 200, predictRows(model, parsed.data.inputs, shape));
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const allow = (methods: string[]) => {
      if (!methods.includes(method)) throw new HttpError(405, `${method} is not allowed on ${url.pathname}`, { allow: methods });
    };
    if (parts.length === 1 && parts[0] === 'health') {
      allow(['GET']);
      const info = backendInfo();
      return sendJson(res, 200, { ok: true, backend: info.backend, blasThreads: info.threads, queue: queue.stats() });
    }
    if (parts[0] !== 'jobs' || parts.length > 3) throw new HttpError(404, `no route ${method} ${url.pathname}`);
    if (parts.length === 1) {
      allow(['GET', 'POST']);
      if (method === 'POST') return submit(req, res);
      return sendJson(res, 200, { jobs: queue.list().map(jobView), queue: queue.stats() });
    }
    const job = jobOr404(parts[1]);
    if (parts.length === 2) {
      allow(['GET', 'DELETE']);
      if (method === 'GET') return sendJson(res, 200, jobView(job));
      if (!job.cancel('cancelled by a client')) throw new HttpError(409, `job ${job.id} has already ended (${job.status})`);
      return sendJson(res, 200, jobView(job));
    }
    switch (parts[2]) {
      case 'events':
        allow(['GET']);
        return events(job, req, res);
      case 'model': {
        allow(['GET']);
        const bytes = finishedModel(job);
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
      if (e instanceof HttpError) {
        const headers: http.OutgoingHttpHeaders = e.status === 429 ? { 'retry-after': '30' } : {};
        if (e.status === 413) headers.connection = 'close';
        if (e.status === 405) headers.allow = (e.extra.allow as string[]).join(', ');
        sendJson(res, e.status, { error: e.message, ...e.extra }, headers);
      } else {
        // A bug, not the client's fault: say so, keep serving.
        console.error('training-server: unexpected error', e);
        sendJson(res, 500, { error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
      }
    });
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    queue,
    listen(port = 0, host = '127.0.0.1') {
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
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await queue.close();
    },
  };
}

if (require.main === module) {
  const app = createServer({ dataRoot: process.env.DATA_ROOT });
  const port = Number(process.env.PORT ?? 3000);
  app.listen(port, process.env.HOST ?? '127.0.0.1').then((url) => {
    const info = backendInfo();
    const stats = app.queue.stats();
    console.log(`training server on ${url} (${info.backend} kernels; ${stats.concurrency} job(s) at once, ${stats.blasThreads} BLAS thread(s) each)`);
  });
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
