/**
 * The divergence rule (lib/train/divergence): a non-finite batch loss, or an epoch loss over 1000x the loss at
 * the start, stops training with a DivergenceError, before the epoch is reported or checkpointed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import { MLP } from '../../lib/nn';
import { SGD } from '../../lib/optim';
import { crossEntropy } from '../../lib/ops/functions';
import { resolveConfig } from '../../lib/train/config';
import { hasCheckpoint, loadCheckpoint } from '../../lib/train/checkpoint';
import { DivergenceError, divergenceThreshold } from '../../lib/train/divergence';
import { fit } from '../../lib/train/fit';
import { trainFromConfig } from '../../lib/train/recipe';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-div-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const data = () => {
  const x = new Float32Array(64 * 2).map((_, i) => Math.sin(i * 1.7));
  const y = Int32Array.from({ length: 64 }, (_, i) => (x[2 * i] > 0 ? 1 : 0));
  return { train: { x: new NDArray(x, [64, 2]), y, numClasses: 2, name: 'toy' } };
};

test('the threshold is factor x the starting loss, at least factor x 1', () => {
  expect(divergenceThreshold(2.3)).toBeCloseTo(2300);
  expect(divergenceThreshold(0.01)).toBe(1000);
  expect(divergenceThreshold(5, 10)).toBe(50);
});

test('an epoch loss over 1000x the first batch loss throws a DivergenceError before onEpoch', async () => {
  const model = new MLP({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
  const epochs: number[] = [];
  let scale = 1;
  // A loss that grows a hundredfold per batch, as a diverging run's does.
  const loss = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y).mul(TensorNode.constant(new NDArray(Float32Array.of((scale *= 100)), [])));
  const run = fit(model, data(), { optimizer: new SGD(model.parameters(), { lr: 0 }), loss, epochs: 3, batchSize: 16, onEpoch: (m) => epochs.push(m.epoch) });
  await expect(run).rejects.toThrow(DivergenceError);
  await expect(run).rejects.toThrow(/training diverged: epoch 1's training loss .* is over 1000x the loss at the start/);
  expect(epochs).toEqual([]);
});

test('a growing loss that stays under the threshold, or with the rule off, is not stopped', async () => {
  const model = new MLP({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
  let scale = 1;
  const loss = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y).mul(TensorNode.constant(new NDArray(Float32Array.of((scale *= 1.3)), [])));
  const h = await fit(model, data(), { optimizer: new SGD(model.parameters(), { lr: 0 }), loss, epochs: 2, batchSize: 16 });
  expect(h).toHaveLength(2);
  scale = 1;
  const big = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y).mul(TensorNode.constant(new NDArray(Float32Array.of((scale *= 100)), [])));
  const off = await fit(model, data(), { optimizer: new SGD(model.parameters(), { lr: 0 }), loss: big, epochs: 1, batchSize: 16, divergence: false });
  expect(off[0].trainLoss).toBeGreaterThan(1e6);
});

test('a NaN loss is a DivergenceError naming the epoch and batch', async () => {
  const model = new MLP({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
  let n = 0;
  const loss = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y).mul(TensorNode.constant(new NDArray(Float32Array.of(++n === 3 ? NaN : 1), [])));
  await expect(fit(model, data(), { optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss, epochs: 1, batchSize: 16 })).rejects.toThrow(
    /training diverged: the loss became NaN at epoch 1, batch 3/,
  );
});

test('Adam at lr 1e6 diverges in the recipe; the diverged epoch is never checkpointed, a good one keeps the start loss', async () => {
  const dir = path.join(tmp, 'ck');
  const config = resolveConfig({ dataset: 'synth', limit: '2000', learningRate: '1e6', epochs: '3' });
  await expect(trainFromConfig(config, { checkpointDir: dir })).rejects.toThrow(DivergenceError);
  expect(hasCheckpoint(dir)).toBe(false);
  const good = path.join(tmp, 'good');
  await trainFromConfig(resolveConfig({ dataset: 'synth', limit: '500', epochs: '1' }), { checkpointDir: good });
  expect(loadCheckpoint(good).extra?.initialLoss).toBeCloseTo(Math.log(2), 0);
});
