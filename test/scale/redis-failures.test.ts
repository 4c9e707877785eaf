/**
 * Redis going away, with real processes. Restarted (AOF on) in the middle of a job: no job or model is lost,
 * the running job finishes, and the worker takes new jobs again (workers have been reported not to resume
 * after a Redis restart). Unreachable: the API answers 503 naming the store and why, /health says so, and it
 * recovers by itself once Redis is back.
 */
import { followEvents, request, stopServer, waitForStatus, type ServerProcess } from '../server/helpers';
import { haveRedis, startApi, startRedis, startWorker, until, type RedisProcess, type WorkerProcess } from './helpers';

const TINY = { dataset: 'synth', epochs: 2, limit: 500, hidden: [8] };
const LONG = { dataset: 'synth', epochs: 10, limit: 20000, hidden: [64], batchSize: 16, seed: 3 };

const d = haveRedis() ? describe : describe.skip;

let redis: RedisProcess | undefined;
let api: ServerProcess | undefined;
let worker: WorkerProcess | undefined;

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await stopServer(api);
  await redis?.stop('SIGKILL');
});

d('when Redis goes away', () => {
  jest.setTimeout(180_000);
  let finished: string;
  let model: Buffer;

  beforeAll(async () => {
    redis = await startRedis();
    api = await startApi(redis.url);
    // A lock longer than the outage: the job keeps its worker through the restart.
    worker = await startWorker('r1', redis.url, ['--lock-ms', '20000']);
    finished = (await request(api.url, 'POST', '/jobs', { body: TINY })).json.id;
    expect((await waitForStatus(api.url, finished, ['succeeded', 'failed'])).status).toBe('succeeded');
    model = (await request(api.url, 'GET', `/jobs/${finished}/model`)).body;
  });

  test('restarted (AOF) in the middle of a job: nothing lost, the job finishes, the worker takes new jobs', async () => {
    const id = (await request(api!.url, 'POST', '/jobs', { body: LONG })).json.id;
    let restarted: Promise<void> | undefined;
    await followEvents(api!.url, id, undefined, (e) => {
      if (e.event === 'epoch' && !restarted) {
        restarted = (async () => {
          await redis!.stop('SIGTERM'); // a clean shutdown: the AOF is flushed
          await new Promise((r) => setTimeout(r, 1000));
          await redis!.start();
        })();
      }
    });
    await restarted;
    // While Redis was down the API answered 503 (no status): waitForStatus polls through that.
    expect((await waitForStatus(api!.url, id, ['succeeded', 'failed'], undefined, 120_000)).status).toBe('succeeded');
    const job = (await request(api!.url, 'GET', `/jobs/${id}`)).json;
    expect(job.history.map((m: any) => m.epoch)).toEqual(Array.from({ length: LONG.epochs }, (_, i) => i + 1));
    // The job finished before the restart is intact, model included.
    expect((await request(api!.url, 'GET', `/jobs/${finished}`)).json).toMatchObject({ status: 'succeeded', hasModel: true });
    expect((await request(api!.url, 'GET', `/jobs/${finished}/model`)).body.equals(model)).toBe(true);
    // The worker still takes jobs.
    const after = (await request(api!.url, 'POST', '/jobs', { body: TINY })).json.id;
    expect((await waitForStatus(api!.url, after, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  test('unreachable: 503 naming the store, /health says so; recovers by itself when Redis is back', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // past AOF's once-a-second fsync
    await redis!.stop('SIGKILL');
    const list = await until(async () => {
      const r = await request(api!.url, 'GET', '/jobs');
      return r.status === 503 ? r : undefined;
    }, 'a 503');
    expect(list.json).toMatchObject({ code: 'STORE_UNAVAILABLE', error: expect.stringMatching(/job store \(Redis at redis:\/\/127\.0\.0\.1:\d+\) is unreachable/) });
    expect(list.headers['retry-after']).toBeDefined();
    const post = await request(api!.url, 'POST', '/jobs', { body: TINY });
    expect(post.status).toBe(503);
    const health = await request(api!.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ ok: false, store: { kind: 'redis', unavailable: expect.stringMatching(/unreachable/) } });

    await redis!.start();
    await until(async () => ((await request(api!.url, 'GET', '/jobs')).status === 200 ? true : undefined), 'the API to answer again');
    expect((await request(api!.url, 'GET', '/health')).json.ok).toBe(true);
    expect((await request(api!.url, 'GET', `/jobs/${finished}/model`)).body.equals(model)).toBe(true);
    const id = (await request(api!.url, 'POST', '/jobs', { body: TINY })).json.id;
    expect((await waitForStatus(api!.url, id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });
});
