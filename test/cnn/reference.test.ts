/**
 * The CNN layers against PyTorch (test/fixtures/cnn-reference.json, made by
 * scripts/fixtures/make-cnn-reference.py with python3-torch), in float64 within 1e-9.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AvgPool2dFunction, GlobalAvgPool2dFunction, NDArray, TensorNode } from '../../lib';
import { BasicBlock, BatchNorm1d, BatchNorm2d, ResNet, type BatchNorm } from '../../lib/nn';
import { expectClose, toArray, type RefTensor } from '../helpers/reference';

type Case = Record<string, unknown> & { name: string; kind: string };
const cases: Case[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'cnn-reference.json'), 'utf8')).cases;
const byName = (name: string): Case => {
  const c = cases.find((x) => x.name === name);
  if (!c) throw new Error(`no reference case '${name}'`);
  return c;
};
const T = (v: unknown): NDArray => toArray(v as RefTensor);

/** Runs `y = f(x)`, backpropagates `sum(y * upstream)`, and returns x's node for its gradient. */
function backwardWith(y: TensorNode, upstream: unknown): void {
  y.backward(T(upstream));
}

describe.each(['batchnorm1d', 'batchnorm1d_3d', 'batchnorm2d', 'batchnorm2d_cumulative'])('%s against PyTorch', (name) => {
  const c = byName(name);
  const steps = c.steps as Record<string, unknown>[];
  const make = (): BatchNorm => {
    const options = { momentum: c.momentum as number | null, eps: c.eps as number, dtype: 'float64' as const };
    const bn = name.startsWith('batchnorm1d') ? new BatchNorm1d(c.channels as number, options) : new BatchNorm2d(c.channels as number, options);
    (bn.weight as TensorNode).value.data.set(T(c.weight).data);
    (bn.bias as TensorNode).value.data.set(T(c.bias).data);
    return bn;
  };

  test('training: outputs, running statistics and num_batches_tracked after each step; gradients of the last', () => {
    const bn = make();
    steps.forEach((s, i) => {
      const x = new TensorNode(T(s.x));
      const y = bn.call(x);
      expectClose(y.value, s.y as RefTensor, 1e-9, `step ${i} output`);
      expectClose(bn.runningMean as NDArray, s.running_mean as RefTensor, 1e-9, `step ${i} running_mean`);
      expectClose(bn.runningVar as NDArray, s.running_var as RefTensor, 1e-9, `step ${i} running_var`);
      expect(bn.numBatchesTracked).toBe(s.num_batches_tracked);
      if (s.upstream) {
        backwardWith(y, s.upstream);
        expectClose(x.grad, s.grad_x as RefTensor, 1e-9, 'grad x');
        expectClose((bn.weight as TensorNode).grad, s.grad_weight as RefTensor, 1e-9, 'grad weight');
        expectClose((bn.bias as TensorNode).grad, s.grad_bias as RefTensor, 1e-9, 'grad bias');
      }
    });
    const e = c.eval as Record<string, unknown>;
    const before = (bn.runningMean as NDArray).copy();
    bn.eval();
    bn.zeroGrad();
    const x = new TensorNode(T(e.x));
    const y = bn.call(x);
    expectClose(y.value, e.y as RefTensor, 1e-9, 'eval output');
    backwardWith(y, e.upstream);
    expectClose(x.grad, e.grad_x as RefTensor, 1e-9, 'eval grad x');
    expectClose((bn.weight as TensorNode).grad, e.grad_weight as RefTensor, 1e-9, 'eval grad weight');
    expectClose((bn.bias as TensorNode).grad, e.grad_bias as RefTensor, 1e-9, 'eval grad bias');
    // eval mode leaves the running statistics alone
    expect(Array.from((bn.runningMean as NDArray).data)).toEqual(Array.from(before.data));
    expect(bn.numBatchesTracked).toBe(3);
  });

  test('state dict keys as PyTorch: weight, bias, running_mean, running_var, num_batches_tracked', () => {
    const sd = make().stateDict();
    expect(Object.keys(sd).sort()).toEqual(['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
    expect([...sd.num_batches_tracked.shape]).toEqual([]);
  });
});

describe('pooling against PyTorch', () => {
  test.each(['avgpool2d_k2', 'avgpool2d_k3_s2_p1', 'adaptive_avgpool2d_1'])('%s: output and input gradient', (name) => {
    const c = byName(name);
    const o = c.options as { kernel?: number; stride?: number; padding?: number };
    const x = new TensorNode(T(c.x));
    const y =
      name.startsWith('adaptive')
        ? GlobalAvgPool2dFunction.doForward(x)
        : AvgPool2dFunction.doForward(x, { kernel: o.kernel as number, stride: o.stride, padding: o.padding });
    expectClose(y.value, c.y as RefTensor);
    backwardWith(y, c.upstream);
    expectClose(x.grad, c.grad_x as RefTensor);
  });
});

describe('residual block against PyTorch (training mode, stride 2)', () => {
  test.each([
    ['block_option_a', 'A'],
    ['block_option_b', 'B'],
  ] as const)('%s: output, input gradient, every parameter gradient, running statistics', (name, option) => {
    const c = byName(name);
    const block = new BasicBlock(2, 4, { stride: 2, shortcut: option, dtype: 'float64' });
    const state = c.state as Record<string, RefTensor>;
    block.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, T(v)])));
    const x = new TensorNode(T(c.x));
    const y = block.call(x);
    expectClose(y.value, c.y as RefTensor, 1e-9, 'output');
    backwardWith(y, c.upstream);
    expectClose(x.grad, c.grad_x as RefTensor, 1e-9, 'grad x');
    const grads = c.grads as Record<string, RefTensor>;
    const params = block.namedParameters();
    expect(params.map(([k]) => k).sort()).toEqual(Object.keys(grads).sort());
    for (const [k, p] of params) expectClose(p.grad, grads[k], 1e-9, `grad ${k}`);
    const after = block.stateDict();
    for (const [k, v] of Object.entries(c.state_after as Record<string, RefTensor>)) expectClose(after[k], v, 1e-9, k);
  });
});

describe('ResNet state dict = the PyTorch CIFAR ResNet (keys and shapes)', () => {
  test.each([
    ['resnet20_keys', 20, 'A'],
    ['resnet8_b_keys', 8, 'B'],
  ] as const)('%s', (name, depth, shortcut) => {
    const c = byName(name);
    const net = new ResNet({ depth, shortcut });
    const ours = Object.entries(net.stateDict()).map(([k, v]) => [k, [...v.shape]]);
    const sortKeys = (a: unknown[][]) => [...a].sort((p, q) => String(p[0]).localeCompare(String(q[0])));
    expect(sortKeys(ours)).toEqual(sortKeys(c.keys as unknown[][]));
    const count = net.parameters().reduce((s, p) => s + p.value.size, 0);
    expect(count).toBe(c.parameters);
  });
});
