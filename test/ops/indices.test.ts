/**
 * Ops that take class indices (cross-entropy, select) keep their own copy for backward: a caller that reuses or
 * rewrites its index array after the forward pass must not change that graph's gradients.
 */
import { NDArray, TensorNode, crossEntropyLoss } from '../../lib';

function gradients(targets: Int32Array, rewrite: boolean): Float64Array {
  const logits = new TensorNode(NDArray.from([[1, 2, 3], [3, 1, 0], [0.5, 0.5, 2]], 'float64'));
  const loss = crossEntropyLoss(logits, targets);
  if (rewrite) targets.fill(0); // the next batch's labels, written into the same array before backward
  loss.backward();
  return Float64Array.from(logits.grad.data);
}

test('crossEntropyLoss: rewriting the targets after forward leaves the gradients alone', () => {
  const expected = gradients(Int32Array.from([2, 0, 1]), false);
  expect(Array.from(gradients(Int32Array.from([2, 0, 1]), true))).toEqual(Array.from(expected));
});

test('select: rewriting the indices after forward leaves the gradients alone', () => {
  const run = (rewrite: boolean) => {
    const x = new TensorNode(NDArray.from([[1, 2, 3], [4, 5, 6]], 'float64'));
    const idx = Int32Array.from([2, 1]);
    const y = x.select(idx);
    if (rewrite) idx.fill(0);
    y.sum().backward();
    return Array.from(x.grad.data);
  };
  expect(run(true)).toEqual(run(false));
  expect(run(false)).toEqual([0, 0, 1, 0, 1, 0]);
});

test('indices that Int32 would wrap into range are still refused', () => {
  const logits = new TensorNode(NDArray.from([[1, 2], [3, 4]], 'float64'));
  expect(() => crossEntropyLoss(logits, [0, 2 ** 32 + 1] as unknown as Int32Array)).toThrow(/index 4294967297 at row 1/);
  expect(() => crossEntropyLoss(logits, [0, 1.5] as unknown as Int32Array)).toThrow(/index 1.5 at row 1/);
});
