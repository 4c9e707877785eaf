/**
 * The naming convention (docs/conventions.md, "Naming") holds for what the package exports, and the names
 * renamed in 0.2 still work as deprecated aliases of the new ones.
 */
import * as vugrad from '../../lib';
import { Module, NDArray, Op, TensorNode, crossEntropy, crossEntropyLoss, nn } from '../../lib';

const top = vugrad as unknown as Record<string, unknown>;
const layers = nn as unknown as Record<string, unknown>;

/** The old name -> the new one, for the aliases kept until 0.3. */
const DEPRECATED_OPS: Record<string, string> = {
  LinearFunction: 'LinearOp',
  Conv2dFunction: 'Conv2dOp',
  MaxPool2dFunction: 'MaxPool2dOp',
  AvgPool2dFunction: 'AvgPool2dOp',
  GlobalAvgPool2dFunction: 'GlobalAvgPool2dOp',
  BatchNormFunction: 'BatchNormOp',
};

function isOpClass(v: unknown): v is typeof Op {
  return typeof v === 'function' && v.prototype instanceof Op;
}

describe('names', () => {
  it('ReLU, Sigmoid and Tanh are the course ops at the top level and modules in nn; no other name means two things', () => {
    const both = Object.keys(layers).filter((k) => k in top && top[k] !== layers[k]);
    expect(both.sort()).toEqual(['ReLU', 'Sigmoid', 'Tanh']);
    for (const k of both) {
      expect(isOpClass(top[k])).toBe(true);
      expect((layers[k] as { prototype: unknown }).prototype).toBeInstanceOf(Module);
    }
  });

  it('op classes: no ...Function suffix (but the course\'s ElementwiseFunction base); ...Op only for the op behind an nn layer', () => {
    const ops = Object.entries(top).filter(([k, v]) => isOpClass(v) && !(k in DEPRECATED_OPS)) as [string, typeof Op][];
    expect(ops.length).toBeGreaterThan(30);
    for (const [name, op] of ops) {
      expect(op.name).toBe(name); // exported under its own name
      if (name !== 'ElementwiseFunction') expect(name).not.toMatch(/Function$/);
      if (name.endsWith('Op')) {
        const layer = name === 'GlobalAvgPool2dOp' ? 'AdaptiveAvgPool2d' : name.slice(0, -2);
        expect(`${name}: ${typeof layers[layer]}`).toBe(`${name}: function`);
      }
    }
  });

  it('the deprecated op names are the renamed classes themselves', () => {
    for (const [old, now] of Object.entries(DEPRECATED_OPS)) {
      expect(top[old]).toBeDefined();
      expect(top[old]).toBe(top[now]);
    }
  });

  it('the deprecated crossEntropy is crossEntropyLoss: the same values and gradients, mean and sum', () => {
    const logits = NDArray.from([[1, -2, 0.5], [0.1, 0.2, 3]], 'float64');
    const targets = [2, 0];
    for (const reduction of ['mean', 'sum'] as const) {
      const a = new TensorNode(logits.copy());
      const b = new TensorNode(logits.copy());
      const la = crossEntropy(a, targets, { reduction });
      const lb = crossEntropyLoss(b, targets, { reduction });
      la.backward();
      lb.backward();
      expect(la.item()).toBe(lb.item());
      expect(a.grad.toArray()).toEqual(b.grad.toArray());
    }
  });
});
