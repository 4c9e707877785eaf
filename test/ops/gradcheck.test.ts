/** Every op's hand-written backward against central finite differences, in float64. */
import {
  BatchMM,
  MatrixMultiply,
  NDArray,
  Normalize,
  Random,
  RowMax,
  RowSum,
  TensorNode,
  celoss,
  crossEntropyLoss,
  gradcheck,
  logceloss,
  linear,
  logsoftmax,
  rdiv,
  softmax,
  Op,
  Sum,
  type Context,
  type Grads,
} from '../../lib';

const rng = new Random(1234);

function rand(shape: number[], low = -2, high = 2): NDArray {
  const a = NDArray.zeros(shape, 'float64');
  for (let i = 0; i < a.size; i++) a.data[i] = rng.uniform(low, high);
  return a;
}

const targets = [2, 0, 3];

const checks: [string, (...x: TensorNode[]) => TensorNode, NDArray[]][] = [
  ['add', (a, b) => a.add(b), [rand([3, 4]), rand([3, 4])]],
  ['sub', (a, b) => a.sub(b), [rand([3, 4]), rand([3, 4])]],
  ['mul', (a, b) => a.mul(b), [rand([3, 4]), rand([3, 4])]],
  ['div', (a, b) => a.div(b), [rand([3, 4]), rand([3, 4], 0.5, 2)]],
  ['add number', (a) => a.add(3).mul(-2).sub(1).div(4), [rand([2, 3])]],
  ['number / x', (a) => rdiv(3, a), [rand([2, 3], 0.5, 2)]],
  ['matmul', (a, b) => MatrixMultiply.doForward(a, b), [rand([3, 5]), rand([5, 2])]],
  ['batchmm', (w, x) => BatchMM.doForward(w, x), [rand([4, 5]), rand([3, 5])]],
  ['log', (a) => a.log(), [rand([3, 4], 0.1, 3)]],
  ['exp', (a) => a.exp(), [rand([3, 4])]],
  ['id/neg', (a) => a.neg(), [rand([3, 4])]],
  ['sigmoid', (a) => a.sigmoid(), [rand([3, 4], -6, 6)]],
  ['relu', (a) => a.relu(), [rand([3, 4])]],
  ['tanh', (a) => a.tanh(), [rand([3, 4])]],
  ['sum', (a) => a.sum(), [rand([3, 4])]],
  ['mean', (a) => a.mean(), [rand([3, 4])]],
  ['rowsum', (a) => RowSum.doForward(a), [rand([3, 4])]],
  ['sum dim 0 of 3-d', (a) => a.sum(0), [rand([2, 3, 4])]],
  ['sum dim 1 keepdim', (a) => a.sum(1, true), [rand([2, 3, 4])]],
  ['rowmax', (a) => RowMax.doForward(a), [rand([3, 4])]],
  ['max dim 2', (a) => a.max(2), [rand([2, 3, 4])]],
  ['normalize', (a) => Normalize.doForward(a), [rand([3, 4], 0.5, 2)]],
  ['expand', (a) => a.expand(1, 5), [rand([3, 1])]],
  ['expand dim 0', (a) => a.expand(0, 3), [rand([1, 4])]],
  ['squeeze', (a) => a.squeeze(1), [rand([3, 1, 4])]],
  ['unsqueeze', (a) => a.unsqueeze(2), [rand([3, 4])]],
  ['reshape', (a) => a.reshape([2, -1]), [rand([3, 4])]],
  ['transpose', (a) => a.transpose(), [rand([3, 4])]],
  ['select', (a) => a.select(targets), [rand([3, 4])]],
  ['select, batch of one', (a) => a.select([1]), [rand([1, 4])]],
  ['softmax', (a) => softmax(a), [rand([3, 4])]],
  ['logsoftmax', (a) => logsoftmax(a), [rand([3, 4])]],
  ['celoss', (a) => celoss(softmax(a), targets), [rand([3, 4])]],
  ['logceloss', (a) => logceloss(logsoftmax(a), targets), [rand([3, 4])]],
  ['crossEntropyLoss mean', (a) => crossEntropyLoss(a, targets), [rand([3, 4])]],
  ['crossEntropyLoss sum', (a) => crossEntropyLoss(a, targets, { reduction: 'sum' }), [rand([3, 4])]],
  ['linear', (x, w, b) => linear(x, w, b).mul(linear(x, w)).sum(1).mul(x.sum(1)), [rand([3, 4]), rand([2, 4]), rand([2])]],
  ['linear + relu, one op', (x, w, b) => linear(x, w, b, 'relu').mul(linear(x, w)).sum(1).mul(x.sum(1)), [rand([3, 4]), rand([2, 4]), rand([2])]],
  ['linear + sigmoid, one op', (x, w, b) => linear(x, w, b, 'sigmoid').mul(linear(x, w)).sum(1).mul(x.sum(1)), [rand([3, 4]), rand([2, 4]), rand([2])]],
  ['linear + tanh, one op, no bias', (x, w) => linear(x, w, null, 'tanh').mul(linear(x, w)).sum(1).mul(x.sum(1)), [rand([3, 4]), rand([2, 4])]],
  ['a composite: mlp layer', (x, w) => x.matmul(w).sigmoid().sum(1).mul(x.sum(1)), [rand([3, 4]), rand([4, 2])]],
];

describe('gradcheck (float64 finite differences)', () => {
  test.each(checks)('%s', (_name, fn, inputs) => {
    const r = gradcheck(fn, inputs);
    if (!r.ok) throw new Error(`max relative error ${r.maxRelError} at ${JSON.stringify(r.worst)}`);
    expect(r.maxRelError).toBeLessThan(1e-5);
  });

  test('gradcheck catches a wrong gradient', () => {
    // A sum whose backward is deliberately off by a factor of 2: the checker must fail it.
    class WrongSum extends Op {
      static override forward(context: Context, x: NDArray): NDArray {
        context.shape = x.shape;
        return Sum.forward(context, x);
      }
      static override backward(context: Context): Grads {
        return [NDArray.full(context.shape as number[], 2, 'float64')];
      }
    }
    const wrong = (a: TensorNode): TensorNode => WrongSum.doForward(a);
    const r = gradcheck(wrong, [rand([2, 2])]);
    expect(r.ok).toBe(false);
    expect(r.worst).not.toBeNull();
    expect(r.worst!.analytic).toBeCloseTo(2);
    expect(Math.abs(r.worst!.analytic - r.worst!.numeric)).toBeGreaterThan(0.5);
  });

  test('gradcheck refuses float32 inputs', () => {
    expect(() => gradcheck((a) => a.sum(), [NDArray.from([1, 2])])).toThrow(/float64/);
  });
});
