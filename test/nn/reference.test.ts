/**
 * Convolution, pooling, flatten, linear, the losses and the whole LeNet against PyTorch: forward values and
 * the vector-Jacobian product given in the fixture, in float64 and float32.
 */
import { Conv2dFunction, LinearFunction, MaxPool2dFunction, TensorNode, logsoftmax, type DType } from '../../lib';
import { Flatten, LeNet, crossEntropyLoss, mseLoss, multiMarginLoss, nllLoss } from '../../lib/nn';
import { expectClose, referenceCase, toArray, type RefCase } from '../helpers/reference';

type Build = (inputs: TensorNode[], c: RefCase) => TensorNode;

const targets = (c: RefCase): number[] => (c.int_inputs as Record<string, { data: number[] }>).targets.data;
const constant = (c: RefCase, key: string): number => (c.constants as Record<string, number>)[key];
const conv: Build = ([x, w, b], c) =>
  Conv2dFunction.doForward(x, w, b, { stride: constant(c, 'stride'), padding: constant(c, 'padding') });
const pool: Build = ([x], c) => MaxPool2dFunction.doForward(x, { kernel: constant(c, 'kernel'), stride: constant(c, 'stride') });

const cases: Record<string, Build> = {
  conv2d_k3_s1_p0: conv,
  conv2d_k3_s2_p1: conv,
  conv2d_k5_s1_p2: conv,
  maxpool2d_k2_s2: pool,
  maxpool2d_k3_s2: pool,
  flatten: ([x]) => new Flatten().call(x),
  linear: ([x, w, b]) => LinearFunction.doForward(x, w, b),
  nll_loss_mean: ([x], c) => nllLoss(x, targets(c)),
  multi_margin_loss: ([x], c) =>
    multiMarginLoss(x, targets(c), {
      p: constant(c, 'p'),
      margin: constant(c, 'margin'),
      reduction: (c.constants as Record<string, 'mean'>).reduction,
    }),
  mse_loss: ([p, t]) => mseLoss(p, t),
};

describe.each<[DType, number]>([
  ['float64', 1e-9],
  ['float32', 1e-4],
])('layers and losses match PyTorch (%s)', (dtype, tol) => {
  test.each(Object.keys(cases))('%s', (name) => {
    const c = referenceCase(name);
    const nodes = c.inputs.map((t) => new TensorNode(toArray(t, dtype)));
    const out = cases[name](nodes, c);
    expect(out.dtype).toBe(dtype);
    expectClose(out.value, c.output, tol, `${name} forward`);
    out.backward(toArray(c.upstream!, dtype));
    expect(c.grads.length).toBe(nodes.length);
    c.grads.forEach((g, i) => expectClose(nodes[i].grad, g, tol, `${name} grad ${i}`));
  });

  test('lenet_cross_entropy: loss and every parameter gradient', () => {
    const c = referenceCase('lenet_cross_entropy');
    const model = new LeNet({ dtype });
    const names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'];
    expect(model.namedParameters().map(([n]) => n)).toEqual(names);
    const params = c.params!;
    model.loadStateDict(Object.fromEntries(names.map((n, i) => [n, toArray(params[i], dtype)])));
    const x = TensorNode.constant(toArray(c.inputs[0], dtype));
    const loss = crossEntropyLoss(model.call(x), targets(c));
    expectClose(loss.value, c.output, tol, 'lenet loss');
    loss.backward();
    model.namedParameters().forEach(([n, p], i) => expectClose(p.grad, c.grads[i], tol, `lenet grad ${n}`));
  });
});

test('nll of logsoftmax equals the fused cross-entropy', () => {
  const c = referenceCase('nll_loss_mean');
  const x = new TensorNode(toArray(c.inputs[0], 'float64'));
  const a = nllLoss(logsoftmax(x), targets(c)).item();
  const b = crossEntropyLoss(x, targets(c)).item();
  expect(Math.abs(a - b)).toBeLessThan(1e-12);
  expect(nllLoss(x, targets(c), { reduction: 'sum' }).item()).toBeCloseTo(nllLoss(x, targets(c)).item() * 3, 12);
});
