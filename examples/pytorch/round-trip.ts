/**
 * vugrad <-> PyTorch, both ways, and out to ONNX. Run from the repository root (needs Python with PyTorch:
 * `apt-get install python3-torch`; set VUGRAD_PYTHON if `python3` is not that one):
 *
 *   npx tsx examples/pytorch/round-trip.ts
 *
 * 1. A vugrad MLP, saved as safetensors, is loaded by PyTorch (vugrad_torch.py) and predicts the same.
 * 2. A PyTorch LeNet (state dict as safetensors, and torch.onnx.export's file) loads into vugrad, predicts
 *    the same, and is fine-tuned here for a few steps.
 * 3. The fine-tuned model is exported to ONNX for onnxruntime or any other runtime.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray, TensorNode, createOptimizer, crossEntropyLoss, importOnnx, LeNet, loadModel, loadSafetensors, MLP, saveModel, saveOnnx, saveSafetensors } from '../../lib';

const python = process.env.VUGRAD_PYTHON ?? 'python3';
const script = path.join(__dirname, 'vugrad_torch.py');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-pytorch-'));

function torch(...args: string[]): void {
  const r = spawnSync(python, [script, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${python} vugrad_torch.py ${args[0]} failed; is PyTorch installed (apt-get install python3-torch)?`);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

// 1. vugrad -> PyTorch. The run configuration in the metadata tells the Python side the activation.
const mlp = new MLP({ inputSize: 8, hiddenSizes: [16], outputSize: 3, activation: 'tanh' }).eval();
saveModel(mlp, path.join(dir, 'mlp.safetensors'), { config: JSON.stringify({ model: 'mlp', activation: 'tanh' }) });
const x = NDArray.from(Array.from({ length: 4 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.cos(i * 8 + j))));
saveSafetensors(path.join(dir, 'x.safetensors'), { x });
torch('predict', path.join(dir, 'mlp.safetensors'), path.join(dir, 'x.safetensors'), path.join(dir, 'torch-logits.safetensors'));
const fromTorch = loadSafetensors(path.join(dir, 'torch-logits.safetensors')).tensors.logits;
console.log(`vugrad MLP in PyTorch: largest difference ${maxDiff(fromTorch.data, mlp.call(TensorNode.constant(x)).value.data).toExponential(2)}`);

// 2. PyTorch -> vugrad: the state dict into vugrad's own LeNet (same key names and layouts), and the ONNX file.
torch('make', 'lenet', path.join(dir, 'torch-lenet'));
const check = loadSafetensors(path.join(dir, 'torch-lenet', 'check.safetensors')).tensors;
const lenet = new LeNet();
loadModel(lenet, path.join(dir, 'torch-lenet', 'model.safetensors'));
lenet.eval();
console.log(`PyTorch LeNet in vugrad: largest difference ${maxDiff(lenet.call(TensorNode.constant(check.x)).value.data, check.logits.data).toExponential(2)}`);
const imported = importOnnx(path.join(dir, 'torch-lenet', 'model.onnx'));
console.log(`torch.onnx.export's LeNet imported: largest difference ${maxDiff(imported.call(TensorNode.constant(check.x)).value.data, check.logits.data).toExponential(2)}`);

// ... and fine-tuned in Node: a few SGD steps on the check batch, with made-up labels.
lenet.train();
const optimizer = createOptimizer('sgd', lenet.parameters(), { lr: 0.05 });
const labels = [0, 1, 2, 3];
for (let step = 1; step <= 5; step++) {
  lenet.zeroGrad();
  const loss = crossEntropyLoss(lenet.call(TensorNode.constant(check.x)), labels);
  loss.backward();
  optimizer.step();
  console.log(`fine-tuning step ${step}: loss ${loss.value.data[0].toFixed(4)}`);
}

// 3. Out to ONNX (opset 13, dynamic batch): python -c "import onnxruntime as ort; ort.InferenceSession('lenet.onnx')".
saveOnnx(lenet.eval(), path.join(dir, 'lenet.onnx'), { inputShape: [3, 32, 32] });
console.log(`wrote ${path.join(dir, 'lenet.onnx')} (${fs.statSync(path.join(dir, 'lenet.onnx')).size} bytes)`);
