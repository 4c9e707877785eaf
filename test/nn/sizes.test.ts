/**
 * Layers with sizes no machine can hold fail naming the layer, the parameter, its shape, dtype and the memory
 * it needs (not `Invalid typed array length`); sizes that are not positive integers fail naming the layer.
 */
import * as os from 'os';
import { AllocationError } from '../../lib/core/ndarray';
import { Conv2d, Linear, MaxPool2d } from '../../lib/nn/layers';
import { MLP } from '../../lib/nn/models';

describe('parameters too large to allocate', () => {
  test('Linear(100000 -> 100000).weight [100000,100000] float32 needs 40 GB', () => {
    let err: unknown;
    try {
      new Linear(100000, 100000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AllocationError);
    expect((err as Error).message).toMatch(/^Linear\(100000 -> 100000\)\.weight \[100000,100000\] float32 needs 40 GB, /);
  });

  test('every initializer and dtype names the parameter', () => {
    for (const init of ['zeros', 'normal', 'glorot', 'he-uniform'] as const) {
      expect(() => new Linear(100000, 100000, { init, dtype: 'float64' })).toThrow(
        /^Linear\(100000 -> 100000\)\.weight \[100000,100000\] float64 needs 80 GB/,
      );
    }
  });

  test('an MLP with --hidden 100000,100000 names the layer that does not fit, before building any layer', () => {
    const start = Date.now();
    // 784 -> 100000 alone takes tens of seconds to initialise: the check comes before it.
    expect(() => new MLP({ inputSize: 784, hiddenSizes: [100000, 100000], outputSize: 10 })).toThrow(
      /^MLP layers\.1 = Linear\(100000 -> 100000\)\.weight \[100000,100000\] float32 needs 40 GB, /,
    );
    expect(Date.now() - start).toBeLessThan(2000);
  });

  test('layers that each fit but together exceed the machine are refused before any is built', () => {
    const n = Math.floor(Math.sqrt((os.totalmem() * 0.5) / 4)); // each hidden layer about half the memory
    expect(() => new MLP({ inputSize: 2, hiddenSizes: [n, n, n], outputSize: 2 })).toThrow(
      new RegExp(`^MLP 2-${n}-${n}-${n}-2: .* float32 needs .*, more than this machine's .* of memory \\(layers: \\[${n},2\\] `),
    );
  });

  test('a Conv2d weight', () => {
    expect(() => new Conv2d(100000, 100000, 3)).toThrow(/^Conv2d\(100000 -> 100000, 3x3\)\.weight \[100000,100000,3,3\] float32 needs 360 GB/);
  });
});

describe('sizes that are not positive integers', () => {
  test.each([
    [() => new Linear(0, 3), /Linear: inFeatures must be a positive integer, got 0/],
    [() => new Linear(3, 1.5), /Linear: outFeatures must be a positive integer, got 1\.5/],
    [() => new Linear(NaN, 3), /Linear: inFeatures must be a positive integer, got NaN/],
    [() => new Conv2d(3, 6, 0), /Conv2d: kernelHeight must be a positive integer, got 0/],
    [() => new Conv2d(3, 6, 5, { stride: 0 }), /Conv2d: stride must be a positive integer, got 0/],
    [() => new Conv2d(3, 6, 5, { padding: -1 }), /Conv2d: padding must be a non-negative integer, got -1/],
    [() => new MaxPool2d(0), /MaxPool2d: kernel must be a positive integer, got 0/],
  ])('%#', (make, why) => {
    expect(make).toThrow(why);
  });
});
