/**
 * Every op against PyTorch: forward values and the vector-Jacobian product given in the fixture
 * (grads[i] = d/d inputs[i] of sum(output * upstream)), in float64 and float32.
 */
import {
  BatchMM,
  MatrixMultiply,
  NDArray,
  Normalize,
  RowMax,
  RowSum,
  TensorNode,
  crossEntropyLoss,
  logceloss,
  logsoftmax,
  softmax,
  type DType,
} from '../../lib';
import { expectClose, referenceCase, toArray } from '../helpers/reference';

type Build = (inputs: TensorNode[], c: ReturnType<typeof referenceCase>) => TensorNode;

const targets = (c: ReturnType<typeof referenceCase>): number[] => (c.int_inputs as Record<string, { data: number[] }>).targets.data;

const cases: Record<string, Build> = {
  add: ([a, b]) => a.add(b),
  sub: ([a, b]) => a.sub(b),
  mul: ([a, b]) => a.mul(b),
  div: ([a, b]) => a.div(b),
  matmul: ([a, b]) => MatrixMultiply.doForward(a, b),
  batchmm: ([m, v]) => BatchMM.doForward(m, v),
  sigmoid: ([a]) => a.sigmoid(),
  relu: ([a]) => a.relu(),
  tanh: ([a]) => a.tanh(),
  exp: ([a]) => a.exp(),
  log: ([a]) => a.log(),
  sum: ([a]) => a.sum(),
  mean: ([a]) => a.mean(),
  rowsum: ([a]) => RowSum.doForward(a),
  rowmax: ([a]) => RowMax.doForward(a),
  expand: ([a], c) => a.expand(c.constants!.dim as number, c.constants!.repeats as number),
  expand0: ([a], c) => a.expand(c.constants!.dim as number, c.constants!.repeats as number),
  squeeze: ([a], c) => a.squeeze(c.constants!.dim as number),
  unsqueeze: ([a], c) => a.unsqueeze(c.constants!.dim as number),
  reshape: ([a], c) => a.reshape(c.constants!.shape as number[]),
  transpose: ([a]) => a.transpose(),
  normalize: ([a]) => Normalize.doForward(a),
  softmax: ([a]) => softmax(a),
  logsoftmax: ([a]) => logsoftmax(a),
  logsoftmax_large: ([a]) => logsoftmax(a),
  select: ([a], c) => a.select((c.int_inputs as Record<string, { data: number[] }>).indices.data),
  logceloss: ([a], c) => logceloss(a, targets(c)),
  cross_entropy_mean: ([a], c) => crossEntropyLoss(a, targets(c)),
  cross_entropy_sum: ([a], c) => crossEntropyLoss(a, targets(c), { reduction: 'sum' }),
};

describe.each<[DType, number]>([
  ['float64', 1e-9],
  ['float32', 1e-4],
])('ops match PyTorch (%s)', (dtype, tol) => {
  test.each(Object.keys(cases))('%s', (name) => {
    const c = referenceCase(name);
    const nodes = c.inputs.map((t) => new TensorNode(toArray(t, dtype)));
    const out = cases[name](nodes, c);
    expect(out.dtype).toBe(dtype);
    expectClose(out.value, c.output, tol, `${name} forward`);
    for (const x of out.value.data) expect(Number.isFinite(x)).toBe(true);
    out.backward(toArray(c.upstream!, dtype));
    c.grads.forEach((g, i) => expectClose(nodes[i].grad, g, tol, `${name} grad ${i}`));
  });
});

test('the reference cases this file covers all exist in the fixture', () => {
  for (const name of Object.keys(cases)) expect(() => referenceCase(name)).not.toThrow();
  expect(NDArray.from([1]).dtype).toBe('float32');
});
