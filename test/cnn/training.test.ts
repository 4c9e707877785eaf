/**
 * The CIFAR training recipe's pieces: label smoothing and OneCycleLR against PyTorch (the CNN fixture),
 * the cosine schedule, the seeded crop-and-flip augmentation against a direct implementation, the config
 * flags, and a few ResNet-8 steps end to end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataLoader, NDArray, Random, TensorNode, paddingFill, randomCropFlip, resolveConfig, stepSchedule, trainFromConfig } from '../../lib';
import { labelSmoothingCrossEntropy, ResNet } from '../../lib/nn';
import { optimizerOptions } from '../../lib/train/recipe';
import { expectClose, toArray, type RefTensor } from '../helpers/reference';

type Case = Record<string, unknown> & { name: string };
const cases: Case[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'cnn-reference.json'), 'utf8')).cases;
const byName = (name: string): Case => cases.find((x) => x.name === name) as Case;

describe('label smoothing against PyTorch (F.cross_entropy(label_smoothing=eps))', () => {
  test.each(['label_smoothing_mean', 'label_smoothing_sum'])('%s: loss and gradient', (name) => {
    const c = byName(name);
    const x = new TensorNode(toArray(c.x as RefTensor));
    const loss = labelSmoothingCrossEntropy(x, c.targets as number[], { smoothing: c.eps as number, reduction: c.reduction as 'mean' | 'sum' });
    expect(Math.abs(loss.item() - (c.loss as number)) / (Math.abs(c.loss as number) + 1)).toBeLessThan(1e-12);
    loss.backward();
    expectClose(x.grad, c.grad_x as RefTensor, 1e-12);
  });
});

describe('per-step schedules', () => {
  test("onecycle = PyTorch's OneCycleLR (defaults) at every step", () => {
    const c = byName('onecycle_20');
    const lrAt = stepSchedule('onecycle', { maxLr: c.max_lr as number, totalSteps: c.total_steps as number });
    (c.lrs as number[]).forEach((lr, step) => expect(Math.abs(lrAt(step) - lr)).toBeLessThan(1e-12));
  });

  test('cosine: linear warm-up to the peak, then down to 0 at the last step', () => {
    const lrAt = stepSchedule('cosine', { maxLr: 0.1, totalSteps: 10, warmupSteps: 2 });
    expect(lrAt(0)).toBeCloseTo(0.05, 12);
    expect(lrAt(1)).toBeCloseTo(0.1, 12);
    expect(lrAt(2)).toBeCloseTo(0.1, 12);
    expect(lrAt(9)).toBeCloseTo(0, 12);
    for (let s = 3; s < 10; s++) expect(lrAt(s)).toBeLessThan(lrAt(s - 1));
  });
});

/** The definition, written plainly: pad with fill, cut the window at (oy, ox), then mirror. */
function reference(img: NDArray, oy: number, ox: number, mirror: boolean, pad: number, fill: number[]): number[] {
  const [c, h, w] = img.shape;
  const out: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const cx = mirror ? w - 1 - x : x;
        const py = y + oy + pad;
        const px = cx + ox + pad; // in the padded image
        const sy = py - pad;
        const sx = px - pad;
        out.push(sy >= 0 && sy < h && sx >= 0 && sx < w ? img.data[(ch * h + sy) * w + sx] : fill[ch]);
      }
    }
  }
  return out;
}

describe('randomCropFlip', () => {
  test('every image is its padded crop (and mirror) for the offsets drawn, in seed order', () => {
    const x = NDArray.zeros([6, 2, 5, 7], 'float64');
    for (let i = 0; i < x.size; i++) x.data[i] = i + 1;
    const fill = [-0.5, -2];
    const out = randomCropFlip({ padding: 3, fill, seed: 7 })(x);
    const r = new Random(7);
    for (let i = 0; i < 6; i++) {
      const oy = r.int(7) - 3;
      const ox = r.int(7) - 3;
      const mirror = r.uniform() < 0.5;
      const img = new NDArray(x.data.slice(i * 70, (i + 1) * 70), [2, 5, 7]);
      expect(Array.from(out.data.slice(i * 70, (i + 1) * 70))).toEqual(reference(img, oy, ox, mirror, 3, fill));
    }
    expect(x.data[0]).toBe(1); // the input is not changed
  });

  test('seeded: the same seed gives the same batches; the loader applies it to every batch', () => {
    const x = NDArray.zeros([8, 3, 4, 4]);
    for (let i = 0; i < x.size; i++) x.data[i] = (i * 7) % 13;
    const ds = { name: 't', x, y: new Int32Array(8), numClasses: 1 };
    const run = () => [...new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 1, augment: randomCropFlip({ seed: 2 }) })].map((b) => Array.from(b.x.data));
    expect(run()).toEqual(run());
    const plain = [...new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 1 })].map((b) => Array.from(b.x.data));
    expect(run()).not.toEqual(plain);
  });

  test('paddingFill: a black pixel after standardising', () => {
    expect(paddingFill({ mean: [0.5, 0.25], std: [0.5, 0.25] }, 2)).toEqual([-1, -1]);
  });
});

describe('config: --model resnet20|resnet8 and the recipe flags', () => {
  test('resnet defaults on cifar10: SGD Nesterov 0.9, lr 0.1, batch 128, weight decay 5e-4, onecycle, augment', () => {
    const c = resolveConfig({ dataset: 'cifar10', model: 'resnet20' });
    expect(c).toMatchObject({ optimizer: 'sgd', momentum: 0.9, nesterov: true, lr: 0.1, batchSize: 128, weightDecay: 5e-4, schedule: 'onecycle', augment: true });
    expect(optimizerOptions(c)).toEqual({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  });

  test('flags override; wrong combinations are errors naming the flag', () => {
    const c = resolveConfig({ dataset: 'cifar10', model: 'resnet8', schedule: 'cosine', warmup: '1', labelSmoothing: '0.1', nesterov: false, augment: false, weightDecay: '0' });
    expect(c).toMatchObject({ schedule: 'cosine', warmup: 1, labelSmoothing: 0.1 });
    expect(c.nesterov).toBeUndefined();
    expect(c.augment).toBeUndefined();
    expect(c.weightDecay).toBeUndefined();
    expect(resolveConfig({ dataset: 'cifar10' }).augment).toBeUndefined(); // LeNet: as before
    expect(() => resolveConfig({ dataset: 'synth', model: 'resnet8' })).toThrow(/--model resnet8 needs image data/);
    expect(() => resolveConfig({ dataset: 'cifar10', schedule: 'steps' })).toThrow(/--schedule/);
    expect(() => resolveConfig({ dataset: 'cifar10', labelSmoothing: '1.5' })).toThrow(/--label-smoothing/);
    expect(() => resolveConfig({ dataset: 'cifar10', optimizer: 'adam', nesterov: true })).toThrow(/--nesterov/);
    expect(() => resolveConfig({ dataset: 'mnist', augment: true })).toThrow(/--augment/);
    expect(() => resolveConfig({ dataset: 'cifar10', epochs: '2', warmup: '3' })).toThrow(/--warmup/);
  });
});

describe('ResNet-8 training end to end (tiny images, synthetic labels)', () => {
  test('a few steps of the recipe lower the loss; eval mode uses the running statistics', async () => {
    // 32 images 3x8x8 whose class is which colour channel is brightest.
    const r = new Random(3);
    const n = 32;
    const x = NDArray.zeros([n, 3, 8, 8]);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < 192; j++) x.data[i * 192 + j] = r.normal() * 0.5 + (Math.floor(j / 64) === y[i] ? 1 : 0);
    }
    const train = { name: 'tiny', x, y, numClasses: 3 };
    const config = resolveConfig({ dataset: 'cifar10', model: 'resnet8', epochs: '4', batchSize: '8', learningRate: '0.05', labelSmoothing: '0.1' });
    config.normalize = false;
    const { history, model } = await trainFromConfig(config, { data: { train, val: train } });
    expect(history[3].trainLoss).toBeLessThan(history[0].trainLoss);
    expect(model).toBeInstanceOf(ResNet);
    const sd = model.stateDict();
    expect(sd['bn1.num_batches_tracked'].item()).toBe(16);
    expect(Array.from(sd['bn1.running_var'].data).some((v) => v !== 1)).toBe(true);
  });
});
