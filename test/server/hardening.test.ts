/**
 * The example server against hostile input (issue 13), with the real server process: malformed
 * percent-encoding is a 400 and no crash in the log; DATA_ROOT confinement compares real paths, so a symbolic
 * link inside the root cannot lead out, and no answer shows a server path or tells which directories exist
 * outside the root; predict refuses values that are not finite in float32 (1e308), naming row and column.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { followEvents, request, startServer, stopServer, type ServerProcess } from './helpers';

let dir: string;
let root: string;
let outside: string;
let server: ServerProcess | undefined;
let base: string;

beforeAll(async () => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-hostile-')));
  root = path.join(dir, 'data');
  outside = path.join(dir, 'secret');
  fs.mkdirSync(path.join(root, 'empty'), { recursive: true });
  fs.mkdirSync(path.join(outside, 'mnist'), { recursive: true });
  fs.symlinkSync(outside, path.join(root, 'escape')); // a link inside the root to a directory outside it
  server = await startServer({ STATE_DIR: path.join(dir, 'state'), DATA_ROOT: root, CONCURRENCY: '1' });
  base = server.url;
});

afterAll(async () => {
  await stopServer(server);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('malformed percent-encoding in the path is a 400, not a logged crash', async () => {
  for (const url of ['/jobs/%E0%A4%A', '/jobs/%', '/jobs/abc%ZZ/model']) {
    const r = await request(base, 'GET', url);
    expect([url, r.status, r.json.field]).toEqual([url, 400, 'path']);
    expect(r.json.error).toMatch(/^path: malformed percent-encoding in '/);
  }
  expect(server!.stderr()).not.toMatch(/internal error|URIError|at .*\.ts:\d+/);
  expect((await request(base, 'GET', '/health')).status).toBe(200);
});

describe('data paths stay inside DATA_ROOT', () => {
  test.each([
    ['a parent path', '../secret'],
    ['an absolute path', '/etc'],
    ['a link out of the root', 'escape'],
    ['a file through a link out of the root', 'escape/mnist'],
    ['a missing path through a link out of the root', 'escape/no-such-dir'],
  ])('%s is "not allowed", the same whether or not it exists', async (_what, data) => {
    const r = await request(base, 'POST', '/jobs', { body: { dataset: 'mnist', data, epochs: 1, limit: 10 } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ field: 'data', error: `data: path '${data}' is not allowed (data paths are relative to the server's data root and stay inside it)` });
    expect(JSON.stringify(r.json)).not.toContain(dir);
  });

  test('a missing path inside the root is "not found", relative to the root', async () => {
    const r = await request(base, 'POST', '/jobs', { body: { dataset: 'mnist', data: 'no-such-dir', epochs: 1, limit: 10 } });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe("data: path 'no-such-dir' was not found under the server's data root");
  });

  test("a job whose data will not load fails with an error and config that show no server path", async () => {
    const r = await request(base, 'POST', '/jobs', { body: { dataset: 'mnist', data: 'empty', epochs: 1, limit: 10 } });
    expect(r.status).toBe(201);
    expect(r.json.config.data).toBe('empty');
    const events = await followEvents(base, r.json.id);
    const done = events[events.length - 1].data;
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/DATA_ROOT\/empty/);
    const job = (await request(base, 'GET', `/jobs/${r.json.id}`)).json;
    expect(job.error).toBe(done.error);
    for (const text of [JSON.stringify(job), JSON.stringify(events)]) {
      expect(text).not.toContain(dir);
      expect(text).not.toContain(os.tmpdir());
    }
  });
});

test('predict refuses values that are not finite in float32, naming the row and column', async () => {
  const r = await request(base, 'POST', '/jobs', { body: { dataset: 'synth', epochs: 1, limit: 300, hidden: [4] } });
  const events = await followEvents(base, r.json.id);
  expect(events[events.length - 1].data.status).toBe('succeeded');
  const ok = await request(base, 'POST', `/jobs/${r.json.id}/predict`, { body: { inputs: [[0, 1], [3e38, -1]] } });
  expect(ok.status).toBe(200);
  for (const [inputs, field] of [
    [[[0, 1], [0, 1e308]], 'inputs[1][1]'],
    [[[-1e39, 0]], 'inputs[0][0]'],
  ] as [number[][], string][]) {
    const bad = await request(base, 'POST', `/jobs/${r.json.id}/predict`, { body: { inputs } });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe(field);
    expect(bad.json.error).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}: -?1e\\+?\\d+ is not a finite float32`));
  }
});
