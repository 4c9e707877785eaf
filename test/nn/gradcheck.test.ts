/** Finite-difference checks (float64) of the conv, pooling, linear and loss gradients. */
import { Conv2dFunction, LinearFunction, MaxPool2dFunction, NDArray, Random, gradcheck } from '../../lib';
import { mseLoss, multiMarginLoss, nllLoss, crossEntropyLoss } from '../../lib/nn';

function randn(shape: number[], seed: number): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros(shape, 'float64');
  for (let i = 0; i < a.size; i++) a.data[i] = r.normal();
  return a;
}

/** Distinct, well-separated values, so that no max-pool window has a near-tie (finite differences would flip it). */
function distinct(shape: number[], seed: number): NDArray {
  const a = NDArray.zeros(shape, 'float64');
  const p = new Random(seed).permutation(a.size);
  for (let i = 0; i < a.size; i++) a.data[i] = p[i] * 0.1;
  return a;
}

const targets = [2, 0, 3];

describe('gradcheck (float64)', () => {
  test.each([
    [1, 0],
    [2, 1],
    [1, 2],
    [3, 1],
  ])('conv2d stride %i padding %i, with bias', (stride, padding) => {
    const r = gradcheck(
      (x, w, b) => Conv2dFunction.doForward(x, w, b, { stride, padding }),
      [randn([2, 2, 6, 5], 1), randn([3, 2, 3, 2], 2), randn([3], 3)],
      // eps 1e-5, not the default 1e-6: with 1e-6 the rounding of the projected output (~1e-15 / 2e-6) alone
      // is ~1e-6 relative on the smallest gradient entries (~2e-3), whichever summation order the kernel uses.
      { eps: 1e-5 },
    );
    expect(r.maxRelError).toBeLessThan(1e-6);
    expect(r.ok).toBe(true);
  });

  test('conv2d without bias', () => {
    const r = gradcheck((x, w) => Conv2dFunction.doForward(x, w, { stride: 2, padding: 1 }), [randn([1, 3, 5, 5], 4), randn([2, 3, 3, 3], 5)]);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  test.each([
    [2, 2],
    [3, 2],
    [2, 1],
  ])('maxpool2d kernel %i stride %i', (kernel, stride) => {
    const r = gradcheck((x) => MaxPool2dFunction.doForward(x, { kernel, stride }), [distinct([2, 2, 6, 7], 6)]);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  test('linear, with and without bias, 2-D and 3-D input', () => {
    const w = randn([4, 5], 8);
    expect(gradcheck((x, w2, b) => LinearFunction.doForward(x, w2, b), [randn([3, 5], 7), w, randn([4], 9)]).maxRelError).toBeLessThan(1e-6);
    expect(gradcheck((x, w2) => LinearFunction.doForward(x, w2), [randn([2, 3, 5], 10), w]).maxRelError).toBeLessThan(1e-6);
  });

  test.each(['mean', 'sum'] as const)('losses (%s)', (reduction) => {
    const x = randn([3, 5], 11);
    expect(gradcheck((a) => nllLoss(a, targets, { reduction }), [x]).maxRelError).toBeLessThan(1e-6);
    expect(gradcheck((a) => crossEntropyLoss(a, targets, { reduction }), [x]).maxRelError).toBeLessThan(1e-6);
    // (With these seeded scores no hinge sits within eps of its kink, where the derivative jumps.)
    expect(gradcheck((a) => multiMarginLoss(a, targets, { reduction }), [x]).maxRelError).toBeLessThan(1e-6);
    expect(gradcheck((a) => multiMarginLoss(a, targets, { reduction, p: 2, margin: 0.5 }), [x]).maxRelError).toBeLessThan(1e-6);
    expect(gradcheck((a, b) => mseLoss(a, b, { reduction }), [x, randn([3, 5], 12)]).maxRelError).toBeLessThan(1e-6);
  });
});
