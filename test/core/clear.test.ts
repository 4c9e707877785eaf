/** clear() cuts a finished graph; using the cut graph for gradients must fail loudly, not give zeros. */
import { NDArray } from '../../lib/core/ndarray';
import { Op, type Context, type Grads } from '../../lib/core/op';
import { TensorNode } from '../../lib/core/tensor-node';
import '../../lib/ops/tensor-methods';

const param = (values: number[]): TensorNode => new TensorNode(NDArray.from(values, 'float64'), { name: 'w' });

describe('a graph cut by clear()', () => {
  test('backward on the cleared loss throws instead of leaving zero gradients', () => {
    const w = param([1, 2]);
    const loss = w.mul(w).sum();
    loss.clear();
    expect(loss.cleared).toBe(true);
    expect(w.cleared).toBe(false);
    expect(() => loss.backward()).toThrow(/backward: .*cut from its graph by clear\(\).*new forward pass/);
    expect(w.hasGrad).toBe(false);
  });

  test('backward through a cleared intermediate throws, naming it, and changes no gradient', () => {
    const w = param([1, 2]);
    const h = w.mul(3);
    h.sum().clear(); // cuts h too
    const again = h.mul(2).sum();
    expect(() => again.backward()).toThrow(/depends on TensorNode\(shape=\[2\].*cut from its graph by clear\(\)/);
    expect(w.hasGrad).toBe(false);
    expect(again.hasGrad).toBe(false);
  });

  test('zeroGrad through a cut graph throws (the parameters behind it would keep their gradients)', () => {
    const w = param([1, 2]);
    const loss = w.mul(w).sum();
    loss.backward();
    loss.clear();
    expect(() => loss.zeroGrad()).toThrow(/zeroGrad: .*clear\(\).*optimizer\.zeroGrad/);
    expect(Array.from(w.grad.data)).toEqual([2, 4]);
    w.zeroGrad(); // a parameter is a leaf: zeroing it directly still works
    expect(Array.from(w.grad.data)).toEqual([0, 0]);
  });

  test('values stay readable, and a fresh forward through the same parameters trains as before', () => {
    const w = param([1, 2]);
    const loss = w.mul(w).sum();
    loss.backward();
    loss.clear();
    expect(loss.item()).toBe(5);
    w.zeroGrad();
    const next = w.mul(w).sum();
    next.backward();
    expect(Array.from(w.grad.data)).toEqual([2, 4]);
  });
});

describe('other backward calls that gave zero gradients or crashed', () => {
  test('backward from a node with nothing that requires a gradient behind it throws', () => {
    const c = TensorNode.constant(NDArray.from([1, 2], 'float64'));
    expect(() => c.mul(c).sum().backward()).toThrow(/backward: .* does not require a gradient: nothing behind it does/);
  });

  test('a gradient that is not an NDArray is a TypeError, not a crash', () => {
    const w = param([1, 2]);
    const y = w.mul(2);
    expect(() => y.backward([1, 1] as unknown as NDArray)).toThrow(/backward: the gradient must be an NDArray, got an Array/);
    expect(() => {
      w.grad = new Float64Array(2) as unknown as NDArray;
    }).toThrow(/grad: expected an NDArray, got a Float64Array/);
  });
});

describe('a custom Op that returns the wrong thing is named', () => {
  test('forward returning a plain array, backward returning too few or non-array gradients', () => {
    class BadForward extends Op {
      static override forward(): NDArray {
        return [1, 2] as unknown as NDArray;
      }
    }
    const w = param([1, 2]);
    expect(() => BadForward.doForward(w)).toThrow(/BadForward\.forward returned an object of class Array, expected an NDArray/);

    class FewGrads extends Op {
      static override forward(_c: Context, a: NDArray): NDArray {
        return a.copy();
      }
      static override backward(): Grads {
        return [];
      }
    }
    expect(() => FewGrads.doForward(w).sum().backward()).toThrow(/FewGrads\.backward returned 0 gradients, expected an array of 1/);

    class WrongGrad extends Op {
      static override forward(_c: Context, a: NDArray): NDArray {
        return a.copy();
      }
      static override backward(_c: Context, g: NDArray): Grads {
        return [g.data as unknown as NDArray];
      }
    }
    expect(() => WrongGrad.doForward(w).sum().backward()).toThrow(/WrongGrad\.backward returned a Float64Array for input 0, expected an NDArray or null/);
  });
});
