/**
 * Quick timing of one training workload on vugrad (used while profiling; the suite is benchmarks/suite.ts).
 * Usage: tsx benchmarks/train-step.ts mlp|lenet BATCH [seconds] [sgd|adam]  (sgd: momentum 0.9, the suite's)
 * VUGRAD_BENCH_PRECISION=bf16 trains in bf16 mixed precision (as the suite's vugrad-bf16 column).
 */
import { NDArray } from '../lib/core/ndarray';
import { TensorNode } from '../lib/core/tensor-node';
import { LeNet, MLP } from '../lib/nn/models';
import { crossEntropyLoss } from '../lib/nn/losses';
import { Adam } from '../lib/optim/adam';
import { SGD } from '../lib/optim/sgd';
import { backendInfo, getNumThreads, getPrecision, setPrecision, type Precision } from '../lib/kernels';

const [kind, batchArg, secArg, optArg] = process.argv.slice(2);
if (process.env.VUGRAD_BENCH_PRECISION) setPrecision(process.env.VUGRAD_BENCH_PRECISION as Precision);
const batch = Number(batchArg);
const seconds = Number(secArg ?? 2);
const model = kind === 'lenet' ? new LeNet() : new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10 });
const shape = kind === 'lenet' ? [batch, 3, 32, 32] : [batch, 784];
const xs = NDArray.zeros(shape);
for (let i = 0; i < xs.size; i++) xs.data[i] = Math.sin(i);
const ys = new Int32Array(batch).map((_, i) => i % 10);
const opt = optArg === 'adam' ? new Adam(model.parameters(), { lr: 1e-3 }) : new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
function step() {
  const loss = crossEntropyLoss(model.call(TensorNode.constant(xs)), ys);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  loss.clear();
}
for (let i = 0; i < 20; i++) step();
const t0 = performance.now();
let n = 0;
while (performance.now() - t0 < seconds * 1000) { step(); n++; }
const dt = (performance.now() - t0) / 1000;
console.log(`${kind} b${batch} ${optArg ?? 'sgd'}: ${((n * batch) / dt).toFixed(0)} samples/s (${backendInfo().backend}, ${getNumThreads()} threads, ${getPrecision()})`);
