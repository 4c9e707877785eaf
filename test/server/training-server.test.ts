/**
 * The example training server end to end, over real HTTP on 127.0.0.1: a small MNIST job runs to completion
 * while its server-sent events are followed, the server answers other requests while it trains, the
 * downloaded model reloads into the same architecture and predicts what /predict says, a job is cancelled, a
 * failing job is reported, and malformed requests get a 400 naming the field without hurting the server.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createServer, type TrainingServer } from '../../examples/training-server/server';
import { loadDataset } from '../../lib/data/load-dataset';
import { parseSafetensors } from '../../lib/io';
import { predictRows } from '../../lib/jobs';
import { bf16Support } from '../../lib/kernels';
import { MLP } from '../../lib/nn';
import { sseParser, type SseEvent } from './helpers';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

let app: TrainingServer;
let base: string;
let dataRoot: string;
let stateDir: string;

function request(method: string, url: string, body?: string | object): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + url, { method, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json: unknown;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(buf.toString('utf8'));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(typeof body === 'string' ? body : JSON.stringify(body));
    else req.end();
  });
}

/** Follows /jobs/:id/events until the server ends the stream; `onEvent` sees each event as it arrives. */
function followEvents(id: string, onEvent: (e: SseEvent) => void = () => undefined): Promise<{ events: SseEvent[]; contentType: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}/jobs/${id}/events`, (res) => {
        const events: SseEvent[] = [];
        res.setEncoding('utf8');
        res.on('data', sseParser((e) => {
          events.push(e);
          onEvent(e);
        }));
        res.on('end', () => resolve({ events, contentType: String(res.headers['content-type']) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function waitFor(id: string, statuses: string[], timeoutMs = 60000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await request('GET', `/jobs/${id}`);
    if (statuses.includes(r.json.status)) return r.json;
    if (Date.now() > until) throw new Error(`job ${id} is still ${r.json.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-server-'));
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-server-state-'));
  app = createServer({ queue: { concurrency: 1, maxQueued: 1, stateDir }, dataRoot });
  base = await app.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(dataRoot, { recursive: true, force: true });
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('the training server', () => {
  const SPEC = { dataset: 'mnist', hidden: [32], epochs: 2, limit: 3000, batchSize: 64, lr: 0.002, seed: 1 };
  let jobId: string;

  test('runs an MNIST job to completion, streaming its events, and answers meanwhile', async () => {
    const created = await request('POST', '/jobs', SPEC);
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/jobs/${created.json.id}`);
    expect(created.json).toMatchObject({ status: 'running', config: { dataset: 'mnist', hidden: [32], epochs: 2 } });
    jobId = created.json.id;

    const quick: Promise<Reply>[] = [];
    const { events, contentType } = await followEvents(jobId, (e) => {
      // While the worker trains, other requests are answered at once.
      if (e.event === 'batch' && quick.length < 3) quick.push(request('GET', '/health'));
    });
    expect(contentType).toMatch(/^text\/event-stream/);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('status');
    expect(names).toContain('start');
    expect(names).toContain('batch');
    expect(names.filter((n) => n === 'epoch')).toHaveLength(2);
    expect(names[names.length - 1]).toBe('done');
    const done = events[events.length - 1].data;
    expect(done).toMatchObject({ id: jobId, status: 'succeeded' });
    expect(done.history).toHaveLength(2);
    const batch = events.find((e) => e.event === 'batch')!.data;
    expect(batch).toMatchObject({ epochs: 2, batches: Math.ceil(3000 / 64) });
    for (const k of ['loss', 'accuracy', 'samplesPerSec']) expect(Number.isFinite(batch[k])).toBe(true);

    expect(quick.length).toBeGreaterThan(0);
    // NOTE: no wall-clock bound here (CI machines are shared); bench:server measures event-loop delay.
    for (const r of await Promise.all(quick)) expect(r.status).toBe(200);

    const job = (await request('GET', `/jobs/${jobId}`)).json;
    expect(job).toMatchObject({ status: 'succeeded', hasModel: true, info: { inputShape: [784], numClasses: 10, trainSize: 3000 } });
    expect(job.history[1].valAccuracy).toBeGreaterThan(0.6);
    const list = (await request('GET', '/jobs')).json;
    expect(list.jobs.map((j: any) => j.id)).toContain(jobId);

    // Events of a finished job: its status and done, then the stream ends.
    const again = await followEvents(jobId);
    expect(again.events.map((e) => e.event)).toEqual(['status', 'done']);
  });

  test('the downloaded model reloads into the same architecture and predicts as /predict does', async () => {
    const download = await request('GET', `/jobs/${jobId}/model`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    const { tensors, metadata } = parseSafetensors(download.body);
    expect(JSON.parse(metadata.config)).toMatchObject({ hidden: [32] });
    const net = new MLP({ inputSize: 784, hiddenSizes: [32], outputSize: 10 });
    net.loadStateDict(tensors);

    const { test: held } = await loadDataset('mnist', { final: true, limit: 8 });
    const rows = Array.from({ length: 8 }, (_, i) => Array.from(held!.x.data.subarray(i * 784, (i + 1) * 784)));
    const local = predictRows(net, rows, [784]);
    const remote = await request('POST', `/jobs/${jobId}/predict`, { inputs: rows });
    expect(remote.status).toBe(200);
    expect(remote.json.classes).toEqual(local.classes);
    remote.json.probabilities.forEach((p: number[], i: number) => {
      expect(p).toHaveLength(10);
      p.forEach((v, k) => expect(v).toBeCloseTo(local.probabilities[i][k], 5));
    });
  });

  test('cancels a running job; a full queue is a 429', async () => {
    const long = await request('POST', '/jobs', { dataset: 'synth', epochs: 100, hidden: [64] });
    expect(long.status).toBe(201);
    const waiting = await request('POST', '/jobs', { dataset: 'synth', epochs: 1, limit: 500 });
    expect(waiting.status).toBe(201);
    expect(waiting.json.status).toBe('queued');
    const full = await request('POST', '/jobs', { dataset: 'synth', epochs: 1, limit: 500 });
    expect(full.status).toBe(429);
    expect(full.json.code).toBe('QUEUE_FULL');
    expect(full.headers['retry-after']).toBeDefined();

    try {
      // Once it reports batches it is training: requests are still answered.
      for (let until = Date.now() + 30000; !(await request('GET', `/jobs/${long.json.id}`)).json.progress; ) {
        if (Date.now() > until) throw new Error('the long job never reported progress');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < 5; i++) {
        const r = await request('GET', `/jobs/${long.json.id}`);
        expect(r.json.status).toBe('running');
      }
      const cancelled = await request('DELETE', `/jobs/${long.json.id}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.json.status).toBe('cancelled');
    } finally {
      app.queue.cancel(long.json.id);
    }
    expect((await request('DELETE', `/jobs/${long.json.id}`)).status).toBe(409);
    expect((await request('GET', `/jobs/${long.json.id}/model`)).status).toBe(409);
    expect((await waitFor(waiting.json.id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  test('a job in bf16 trains where bf16 runs, and fails with the reason where it does not', async () => {
    const r = await request('POST', '/jobs', { dataset: 'synth', precision: 'bf16', epochs: 1, limit: 500 });
    expect(r.status).toBe(201);
    const done = await waitFor(r.json.id, ['failed', 'succeeded']);
    const support = bf16Support();
    if (support.supported) expect(done.status).toBe('succeeded');
    else expect(done).toMatchObject({ status: 'failed', error: expect.stringContaining('bf16') });
  });

  test('a failing job (NaN loss) is reported with its reason, missing data is a 400; the server keeps serving', async () => {
    const nan = await request('POST', '/jobs', { dataset: 'synth', optimizer: 'sgd', lr: 1e12, epochs: 1, limit: 2000 });
    const failedNan = await waitFor(nan.json.id, ['failed', 'succeeded']);
    expect(failedNan).toMatchObject({ status: 'failed', error: expect.stringMatching(/loss became/) });
    const missing = await request('POST', '/jobs', { dataset: 'mnist', data: 'no-such-dir', limit: 100, epochs: 1 });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ field: 'data', error: "data: path 'no-such-dir' was not found under the server's data root" });
    expect(missing.json.error).not.toContain(dataRoot);
    expect((await request('GET', '/health')).status).toBe(200);
  });

  test.each([
    ['malformed JSON', 'body', 'POST', '/jobs', '{"dataset": "mnist",'],
    ['an empty body', 'body', 'POST', '/jobs', ''],
    ['a JSON array', 'body', 'POST', '/jobs', '[1, 2]'],
    ['a missing dataset', 'dataset', 'POST', '/jobs', { epochs: 1 }],
    ['an unknown dataset', 'dataset', 'POST', '/jobs', { dataset: 'imagenet' }],
    ['a string lr', 'lr', 'POST', '/jobs', { dataset: 'synth', lr: 'fast' }],
    ['a negative lr', 'lr', 'POST', '/jobs', { dataset: 'synth', lr: -0.1 }],
    ['fractional epochs', 'epochs', 'POST', '/jobs', { dataset: 'synth', epochs: 1.5 }],
    ['a hidden size of the wrong type', 'hidden[1]', 'POST', '/jobs', { dataset: 'synth', hidden: [16, 'x'] }],
    ['an unknown field', 'learningRate', 'POST', '/jobs', { dataset: 'synth', learningRate: 0.1 }],
    ['lenet on synth', 'model', 'POST', '/jobs', { dataset: 'synth', model: 'lenet' }],
    ['an unknown precision', 'precision', 'POST', '/jobs', { dataset: 'synth', precision: 'fp16' }],
    ['a data path outside the data root', 'data', 'POST', '/jobs', { dataset: 'mnist', data: '../../etc' }],
    ['predict without inputs', 'inputs', 'POST', '/jobs/:id/predict', {}],
    ['predict with non-numbers', 'inputs[0][0]', 'POST', '/jobs/:id/predict', { inputs: [['a']] }],
    ['predict with the wrong input size', 'inputs[1]', 'POST', '/jobs/:id/predict', { inputs: [new Array(784).fill(0), [1, 2, 3]] }],
  ])('%s is a 400 naming %s', async (_what, field, method, url, body) => {
    const r = await request(method, url.replace(':id', jobId), body);
    expect(r.status).toBe(400);
    expect(r.json.field).toBe(field);
    expect(r.json.error.startsWith(field)).toBe(true);
  });

  test('unknown routes and jobs are 404, wrong methods 405; the server is alive after all of it', async () => {
    expect((await request('GET', '/nothing')).status).toBe(404);
    expect((await request('GET', '/jobs/no-such-job')).status).toBe(404);
    expect((await request('GET', `/jobs/${jobId}/nothing`)).status).toBe(404);
    const wrong = await request('PUT', '/jobs');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, POST');
    const health = await request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ ok: true, queue: { concurrency: 1 } });
  });
});
