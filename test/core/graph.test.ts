/** The computation graph: structure, backward order, accumulation, zeroing and clearing. */
import { Add, NDArray, TensorNode, linear, topologicalOrder } from '../../lib';

const node = (values: number[][] | number[], dtype: 'float32' | 'float64' = 'float64'): TensorNode =>
  new TensorNode(NDArray.from(values, dtype));

describe('the course exercise flow', () => {
  test('c = a.add(b): value, source, inputs, grads before and after backward', () => {
    const a = node([[1, 2], [3, 4]]);
    const b = node([[5, 6], [7, 8]]);
    const c = a.add(b);
    expect(c.value.toArray()).toEqual([[6, 8], [10, 12]]);
    expect(c.source).not.toBeNull();
    expect(c.source!.op).toBe(Add);
    expect(c.source!.inputs[0]).toBe(a);
    expect(c.source!.inputs[1]).toBe(b);
    expect(c.source!.outputs[0]).toBe(c);
    expect(a.source).toBeNull();
    expect(a.grad.toArray()).toEqual([[0, 0], [0, 0]]);
    const loss = c.sum();
    loss.backward();
    expect(loss.item()).toBe(36);
    expect(a.grad.toArray()).toEqual([[1, 1], [1, 1]]);
    expect(b.grad.toArray()).toEqual([[1, 1], [1, 1]]);
  });
});

describe('backward', () => {
  test('diamond: x feeds two branches that meet again', () => {
    const x = node([2, 3]);
    const y = x.mul(x.add(1)).sum(); // sum(x^2 + x): grad 2x + 1
    y.backward();
    expect(Array.from(x.grad.data)).toEqual([5, 7]);
  });

  test('double diamond', () => {
    const x = node([1.5]);
    const a = x.mul(2);
    const b = a.add(a); // 4x
    const c = b.mul(b); // 16 x^2
    const d = c.add(c).sum(); // 32 x^2, grad 64 x
    d.backward();
    expect(x.grad.data[0]).toBeCloseTo(96, 10);
  });

  test('a node used twice by one op', () => {
    const x = node([3, -2]);
    x.mul(x).sum().backward();
    expect(Array.from(x.grad.data)).toEqual([6, -4]);
  });

  test('an unused branch does not block gradients', () => {
    const x = node([1, 2]);
    const used = x.mul(3);
    x.exp(); // a branch that never reaches the loss
    const alsoUnused = used.tanh();
    used.sum().backward();
    expect(Array.from(x.grad.data)).toEqual([3, 3]);
    expect(alsoUnused.hasGrad).toBe(false);
  });

  test('a chain of 10,000 ops (no recursion)', () => {
    const x = node([1]);
    let y = x;
    for (let i = 0; i < 10000; i++) y = y.add(1);
    y.sum().backward();
    expect(y.item()).toBe(10001);
    expect(x.grad.data[0]).toBe(1);
    y.zeroGrad();
    expect(x.grad.data[0]).toBe(0);
    y.clear();
    expect(y.source).toBeNull();
  });

  test('topological order visits each node once, inputs first', () => {
    const x = node([1]);
    const a = x.mul(2);
    const b = a.add(a);
    const order = topologicalOrder(b);
    expect(order).toHaveLength(3);
    expect(order.indexOf(x)).toBeLessThan(order.indexOf(a));
    expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
  });

  test('gradients accumulate across backward calls until zeroGrad', () => {
    const x = node([1, 2]);
    x.mul(2).sum().backward();
    x.mul(2).sum().backward();
    expect(Array.from(x.grad.data)).toEqual([4, 4]);
    const loss = x.mul(2).sum();
    loss.zeroGrad();
    expect(Array.from(x.grad.data)).toEqual([0, 0]);
    loss.backward();
    expect(Array.from(x.grad.data)).toEqual([2, 2]);
  });

  test('gradients of different nodes never share a buffer', () => {
    const x = node([1, 2]);
    const y = x.add(0); // AddScalar passes G through: x must get its own copy
    const s = y.sum();
    s.backward();
    expect(x.grad.data).not.toBe(y.grad.data);
    y.grad.data[0] = 100;
    expect(x.grad.data[0]).toBe(1);
  });

  test('backward with an explicit output gradient', () => {
    const x = node([[1, 2], [3, 4]]);
    const y = x.mul(x);
    y.backward(NDArray.from([[1, 0], [0, 2]], 'float64'));
    expect(x.grad.toArray()).toEqual([[2, 0], [0, 16]]);
  });

  test('leaves marked as data get no gradient and no work', () => {
    const data = TensorNode.constant(NDArray.from([1, 2], 'float64'));
    const w = node([3, 4]);
    const out = data.mul(w).sum();
    out.backward();
    expect(Array.from(w.grad.data)).toEqual([1, 2]);
    expect(data.hasGrad).toBe(false);
    expect(out.source!.inputs[0].source!.context.needsInputGrad).toEqual([false, true]);
    // An op whose inputs all need no gradient is not differentiated at all.
    const c = data.exp();
    expect(c.requiresGrad).toBe(false);
  });

  test('after zeroGrad, backward writes a parameter gradient into its existing buffer, with the right values', () => {
    const w = node([[1, -2, 3], [0.5, 4, -1]]);
    const b = node([0.25, -0.5]);
    const xs = [
      TensorNode.constant(NDArray.from([[1, 2, 3], [-1, 0, 2]], 'float64')),
      TensorNode.constant(NDArray.from([[0, 1, -1], [2, 2, 2]], 'float64')),
    ];
    // Reference: the same gradient from fresh parameters (no buffer to reuse).
    const fresh = (x: TensorNode): number[][] => {
      const w2 = node(w.value.toArray() as number[][]);
      const b2 = node(Array.from(b.value.data));
      linear(x, w2, b2).mul(linear(x, w2, b2)).sum().backward();
      return [Array.from(w2.grad.data), Array.from(b2.grad.data)];
    };
    linear(xs[0], w, b).sum().backward();
    const wBuf = w.grad.data;
    const bBuf = b.grad.data;
    w.zeroGrad();
    b.zeroGrad();
    // The weight is used twice in one graph: the first use may write into the buffer, the second must add.
    linear(xs[1], w, b).mul(linear(xs[1], w, b)).sum().backward();
    expect(w.grad.data).toBe(wBuf);
    expect(b.grad.data).toBe(bBuf);
    const [wantW, wantB] = fresh(xs[1]);
    Array.from(w.grad.data).forEach((v, i) => expect(v).toBeCloseTo(wantW[i], 12));
    Array.from(b.grad.data).forEach((v, i) => expect(v).toBeCloseTo(wantB[i], 12));
  });

  test('a gradient read and kept by the caller is updated in place by the next backward after zeroGrad', () => {
    const w = node([[1, 2], [3, 4]]);
    const x = TensorNode.constant(NDArray.from([[1, 1]], 'float64'));
    linear(x, w).sum().backward();
    const kept = w.grad; // as with PyTorch's zero_grad(set_to_none=False), the buffer is the parameter's own
    w.zeroGrad();
    linear(x, w).mul(3).sum().backward();
    expect(Array.from(kept.data)).toEqual([3, 3, 3, 3]);
    expect(Array.from(w.grad.data)).toEqual([3, 3, 3, 3]);
  });

  test('clear() then a fresh forward through the same parameters', () => {
    const w = node([2, -1]);
    const x = TensorNode.constant(NDArray.from([3, 5], 'float64'));
    const loss1 = w.mul(x).sum();
    loss1.backward();
    loss1.clear();
    expect(loss1.source).toBeNull();
    expect(Array.from(w.grad.data)).toEqual([3, 5]); // leaves keep their gradients
    w.zeroGrad();
    const loss2 = w.mul(w).sum();
    loss2.backward();
    expect(loss2.item()).toBe(5);
    expect(Array.from(w.grad.data)).toEqual([4, -2]);
  });
});

describe('errors name the problem', () => {
  test('backward from a non-scalar without a gradient', () => {
    const x = node([[1, 2]]);
    expect(() => x.mul(2).backward()).toThrow(/shape \[1,2\].*scalar/);
  });

  test('backward with a gradient of the wrong shape', () => {
    const x = node([1, 2]);
    expect(() => x.mul(2).backward(NDArray.from([1, 2, 3], 'float64'))).toThrow(/\[3\].*\[2\]/);
  });

  test('matmul inner sizes', () => {
    const a = new TensorNode(NDArray.zeros([3, 4]));
    const b = new TensorNode(NDArray.zeros([5, 2]));
    expect(() => a.matmul(b)).toThrow('matmul: inner sizes differ: [3,4] x [5,2]');
  });

  test('elementwise shape mismatch names both shapes', () => {
    expect(() => node([1, 2]).add(node([1, 2, 3]))).toThrow('add: shapes differ: [2] and [3]');
  });

  test('select index out of range', () => {
    expect(() => node([[1, 2], [3, 4]]).select([0, 2])).toThrow(/index 2 at row 1 out of range/);
    expect(() => node([[1, 2], [3, 4]]).select([0])).toThrow(/1 indices for 2 rows/);
  });

  test('mixing float32 and float64 without a cast', () => {
    const a = node([1, 2], 'float32');
    const b = node([1, 2], 'float64');
    expect(() => a.add(b)).toThrow(/mix float32 and float64/);
    expect(a.add(new TensorNode(b.value.astype('float32'))).dtype).toBe('float32');
  });

  test('expand of an axis that is not size 1, squeeze likewise, bad reshape', () => {
    expect(() => node([[1, 2]]).expand(1, 3)).toThrow(/axis 1 of shape \[1,2\] must have size 1/);
    expect(() => node([[1, 2]]).squeeze(1)).toThrow(/has size 2, not 1/);
    expect(() => node([[1, 2, 3]]).reshape([2, 2])).toThrow(/cannot reshape \[1,3\]/);
  });

  test('non-node operands', () => {
    expect(() => node([1]).add('2' as unknown as number)).toThrow(/operand must be a TensorNode or a number/);
  });
});

describe('NDArray', () => {
  test('from nested arrays, toArray, toString, dtype', () => {
    const a = NDArray.from([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.get(1, 2)).toBe(6);
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(a.toString()).toContain('shape=[2,3]');
    expect(NDArray.from([1.5], 'float64').data).toBeInstanceOf(Float64Array);
    expect(NDArray.from(7).shape).toEqual([]);
  });

  test('ragged input and bad indices are errors', () => {
    expect(() => NDArray.from([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => NDArray.from([[1, 2]]).get(0, 2)).toThrow(/out of range/);
    expect(() => new NDArray(new Float32Array(3), [2, 2])).toThrow(/needs 4 values, got 3/);
  });
});
