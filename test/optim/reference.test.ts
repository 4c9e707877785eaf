/**
 * Every optim_* case of the PyTorch fixture: the same optimizer, options (PyTorch's names, as given) and start
 * point, on the fixture's objective computed through the vugrad graph; every step of the trajectory must match.
 */
import { NDArray, type DType } from '../../lib';
import { createOptimizer, type Optimizer } from '../../lib/optim';
import { expectClose } from '../helpers/reference';
import { objective, optimCases, param, trajectoryPoint, type OptimCase } from './helpers';

function run(c: OptimCase, dtype: DType, tol: number): void {
  const p = param(c.p0, dtype);
  const opt: Optimizer = createOptimizer(c.optimizer, [p], c.options);
  const f = objective(c, p, dtype);
  for (let t = 0; t < c.trajectory.length; t++) {
    opt.zeroGrad();
    f();
    opt.step();
    const expected = NDArray.from(trajectoryPoint(c, t), 'float64');
    expectClose(p.value, expected, tol, `${c.name} ${JSON.stringify(c.options)} step ${t + 1}`);
  }
}

const cases = optimCases();

test('the fixture has the optimizer cases', () => {
  const names = new Set(cases.map((c) => c.optimizer.toLowerCase()));
  for (const n of ['sgd', 'adam', 'adamw', 'adamax', 'adadelta', 'adagrad', 'rprop', 'asgd', 'rmsprop']) expect(names).toContain(n);
});

describe('optimizers follow PyTorch trajectories (float64, 1e-9)', () => {
  test.each(cases.map((c) => [`${c.name} ${JSON.stringify(c.options)}`, c] as const))('%s', (_label, c) => {
    run(c, 'float64', 1e-9);
  });
});

describe('optimizers follow PyTorch trajectories (float32, 1e-4)', () => {
  const picked = ['Adam', 'RMSprop', 'Rprop', 'SGD', 'Adagrad'];
  const some = cases.filter((c) => picked.includes(c.optimizer));
  test.each(some.map((c) => [`${c.name} ${JSON.stringify(c.options)}`, c] as const))('%s', (_label, c) => {
    run(c, 'float32', 1e-4);
  });
});
