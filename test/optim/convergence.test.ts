/**
 * Each optimizer actually minimises: a consistent least-squares problem to (numerically) zero, and a tiny
 * tanh MLP fitted to a small fixed batch to near-zero loss. Learning rates are tuned per optimizer.
 */
import { NDArray, Random, TensorNode } from '../../lib';
import { ASGD, createOptimizer, OPTIMIZER_NAMES, type OptimizerName } from '../../lib/optim';

interface Problem {
  params: TensorNode[];
  /** Forward and backward; returns the loss. */
  loss: () => number;
}

function leastSquares(seed: number): Problem & { lossAt: (p: NDArray) => number } {
  const rng = new Random(seed);
  const A = NDArray.zeros([12, 4], 'float64');
  for (let i = 0; i < A.size; i++) A.data[i] = rng.normal(0, 1);
  const truth = [1, -2, 0.5, 3];
  const b = NDArray.zeros([12, 1], 'float64');
  for (let r = 0; r < 12; r++) for (let c = 0; c < 4; c++) b.data[r] += A.data[r * 4 + c] * truth[c];
  const p = new TensorNode(NDArray.zeros([4, 1], 'float64'), { name: 'p' });
  const a = TensorNode.constant(A);
  const target = TensorNode.constant(b);
  const lossOf = (x: TensorNode): TensorNode => {
    const r = a.matmul(x).sub(target);
    return r.mul(r).mean();
  };
  return {
    params: [p],
    loss: () => {
      const l = lossOf(p);
      l.backward();
      return l.item();
    },
    lossAt: (x) => lossOf(TensorNode.constant(x)).item(),
  };
}

function tinyMLP(seed: number): Problem {
  const rng = new Random(seed);
  const init = (shape: number[], std: number): TensorNode => {
    const a = NDArray.zeros(shape, 'float64');
    for (let i = 0; i < a.size; i++) a.data[i] = rng.normal(0, std);
    return new TensorNode(a);
  };
  const W1 = init([8, 2], 0.8);
  const b1 = init([1, 8], 0.1);
  const W2 = init([1, 8], 0.5);
  const b2 = init([1, 1], 0.1);
  const n = 6;
  const X = NDArray.zeros([n, 2], 'float64');
  const Y = NDArray.zeros([n, 1], 'float64');
  for (let i = 0; i < n; i++) {
    X.data[2 * i] = rng.uniform(-1, 1);
    X.data[2 * i + 1] = rng.uniform(-1, 1);
    Y.data[i] = Math.sin(2 * X.data[2 * i]) * X.data[2 * i + 1];
  }
  const x = TensorNode.constant(X);
  const y = TensorNode.constant(Y);
  return {
    params: [W1, b1, W2, b2],
    loss: () => {
      const h = x.linear(W1).add(b1.expand(0, n)).tanh();
      const r = h.linear(W2).add(b2.expand(0, n)).sub(y);
      const l = r.mul(r).mean();
      l.backward();
      return l.item();
    },
  };
}

function train(problem: Problem, name: OptimizerName, options: object, steps: number): { first: number; last: number; best: number } {
  const opt = createOptimizer(name, problem.params, options);
  let first = NaN;
  let last = NaN;
  let best = Infinity;
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    last = problem.loss();
    if (t === 0) first = last;
    best = Math.min(best, last);
    opt.step();
  }
  opt.zeroGrad();
  last = problem.loss();
  return { first, last, best: Math.min(best, last) };
}

// [options, steps] per optimizer. Adadelta needs a slower-moving average (rho) to settle on these problems.
const LEAST_SQUARES: Record<OptimizerName, [object, number]> = {
  sgd: [{ lr: 0.1, momentum: 0.9 }, 500],
  adam: [{ lr: 0.1 }, 500],
  adamw: [{ lr: 0.1, weightDecay: 0 }, 500],
  adamax: [{ lr: 0.1 }, 500],
  adadelta: [{ lr: 1, rho: 0.99 }, 1500],
  adagrad: [{ lr: 1 }, 500],
  rprop: [{ lr: 0.01 }, 500],
  // ASGD's decay term lambd shrinks p towards 0 and so biases the minimum (by ~1e-8 here): off for this check.
  asgd: [{ lr: 0.2, lambd: 0 }, 500],
  rmsprop: [{ lr: 0.01, momentum: 0.9 }, 500],
};

const MLP: Record<OptimizerName, [object, number]> = {
  sgd: [{ lr: 0.1, momentum: 0.9 }, 1000],
  adam: [{ lr: 0.03 }, 1000],
  adamw: [{ lr: 0.01 }, 1000],
  adamax: [{ lr: 0.05 }, 1000],
  adadelta: [{ lr: 1, rho: 0.999 }, 2000],
  adagrad: [{ lr: 0.3 }, 1000],
  rprop: [{ lr: 0.01 }, 1000],
  asgd: [{ lr: 0.3 }, 1000],
  rmsprop: [{ lr: 0.01, momentum: 0.9 }, 1000],
};

describe.each(OPTIMIZER_NAMES.map((n) => [n]))('%s minimises', (name) => {
  test('least squares to zero', () => {
    const [options, steps] = LEAST_SQUARES[name];
    const { first, last } = train(leastSquares(3), name, options, steps);
    expect(first).toBeGreaterThan(10);
    expect(last).toBeLessThan(1e-8);
  });

  test('a tiny MLP on a fixed batch to near zero', () => {
    const [options, steps] = MLP[name];
    const { first, last, best } = train(tinyMLP(1), name, options, steps);
    expect(first).toBeGreaterThan(0.5);
    // Near zero at some step, and still near it at the end. Not "below 1e-4 at the last step": with a constant
    // lr, RMSprop leaves the minimum and comes back once its squared average collapses (its loss at step 1000 went
    // from 4e-7 to 7e-5 when one starting weight moved by 1e-12; at step 800 it was 8e-4), so that line
    // depended on the last bit of one rounding.
    expect(best).toBeLessThan(1e-4);
    expect(last).toBeLessThan(5e-3);
  });
});

test('ASGD: the averaged parameters ax also reach the least-squares solution once averaging starts', () => {
  const problem = leastSquares(3);
  const opt = new ASGD(problem.params, { lr: 0.2, t0: 100 });
  for (let t = 0; t < 1000; t++) {
    opt.zeroGrad();
    problem.loss();
    opt.step();
  }
  const [ax] = opt.ax;
  expect([...ax.shape]).toEqual([4, 1]);
  expect(ax.data).not.toEqual(problem.params[0].value.data); // an average, not a copy of the iterate
  expect(problem.lossAt(ax)).toBeLessThan(1e-3);
});
