/**
 * The embedded job store by itself: records and models round-trip through atomic writes, writes for one job
 * land in call order, and at open every kind of damage (a truncated record, a missing one, one that is a
 * directory, one that is not a job record, a missing model file, leftovers of an interrupted write) is
 * reported per job while the other jobs load.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileJobStore, resolveTrainingSpec, type JobRecord } from '../../lib/jobs';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-store-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    version: 1,
    id,
    config: resolveTrainingSpec({ dataset: 'synth', epochs: 2 }),
    status: 'succeeded',
    createdAt: new Date(Date.UTC(2026, 10, 30, 0, 0, Number(id.slice(-1)))).toISOString(),
    history: [],
    hasModel: false,
    ...extra,
  };
}

test('records and models round-trip; the last of several writes for one job wins', async () => {
  const store = new FileJobStore(dir);
  expect(await store.open()).toEqual({ records: [], damaged: [] });
  const writes = [];
  for (let epoch = 1; epoch <= 20; epoch++) writes.push(store.saveRecord(record('job-1', { status: 'running', history: Array(epoch).fill({ epoch }) })));
  writes.push(store.saveModel('job-1', new Uint8Array([1, 2, 3])));
  await Promise.all(writes);
  await store.saveRecord(record('job-1', { history: Array(20).fill({ epoch: 20 }), hasModel: true }));
  expect([...(await store.readModel('job-1'))!]).toEqual([1, 2, 3]);
  expect(await store.readModel('job-2')).toBeUndefined();
  const again = await new FileJobStore(dir).open();
  expect(again.records).toHaveLength(1);
  expect(again.records[0]).toMatchObject({ id: 'job-1', status: 'succeeded', hasModel: true });
  expect(again.records[0].history).toHaveLength(20);
  expect(fs.readdirSync(path.join(dir, 'jobs', 'job-1')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(await store.sizeOnDisk()).toBeGreaterThan(0);
  expect(() => store.checkpointDir('../escape')).toThrow(/'..\/escape' is not a job id/);
});

test('damage is reported per job; every other job loads', async () => {
  const store = new FileJobStore(dir);
  await store.open();
  await store.saveRecord(record('good-1'));
  await store.saveRecord(record('good-2', { hasModel: true }));
  await store.saveModel('good-2', new Uint8Array([9]));
  await store.saveRecord(record('nomodel-3', { hasModel: true }));
  for (const id of ['trunc-4', 'missing-5', 'isdir-6', 'alien-7']) fs.mkdirSync(path.join(dir, 'jobs', id));
  const full = JSON.stringify(record('trunc-4'));
  fs.writeFileSync(path.join(dir, 'jobs', 'trunc-4', 'record.json'), full.slice(0, full.length - 20));
  fs.mkdirSync(path.join(dir, 'jobs', 'isdir-6', 'record.json'));
  fs.writeFileSync(path.join(dir, 'jobs', 'alien-7', 'record.json'), JSON.stringify({ id: 'alien-7', status: 'paused' }));
  fs.writeFileSync(path.join(dir, 'jobs', 'good-1', '.record.json.123.abcd.tmp'), 'half a write');
  fs.rmSync(path.join(dir, 'jobs', 'nomodel-3', 'model.safetensors'), { force: true });

  const opened = await new FileJobStore(dir).open();
  expect(opened.records.map((r) => r.id)).toEqual(['good-1', 'good-2', 'nomodel-3']);
  expect(opened.records[2]).toMatchObject({ hasModel: false, damaged: 'its model file is missing from the store' });
  const reasons = Object.fromEntries(opened.damaged.map((d) => [d.id, d.reason]));
  expect(reasons).toEqual({
    'trunc-4': expect.stringMatching(/^its record is not valid JSON .*the file may be truncated$/),
    'missing-5': 'its record file is missing',
    'isdir-6': 'its record cannot be read (EISDIR)',
    'alien-7': 'its record is not a job record: unknown status "paused"',
  });
  expect(fs.existsSync(path.join(dir, 'jobs', 'good-1', '.record.json.123.abcd.tmp'))).toBe(false);
});

test('a store.json of another format, or not JSON, stops the store with a message naming the directory', async () => {
  fs.writeFileSync(path.join(dir, 'store.json'), '{"format":"vugrad-jobs","version":2}');
  await expect(new FileJobStore(dir).open()).rejects.toThrow(`job store in ${dir} cannot be used: store.json says format vugrad-jobs version 2`);
  fs.writeFileSync(path.join(dir, 'store.json'), '{"form');
  await expect(new FileJobStore(dir).open()).rejects.toThrow(/store.json is not valid JSON .*delete store.json and start again/);
});
