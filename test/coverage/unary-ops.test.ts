/**
 * The elementwise ops `Abs`, `Sqrt`, `Square` and `Id`: values and gradients against the hand-derived formulas
 * (|x|, sqrt(x), x^2, x; and G * sign(x), G / (2 sqrt(x)), 2 x G, G), on a small array (JS kernels below the
 * native size cut-off) and a large one (the addon in the native pass), and float64 `gradcheck`s.
 */
import { Abs, Id, NDArray, Random, Sqrt, Square, TensorNode, gradcheck, type Context, type Grads } from '../../lib';

type Case = {
  op: typeof Abs | typeof Id;
  name: string;
  f: (x: number) => number;
  /** dL/dX for upstream gradient g at input x. */
  df: (x: number, g: number) => number;
  /** Inputs inside the op's domain and away from its kinks (finite differences need smoothness). */
  draw: (r: Random) => number;
};

const cases: Case[] = [
  { op: Abs, name: 'Abs', f: Math.abs, df: (x, g) => g * Math.sign(x), draw: (r) => (r.uniform() < 0.5 ? -1 : 1) * r.uniform(0.1, 3) },
  { op: Sqrt, name: 'Sqrt', f: Math.sqrt, df: (x, g) => g / (2 * Math.sqrt(x)), draw: (r) => r.uniform(0.2, 4) },
  { op: Square, name: 'Square', f: (x) => x * x, df: (x, g) => 2 * x * g, draw: (r) => r.uniform(-3, 3) },
  { op: Id, name: 'Id', f: (x) => x, df: (_x, g) => g, draw: (r) => r.uniform(-3, 3) },
];

function randomArray(n: number, draw: (r: Random) => number, seed: number, dtype: 'float32' | 'float64'): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros([n], dtype);
  for (let i = 0; i < n; i++) a.data[i] = draw(r);
  return a;
}

/** Largest |a - b| / max(1, |b|); Infinity if any entry is NaN (so NaN can never pass). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

describe.each(cases)('$name', ({ op, f, df, draw }) => {
  // 7 elements stay in the JS kernels on every backend; 50,000 cross the native cut-off.
  test.each([
    ['float64', 7, 0],
    ['float32', 7, 0],
    ['float32', 50_000, 2 ** -22],
    ['float64', 50_000, 1e-15],
  ] as const)('%s, %i elements: value and gradient are the formulas', (dtype, n, tol) => {
    const xArr = randomArray(n, draw, 11 + n, dtype);
    const gArr = randomArray(n, (r) => r.uniform(-2, 2), 99 + n, dtype);
    const x = new TensorNode(xArr.copy());
    const y = op.doForward(x);
    expect(y).not.toBe(x);
    expect(y.source?.op).toBe(op);
    expect(y.shape).toEqual([n]);
    expect(y.dtype).toBe(dtype);
    y.backward(gArr.copy());

    // Expected values computed in double from the (already rounded) inputs, then rounded to the dtype.
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    const wantY = Array.from(xArr.data, (v) => round(f(v)));
    const wantG = Array.from(xArr.data, (v, i) => round(df(v, gArr.data[i])));
    // Small arrays: exact up to one rounding of the JS formula; large: the native kernel may differ by an ulp.
    const tolerance = Math.max(tol, dtype === 'float32' ? 2 ** -23 : 2 ** -52);
    expect(maxRelDiff(y.value.data, wantY)).toBeLessThanOrEqual(tolerance);
    expect(maxRelDiff(x.grad.data, wantG)).toBeLessThanOrEqual(tolerance);
  });

  test('float64 gradcheck passes alone and composed; a wrong backward fails it (the check is live)', () => {
    const x = randomArray(12, draw, 5, 'float64').reshape([3, 4]);
    const r = gradcheck((a) => op.doForward(a), [x]);
    expect(r.ok).toBe(true);
    expect(r.maxRelError).toBeLessThan(1e-6);
    // Composed with itself and a product, through a 2-D shape: op(op(a) * a).
    expect(gradcheck((a) => op.doForward(op.doForward(a).mul(a)), [x.copy()]).ok).toBe(true);
    // The same op with a backward that doubles its gradient must fail.
    const base = op as unknown as { backward(c: Context, g: NDArray): Grads };
    class Doubled extends (op as unknown as typeof Id) {
      static override backward(context: Context, g: NDArray): Grads {
        const gx = (base.backward(context, g)[0] as NDArray).copy();
        for (let i = 0; i < gx.size; i++) gx.data[i] *= 2;
        return [gx];
      }
    }
    const bad = gradcheck((a) => Doubled.doForward(a), [x.copy()]);
    expect(bad.ok).toBe(false);
    expect(bad.worst?.analytic).toBeCloseTo(2 * (bad.worst?.numeric ?? NaN), 5);
  });
});

describe('edge values', () => {
  test('Abs: gradient 0 at 0 (as PyTorch), sign elsewhere; value of -0 is 0', () => {
    const x = new TensorNode(NDArray.from([-2, -0, 0, 3], 'float64'));
    const y = Abs.doForward(x);
    expect(Array.from(y.value.data)).toEqual([2, 0, 0, 3]);
    y.backward(NDArray.from([10, 10, 10, 10], 'float64'));
    expect(Array.from(x.grad.data).map((v) => v + 0)).toEqual([-10, 0, 0, 10]);
  });

  test('Sqrt: sqrt(0) = 0, a negative input gives NaN (no silent clamp)', () => {
    const y = Sqrt.doForward(new TensorNode(NDArray.from([0, 4, -1], 'float64')));
    expect(y.value.data[0]).toBe(0);
    expect(y.value.data[1]).toBe(2);
    expect(Number.isNaN(y.value.data[2])).toBe(true);
  });

  test('Square of a large value overflows to Infinity in float32 but not in float64', () => {
    expect(Square.doForward(new TensorNode(NDArray.from([1e20], 'float32'))).value.data[0]).toBe(Infinity);
    expect(Square.doForward(new TensorNode(NDArray.from([1e20], 'float64'))).value.data[0]).toBeCloseTo(1e40, -26);
  });

  test('Id: a new graph node whose gradient reaches the input, accumulating with a second path', () => {
    const x = new TensorNode(NDArray.from([[1, -2], [3, 4]], 'float64'));
    const y = Id.doForward(x);
    expect(y).not.toBe(x);
    expect(Array.from(y.value.data)).toEqual([1, -2, 3, 4]);
    expect(y.source?.inputs[0]).toBe(x);
    // L = sum(Id(x) * 3 + x): dL/dx = 4 everywhere.
    y.mul(TensorNode.constant(NDArray.full([2, 2], 3, 'float64'))).add(x).sum().backward();
    expect(Array.from(x.grad.data)).toEqual([4, 4, 4, 4]);
  });
});
