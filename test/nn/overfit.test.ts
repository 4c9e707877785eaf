/**
 * End-to-end learning: a tiny conv net and a tiny MLP must fit a small fixed batch to near-zero loss with
 * plain gradient descent (written inline: no optimizer), which fails if any gradient in the chain is wrong.
 */
import { NDArray, Random, TensorNode, manualSeed } from '../../lib';
import { Conv2d, Flatten, Linear, MLP, MaxPool2d, Module, ReLU, Sequential, lossByName, type LossName } from '../../lib/nn';

function batch(shape: number[], seed: number): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros(shape);
  for (let i = 0; i < a.size; i++) a.data[i] = r.normal();
  return a;
}

function train(model: Module, x: TensorNode, targets: Int32Array, loss: LossName, lr: number, steps: number): number[] {
  const lossFn = lossByName(loss);
  const history: number[] = [];
  for (let step = 0; step < steps; step++) {
    model.zeroGrad();
    const l = lossFn(model.call(x), targets);
    l.backward();
    history.push(l.item());
    for (const p of model.parameters()) {
      for (let i = 0; i < p.value.size; i++) p.value.data[i] -= lr * p.grad.data[i];
    }
  }
  model.zeroGrad();
  history.push(lossFn(model.call(x), targets).item());
  return history;
}

const targets = Int32Array.from([0, 1, 2, 1, 0, 2, 2, 1]);

test('a tiny conv net (Conv2d, ReLU, MaxPool2d, Flatten, Linear) overfits a batch', () => {
  manualSeed(11);
  const net = new Sequential(new Conv2d(2, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 3));
  const x = TensorNode.constant(batch([8, 2, 6, 6], 1));
  const history = train(net, x, targets, 'ce', 0.2, 150);
  expect(history[0]).toBeGreaterThan(0.5);
  expect(history[history.length - 1]).toBeLessThan(0.02);
});

test.each<[LossName, number, number]>([
  ['ce', 0.5, 0.02],
  ['multimargin', 0.5, 1e-3],
  ['mse', 0.5, 0.01],
])('a tiny MLP overfits a batch with the %s loss', (loss, lr, target) => {
  manualSeed(12);
  const mlp = new MLP({ inputSize: 5, hiddenSizes: [16], outputSize: 3, activation: 'tanh' });
  const x = TensorNode.constant(batch([8, 5], 2));
  const history = train(mlp, x, targets, loss, lr, 300);
  expect(history[history.length - 1]).toBeLessThan(target);
  expect(history[history.length - 1]).toBeLessThan(history[0] / 10);
});
