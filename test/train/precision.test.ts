/**
 * bf16 mixed precision in training (issue 20): `fit({ precision })`, the run config and checkpoints. Where bf16
 * can run here (`bf16Support()`: the oneDNN addon on a CPU with AVX512_BF16) the tests train in it; elsewhere
 * (the JS kernel pass, a machine without the instructions) they assert the refusal and its reason. Either way
 * every test asserts something: none is skipped.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manualSeed } from '../../lib/core/random';
import { loadDataset } from '../../lib/data/load-dataset';
import type { DatasetSplits } from '../../lib/data/dataset';
import { bf16Support, getPrecision, setPrecision } from '../../lib/kernels';
import { LeNet, MLP, crossEntropyLoss, type Module } from '../../lib/nn';
import { Adam } from '../../lib/optim';
import { evaluate, fit, type EpochMetrics, type FitOptions } from '../../lib/train/fit';
import { resolveConfig } from '../../lib/train/config';
import { trainFromConfig } from '../../lib/train/recipe';
import { loadCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint';
import { PrecisionError, PrecisionScope } from '../../lib/train/precision';

const support = bf16Support();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-precision-'));
let flat: DatasetSplits;
let images: DatasetSplits;

beforeAll(async () => {
  flat = await loadDataset('mnist', { limit: 1500, seed: 0 });
  images = await loadDataset('mnist', { limit: 600, seed: 0, flatten: false });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  // A failed test must not leave bf16 set for the next one.
  if (getPrecision() !== 'fp32') setPrecision('fp32');
});

function mlp(seed = 1): Module {
  manualSeed(seed);
  return new MLP({ inputSize: 784, hiddenSizes: [64], outputSize: 10, activation: 'relu' });
}

function options(model: Module, extra: Partial<FitOptions> = {}): FitOptions {
  return { optimizer: new Adam(model.parameters(), { lr: 1e-3 }), loss: (l, y) => crossEntropyLoss(l, y), epochs: 3, batchSize: 100, seed: 2, ...extra };
}

const weights = (m: Module): Float32Array[] => m.parameters().map((p) => Float32Array.from(p.value.data));

test('fit refuses a precision that is not fp32 or bf16 before training, naming the option and the values', async () => {
  const model = mlp();
  const before = weights(model);
  let batches = 0;
  await expect(fit(model, flat, options(model, { precision: 'fp16' as never, onBatch: () => batches++ }))).rejects.toThrow(
    `fit: precision: expected one of 'fp32', 'bf16', got "fp16"`,
  );
  expect(batches).toBe(0);
  expect(weights(model)).toEqual(before);
  expect(getPrecision()).toBe('fp32');
});

test('the run config takes --precision fp32 | bf16 (absent: fp32) and refuses other values and bf16 with float64', () => {
  expect(resolveConfig({ dataset: 'synth' }).precision).toBeUndefined();
  expect(resolveConfig({ dataset: 'synth', precision: 'fp32' }).precision).toBeUndefined();
  expect(resolveConfig({ dataset: 'synth', precision: 'bf16' }).precision).toBe('bf16');
  expect(() => resolveConfig({ dataset: 'synth', precision: 'fp16' })).toThrow("--precision: 'fp16' is not one of fp32, bf16");
  expect(() => resolveConfig({ dataset: 'synth', precision: 'bf16', dtype: 'float64' })).toThrow(/--precision bf16: .*float64/);
  // Whether bf16 runs is the training machine's business, not the config's: it resolves either way.
  expect(resolveConfig({ dataset: 'cifar10', precision: 'bf16' })).toMatchObject({ model: 'lenet', precision: 'bf16' });
});

if (!support.supported) {
  describe(`bf16 is not available here (${support.reason})`, () => {
    test('fit refuses bf16 with the reason before any training, and the thread stays fp32', async () => {
      const model = mlp();
      const before = weights(model);
      let batches = 0;
      const run = fit(model, flat, options(model, { precision: 'bf16', onBatch: () => batches++ }));
      await expect(run).rejects.toBeInstanceOf(PrecisionError);
      await expect(run).rejects.toThrow(`fit: precision 'bf16' is not available here: ${support.reason}. Use 'fp32' (the default)`);
      expect(batches).toBe(0);
      expect(weights(model)).toEqual(before);
      expect(getPrecision()).toBe('fp32');
      expect(() => setPrecision('bf16')).toThrow(support.reason);
    });

    test('evaluate refuses bf16 too', async () => {
      const model = mlp();
      await expect(evaluate(model, flat.val!, { loss: (l, y) => crossEntropyLoss(l, y), precision: 'bf16' })).rejects.toThrow(
        `evaluate: precision 'bf16' is not available here: ${support.reason}`,
      );
    });

    test('trainFromConfig refuses a bf16 config before it loads any data', async () => {
      // The data directory does not exist: had the data been loaded first, the error would say so instead.
      const config = resolveConfig({ dataset: 'mnist', precision: 'bf16', data: path.join(tmp, 'no-such-dir'), limit: '100' });
      await expect(trainFromConfig(config)).rejects.toThrow(`precision 'bf16' is not available here: ${support.reason}`);
      expect(getPrecision()).toBe('fp32');
    });

    test('a bf16 scope cannot be entered here, and the thread stays fp32', () => {
      expect(() => new PrecisionScope('bf16').enter()).toThrow(support.reason);
      expect(getPrecision()).toBe('fp32');
    });

    test("a bf16 run's checkpoint is refused on resume here, not continued in fp32", async () => {
      const config = resolveConfig({ dataset: 'synth', limit: '300', epochs: '2', hidden: '8' });
      const dir = path.join(tmp, 'refused-resume');
      await trainFromConfig({ ...config, epochs: 1 }, { checkpointDir: dir });
      // The same checkpoint as a bf16 machine would have written it: the config says bf16.
      const saved = loadCheckpoint(dir);
      saveCheckpoint(dir, { ...saved, config: { ...saved.config, precision: 'bf16' } });
      await expect(trainFromConfig({ ...config, precision: 'bf16' }, { resume: dir })).rejects.toThrow(`not available here: ${support.reason}`);
      await expect(trainFromConfig(config, { resume: dir })).rejects.toThrow(/was trained in precision bf16, and this run asks for fp32; resume it in bf16/);
    });
  });
} else {
  describe(`bf16 runs here (${support.reason})`, () => {
    test('fit trains an MLP in bf16: the loss falls, the run is in bf16, and fp32 is back afterwards', async () => {
      const model = mlp();
      const seen = new Set<string>();
      const between = new Set<string>();
      // Whatever runs on the thread while fit waits (a timer here) sees the thread's own setting, not the run's.
      const timer = setInterval(() => between.add(getPrecision()), 1);
      let history: EpochMetrics[];
      try {
        history = await fit(model, flat, options(model, { precision: 'bf16', yieldEveryMs: 0, onBatch: () => seen.add(getPrecision()) }));
      } finally {
        clearInterval(timer);
      }
      expect([...seen]).toEqual(['bf16']);
      expect([...between]).toEqual(['fp32']);
      expect(getPrecision()).toBe('fp32');
      expect(history[2].trainLoss).toBeLessThan(history[0].trainLoss * 0.8);
      expect(history[2].valAccuracy).toBeGreaterThan(0.8);
    });

    test('bf16 changes the numbers (the setting reaches the kernels) but not the outcome', async () => {
      const a = mlp();
      const b = mlp();
      const fp32 = await fit(a, flat, options(a, { precision: 'fp32' }));
      const bf16 = await fit(b, flat, options(b, { precision: 'bf16' }));
      const wa = weights(a)[0];
      const wb = weights(b)[0];
      let differ = 0;
      for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) differ++;
      expect(differ).toBeGreaterThan(wa.length / 10);
      expect(Math.abs(bf16[2].valAccuracy! - fp32[2].valAccuracy!)).toBeLessThan(0.03);
      expect(Math.abs(bf16[2].trainLoss - fp32[2].trainLoss)).toBeLessThan(0.1 * fp32[2].trainLoss);
    });

    test("the evaluation after each epoch runs in the run's precision (as under autocast)", async () => {
      const model = mlp();
      const history = await fit(model, flat, options(model, { precision: 'bf16', epochs: 1 }));
      const loss = (l: Parameters<typeof crossEntropyLoss>[0], y: Int32Array) => crossEntropyLoss(l, y);
      const inBf16 = await evaluate(model, flat.val!, { loss, precision: 'bf16' });
      const inFp32 = await evaluate(model, flat.val!, { loss, precision: 'fp32' });
      expect(history[0].valLoss).toBeCloseTo(inBf16.loss, 6);
      expect(Math.abs(inBf16.loss - inFp32.loss)).toBeGreaterThan(1e-6);
      expect(getPrecision()).toBe('fp32');
    });

    test('PrecisionScope: exit puts back the setting found at enter; enter and exit are idempotent', async () => {
      const scope = new PrecisionScope('bf16');
      scope.enter();
      scope.enter();
      expect(getPrecision()).toBe('bf16');
      const inside = await scope.outside(async () => getPrecision());
      expect(inside).toBe('fp32');
      expect(getPrecision()).toBe('bf16');
      scope.exit();
      scope.exit();
      expect(getPrecision()).toBe('fp32');
    });

    test('LeNet trains in bf16 (convolutions and matmuls)', async () => {
      manualSeed(1);
      const model = new LeNet({ inChannels: 1, numClasses: 10, imageSize: 28 });
      const history = await fit(model, images, { ...options(model, { precision: 'bf16', epochs: 2, batchSize: 32 }) });
      expect(history[1].trainLoss).toBeLessThan(history[0].trainLoss);
      expect(Number.isFinite(history[1].valLoss!)).toBe(true);
    });

    test('a run that throws restores the previous precision, and an fp32 run inside bf16 code runs in fp32', async () => {
      const model = mlp();
      let batches = 0;
      const failing = fit(model, flat, options(model, {
        precision: 'bf16',
        onBatch: () => {
          if (++batches === 3) throw new Error('stop at batch 3');
        },
      }));
      await expect(failing).rejects.toThrow('stop at batch 3');
      expect(getPrecision()).toBe('fp32');

      setPrecision('bf16');
      const seen = new Set<string>();
      await fit(model, flat, options(model, { precision: 'fp32', epochs: 1, onBatch: () => seen.add(getPrecision()) }));
      expect([...seen]).toEqual(['fp32']);
      expect(getPrecision()).toBe('bf16');
      // Without a precision, fit runs in the thread's setting.
      seen.clear();
      await fit(model, flat, options(model, { epochs: 1, onBatch: () => seen.add(getPrecision()) }));
      expect([...seen]).toEqual(['bf16']);
      setPrecision('fp32');
    });

    test('a bf16 run records its precision in the checkpoint, and the resumed run trains in bf16 again', async () => {
      const config = resolveConfig({ dataset: 'mnist', limit: '600', epochs: '2', hidden: '32', precision: 'bf16' });
      const dir = path.join(tmp, 'bf16-resume');
      const whole = await trainFromConfig(config);
      await trainFromConfig({ ...config, epochs: 1 }, { checkpointDir: dir });
      const checkpoint = loadCheckpoint(dir);
      expect(checkpoint.config.precision).toBe('bf16');
      const seen = new Set<string>();
      const resumed = await trainFromConfig(checkpoint.config.epochs === 1 ? { ...checkpoint.config, epochs: 2 } : checkpoint.config, {
        resume: checkpoint,
        onBatch: () => seen.add(getPrecision()),
      });
      expect([...seen]).toEqual(['bf16']);
      expect(resumed.history.map((m) => m.epoch)).toEqual([1, 2]);
      // Same seed, same precision, same kernels: the resumed run ends where the uninterrupted one did.
      expect(resumed.history[1].trainLoss).toBeCloseTo(whole.history[1].trainLoss, 5);
      await expect(trainFromConfig({ ...checkpoint.config, epochs: 2, precision: undefined }, { resume: checkpoint })).rejects.toThrow(
        /was trained in precision bf16, and this run asks for fp32; resume it in bf16/,
      );
    });
  });
}
