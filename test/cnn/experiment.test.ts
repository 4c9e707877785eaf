/**
 * `vugrad experiment cifar-models --quick`, in process on a tiny CIFAR-10 folder (20 samples, 1 epoch): three
 * runs (LeNet, ResNet-8, ResNet-20), a results table and a figure with the accuracy-by-time chart.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXPERIMENTS, runExperiment } from '../../lib/cli/experiments';
import { writeCifarFolder } from '../coverage/helpers/tiny-data';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-cifar-models-'));
  writeCifarFolder(path.join(tmp, 'cifar'), 5, 1);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('cifar-models --quick: LeNet, ResNet-8 and ResNet-20, with results and figures', async () => {
  expect(EXPERIMENTS['cifar-models'].runs.map((r) => r.label)).toEqual(['LeNet', 'ResNet-8', 'ResNet-20']);
  const out = path.join(tmp, 'out');
  const lines: string[] = [];
  const r = await runExperiment('cifar-models', {
    quick: true,
    outDir: out,
    data: path.join(tmp, 'cifar'),
    extra: { limit: '20', epochs: '1' },
    log: (l) => lines.push(l),
  });
  expect(r.rows.map((x) => x.label)).toEqual(['LeNet', 'ResNet-8', 'ResNet-20']);
  for (const row of r.rows) {
    expect(Number.isFinite(row.finalTrainLoss)).toBe(true);
    expect(row.finalAccuracy).toBeGreaterThanOrEqual(0);
    expect(row.finalAccuracy).toBeLessThanOrEqual(1);
  }
  const svg = fs.readFileSync(path.join(out, 'figure.svg'), 'utf8');
  expect(svg).toContain('accuracy by training time');
  expect(fs.readFileSync(path.join(out, 'figure.png')).subarray(1, 4).toString()).toBe('PNG');
  expect(lines.join('\n')).toContain('# Experiment: cifar-models');
}, 120_000);
