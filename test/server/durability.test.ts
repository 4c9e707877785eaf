/**
 * The example server keeps every job across crashes and restarts, with real processes: a job finishes, a
 * float64 job is running and another is queued when the server is SIGKILLed; after a restart over the same
 * state directory every job is listed with its history and model, the interrupted one resumes from its
 * checkpoint and ends with exactly the weights of an uninterrupted run. SIGTERM ends event streams with an
 * `interrupted` event and the job resumes after the restart. A store damaged while the server was down (a
 * truncated record, a missing model) is reported as such and nothing else is lost.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSafetensors } from '../../lib/io';
import { followEvents, request, startServer, stopServer, waitForStatus, type ServerProcess } from './helpers';

const TINY = { dataset: 'synth', epochs: 2, limit: 500, hidden: [8] };
/** float64, long enough (20 epochs) to be caught in the middle. */
const LONG = { dataset: 'synth', dtype: 'float64', epochs: 20, limit: 3000, hidden: [32], batchSize: 32, seed: 7 };

let stateDir: string;
let server: ServerProcess | undefined;
const env = () => ({ STATE_DIR: stateDir, CONCURRENCY: '1' });

beforeAll(() => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-durable-'));
});

afterAll(async () => {
  await stopServer(server);
  fs.rmSync(stateDir, { recursive: true, force: true });
});

function tensorsOf(bytes: Buffer) {
  const { tensors } = parseSafetensors(bytes);
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype, data: Array.from(t.data) }]));
}

describe('a durable training server', () => {
  const ids: Record<string, string> = {};

  test('SIGKILL mid-job, restart: every job is listed with its history and model; the interrupted one resumes', async () => {
    server = await startServer(env());
    const base = server.url;
    const a = await request(base, 'POST', '/jobs', { body: TINY });
    expect(a.status).toBe(201);
    ids.finished = a.json.id;
    const finished = await waitForStatus(base, ids.finished, ['succeeded', 'failed']);
    expect(finished).toMatchObject({ status: 'succeeded', hasModel: true });
    const model = (await request(base, 'GET', `/jobs/${ids.finished}/model`)).body;

    ids.running = (await request(base, 'POST', '/jobs', { body: LONG })).json.id;
    ids.queued = (await request(base, 'POST', '/jobs', { body: TINY })).json.id;
    // Killed as soon as the second epoch is reported (its checkpoint is written before it is reported).
    let epochsSeen = 0;
    await followEvents(base, ids.running, undefined, (e) => {
      if (e.event === 'epoch' && ++epochsSeen === 2) server!.proc.kill('SIGKILL');
    });
    expect(await server.exited).toBe('SIGKILL');

    server = await startServer(env());
    const list = (await request(server.url, 'GET', '/jobs')).json.jobs;
    const byId = Object.fromEntries(list.map((j: any) => [j.id, j]));
    expect(Object.keys(byId).sort()).toEqual(Object.values(ids).sort());
    expect(byId[ids.finished]).toMatchObject({ status: 'succeeded', hasModel: true, history: finished.history });
    expect((await request(server.url, 'GET', `/jobs/${ids.finished}/model`)).body.equals(model)).toBe(true);
    expect(byId[ids.running].resumed).toBe(1);
    expect(byId[ids.running].history.length).toBeGreaterThanOrEqual(2);
    expect(byId[ids.running].history.length).toBeLessThan(LONG.epochs);
    expect(['queued', 'running']).toContain(byId[ids.running].status);
    expect(byId[ids.queued].status).toBe('queued');

    const resumed = await waitForStatus(server.url, ids.running, ['succeeded', 'failed']);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.history.map((m: any) => m.epoch)).toEqual(Array.from({ length: LONG.epochs }, (_, i) => i + 1));
    expect((await waitForStatus(server.url, ids.queued, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  test('the resumed float64 job ends with exactly the weights of an uninterrupted one', async () => {
    const base = server!.url;
    const again = (await request(base, 'POST', '/jobs', { body: LONG })).json.id;
    expect((await waitForStatus(base, again, ['succeeded', 'failed'])).status).toBe('succeeded');
    const resumed = tensorsOf((await request(base, 'GET', `/jobs/${ids.running}/model`)).body);
    const straight = tensorsOf((await request(base, 'GET', `/jobs/${again}/model`)).body);
    expect(Object.values(resumed)[0].dtype).toBe('float64');
    expect(resumed).toEqual(straight);
    await request(base, 'DELETE', `/jobs/${again}?purge=1`);
  });

  test('SIGTERM: the running epoch ends and checkpoints, streams end with an interrupted event, exit 0, the job resumes', async () => {
    const base = server!.url;
    const id = (await request(base, 'POST', '/jobs', { body: { ...LONG, dtype: 'float32' } })).json.id;
    let sent = false;
    const events = await followEvents(base, id, undefined, (e) => {
      if (e.event === 'epoch' && !sent) {
        sent = true;
        server!.proc.kill('SIGTERM');
      }
    });
    expect(await server!.exited).toBe(0);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ event: 'interrupted', data: { id, status: 'interrupted' } });
    const record = JSON.parse(fs.readFileSync(path.join(stateDir, 'jobs', id, 'record.json'), 'utf8'));
    expect(record.status).toBe('interrupted');
    // SIGTERM came during epoch 2: the grace let it finish and checkpoint before the job was interrupted.
    expect(record.history.length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.event === 'epoch').length).toBe(record.history.length);
    expect(fs.existsSync(path.join(stateDir, 'jobs', id, 'checkpoint', 'checkpoint.safetensors'))).toBe(true);

    server = await startServer(env());
    const done = await waitForStatus(server.url, id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', resumed: 1 });
    expect(done.history).toHaveLength(LONG.epochs);
    // An ended job keeps no checkpoint (deleted right after its final record is stored).
    const checkpoint = path.join(stateDir, 'jobs', id, 'checkpoint');
    for (let i = 0; i < 100 && fs.existsSync(checkpoint); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.existsSync(checkpoint)).toBe(false);
    ids.sigterm = id;
  });

  test('a store damaged while the server was down: it starts, reports the damage, loses nothing else', async () => {
    expect(await stopServer(server, 'SIGTERM')).toBe(0);
    const jobDir = (id: string) => path.join(stateDir, 'jobs', id);
    const record = path.join(jobDir(ids.finished), 'record.json');
    const text = fs.readFileSync(record, 'utf8');
    fs.writeFileSync(record, text.slice(0, Math.floor(text.length / 2))); // truncated
    fs.rmSync(path.join(jobDir(ids.queued), 'model.safetensors')); // missing model

    server = await startServer(env());
    expect(server.stdout()).toMatch(/1 damaged/);
    const health = await request(server.url, 'GET', '/health');
    expect(health.json.store).toMatchObject({ kind: 'files', damaged: 1 });
    expect(health.json.store.bytes).toBeGreaterThan(0);
    const list = (await request(server.url, 'GET', '/jobs')).json;
    expect(list.damaged).toEqual([expect.objectContaining({ id: ids.finished, status: 'damaged', error: expect.stringMatching(/not valid JSON.*truncated/) })]);
    const byId = Object.fromEntries(list.jobs.map((j: any) => [j.id, j]));
    expect(byId[ids.queued]).toMatchObject({ status: 'succeeded', hasModel: false, damaged: expect.stringMatching(/model file is missing/) });
    expect((await request(server.url, 'GET', `/jobs/${ids.queued}/model`)).status).toBe(410);
    // Everything else is intact.
    for (const id of [ids.running, ids.sigterm]) {
      expect(byId[id]).toMatchObject({ status: 'succeeded', hasModel: true });
      expect(byId[id].history).toHaveLength(LONG.epochs);
      expect((await request(server.url, 'GET', `/jobs/${id}/model`)).status).toBe(200);
    }
    // The damaged record is deleted only when asked.
    expect((await request(server.url, 'GET', `/jobs/${ids.finished}`)).json).toMatchObject({ status: 'damaged' });
    expect((await request(server.url, 'DELETE', `/jobs/${ids.finished}?purge=1`)).json).toEqual({ id: ids.finished, purged: true });
    expect(fs.existsSync(jobDir(ids.finished))).toBe(false);
    expect((await request(server.url, 'GET', `/jobs/${ids.finished}`)).status).toBe(404);
  });
});
