/** Finite-difference checks (float64) of the CNN ops and layers: batch norm, average pooling, residual blocks. */
import {
  AvgPool2dFunction,
  BatchNormFunction,
  GlobalAvgPool2dFunction,
  NDArray,
  Random,
  TensorNode,
  gradcheck,
} from '../../lib';
import { BasicBlock, BatchNorm2d, ResNet } from '../../lib/nn';

function randn(shape: number[], seed: number, scale = 1, shift = 0): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros(shape, 'float64');
  for (let i = 0; i < a.size; i++) a.data[i] = shift + scale * r.normal();
  return a;
}

describe('gradcheck (float64): CNN ops', () => {
  test.each([
    ['[N, C]', [5, 3]],
    ['[N, C, L]', [3, 2, 4]],
    ['[N, C, H, W]', [2, 3, 3, 2]],
  ])('batch norm, training mode, %s: input, weight, bias', (_name, shape) => {
    const c = shape[1];
    const r = gradcheck(
      (x, w, b) => BatchNormFunction.doForward(x, w, b, { training: true, eps: 1e-5 }),
      [randn(shape, 1, 2, 0.5), randn([c], 2, 1, 1), randn([c], 3)],
      { eps: 1e-5 },
    );
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  test('batch norm, eval mode (running statistics are constants)', () => {
    const runningMean = randn([3], 4);
    const runningVar = NDArray.from([0.5, 2, 1.5], 'float64');
    const r = gradcheck(
      (x, w, b) => BatchNormFunction.doForward(x, w, b, { training: false, runningMean, runningVar }),
      [randn([2, 3, 2, 2], 5), randn([3], 6), randn([3], 7)],
    );
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  test.each([
    [2, 2, 0],
    [3, 2, 1],
    [3, 1, 0],
    [2, 1, 1],
  ])('avgpool2d kernel %i stride %i padding %i', (kernel, stride, padding) => {
    const r = gradcheck((x) => AvgPool2dFunction.doForward(x, { kernel, stride, padding }), [randn([2, 2, 5, 6], 8)]);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  test('global average pooling', () => {
    const r = gradcheck((x) => GlobalAvgPool2dFunction.doForward(x), [randn([2, 3, 4, 5], 9)]);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});

/**
 * Layers: the gradient of the input and of every parameter, through the module in training mode. The
 * parameters are gradchecked by making them the function's inputs: the module's own parameter nodes are
 * swapped for the gradcheck's nodes for the duration of one call.
 */
function checkModule(module: { namedParameters(): [string, TensorNode][]; call(x: TensorNode): TensorNode }, x: NDArray): number {
  const params = module.namedParameters();
  const owners = params.map(([name]) => {
    const path = name.split('.');
    let obj: Record<string, unknown> = module as unknown as Record<string, unknown>;
    for (const p of path.slice(0, -1)) {
      // Arrays of blocks are indexed; a Sequential holds its modules in `layers`.
      const holder = Array.isArray(obj) ? obj : Array.isArray(obj.layers) && /^\d+$/.test(p) ? obj.layers : obj;
      obj = (holder as Record<string, unknown>)[p] as Record<string, unknown>;
    }
    return { obj, key: path[path.length - 1] };
  });
  const values = params.map(([, p]) => p.value.copy());
  const r = gradcheck(
    (input, ...ps) => {
      owners.forEach(({ obj, key }, i) => (obj[key] = ps[i]));
      return module.call(input);
    },
    [x, ...values],
    { eps: 1e-5 },
  );
  return r.maxRelError;
}

describe('gradcheck (float64): CNN layers in training mode', () => {
  test('BatchNorm2d: input, weight, bias', () => {
    const bn = new BatchNorm2d(3, { dtype: 'float64' });
    expect(checkModule(bn, randn([3, 3, 2, 2], 10, 1.5, 0.3))).toBeLessThan(1e-6);
  });

  test.each(['A', 'B'] as const)('BasicBlock, stride 2, shortcut %s: input and every parameter', (shortcut) => {
    // NOTE: shapes where no ReLU input sits within eps of 0 (a kink): seeded and checked by the test passing.
    const block = new BasicBlock(2, 4, { stride: 2, shortcut, dtype: 'float64', random: new Random(11) });
    expect(checkModule(block, randn([2, 2, 4, 4], 12))).toBeLessThan(1e-5);
  });

  test('ResNet-8 end to end: input gradient', () => {
    const net = new ResNet({ depth: 8, dtype: 'float64', random: new Random(13), widths: [2, 4, 6], numClasses: 3 });
    const r = gradcheck((x) => net.call(x), [randn([2, 3, 6, 6], 14)], { eps: 1e-5 });
    expect(r.maxRelError).toBeLessThan(1e-5);
  });
});
