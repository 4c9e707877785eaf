/**
 * Saving and restoring optimizer state: k steps, save, m more steps; versus a fresh optimizer over a copy of
 * the parameter at step k, restored from the save (after a JSON round trip), then the same m steps.
 * The two runs must agree exactly.
 */
import { NDArray, TensorNode } from '../../lib';
import { createOptimizer, SGD, type OptimizerName, type OptimizerStateDict } from '../../lib/optim';
import { objective, optimCases } from './helpers';

const fixture = optimCases()[0];

// Options that switch on every state buffer of each optimizer.
const SETTINGS: [OptimizerName, object][] = [
  ['sgd', { lr: 0.01, momentum: 0.9, nesterov: true }],
  ['sgd', { lr: 0.01, momentum: 0.9, dampening: 0.1, weight_decay: 0.01 }],
  ['adam', { lr: 0.01, amsgrad: true, weightDecay: 0.001 }],
  ['adamw', { lr: 0.01 }],
  ['adamax', { lr: 0.01 }],
  ['adadelta', {}],
  ['adagrad', { lr: 0.01, lr_decay: 0.01, initial_accumulator_value: 0.1 }],
  ['rprop', { lr: 0.01 }],
  ['asgd', { lr: 0.01, t0: 2 }],
  ['rmsprop', { lr: 0.01, momentum: 0.9, centered: true }],
];

function steps(opt: ReturnType<typeof createOptimizer>, f: () => number, n: number): void {
  for (let t = 0; t < n; t++) {
    opt.zeroGrad();
    f();
    opt.step();
  }
}

describe.each(SETTINGS)('%s %j: stateDict round trip', (name, options) => {
  test('continuing after a restore gives identical parameters', () => {
    const k = 3;
    const m = 4;
    const p = new TensorNode(NDArray.from(fixture.p0.data, 'float64'));
    const opt = createOptimizer(name, [p], options);
    const f = objective(fixture, p, 'float64');
    steps(opt, f, k);
    const saved = JSON.parse(JSON.stringify(opt.stateDict())) as OptimizerStateDict;
    const pAtK = p.value.copy();
    steps(opt, f, m);

    const q = new TensorNode(pAtK);
    const restored = createOptimizer(name, [q], options);
    restored.loadStateDict(saved);
    steps(restored, objective(fixture, q, 'float64'), m);
    expect(Array.from(q.value.data)).toEqual(Array.from(p.value.data));
    expect(restored.stateDict()).toEqual(opt.stateDict());
  });
});

describe('stateDict format and checks', () => {
  const make = (): [TensorNode, SGD] => {
    const p = new TensorNode(NDArray.from([1, 2, 3], 'float64'));
    p.grad = NDArray.from([0.1, 0.2, 0.3], 'float64');
    return [p, new SGD([p], { lr: 0.1, momentum: 0.9 })];
  };

  test('is plain data: numbers and arrays of numbers, null before the first step, and the options', () => {
    const [, opt] = make();
    expect(opt.stateDict()).toEqual({
      state: [null],
      options: { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
    });
    opt.step();
    const sd = opt.stateDict();
    expect(sd.state[0]).toEqual({ step: 1, momentumBuffer: [0.1, 0.2, 0.3] });
  });

  test('restores the options (the learning rate a scheduler set, too)', () => {
    const [, opt] = make();
    opt.lr = 0.05;
    const sd = opt.stateDict();
    const [, other] = make();
    other.loadStateDict(sd);
    expect(other.lr).toBe(0.05);
  });

  test('restoring into float32 parameters converts the buffers', () => {
    const [, opt] = make();
    opt.step();
    const p32 = new TensorNode(NDArray.from([1, 2, 3], 'float32'));
    const opt32 = new SGD([p32], { lr: 0.1, momentum: 0.9 });
    opt32.loadStateDict(opt.stateDict());
    expect(opt32.stateDict().state[0]).toEqual({ step: 1, momentumBuffer: Array.from(Float32Array.from([0.1, 0.2, 0.3])) });
  });

  test('rejects a state for other parameters, naming what differs', () => {
    const [, opt] = make();
    opt.step();
    const sd = opt.stateDict();
    const two = new SGD([new TensorNode(NDArray.zeros([3], 'float64')), new TensorNode(NDArray.zeros([3], 'float64'))], { lr: 0.1, momentum: 0.9 });
    expect(() => two.loadStateDict(sd)).toThrow(/state has 1 parameters, the optimizer has 2/);
    const bigger = new SGD([new TensorNode(NDArray.zeros([4], 'float64'))], { lr: 0.1, momentum: 0.9 });
    expect(() => bigger.loadStateDict(sd)).toThrow(/params\[0\]\.momentumBuffer has 3 values, the parameter has 4/);
    const [, fresh] = make();
    expect(() => fresh.loadStateDict({ ...sd, state: [{ step: 1 }] })).toThrow(/lacks state entry 'momentumBuffer'/);
    expect(() => fresh.loadStateDict({ ...sd, state: [{ step: 1, momentumBuffer: [0, 0, 0], foo: 1 }] })).toThrow(/unexpected state entry 'foo'/);
    expect(() => fresh.loadStateDict({ ...sd, options: { ...sd.options, lr: -1 } })).toThrow(/lr = -1/);
  });
});
