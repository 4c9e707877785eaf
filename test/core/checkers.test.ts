/**
 * The checkers the rest of the suite trusts are proven the only way a checker can be: by showing that each one
 * fails on a wrong input, at every position, including NaN and infinities (which every `<=` lets through).
 */
import { gradcheck, NDArray, Op, type Context, type Grads, type TensorNode } from '../../lib';
import { elementError, expectClose } from '../helpers/reference';

const BAD_VALUES = [NaN, Infinity, -Infinity];

describe('expectClose', () => {
  const reference = NDArray.from([1, 2, 3, 4], 'float64');

  it('accepts equal arrays, and NaN or an infinity where the reference has the same', () => {
    expectClose(NDArray.from([1, 2, 3, 4], 'float64'), reference, 1e-12);
    const special = NDArray.from([NaN, Infinity, -Infinity, 1], 'float64');
    expectClose(special.copy(), special, 1e-12);
  });

  for (const bad of BAD_VALUES) {
    for (let at = 0; at < 4; at++) {
      it(`rejects ${bad} at index ${at} of 4`, () => {
        const actual = NDArray.from([1, 2, 3, 4], 'float64');
        actual.data[at] = bad;
        expect(() => expectClose(actual, reference, 1e-9)).toThrow(`at index ${at}`);
      });
      it(`rejects a number where the reference has ${bad} (index ${at})`, () => {
        const expected = NDArray.from([1, 2, 3, 4], 'float64');
        expected.data[at] = bad;
        expect(() => expectClose(reference.copy(), expected, 1e-9)).toThrow(`at index ${at}`);
      });
    }
  }

  it('rejects an error just above the tolerance anywhere, and names the worst element', () => {
    for (let at = 0; at < 4; at++) {
      const actual = reference.copy();
      actual.data[at] += 1e-6 * (Math.abs(reference.data[at]) + 1);
      expect(() => expectClose(actual, reference, 1e-7)).toThrow(`at index ${at}`);
      expect(() => expectClose(actual, reference, 1e-5)).not.toThrow();
    }
  });

  it('rejects a shape or length mismatch', () => {
    expect(() => expectClose(NDArray.from([[1, 2], [3, 4]], 'float64'), reference)).toThrow();
    expect(() => expectClose(reference, { shape: [4], data: [1, 2, 3] })).toThrow('3');
  });

  it('elementError is never NaN', () => {
    const values = [0, 1, -1, 1e300, NaN, Infinity, -Infinity];
    for (const a of values) for (const e of values) expect(Number.isNaN(elementError(a, e))).toBe(false);
  });
});

/** y = x, with a backward that returns the right gradient except for one planted value. */
function plantedIdentity(position: number, planted: number) {
  class Planted extends Op {
    static override forward(_context: Context, x: NDArray): NDArray {
      return x.copy();
    }

    static override backward(_context: Context, g: NDArray): Grads {
      const out = g.copy();
      out.data[position] = planted;
      return [out];
    }
  }
  return (x: TensorNode) => Planted.doForward(x);
}

describe('gradcheck', () => {
  const input = () => NDArray.from([0.5, -1.5, 2, 3], 'float64');

  it('passes a correct backward', () => {
    const probe = gradcheck((x) => x.mul(x), [input()]);
    expect(probe.ok).toBe(true);
    expect(probe.maxRelError).toBeLessThan(1e-7);
  });

  for (const bad of [...BAD_VALUES, 12345]) {
    for (let at = 0; at < 4; at++) {
      it(`fails a backward with ${bad} at index ${at}`, () => {
        const r = gradcheck(plantedIdentity(at, bad), [input()]);
        expect(r.ok).toBe(false);
        expect(r.worst?.index).toBe(at);
        if (!Number.isFinite(bad)) expect(r.maxRelError).toBe(Infinity);
      });
    }
  }

  it('fails when two positions are wrong (NaN at [1], Infinity at [2]), the case that once returned ok', () => {
    class TwoBad extends Op {
      static override forward(_context: Context, x: NDArray): NDArray {
        return x.copy();
      }

      static override backward(_context: Context, g: NDArray): Grads {
        const out = g.copy();
        out.data[1] = NaN;
        out.data[2] = Infinity;
        return [out];
      }
    }
    const r = gradcheck((x) => TwoBad.doForward(x), [input()]);
    expect(r.ok).toBe(false);
    expect(r.maxRelError).toBe(Infinity);
  });

  it('fails where the function itself is not finite (numeric gradient NaN or infinite)', () => {
    // log at 0 and below: the finite differences are NaN or infinite there.
    const r = gradcheck((x) => x.log(), [NDArray.from([1, 2, 0, 3], 'float64')]);
    expect(r.ok).toBe(false);
    expect(r.maxRelError).toBe(Infinity);
  });
});
