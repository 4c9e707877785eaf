/**
 * A conv weight used twice before backward (shared weights) gets the sum of both applications' gradients, and
 * repeated batches give repeatable gradients (no state carried between calls).
 */
import { NDArray } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import { conv2d } from '../../lib/ops/conv';
import '../../lib/ops/tensor-methods';

function filled(shape: number[], seed: number): NDArray {
  const a = NDArray.zeros(shape, 'float64');
  for (let i = 0; i < a.size; i++) a.data[i] = Math.sin(seed + 0.7 * i);
  return a;
}

test('shared conv weight applied twice before backward: gradient = sum of the two separate gradients', () => {
  const x1 = TensorNode.constant(filled([3, 2, 7, 6], 1));
  const x2 = TensorNode.constant(filled([3, 2, 7, 6], 2));
  const w = new TensorNode(filled([4, 2, 3, 3], 3));
  const b = new TensorNode(filled([4], 4));
  conv2d(x1, w, b).mul(conv2d(x2, w, b)).sum().backward();

  const wa = new TensorNode(filled([4, 2, 3, 3], 3));
  const wb = new TensorNode(filled([4, 2, 3, 3], 3));
  const ba = new TensorNode(filled([4], 4));
  const bb = new TensorNode(filled([4], 4));
  conv2d(x1, wa, ba).mul(conv2d(x2, wb, bb)).sum().backward();

  const want = Array.from(wa.grad.data, (v, i) => v + wb.grad.data[i]);
  const got = Array.from(w.grad.data);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 9));
});

test('the same batch gives the same weight gradient again after a different batch', () => {
  const w = new TensorNode(filled([2, 1, 2, 2], 5));
  const grads: number[][] = [];
  for (const seed of [6, 7, 6]) {
    w.zeroGrad();
    conv2d(TensorNode.constant(filled([2, 1, 4, 4], seed)), w).sum().backward();
    grads.push(Array.from(w.grad.data));
  }
  expect(grads[2]).toEqual(grads[0]);
  expect(grads[1]).not.toEqual(grads[0]);
});
