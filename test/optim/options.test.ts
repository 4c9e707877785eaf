/** Option names, defaults (PyTorch's), snake_case aliases, validation messages, and the shared Optimizer behaviour. */
import { NDArray, TensorNode } from '../../lib';
import {
  ASGD,
  Adadelta,
  Adagrad,
  Adam,
  AdamW,
  Adamax,
  RMSprop,
  Rprop,
  SGD,
  createOptimizer,
  OPTIMIZER_NAMES,
} from '../../lib/optim';

const param = (values = [1, -2, 3]): TensorNode => new TensorNode(NDArray.from(values, 'float64'));

describe('defaults are PyTorch 1.13s', () => {
  test.each<[string, () => { options: object }, object]>([
    ['SGD', () => new SGD([param()], { lr: 0.1 }), { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }],
    ['Adam', () => new Adam([param()]), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }],
    ['AdamW', () => new AdamW([param()]), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false }],
    ['Adamax', () => new Adamax([param()]), { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }],
    ['Adadelta', () => new Adadelta([param()]), { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 }],
    ['Adagrad', () => new Adagrad([param()]), { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }],
    ['Rprop', () => new Rprop([param()]), { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50] }],
    ['ASGD', () => new ASGD([param()]), { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0 }],
    ['RMSprop', () => new RMSprop([param()]), { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }],
  ])('%s', (_name, make, expected) => {
    expect(make().options).toEqual({ ...expected, maximize: false });
  });
});

test('PyTorch snake_case names mean the same as camelCase', () => {
  expect(new Adagrad([param()], { lr_decay: 0.1, weight_decay: 0.2, initial_accumulator_value: 0.3 }).options).toMatchObject({
    lrDecay: 0.1,
    weightDecay: 0.2,
    initialAccumulatorValue: 0.3,
  });
  expect(new Rprop([param()], { step_sizes: [1e-5, 1] }).options.stepSizes).toEqual([1e-5, 1]);
  expect(new SGD([param()], { lr: 0.1, weight_decay: 0.01 }).options.weightDecay).toBe(0.01);
  expect(() => new SGD([param()], { lr: 0.1, weight_decay: 0.01, weightDecay: 0.02 })).toThrow(/weightDecay given twice/);
});

describe('bad options throw, naming the option and the value', () => {
  test.each<[string, () => unknown, RegExp]>([
    ['unknown name', () => new Adam([param()], { momentum: 0.9 } as object), /Adam: unknown option 'momentum'/],
    ['SGD without lr', () => new SGD([param()], {} as { lr: number }), /SGD: option lr is required/],
    ['negative lr', () => new SGD([param()], { lr: -0.1 }), /SGD: invalid option lr = -0\.1/],
    ['NaN lr', () => new Adam([param()], { lr: NaN }), /Adam: invalid option lr = NaN/],
    ['beta of 1', () => new Adam([param()], { betas: [0.9, 1] }), /Adam: invalid option betas = \[0\.9, 1\]/],
    ['betas not a pair', () => new Adamax([param()], { betas: [0.9] as unknown as [number, number] }), /Adamax: invalid option betas = \[0\.9\]/],
    ['negative eps', () => new AdamW([param()], { eps: -1 }), /AdamW: invalid option eps = -1/],
    ['negative weight decay', () => new RMSprop([param()], { weight_decay: -1 }), /RMSprop: invalid option weightDecay = -1/],
    ['nesterov without momentum', () => new SGD([param()], { lr: 0.1, nesterov: true }), /SGD: invalid option nesterov = true \(needs momentum > 0/],
    ['nesterov with dampening', () => new SGD([param()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov/],
    ['rho above 1', () => new Adadelta([param()], { rho: 1.5 }), /Adadelta: invalid option rho = 1\.5/],
    ['etas in the wrong order', () => new Rprop([param()], { etas: [1.2, 0.5] }), /Rprop: invalid option etas = \[1\.2, 0\.5\]/],
    ['step sizes reversed', () => new Rprop([param()], { step_sizes: [1, 1e-6] }), /Rprop: invalid option stepSizes = \[1, 0\.000001\]/],
    ['negative lr decay', () => new Adagrad([param()], { lr_decay: -1 }), /Adagrad: invalid option lrDecay = -1/],
    ['boolean as a string', () => new Adam([param()], { amsgrad: 'yes' as unknown as boolean }), /Adam: invalid option amsgrad = 'yes'/],
    ['negative t0', () => new ASGD([param()], { t0: -1 }), /ASGD: invalid option t0 = -1/],
    ['empty params', () => new Adam([]), /Adam: got an empty parameter list/],
    ['duplicate params', () => { const p = param(); return new Adam([p, p]); }, /params\[1\] appears more than once/],
    ['a non-node param', () => new Adam([NDArray.zeros([2]) as unknown as TensorNode]), /params\[0\] is not a TensorNode/],
    ['unknown optimizer name', () => createOptimizer('lbfgs', [param()]), /unknown optimizer 'lbfgs' \(known: sgd, adam/],
    ['lr set negative', () => { new Adam([param()]).lr = -1; }, /Adam: invalid option lr = -1/],
  ])('%s', (_what, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('createOptimizer', () => {
  test('makes each named optimizer (case-insensitive)', () => {
    const classes = [SGD, Adam, AdamW, Adamax, Adadelta, Adagrad, Rprop, ASGD, RMSprop];
    OPTIMIZER_NAMES.forEach((name, i) => {
      const opt = createOptimizer(name.toUpperCase(), [param()], { lr: 0.1 });
      expect(opt).toBeInstanceOf(classes[i]);
      expect(opt.lr).toBe(0.1);
    });
  });
});

describe('Optimizer behaviour shared by all', () => {
  test.each(OPTIMIZER_NAMES.map((n) => [n]))('%s: skips parameters without a gradient, leaves p.grad alone, zeroGrad keeps the buffer', (name) => {
    const used = param();
    const unused = param([4, 5]);
    const opt = createOptimizer(name, [used, unused], { lr: 0.1, weight_decay: name === 'rprop' ? undefined : 0.1 });
    used.grad = NDArray.from([0.5, -0.25, 1], 'float64');
    const grad = used.grad;
    opt.step();
    expect(Array.from(used.value.data)).not.toEqual([1, -2, 3]);
    expect(Array.from(grad.data)).toEqual([0.5, -0.25, 1]); // weight decay went to a scratch buffer
    expect(unused.hasGrad).toBe(false);
    expect(Array.from(unused.value.data)).toEqual([4, 5]);
    expect(opt.stateDict().state[1]).toBeNull();
    opt.zeroGrad();
    expect(used.grad).toBe(grad);
    expect(Array.from(grad.data)).toEqual([0, 0, 0]);
    expect(unused.hasGrad).toBe(false);
  });

  test('maximize ascends: the same trajectory as minimising the negated objective', () => {
    const a = param();
    const b = param();
    const up = new Adam([a], { lr: 0.1, maximize: true, weightDecay: 0.1 });
    const down = new Adam([b], { lr: 0.1, weightDecay: 0.1 });
    for (let t = 0; t < 3; t++) {
      a.grad = NDArray.from([1, 2, -3], 'float64');
      b.grad = NDArray.from([-1, -2, 3], 'float64');
      up.step();
      down.step();
    }
    expect(Array.from(a.value.data)).toEqual(Array.from(b.value.data));
  });

  test('steps do not allocate state after the first (buffers are reused)', () => {
    const p = param();
    const opt = new RMSprop([p], { lr: 0.1, momentum: 0.9, centered: true, weight_decay: 0.1 });
    p.grad = NDArray.from([0.5, -0.25, 1], 'float64');
    opt.step();
    const before = (opt as unknown as { state: Record<string, unknown>[] }).state[0];
    const buffers = Object.values(before).filter((v) => typeof v !== 'number');
    opt.step();
    const after = Object.values((opt as unknown as { state: Record<string, unknown>[] }).state[0]).filter((v) => typeof v !== 'number');
    after.forEach((b, i) => expect(b).toBe(buffers[i]));
  });
});
