/**
 * The PyTorch round trip, against real PyTorch (examples/pytorch/vugrad_torch.py): a vugrad MLP and LeNet
 * saved as safetensors load into the equivalent torch.nn modules and predict the same; PyTorch's state dicts
 * load into vugrad and predict the same; PyTorch's `torch.onnx.export` files import into vugrad and predict
 * the same. Skips, saying why, where no Python can `import torch`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray } from '../../lib/core/ndarray';
import { manualSeed } from '../../lib/core/random';
import { TensorNode } from '../../lib/core/tensor-node';
import { loadSavedModel } from '../../lib/cli/saved-model';
import { importOnnx, loadSafetensors, loadModel, saveModel, saveSafetensors } from '../../lib/io';
import { LeNet, MLP, type Module } from '../../lib/nn';
import { maxAbsDiff, root, torchPython } from './runtimes';

const { exe: python, why } = torchPython();
if (!python) console.warn(`pytorch.test: PyTorch comparisons skipped: ${why}`);
const script = path.join(root, 'examples', 'pytorch', 'vugrad_torch.py');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-torch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function torch(...args: string[]): void {
  const r = spawnSync(python!, [script, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python ${path.basename(script)} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function logits(model: Module, x: NDArray): Float32Array {
  model.eval();
  return Float32Array.from(model.call(TensorNode.constant(x)).value.data);
}

function inputs(n: number, shape: number[]): NDArray {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return new NDArray(Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 2), [n, ...shape]);
}

// vugrad -> PyTorch: each model saved, then one Python run predicts with all of them (torch takes seconds to start).
const toTorch = [
  ['MLP (tanh)', () => new MLP({ inputSize: 10, hiddenSizes: [12, 6], outputSize: 3, activation: 'tanh' }), [10], { model: 'mlp', activation: 'tanh' }],
  ['MLP (sigmoid, float64)', () => new MLP({ inputSize: 4, hiddenSizes: [5], outputSize: 2, activation: 'sigmoid', dtype: 'float64' }), [4], { model: 'mlp', activation: 'sigmoid' }],
  ['LeNet (CIFAR)', () => new LeNet(), [3, 32, 32], { model: 'lenet', dataset: 'cifar10' }],
  ['LeNet (MNIST)', () => new LeNet({ inChannels: 1, imageSize: 28, numClasses: 4 }), [1, 28, 28], { model: 'lenet', dataset: 'mnist' }],
] as const;

(python ? describe : describe.skip)('PyTorch round trip', () => {
  const sent = new Map<string, { ours: NDArray; out: string }>();
  beforeAll(() => {
    const files: string[] = [];
    toTorch.forEach(([name, make, shape, config], i) => {
      manualSeed(11 + i);
      const model = make().eval();
      const dtype = model.parameters()[0].value.dtype;
      const x = inputs(5, [...shape]).astype(dtype);
      const base = path.join(tmp, `to-torch-${i}`);
      saveModel(model, `${base}.model.safetensors`, { config: JSON.stringify(config) });
      saveSafetensors(`${base}.x.safetensors`, { x });
      files.push(`${base}.model.safetensors`, `${base}.x.safetensors`, `${base}.out.safetensors`);
      sent.set(name, { ours: model.call(TensorNode.constant(x)).value, out: `${base}.out.safetensors` });
    });
    torch('predict', ...files);
  }, 120_000);

  test.each(toTorch.map(([name]) => [name]))('a vugrad %s saved as safetensors predicts the same in torch.nn', (name) => {
    const { ours, out } = sent.get(name)!;
    const fromTorch = loadSafetensors(out).tensors.logits;
    expect(fromTorch.dtype).toBe(ours.dtype);
    expect(fromTorch.shape).toEqual(ours.shape);
    expect(maxAbsDiff(fromTorch.data, ours.data)).toBeLessThan(ours.dtype === 'float64' ? 1e-12 : 1e-5);
  });

  const made = path.join(tmp, 'from-torch');
  beforeAll(() => torch('make', 'all', made, '--seed', '3'), 120_000);

  describe.each([
    ['mlp', [20]],
    ['lenet', [3, 32, 32]],
  ] as const)('a PyTorch %s', (kind, shape) => {
    const dir = path.join(made, kind);

    test('state dict (safetensors) loads into vugrad and predicts what PyTorch predicted', () => {
      const { x, logits: expected } = loadSafetensors(path.join(dir, 'check.safetensors')).tensors;
      expect(x.shape.slice(1)).toEqual([...shape]);
      const saved = loadSavedModel(path.join(dir, 'model.safetensors'));
      expect(saved.inputShape).toEqual([...shape]);
      expect(maxAbsDiff(logits(saved.model, x), expected.data)).toBeLessThan(1e-5);
      // The same weights into a model built by hand, as a user fine-tuning it would.
      const own = kind === 'mlp' ? new MLP({ inputSize: 20, hiddenSizes: [16, 8], outputSize: 5, activation: 'tanh' }) : new LeNet();
      loadModel(own, path.join(dir, 'model.safetensors'));
      expect(maxAbsDiff(logits(own, x), expected.data)).toBeLessThan(1e-5);
    });

    test('torch.onnx.export file imports into vugrad and predicts what PyTorch predicted', () => {
      const { x, logits: expected } = loadSafetensors(path.join(dir, 'check.safetensors')).tensors;
      const net = importOnnx(path.join(dir, 'model.onnx'));
      expect(maxAbsDiff(logits(net, x), expected.data)).toBeLessThan(1e-5);
      // It can be fine-tuned: gradients reach every imported parameter.
      net.train();
      net.call(TensorNode.constant(x)).sum().backward();
      expect(net.parameters().every((p) => p.grad !== null && p.grad.data.some((g) => g !== 0))).toBe(true);
    });
  });
});
