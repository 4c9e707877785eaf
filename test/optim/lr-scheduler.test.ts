/**
 * Schedulers against the closed forms in PyTorch's docs and against PyTorch's recursive `get_lr` (written out
 * here step by step), over several periods.
 */
import { NDArray, TensorNode } from '../../lib';
import { CosineAnnealingLR, SGD, StepLR } from '../../lib/optim';

const optimizer = (lr: number): SGD => new SGD([new TensorNode(NDArray.from([1, 2], 'float64'))], { lr });

function lrs(sched: { step(): void }, opt: SGD, epochs: number): number[] {
  const out = [opt.lr];
  for (let e = 1; e <= epochs; e++) {
    sched.step();
    out.push(opt.lr);
  }
  return out;
}

function expectAllClose(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`epoch ${i}: lr ${a}, expected ${expected[i]}`);
    }
  });
}

describe('StepLR', () => {
  test('lr = base * gamma^floor(epoch / stepSize)', () => {
    const opt = optimizer(0.5);
    const sched = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    const expected = Array.from({ length: 13 }, (_, e) => 0.5 * 0.5 ** Math.floor(e / 3));
    expectAllClose(lrs(sched, opt, 12), expected);
    expect(expected.slice(0, 7)).toEqual([0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]);
  });

  test("matches PyTorch's recursive rule (multiply by gamma when epoch % stepSize == 0)", () => {
    const opt = optimizer(0.1);
    const sched = new StepLR(opt, { step_size: 2 }); // gamma defaults to 0.1; PyTorch's snake_case accepted
    let lr = 0.1;
    const expected = [lr];
    for (let e = 1; e <= 9; e++) expected.push((lr = e % 2 === 0 ? lr * 0.1 : lr));
    expectAllClose(lrs(sched, opt, 9), expected);
    expect(sched.getLastLr()).toBe(opt.lr);
  });

  test('bad options throw naming them', () => {
    expect(() => new StepLR(optimizer(0.1), { stepSize: 0 })).toThrow(/StepLR: invalid option stepSize = 0/);
    expect(() => new StepLR(optimizer(0.1), { stepSize: 1.5 })).toThrow(/stepSize = 1\.5/);
    expect(() => new StepLR(optimizer(0.1), { stepSize: 2, gamma: -1 })).toThrow(/StepLR: invalid option gamma = -1/);
    expect(() => new StepLR(optimizer(0.1), {} as { stepSize: number })).toThrow(/StepLR: option stepSize is required/);
  });
});

describe('CosineAnnealingLR', () => {
  const base = 0.1;
  const etaMin = 0.001;
  const tMax = 5;

  test('lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2, also past tMax', () => {
    const opt = optimizer(base);
    const sched = new CosineAnnealingLR(opt, { tMax, etaMin });
    const expected = Array.from({ length: 21 }, (_, e) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2);
    const got = lrs(sched, opt, 20);
    expectAllClose(got, expected);
    expect(got[tMax]).toBeCloseTo(etaMin, 15);
    expect(got[2 * tMax]).toBeCloseTo(base, 15);
  });

  test("matches PyTorch's recursive get_lr", () => {
    const opt = optimizer(base);
    const sched = new CosineAnnealingLR(opt, { T_max: tMax, eta_min: etaMin });
    let lr = base;
    const expected = [lr];
    for (let e = 1; e <= 20; e++) {
      if ((e - 1 - tMax) % (2 * tMax) === 0) {
        lr = lr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
      } else {
        lr = ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (lr - etaMin) + etaMin;
      }
      expected.push(lr);
    }
    expectAllClose(lrs(sched, opt, 20), expected, 1e-10);
  });

  test('stateDict restores the schedule and the optimizer lr', () => {
    const opt = optimizer(base);
    const sched = new CosineAnnealingLR(opt, { tMax });
    lrs(sched, opt, 3);
    const saved = JSON.parse(JSON.stringify(sched.stateDict()));
    const opt2 = optimizer(base);
    const sched2 = new CosineAnnealingLR(opt2, { tMax });
    sched2.loadStateDict(saved);
    expect(opt2.lr).toBe(opt.lr);
    sched.step();
    sched2.step();
    expect(opt2.lr).toBe(opt.lr);
  });

  test('bad options throw naming them', () => {
    expect(() => new CosineAnnealingLR(optimizer(0.1), { tMax: -2 })).toThrow(/CosineAnnealingLR: invalid option tMax = -2/);
    expect(() => new CosineAnnealingLR(optimizer(0.1), { tMax: 2, etaMin: -1 })).toThrow(/etaMin = -1/);
    expect(() => new CosineAnnealingLR(optimizer(0.1), { tMax: 2, tmax: 3 } as object as { tMax: number })).toThrow(/unknown option 'tmax'/);
  });
});
