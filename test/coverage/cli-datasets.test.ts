/**
 * Successful `vugrad train` runs on the image data sets, from tiny files written to a temp dir (no download,
 * no optional package): Fashion-MNIST as IDX files passed with `--data` (an MLP, and `--model lenet`), and
 * CIFAR-10 as an image folder `train/<class>/*.png` + `test/<class>/*.png` (LeNet, the default for cifar10).
 * Then `vugrad evaluate` with `--final`, `--data` and `--limit`, each cross-checked against the accuracy
 * computed in this process from the saved model and the same files.
 * Runs the compiled CLI through bin/vugrad.js (see helpers/stage.ts), with HOME and the CIFAR-10 cache in
 * the temp dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LeNet, MLP, TensorNode, loadCifar10, loadDataset, loadModel, loadSafetensors, predictClasses, saveModel, type Dataset, type Module } from '../../lib';
import { epochLines, readMetricsCsv, stagePackage, type RunResult, type Stage } from './helpers/stage';
import { writeCifarFolder, writeIdxDir } from './helpers/tiny-data';

let stage: Stage;
let fashion: string; // 1,200 training images (1/12 of them the validation split), 120 test images
let relabelled: string; // the same images with every label moved to (label + 1) mod 10
let cifar: string;

beforeAll(() => {
  stage = stagePackage('cli-data');
  fashion = path.join(stage.tmp, 'fashion');
  relabelled = path.join(stage.tmp, 'fashion-relabelled');
  cifar = path.join(stage.tmp, 'cifar');
  writeIdxDir(fashion, { train: 1200, test: 120, seed: 4, gzip: true });
  writeIdxDir(relabelled, { train: 1200, test: 120, seed: 4, relabel: (y) => (y + 1) % 10 });
  writeCifarFolder(cifar, 6, 3);
}, 300_000);
afterAll(() => stage?.cleanup());

function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`vugrad exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** `<split>: accuracy A%, loss L (N samples)` from `vugrad evaluate`. */
function evaluation(stdout: string): { split: string; accuracy: number; loss: number; samples: number } {
  const m = /(\S+): accuracy (\d+\.\d+)%, loss (\d+\.\d+) \((\d+) samples\)/.exec(stdout);
  if (!m) throw new Error(`no evaluation line in:\n${stdout}`);
  return { split: m[1], accuracy: Number(m[2]), loss: Number(m[3]), samples: Number(m[4]) };
}

/** Accuracy (percent) of a saved model on a split, computed here. */
function accuracyOf(model: Module, d: Dataset): number {
  model.eval();
  const predicted = predictClasses(model.forward(TensorNode.constant(d.x)).value);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === d.y[i]) correct++;
  return (100 * correct) / d.y.length;
}

/** The model a `train --out` run saved, rebuilt from its config.json and loaded from model.safetensors. */
function savedModel(out: string, input: { size: number; channels: number; image: number }): Module {
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  const model =
    config.model === 'lenet'
      ? new LeNet({ inChannels: input.channels, numClasses: 10, imageSize: input.image })
      : new MLP({ inputSize: input.size, hiddenSizes: config.hidden, outputSize: 10, activation: config.activation });
  loadModel(model, path.join(out, 'model.safetensors'));
  return model;
}

const fashionInput = { size: 784, channels: 1, image: 28 };

describe('Fashion-MNIST from IDX files (--data)', () => {
  const out = () => path.join(stage.tmp, 'fashion-mlp');
  let run: RunResult;
  let valCount: number; // the validation split of the run (--limit 300), as the library makes it
  beforeAll(async () => {
    valCount = ((await loadDataset('fashion-mnist', { dir: fashion, limit: 300 })).val as Dataset).y.length;
    run = stage.vugrad(['train', '-D', 'fashion-mnist', '--data', fashion, '--limit', '300', '-e', '2', '-b', '16', '--hidden', '32', '--seed', '1', '--out', out()]);
  });

  test('trains: an epoch line per epoch, per-epoch numbers match metrics.csv, and it learns the easy classes', () => {
    ok(run);
    expect(run.stdout).toMatch(/training mlp on fashion-mnist/);
    const epochs = epochLines(run.stdout);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const rows = readMetricsCsv(path.join(out(), 'metrics.csv'));
    expect(rows).toHaveLength(2);
    rows.forEach((row, i) => {
      expect(row.trainLoss.toFixed(4)).toBe(epochs[i].loss.toFixed(4));
      expect((row.valAccuracy * 100).toFixed(2)).toBe(epochs[i].accuracy.toFixed(2));
      // An accuracy is a whole number of validation samples.
      expect(Math.abs(row.valAccuracy * valCount - Math.round(row.valAccuracy * valCount))).toBeLessThan(1e-9);
    });
    expect(rows[1].valAccuracy).toBeGreaterThan(0.5); // chance is 0.1; each class lights its own rows
    expect(JSON.parse(fs.readFileSync(path.join(out(), 'config.json'), 'utf8'))).toMatchObject({ dataset: 'fashion-mnist', data: fashion, limit: 300 });
  });

  test('evaluate: the same accuracy as the last epoch, on the validation samples the run used', () => {
    ok(run);
    const ev = evaluation(ok(stage.vugrad(['evaluate', path.join(out(), 'model.safetensors')])).stdout);
    expect(ev.split).toMatch(/val/);
    expect(ev.samples).toBe(valCount);
    expect(ev.accuracy.toFixed(2)).toBe(epochLines(run.stdout)[1].accuracy.toFixed(2));
  });

  test('evaluate --limit: only that many samples, the accuracy of the model on them', async () => {
    ok(run);
    const ev = evaluation(ok(stage.vugrad(['evaluate', path.join(out(), 'model.safetensors'), '--limit', '50'])).stdout);
    expect(ev.samples).toBe(50);
    const { val } = await loadDataset('fashion-mnist', { dir: fashion, limit: 50 });
    expect(ev.accuracy).toBeCloseTo(accuracyOf(savedModel(out(), fashionInput), val as Dataset), 2);
  });

  test('evaluate --final: the test split (all 120 test images, under the saved --limit 300)', async () => {
    ok(run);
    const ev = evaluation(ok(stage.vugrad(['evaluate', path.join(out(), 'model.safetensors'), '--final'])).stdout);
    expect(ev.split).toMatch(/test/);
    expect(ev.samples).toBe(120);
    const { test: testSplit } = await loadDataset('fashion-mnist', { dir: fashion, final: true });
    expect(ev.accuracy).toBeCloseTo(accuracyOf(savedModel(out(), fashionInput), testSplit as Dataset), 2);
  });

  test('evaluate --data: another directory is read (labels shifted by one: a different, lower accuracy)', async () => {
    ok(run);
    const model = path.join(out(), 'model.safetensors');
    const ev = evaluation(ok(stage.vugrad(['evaluate', model, '--data', relabelled])).stdout);
    const { val } = await loadDataset('fashion-mnist', { dir: relabelled, limit: 300 });
    const expected = accuracyOf(savedModel(out(), fashionInput), val as Dataset);
    expect(ev.accuracy).toBeCloseTo(expected, 2);
    expect(ev.accuracy).toBeLessThan(evaluation(ok(stage.vugrad(['evaluate', model])).stdout).accuracy);
    // All three flags together.
    const all = evaluation(ok(stage.vugrad(['evaluate', model, '--final', '--data', relabelled, '--limit', '40'])).stdout);
    expect(all.split).toMatch(/test/);
    expect(all.samples).toBe(40);
    const { test: t } = await loadDataset('fashion-mnist', { dir: relabelled, final: true, limit: 40 });
    expect(all.accuracy).toBeCloseTo(accuracyOf(savedModel(out(), fashionInput), t as Dataset), 2);
  });

  test('evaluate of a file without a run configuration is a clear error', () => {
    const bare = path.join(stage.tmp, 'bare.safetensors');
    // A model saved by code (saveModel), not by train --out.
    saveModel(new MLP({ inputSize: 4, hiddenSizes: [], outputSize: 2 }), bare);
    const r = stage.vugrad(['evaluate', bare]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no vugrad run configuration/);
  });
});

describe('--model lenet on Fashion-MNIST (--final)', () => {
  test('trains LeNet on [1, 28, 28] images, reports the test set, and evaluate agrees', () => {
    const out = path.join(stage.tmp, 'fashion-lenet');
    const r = ok(stage.vugrad(['train', '-D', 'fashion-mnist', '--data', fashion, '--model', 'lenet', '--final', '--limit', '200', '-e', '1', '-b', '20', '--out', out]));
    expect(r.stdout).toMatch(/training lenet on fashion-mnist/);
    const epochs = epochLines(r.stdout);
    expect(epochs).toHaveLength(1);
    expect(epochs[0].split).toBe('test');
    const final = /final test accuracy: (\d+\.\d{2})%/.exec(r.stdout);
    expect(final).not.toBeNull();
    // A convolutional net: its first weight is [6, 1, 5, 5] (one input channel).
    const { tensors } = loadSafetensors(path.join(out, 'model.safetensors'));
    const shapes = Object.values(tensors).map((t) => t.shape.join('x'));
    expect(shapes).toContain('6x1x5x5');
    const ev = evaluation(ok(stage.vugrad(['evaluate', path.join(out, 'model.safetensors')])).stdout);
    expect(ev.split).toMatch(/test/);
    expect(ev.samples).toBe(120);
    expect(ev.accuracy.toFixed(2)).toBe(final![1]);
  });
});

describe('CIFAR-10 from an image folder train/<class>/*.png', () => {
  test('LeNet (the default) trains with --final, the decoded-image cache goes to VUGRAD_CACHE_DIR, evaluate agrees', async () => {
    const out = path.join(stage.tmp, 'cifar-run');
    const r = ok(stage.vugrad(['train', '-D', 'cifar10', '--data', cifar, '--final', '-e', '2', '-b', '10', '--out', out]));
    expect(r.stdout).toMatch(/training lenet on cifar10 \(sgd, lr 0\.001, batch 10, 2 epochs/);
    const epochs = epochLines(r.stdout);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of epochs) {
      expect(e.split).toBe('test');
      expect(e.loss).toBeGreaterThan(0);
      expect(Math.abs((e.accuracy / 100) * 30 - Math.round((e.accuracy / 100) * 30))).toBeLessThan(1e-6); // 30 test images
    }
    const rows = readMetricsCsv(path.join(out, 'metrics.csv'));
    expect(rows.map((row) => row.trainLoss.toFixed(4))).toEqual(epochs.map((e) => e.loss.toFixed(4)));
    // The cache is written where VUGRAD_CACHE_DIR says, and nothing is written into the data folder.
    const cacheRoot = path.join(path.dirname(stage.tmp), 'cache');
    const cached = fs.readdirSync(cacheRoot, { recursive: true }).map(String);
    expect(cached.some((f) => f.endsWith('cifar10-train.bin'))).toBe(true);
    expect(fs.existsSync(path.join(cifar, '.vugrad-cache'))).toBe(false);

    const final = /final test accuracy: (\d+\.\d{2})%/.exec(r.stdout);
    const ev = evaluation(ok(stage.vugrad(['evaluate', path.join(out, 'model.safetensors')])).stdout);
    expect(ev.samples).toBe(30);
    expect(ev.accuracy.toFixed(2)).toBe(final![1]);
    // And the same number from this process, on the same images (normalised as the run was).
    const { test: t } = await loadCifar10({ dir: cifar, final: true, normalize: true, cache: false });
    expect(ev.accuracy).toBeCloseTo(accuracyOf(savedModel(out, { size: 3072, channels: 3, image: 32 }), t as Dataset), 2);
  });

  test('without --final: a validation split held out of the training folder, reported after each epoch', async () => {
    const r = ok(stage.vugrad(['train', '-D', 'cifar10', '--data', cifar, '-e', '1', '-b', '10']));
    const epochs = epochLines(r.stdout);
    expect(epochs).toHaveLength(1);
    expect(epochs[0].split).toBe('val');
    const { train: tr, val } = await loadCifar10({ dir: cifar, normalize: true, cache: false });
    const n = (val as Dataset).y.length;
    expect(n).toBeGreaterThan(0);
    expect(tr.y.length + n).toBe(60); // the 6 x 10 training images, split in two
    expect(Math.abs((epochs[0].accuracy / 100) * n - Math.round((epochs[0].accuracy / 100) * n))).toBeLessThan(1e-6);
    expect(r.stdout).toMatch(/final val accuracy: \d+\.\d{2}%/);
  });
});
