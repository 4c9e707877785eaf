/**
 * Who may use the example server and how much, with the real server process: bearer tokens from API_TOKENS
 * and API_TOKENS_FILE (no token, a wrong one, another owner's job, an admin), each limit answered with a 400
 * or 429 that names it, tokens never written to the state directory, and a server that refuses to listen
 * beyond loopback without tokens.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { followEvents, request, startServer, stopServer, type ServerProcess } from './helpers';

const ALICE = 'alice-token-0000000001';
const BOB = 'bob-token-00000000002';
const ROOT = 'root-token-000000000003';
const CAROL = 'carol-token-0000000004';
const TINY = { dataset: 'synth', epochs: 2, limit: 500, hidden: [8] };
const LONG = { dataset: 'synth', epochs: 5, limit: 3000, hidden: [64] };

let dir: string;
let server: ServerProcess | undefined;
let base: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-auth-'));
  fs.writeFileSync(path.join(dir, 'tokens'), `# admins\n${ROOT}:root:admin\n\n${CAROL}:carol\n`);
  server = await startServer({
    STATE_DIR: path.join(dir, 'state'),
    CONCURRENCY: '1',
    API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
    API_TOKENS_FILE: path.join(dir, 'tokens'),
    MAX_PARAMS: '10000',
    MAX_EPOCH_SAMPLES: '20000',
    MAX_JOBS_PER_TOKEN: '2',
    RATE_LIMIT_PER_MIN: '40',
  });
  base = server.url;
});

afterAll(async () => {
  await stopServer(server);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Waits (one request) until the job's event stream ends. */
const finished = (id: string, token: string) => followEvents(base, id, token);

describe('authentication and ownership', () => {
  let jobA: string;

  test('without a token, with a wrong or malformed one: 401; /health stays open', async () => {
    for (const [method, url] of [
      ['GET', '/jobs'],
      ['POST', '/jobs'],
      ['GET', '/jobs/some-id'],
      ['GET', '/jobs/some-id/model'],
    ]) {
      const none = await request(base, method, url, { body: method === 'POST' ? TINY : undefined });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(none.json.error).toMatch(/Authorization: Bearer/);
      expect((await request(base, method, url, { token: 'not-a-token-of-this-server' })).status).toBe(401);
      expect((await request(base, method, url, { headers: { authorization: `Basic ${ALICE}` } })).status).toBe(401);
    }
    const health = await request(base, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.auth).toBe('bearer');
  });

  test('a token sees, cancels and downloads only its own jobs; an admin sees and deletes all', async () => {
    const a = await request(base, 'POST', '/jobs', { body: TINY, token: ALICE });
    expect(a.status).toBe(201);
    expect(a.json.owner).toBe('alice');
    jobA = a.json.id;
    const done = await finished(jobA, ALICE);
    expect(done[done.length - 1].data.status).toBe('succeeded');

    // bob: as if the job did not exist
    for (const [method, url, body] of [
      ['GET', `/jobs/${jobA}`],
      ['GET', `/jobs/${jobA}/model`],
      ['GET', `/jobs/${jobA}/events`],
      ['POST', `/jobs/${jobA}/predict`, { inputs: [[0, 1]] }],
      ['DELETE', `/jobs/${jobA}`],
      ['DELETE', `/jobs/${jobA}?purge=1`],
    ] as [string, string, object?][]) {
      const r = await request(base, method, url, { token: BOB, body });
      expect([method, url, r.status]).toEqual([method, url, 404]);
    }
    expect((await request(base, 'GET', '/jobs', { token: BOB })).json.jobs).toEqual([]);

    // alice: her own
    const mine = (await request(base, 'GET', '/jobs', { token: ALICE })).json.jobs;
    expect(mine.map((j: any) => [j.id, j.owner])).toEqual([[jobA, 'alice']]);
    expect((await request(base, 'GET', `/jobs/${jobA}/model`, { token: ALICE })).status).toBe(200);
    expect((await request(base, 'POST', `/jobs/${jobA}/predict`, { token: ALICE, body: { inputs: [[0, 1]] } })).status).toBe(200);

    // root (admin, from the tokens file): everyone's
    const all = (await request(base, 'GET', '/jobs', { token: ROOT })).json.jobs;
    expect(all.map((j: any) => j.id)).toContain(jobA);
    expect((await request(base, 'GET', `/jobs/${jobA}/model`, { token: ROOT })).status).toBe(200);
    expect((await request(base, 'DELETE', `/jobs/${jobA}?purge=1`, { token: ROOT })).json).toEqual({ id: jobA, purged: true });
    expect((await request(base, 'GET', `/jobs/${jobA}`, { token: ALICE })).status).toBe(404);
  });

  test('the state directory holds owners by name, never a token', async () => {
    const b = await request(base, 'POST', '/jobs', { body: TINY, token: BOB });
    await finished(b.json.id, BOB);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(path.join(dir, 'state'));
    expect(files.some((f) => f.endsWith('record.json'))).toBe(true);
    for (const f of files) {
      const text = fs.readFileSync(f, 'latin1');
      for (const t of [ALICE, BOB, ROOT, CAROL]) expect(text.includes(t)).toBe(false);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'state', 'jobs', b.json.id, 'record.json'), 'utf8')).owner).toBe('bob');
  });
});

describe('limits', () => {
  test('a model over maxParams is a 400 naming the limit and its value', async () => {
    const r = await request(base, 'POST', '/jobs', { token: ALICE, body: { dataset: 'synth', hidden: [200, 200], epochs: 1, limit: 100 } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'LIMIT', limit: 'maxParams', value: 10000, field: 'hidden' });
    expect(r.json.error).toMatch(/41,202 parameters.*limit is 10,000 \(maxParams, MAX_PARAMS\)/);
  });

  test('epochs x samples over maxEpochSamples is a 400 naming the limit and its value', async () => {
    const r = await request(base, 'POST', '/jobs', { token: ALICE, body: { dataset: 'synth', epochs: 50, limit: 1000 } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'LIMIT', limit: 'maxEpochSamples', value: 20000, field: 'epochs' });
    expect(r.json.error).toMatch(/50 epochs x 1,000 samples = 50,000.*limit is 20,000/);
  });

  test('more running + queued jobs than maxJobsPerToken is a 429; other tokens are not affected', async () => {
    const first = await request(base, 'POST', '/jobs', { token: BOB, body: LONG });
    const second = await request(base, 'POST', '/jobs', { token: BOB, body: LONG });
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await request(base, 'POST', '/jobs', { token: BOB, body: TINY });
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({ code: 'LIMIT', limit: 'maxJobsPerToken', value: 2 });
    expect(third.json.error).toMatch(/bob already has 2 running or queued jobs/);
    const alice = await request(base, 'POST', '/jobs', { token: ALICE, body: TINY });
    expect(alice.status).toBe(201);
    for (const id of [first.json.id, second.json.id, alice.json.id]) await request(base, 'DELETE', `/jobs/${id}`, { token: ROOT });
  });

  test('more requests than ratePerMinute is a 429 with Retry-After, for that token only', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) statuses.push((await request(base, 'GET', '/jobs', { token: CAROL })).status);
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    const last = await request(base, 'GET', '/jobs', { token: CAROL });
    expect(last.status).toBe(429);
    expect(last.json).toMatchObject({ code: 'LIMIT', limit: 'ratePerMinute', value: 40 });
    expect(Number(last.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await request(base, 'GET', '/jobs', { token: ALICE })).status).toBe(200);
  });
});

describe('starting', () => {
  test('refuses a non-loopback address without tokens, and names a bad token entry without showing it', async () => {
    const open = startServer({ STATE_DIR: path.join(dir, 'open'), HOST: '0.0.0.0', API_TOKENS: '', API_TOKENS_FILE: '' });
    await expect(open).rejects.toThrow(/exited \(1\)[\s\S]*refusing to listen on 0\.0\.0\.0 without authentication/);
    const weak = startServer({ STATE_DIR: path.join(dir, 'weak'), API_TOKENS: `${ALICE}:alice,short:bob`, API_TOKENS_FILE: '' });
    await expect(weak).rejects.toThrow(/API_TOKENS entry 2 \(bob\): the token is shorter than 16 characters/);
    await weak.catch((e: Error) => expect(e.message).not.toContain(ALICE));
  });
});
