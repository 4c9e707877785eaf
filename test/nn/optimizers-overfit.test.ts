/**
 * Every optimizer, driving real modules: a tiny MLP and a tiny conv net must overfit a small fixed batch to
 * near-zero loss. Learning rates are per optimizer (Adadelta's default lr of 1 is its own scale).
 */
import { NDArray, Random, TensorNode, createOptimizer, manualSeed, type OptimizerName } from '../../lib';
import { Conv2d, Flatten, Linear, MLP, MaxPool2d, ReLU, Sequential, crossEntropyLoss, type Module } from '../../lib/nn';

function batch(shape: number[], seed: number): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros(shape);
  for (let i = 0; i < a.size; i++) a.data[i] = r.normal();
  return a;
}

const targets = Int32Array.from([0, 1, 2, 1, 0, 2, 2, 1]);

const settings: [OptimizerName, Record<string, unknown>][] = [
  ['sgd', { lr: 0.1, momentum: 0.9 }],
  ['adam', { lr: 0.01 }],
  ['adamw', { lr: 0.01, weightDecay: 0 }],
  ['adamax', { lr: 0.02 }],
  ['adadelta', { lr: 1, rho: 0.95 }],
  ['adagrad', { lr: 0.1 }],
  ['rprop', { lr: 0.01 }],
  ['asgd', { lr: 0.1, lambd: 0 }],
  ['rmsprop', { lr: 0.005 }],
];

function overfit(model: Module, x: TensorNode, name: OptimizerName, options: Record<string, unknown>, steps: number): [number, number] {
  const opt = createOptimizer(name, model.parameters(), options as never);
  let first = NaN;
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    const loss = crossEntropyLoss(model.call(x), targets);
    if (step === 0) first = loss.item();
    loss.backward();
    opt.step();
  }
  return [first, crossEntropyLoss(model.call(x), targets).item()];
}

describe.each(settings)('%s', (name, options) => {
  test('overfits a batch with a tiny MLP', () => {
    manualSeed(21);
    const mlp = new MLP({ inputSize: 5, hiddenSizes: [16], outputSize: 3, activation: 'relu' });
    const [first, last] = overfit(mlp, TensorNode.constant(batch([8, 5], 3)), name, options, 300);
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.05);
  });

  test('overfits a batch with a tiny conv net', () => {
    manualSeed(22);
    const net = new Sequential(new Conv2d(2, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(36, 3));
    const [first, last] = overfit(net, TensorNode.constant(batch([8, 2, 6, 6], 4)), name, options, 300);
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.05);
  });
});
