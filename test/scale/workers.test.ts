/**
 * The service spread over processes, as over machines: one Redis, API processes that train nothing
 * (LOCAL_WORKERS=0) and `vugrad worker` processes, each in its own working and temp directory. A job
 * submitted to one API process is trained by a worker, its events reach a client of another API process and
 * its model downloads from either. A worker SIGKILLed in the middle of a job: BullMQ hands the job to another
 * worker once the dead one's lock expires (2 s here), it resumes from the checkpoint in Redis, and ends
 * exactly once, with bit-for-bit the float64 weights of an uninterrupted run.
 */
import { parseSafetensors } from '../../lib/io';
import { followEvents, request, stopServer, waitForStatus, type ServerProcess } from '../server/helpers';
import { haveRedis, startApi, startRedis, startWorker, until, type RedisProcess, type WorkerProcess } from './helpers';

const TINY = { dataset: 'synth', epochs: 2, limit: 500, hidden: [8] };
/** float64, long enough (a few seconds) to be caught in the middle. */
const LONG = { dataset: 'synth', dtype: 'float64', epochs: 12, limit: 20000, hidden: [64], batchSize: 16, seed: 7 };
/** Cancelled long before it could end: a worker polls for cancellation every 500 ms; 100 epochs (the server's most) take half a minute or more. */
const CANCEL_ME = { ...LONG, dtype: 'float32', epochs: 100 };
/** Small lock and stall intervals, so that a dead worker's job moves on in seconds. */
const FAST_STALL = ['--lock-ms', '2000', '--stalled-ms', '1000'];

const d = haveRedis() ? describe : describe.skip;

let redis: RedisProcess | undefined;
let apiA: ServerProcess | undefined;
let apiB: ServerProcess | undefined;
const workers: WorkerProcess[] = [];

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await stopServer(apiA);
  await stopServer(apiB);
  await redis?.stop('SIGKILL');
});

function tensorsOf(bytes: Buffer) {
  const { tensors } = parseSafetensors(bytes);
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype, data: Array.from(t.data) }]));
}

d('a service of API processes and vugrad workers on one Redis', () => {
  jest.setTimeout(180_000);

  beforeAll(async () => {
    redis = await startRedis();
    [apiA, apiB] = await Promise.all([startApi(redis.url), startApi(redis.url)]);
  });

  test('a job submitted to an API process that trains nothing is trained by a worker; events and model on any API process', async () => {
    const health = await request(apiA!.url, 'GET', '/health');
    expect(health.json).toMatchObject({ ok: true, store: { kind: 'redis' }, queue: { concurrency: 0 } });
    const id = (await request(apiA!.url, 'POST', '/jobs', { body: TINY })).json.id;
    // Nobody trains it yet: the API process has no workers of its own.
    await new Promise((r) => setTimeout(r, 500));
    expect((await request(apiA!.url, 'GET', `/jobs/${id}`)).json.status).toBe('queued');
    // The other API process lists it too, and follows its events.
    const events = followEvents(apiB!.url, id);
    workers.push(await startWorker('w0', redis!.url));
    const seen = await events;
    const names = seen.map((e) => e.event);
    expect(names[0]).toBe('status');
    expect(names).toContain('start');
    expect(names.filter((n) => n === 'epoch')).toHaveLength(TINY.epochs);
    expect(seen[seen.length - 1]).toMatchObject({ event: 'done', data: { status: 'succeeded' } });
    const done = await waitForStatus(apiA!.url, id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', hasModel: true });
    expect(done.history).toHaveLength(TINY.epochs);
    const a = await request(apiA!.url, 'GET', `/jobs/${id}/model`);
    const b = await request(apiB!.url, 'GET', `/jobs/${id}/model`);
    expect(a.status).toBe(200);
    expect(a.body.equals(b.body)).toBe(true);
    expect(Object.keys(parseSafetensors(a.body).tensors).length).toBeGreaterThan(0);
    expect(workers[0].log()).toMatch(new RegExp(`job ${id}: succeeded`));
    await workers.shift()!.kill('SIGTERM');
  });

  test('three workers; the one training a job is SIGKILLed: another resumes it from its checkpoint, every job ends once', async () => {
    for (const name of ['m1', 'm2', 'm3']) workers.push(await startWorker(name, redis!.url, FAST_STALL));
    const longId = (await request(apiA!.url, 'POST', '/jobs', { body: LONG })).json.id;
    const others: string[] = [];
    for (let i = 0; i < 4; i++) others.push((await request(apiB!.url, 'POST', '/jobs', { body: { ...TINY, seed: i } })).json.id);

    // Killed once the second epoch is reported (its checkpoint is in Redis before it is reported).
    let epochs = 0;
    let victim: WorkerProcess | undefined;
    await followEvents(apiA!.url, longId, undefined, (e) => {
      if (e.event === 'epoch' && ++epochs === 2 && !victim) {
        victim = workers.find((w) => w.log().includes(`job ${longId}: starting`));
        void victim?.kill('SIGKILL');
      }
    });
    expect(victim).toBeDefined();
    expect(await victim!.exited).toBe('SIGKILL');

    const done = await waitForStatus(apiB!.url, longId, ['succeeded', 'failed'], undefined, 120_000);
    expect(done.status).toBe('succeeded');
    expect(done.resumed).toBe(1);
    expect(done.history.map((m: any) => m.epoch)).toEqual(Array.from({ length: LONG.epochs }, (_, i) => i + 1));
    const survivors = workers.filter((w) => w !== victim);
    const resumedBy = survivors.filter((w) => w.log().includes(`job ${longId}: resuming from its checkpoint`));
    expect(resumedBy).toHaveLength(1);
    // Ended exactly once: one worker reports the success, none found it ended already.
    // The record says succeeded a moment before the worker that stored it logs so (it deletes the checkpoint first).
    expect(await waitForLog(workers, `job ${longId}: succeeded`)).toBeDefined();
    const all = workers.map((w) => w.log()).join('\n');
    expect(all.split(`job ${longId}: succeeded`).length - 1).toBe(1);
    expect(all).not.toMatch(/already says/);
    for (const id of others) expect((await waitForStatus(apiA!.url, id, ['succeeded', 'failed'])).status).toBe('succeeded');

    // The resumed job's float64 weights equal an uninterrupted run's.
    const again = (await request(apiA!.url, 'POST', '/jobs', { body: LONG })).json.id;
    expect((await waitForStatus(apiA!.url, again, ['succeeded', 'failed'], undefined, 120_000)).status).toBe('succeeded');
    const resumed = tensorsOf((await request(apiA!.url, 'GET', `/jobs/${longId}/model`)).body);
    const straight = tensorsOf((await request(apiB!.url, 'GET', `/jobs/${again}/model`)).body);
    expect(Object.values(resumed)[0].dtype).toBe('float64');
    expect(resumed).toEqual(straight);
  });

  test('a worker stopped with SIGTERM hands its job back at once; another resumes it from its checkpoint', async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
    const first = await startWorker('t1', redis!.url);
    workers.push(first);
    const id = (await request(apiA!.url, 'POST', '/jobs', { body: { ...LONG, dtype: 'float32' } })).json.id;
    // NOTE: apiB learns of a job submitted to apiA a moment later (BullMQ's 'added' event, then a read): asked
    // at once it may answer 404, and a stream followed then ends at once (this test waited 30 s for an epoch that
    // it could no longer hear of, in 2 CI runs).
    await knownTo(apiB!, id);
    let stopped: Promise<number | string> | undefined;
    const streamed = followEvents(apiB!.url, id, undefined, (e) => {
      // The stream's first event is the status: apiB may have heard of the job late, with epochs done already.
      const epochs = e.event === 'epoch' ? e.data.epoch : e.event === 'status' ? e.data.history.length : 0;
      if (epochs >= 2 && !stopped) stopped = first.kill('SIGTERM');
    });
    await until(async () => stopped, 'the second epoch', 60_000);
    expect(await stopped).toBe(0);
    expect(first.log()).toMatch(new RegExp(`job ${id}: interrupted at epoch \\d+; back in the queue`));
    // apiA hears of the hand-back through BullMQ's events a moment after the worker has exited.
    expect((await waitForStatus(apiA!.url, id, ['interrupted', 'queued'], undefined, 10_000)).status).toMatch(/interrupted|queued/);
    workers.push(await startWorker('t2', redis!.url));
    const done = await waitForStatus(apiA!.url, id, ['succeeded', 'failed'], undefined, 120_000);
    expect(done).toMatchObject({ status: 'succeeded', resumed: 1 });
    expect(done.history.map((m: any) => m.epoch)).toEqual(Array.from({ length: LONG.epochs }, (_, i) => i + 1));
    expect(workers[workers.length - 1].log()).toContain(`job ${id}: resuming from its checkpoint`);
    // The stream on the other API process saw the job through to its end.
    expect((await streamed).pop()).toMatchObject({ event: 'done', data: { status: 'succeeded' } });
  });

  test('cancel and purge from one API process reach the worker and the other API process', async () => {
    const posted = await request(apiA!.url, 'POST', '/jobs', { body: CANCEL_ME });
    expect(posted.json).toMatchObject({ id: expect.any(String) });
    const id = posted.json.id;
    await knownTo(apiB!, id);
    // Cancelled once it is observably training (a batch reported), so the cancel reaches a running worker.
    let cancel: Promise<{ status: number }> | undefined;
    const events = await followEvents(apiB!.url, id, undefined, (e) => {
      if (e.event === 'batch' && !cancel) cancel = request(apiB!.url, 'DELETE', `/jobs/${id}`);
    });
    expect(cancel).toBeDefined();
    expect((await cancel!).status).toBe(200);
    expect(events.pop()).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
    const cancelled = await waitForStatus(apiA!.url, id, ['cancelled', 'succeeded', 'failed']);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.history.length).toBeLessThan(CANCEL_ME.epochs);
    const w = await waitForLog(workers, `job ${id}: stopped (cancelled)`);
    expect(w).toBeDefined();
    expect((await request(apiA!.url, 'DELETE', `/jobs/${id}?purge=1`)).json).toEqual({ id, purged: true });
    for (const api of [apiA!, apiB!]) {
      const until = Date.now() + 10_000;
      while ((await request(api.url, 'GET', `/jobs/${id}`)).status !== 404 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect((await request(api.url, 'GET', `/jobs/${id}`)).status).toBe(404);
    }
  });
});

/** Waits until `api` knows job `id` (it may have been submitted to another API process a moment ago). */
async function knownTo(api: ServerProcess, id: string): Promise<void> {
  await until(async () => ((await request(api.url, 'GET', `/jobs/${id}`)).status === 200 ? true : undefined), `job ${id} on ${api.url}`, 10_000);
}

async function waitForLog(ws: WorkerProcess[], text: string, timeoutMs = 10_000): Promise<WorkerProcess | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const w = ws.find((x) => x.log().includes(text));
    if (w) return w;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
