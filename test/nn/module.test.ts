/** Module bookkeeping: parameter discovery and names, zeroGrad, train/eval with Dropout, state dicts. */
import { NDArray, Random, TensorNode, manualSeed } from '../../lib';
import {
  Conv2d,
  Dropout,
  Flatten,
  LeNet,
  Linear,
  MLP,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  crossEntropyLoss,
} from '../../lib/nn';

class TwoLayer extends Module {
  fc1 = new Linear(4, 8);
  act = new ReLU();
  drop = new Dropout(0.5);
  fc2 = new Linear(8, 3, { bias: false });
  note = 'not a parameter';
  _cache: TensorNode | null = new TensorNode(NDArray.zeros([1]));
  forward(x: TensorNode): TensorNode {
    return this.fc2.call(this.drop.call(this.act.call(this.fc1.call(x))));
  }
}

describe('parameters()', () => {
  test('MLP: two per layer, named layers.i.weight/bias, PyTorch shapes', () => {
    const mlp = new MLP({ inputSize: 784, hiddenSizes: [300, 100], outputSize: 10 });
    const named = mlp.namedParameters();
    expect(named.map(([n]) => n)).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
      'layers.2.weight',
      'layers.2.bias',
    ]);
    expect(named.map(([, p]) => [...p.shape])).toEqual([[300, 784], [300], [100, 300], [100], [10, 100], [10]]);
    expect(mlp.parameters()).toHaveLength(6);
    expect(mlp.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  test('LeNet: the PyTorch tutorial names and shapes', () => {
    const net = new LeNet();
    expect(net.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'conv1.weight 6x3x5x5',
      'conv1.bias 6',
      'conv2.weight 16x6x5x5',
      'conv2.bias 16',
      'fc1.weight 120x400',
      'fc1.bias 120',
      'fc2.weight 84x120',
      'fc2.bias 84',
      'fc3.weight 10x84',
      'fc3.bias 10',
    ]);
    const small = new LeNet({ inChannels: 1, numClasses: 4, imageSize: 28 });
    expect([...small.fc1.weight.shape]).toEqual([120, 256]);
    expect([...small.call(TensorNode.constant(NDArray.zeros([2, 1, 28, 28]))).shape]).toEqual([2, 4]);
  });

  test('a hand-written module: sub-modules found, no-bias layer, private and non-tensor fields skipped', () => {
    const m = new TwoLayer();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    expect(m.fc2.bias).toBeNull();
  });

  test('Sequential names by position, as PyTorch; a shared layer is listed once', () => {
    const shared = new Linear(3, 3);
    const seq = new Sequential(new Conv2d(1, 2, 3), new MaxPool2d(2), new Flatten(), new Linear(2, 3), shared, new ReLU(), shared);
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '4.weight', '4.bias']);
    const y = seq.call(TensorNode.constant(NDArray.ones([5, 1, 4, 4])));
    expect([...y.shape]).toEqual([5, 3]);
  });
});

test('zeroGrad clears every parameter gradient', () => {
  const m = new MLP({ inputSize: 3, hiddenSizes: [4], outputSize: 2 });
  const x = TensorNode.constant(NDArray.from([[1, 2, 3], [-1, 0.5, 2]]));
  crossEntropyLoss(m.call(x), [0, 1]).backward();
  expect(m.parameters().every((p) => p.grad.data.some((v) => v !== 0))).toBe(true);
  m.zeroGrad();
  expect(m.parameters().every((p) => p.grad.data.every((v) => v === 0))).toBe(true);
});

describe('train / eval and Dropout', () => {
  test('eval mode propagates to sub-modules and makes Dropout the identity', () => {
    const m = new TwoLayer();
    expect(m.training && m.drop.training).toBe(true);
    expect(m.eval()).toBe(m);
    expect(m.training || m.drop.training || m.fc1.training).toBe(false);
    const x = TensorNode.constant(NDArray.from([[1, -2, 3, 4]]));
    expect(m.drop.call(x)).toBe(x);
    m.train();
    expect(m.drop.training).toBe(true);
  });

  test('training mode zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
    const drop = new Dropout(0.25, new Random(1));
    const x = new TensorNode(NDArray.ones([100, 100]));
    const y = drop.call(x);
    let zeros = 0;
    let badScale = 0;
    for (const v of y.value.data) {
      if (v === 0) zeros++;
      else if (Math.abs(v - 1 / 0.75) > 1e-6) badScale++;
    }
    expect(badScale).toBe(0);
    expect(zeros / 10000).toBeGreaterThan(0.23);
    expect(zeros / 10000).toBeLessThan(0.27);
    // The gradient flows only through the kept elements, with the same scale.
    y.sum().backward();
    expect(Array.from(x.grad.data)).toEqual(Array.from(y.value.data));
  });

  test('the mask is reproducible from the seed', () => {
    const x = TensorNode.constant(NDArray.ones([50]));
    manualSeed(3);
    const a = new Dropout(0.5).call(x).value.data;
    manualSeed(3);
    const b = new Dropout(0.5).call(x).value.data;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(() => new Dropout(1)).toThrow(/p must be in \[0, 1\)/);
  });
});

describe('stateDict / loadStateDict', () => {
  test('round trip: copies out, copies in, same predictions', () => {
    manualSeed(1);
    const a = new MLP({ inputSize: 5, hiddenSizes: [7], outputSize: 3 });
    const b = new MLP({ inputSize: 5, hiddenSizes: [7], outputSize: 3 });
    const x = TensorNode.constant(NDArray.from([[1, 2, 3, 4, 5], [0, -1, 0.5, 2, 1]]));
    expect(Array.from(a.call(x).value.data)).not.toEqual(Array.from(b.call(x).value.data));
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    expect(sd['layers.0.weight'].data).not.toBe(a.layers[0].weight.value.data); // a copy
    b.loadStateDict(sd);
    expect(Array.from(b.call(x).value.data)).toEqual(Array.from(a.call(x).value.data));
    sd['layers.0.bias'].data[0] += 1; // changing the copy changes neither model
    expect(b.layers[0].bias!.value.data[0]).toBe(a.layers[0].bias!.value.data[0]);
  });

  test('errors name the tensor: missing, unexpected, wrong shape; nothing changes on failure', () => {
    const m = new MLP({ inputSize: 2, hiddenSizes: [3], outputSize: 2 });
    const before = m.stateDict();
    const sd = m.stateDict();
    delete sd['layers.1.bias'];
    expect(() => m.loadStateDict(sd)).toThrow(/missing 'layers\.1\.bias'/);
    expect(() => m.loadStateDict({ ...m.stateDict(), extra: NDArray.zeros([1]) })).toThrow(/unexpected 'extra'/);
    const wrong = m.stateDict();
    wrong['layers.0.weight'] = NDArray.zeros([3, 4]);
    wrong['layers.0.bias'] = NDArray.ones([3]);
    expect(() => m.loadStateDict(wrong)).toThrow(/'layers\.0\.weight' has shape \[3,4\] but the model expects \[3,2\]/);
    expect(Array.from(m.layers[0].bias!.value.data)).toEqual(Array.from(before['layers.0.bias'].data));
  });
});
