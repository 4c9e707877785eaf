/**
 * The training recipe (lib/train): the layer the CLI and the job workers share. The library must not load the
 * command line, and the recipe must train what the config says.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { resolveConfig } from '../../lib/train/config';
import { buildModel, lossReduction, trainFromConfig } from '../../lib/train/recipe';

const root = path.resolve(__dirname, '..', '..');

test("require('vugrad') loads neither lib/cli nor cli-progress nor commander", () => {
  // A fresh process: jest's own module registry would hide what a plain require loads.
  const r = spawnSync(
    process.execPath,
    ['--require', 'tsx/cjs', '-e', "require('./lib/index.ts'); console.log(JSON.stringify(Object.keys(require.cache)))"],
    { cwd: root, encoding: 'utf8' },
  );
  expect(r.status).toBe(0);
  const loaded = JSON.parse(r.stdout) as string[];
  expect(loaded.some((f) => f.includes(path.join('lib', 'train', 'recipe')))).toBe(true);
  expect(loaded.filter((f) => /cli-progress|commander|[\\/]lib[\\/]cli[\\/]/.test(f))).toEqual([]);
});

test('lib/train and lib/jobs import nothing from lib/cli (arrows point down only)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const offenders: string[] = [];
  for (const folder of ['train', 'jobs']) {
    const dir = path.join(root, 'lib', folder);
    for (const f of fs.readdirSync(dir).filter((n) => /\.[tj]s$/.test(n))) {
      if (/from '\.\.\/cli[/']|require\('\.\.\/cli[/']/.test(fs.readFileSync(path.join(dir, f), 'utf8'))) offenders.push(`lib/${folder}/${f}`);
    }
  }
  expect(offenders).toEqual([]);
});

test('the loss reduction of the metrics follows cross-entropy only', () => {
  expect(lossReduction(resolveConfig({ dataset: 'synth', reduction: 'sum' }))).toBe('sum');
  expect(lossReduction(resolveConfig({ dataset: 'synth', reduction: 'sum', loss: 'mse' }))).toBe('mean');
});

test('trainFromConfig trains the configured model and reports start, batches and epochs', async () => {
  const config = resolveConfig({ dataset: 'synth', limit: '600', epochs: '2', batchSize: '50', hidden: '8', seed: '1' });
  const events: string[] = [];
  const result = await trainFromConfig(config, {
    onStart: (s) => events.push(`start ${s.heldOutName} ${s.data.train.y.length}`),
    onBatch: (m) => m.batch === m.batches && events.push(`batch ${m.epoch}`),
    onEpoch: (m) => events.push(`epoch ${m.epoch}`),
  });
  expect(events).toEqual(['start val 600', 'batch 1', 'epoch 1', 'batch 2', 'epoch 2']);
  expect(result.history).toHaveLength(2);
  expect(result.history[1].trainLoss).toBeLessThan(result.history[0].trainLoss);
  expect(result.model.parameters().map((p) => p.value.shape)).toEqual([[8, 2], [8], [2, 8], [2]]);
  // Same config, same seed: the same weights (the recipe seeds everything it uses).
  const again = await trainFromConfig(config);
  expect(again.model.parameters()[0].value.data).toEqual(result.model.parameters()[0].value.data);
  expect(buildModel(config, result.data.train).parameters()).toHaveLength(4);
});

test('a cancelled run rejects with the abort reason before training', async () => {
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await expect(trainFromConfig(resolveConfig({ dataset: 'synth', limit: '100' }), { signal: ac.signal })).rejects.toThrow('stop');
});
