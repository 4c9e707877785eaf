/**
 * One suite, both stores: the example server's authentication and limits cases
 * (test/server/auth-limits.test.ts, written for the embedded file store) run again here against the Redis
 * store, with the API process training its jobs itself (LOCAL_WORKERS=1) through BullMQ. A Redis is started
 * for this file; the server helper passes this process's environment to every server it starts (the first
 * case checks that they do use Redis).
 *
 * NOTE: test/server/training-server.test.ts makes its server in-process with explicit queue options, so the
 * environment does not reach it; running it on Redis needs a parameter in that file (its owner's call).
 */
import { request, startServer, stopServer } from '../server/helpers';
import { haveRedis, startRedis, type RedisProcess } from './helpers';

let redis: RedisProcess | undefined;

if (haveRedis()) {
  beforeAll(async () => {
    redis = await startRedis();
    process.env.REDIS_URL = redis.url;
    process.env.LOCAL_WORKERS = '1';
  });
  afterAll(async () => {
    delete process.env.REDIS_URL;
    delete process.env.LOCAL_WORKERS;
    await redis?.stop('SIGKILL');
  });
  test('servers started by the helper use the Redis store', async () => {
    const server = await startServer({ API_TOKENS: 'a-long-enough-token-for-the-check:ops:admin' });
    try {
      expect((await request(server.url, 'GET', '/health')).json).toMatchObject({ ok: true, store: { kind: 'redis' }, queue: { concurrency: 1 } });
    } finally {
      await stopServer(server);
    }
  });
  // The one case that reads the file store's directory is replaced by its Redis equivalent below: it is left
  // out here (not registered), so no always-skipped test stands in the counts.
  const realTest = global.test;
  global.test = Object.assign(
    (name: string, fn?: jest.ProvidesCallback, timeout?: number) => (/state directory/.test(name) ? undefined : realTest(name, fn, timeout)),
    realTest,
  ) as jest.It;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../server/auth-limits.test');
  } finally {
    global.test = realTest;
  }
  test('Redis holds owners by name, never a token', async () => {
    const IORedis = (await import('ioredis')).default;
    const r = new IORedis(redis!.url);
    try {
      const keys = await r.keys('vugrad:job:*');
      expect(keys.length).toBeGreaterThan(0);
      const records = await Promise.all(keys.map((k) => r.hget(k, 'record')));
      expect(records.some((t) => t && JSON.parse(t).owner === 'bob')).toBe(true);
      for (const k of await r.keys('*')) {
        const type = await r.type(k);
        const text = type === 'string' ? ((await r.getBuffer(k)) ?? Buffer.alloc(0)).toString('latin1') : type === 'hash' ? JSON.stringify(await r.hgetall(k)) : '';
        expect(text).not.toMatch(/-token-0000/);
      }
    } finally {
      r.disconnect();
    }
  });
} else {
  test.skip('the server suite on Redis (no redis-server here)', () => undefined);
}
