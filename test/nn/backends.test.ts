/**
 * The same seed gives the same trained weights on the kernel table in use (native when it loads) and on the
 * pure-JS table, to float32 tolerance: a few SGD steps of a small conv net on each.
 */
import { NDArray, Random, TensorNode, backendInfo, jsKernels, kernels, manualSeed } from '../../lib';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, crossEntropyLoss } from '../../lib/nn';

function trainedWeights(): NDArray[] {
  manualSeed(21);
  const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1, stride: 2 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 5));
  const r = new Random(3);
  const x = NDArray.zeros([6, 3, 16, 16]);
  for (let i = 0; i < x.size; i++) x.data[i] = r.normal();
  const t = Int32Array.from([0, 1, 2, 3, 4, 0]);
  for (let step = 0; step < 20; step++) {
    net.zeroGrad();
    crossEntropyLoss(net.call(TensorNode.constant(x)), t).backward();
    for (const p of net.parameters()) kernels.axpy(-0.1, p.grad.data, p.value.data);
  }
  return net.parameters().map((p) => p.value.copy());
}

test(`seeded training agrees between the ${backendInfo().backend} kernels and the JS kernels`, () => {
  const inUse = { ...kernels };
  const a = trainedWeights();
  Object.assign(kernels, jsKernels);
  let b: NDArray[];
  try {
    b = trainedWeights();
  } finally {
    Object.assign(kernels, inUse);
  }
  expect(a).toHaveLength(b.length);
  let worst = 0;
  a.forEach((w, i) => {
    expect([...w.shape]).toEqual([...b[i].shape]);
    for (let j = 0; j < w.size; j++) worst = Math.max(worst, Math.abs(w.data[j] - b[i].data[j]) / (Math.abs(b[i].data[j]) + 1));
  });
  expect(worst).toBeLessThan(1e-4);
  // The weights moved: the comparison is of trained values, not of the initialisation.
  manualSeed(21);
  expect(new Conv2d(3, 4, 3).weight.value.data[0]).not.toBe(a[0].data[0]);
});
