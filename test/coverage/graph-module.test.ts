/**
 * `TensorNode.detach` (PyTorch's `detach`: same value, no history, no gradient) and the module walkers
 * `Module.namedChildren` (direct sub-modules) and `Module.namedModules` (all, depth first, dotted names).
 */
import { LeNet, Linear, MLP, Module, NDArray, Sequential, TensorNode, nn } from '../../lib';

describe('TensorNode.detach', () => {
  test('a leaf with the same value and name, no source, no gradient wanted', () => {
    const a = new TensorNode(NDArray.from([[1, 2], [3, 4]], 'float64'), { name: 'a' });
    const y = a.mul(a);
    y.name = 'y';
    const d = y.detach();
    expect(d).not.toBe(y);
    expect(d.source).toBeNull();
    expect(d.requiresGrad).toBe(false);
    expect(d.name).toBe('y');
    expect(d.value).toBe(y.value); // shares the value (no copy), as PyTorch's detach shares storage
    expect(Array.from(d.value.data)).toEqual([1, 4, 9, 16]);
  });

  test('gradient stops at the detached node: d(y * stop(y))/da = 2a * stop(y), not 4a^3', () => {
    const a = new TensorNode(NDArray.from([1, 2, 3], 'float64'));
    const y = a.mul(a);
    y.mul(y.detach()).sum().backward();
    // y * stop(y) = a^2 * const(a^2): d/da = 2a * a^2 = 2a^3 (the full gradient of a^4 would be 4a^3).
    expect(Array.from(a.grad.data)).toEqual([2, 16, 54]);
  });

  test('a graph built only from a detached node needs no gradient: backward says so (as PyTorch) and reaches nothing', () => {
    const a = new TensorNode(NDArray.from([1, 2, 3], 'float64'));
    const z = a.mul(a).detach().mul(TensorNode.constant(NDArray.from([1, 1, 1], 'float64'))).sum();
    expect(z.requiresGrad).toBe(false);
    expect(() => z.backward()).toThrow(/does not require a gradient/);
    expect(a.hasGrad).toBe(false);
    expect(Array.from(a.grad.data)).toEqual([0, 0, 0]);
  });

  test('detaching survives clear() of the original graph (the value is kept)', () => {
    const a = new TensorNode(NDArray.from([2, 3], 'float64'));
    const y = a.mul(a);
    const d = y.detach();
    y.clear();
    expect(Array.from(d.value.data)).toEqual([4, 9]);
    const b = new TensorNode(NDArray.from([1, 1], 'float64'));
    b.mul(d).sum().backward(); // works: d has no history to be cut
    expect(Array.from(b.grad.data)).toEqual([4, 9]);
  });
});

class Block extends Module {
  fc = new Linear(3, 3);
  act = new nn.ReLU();
  forward(x: TensorNode): TensorNode {
    return this.act.call(this.fc.call(x));
  }
}

class Net extends Module {
  stem = new Linear(4, 3);
  blocks = [new Block(), new Block()];
  head = new Sequential(new Linear(3, 2), new nn.Tanh());
  scale = new TensorNode(NDArray.from([1]));
  _private = new Linear(2, 2); // private: not walked
  note = 'not a module';
  forward(x: TensorNode): TensorNode {
    let y = this.stem.call(x);
    for (const b of this.blocks) y = b.call(y);
    return this.head.call(y);
  }
}

describe('Module.namedChildren and namedModules', () => {
  test('namedChildren: only direct sub-modules, in assignment order, arrays as name.i; parameters and private fields left out', () => {
    const net = new Net();
    const children = net.namedChildren();
    expect(children.map(([n]) => n)).toEqual(['stem', 'blocks.0', 'blocks.1', 'head']);
    expect(children[0][1]).toBe(net.stem);
    expect(children[1][1]).toBe(net.blocks[0]);
    expect(children[3][1]).toBe(net.head);
    for (const [, m] of children) expect(m).toBeInstanceOf(Module);
  });

  test('namedModules: itself as "", then every module depth first with dotted names', () => {
    const net = new Net();
    const all = net.namedModules();
    expect(all.map(([n]) => n)).toEqual([
      '',
      'stem',
      'blocks.0',
      'blocks.0.fc',
      'blocks.0.act',
      'blocks.1',
      'blocks.1.fc',
      'blocks.1.act',
      'head',
      'head.0',
      'head.1',
    ]);
    expect(all[0][1]).toBe(net);
    expect(all.find(([n]) => n === 'blocks.1.fc')?.[1]).toBe(net.blocks[1].fc);
    expect(all.find(([n]) => n === 'head.1')?.[1]).toBeInstanceOf(nn.Tanh);
    // Consistent with namedParameters: every parameter's prefix is one of the module names.
    const names = new Set(all.map(([n]) => n));
    for (const [p] of net.namedParameters()) {
      const prefix = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '';
      expect(names.has(prefix)).toBe(true);
    }
    expect(net.namedParameters().map(([n]) => n)).toContain('scale');
  });

  test('a module reachable twice is listed once, under its first name', () => {
    const shared = new Linear(2, 2);
    const seq = new Sequential(shared, new nn.ReLU(), shared);
    const names = seq.namedModules().map(([n]) => n);
    expect(names).toEqual(['', '0', '1']);
    expect(seq.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']); // direct children: both positions
  });

  test('train()/eval() reach every module namedModules lists', () => {
    const net = new Net();
    net.eval();
    expect(net.namedModules().every(([, m]) => m.training === false)).toBe(true);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training === true)).toBe(true);
  });

  test('the library models: MLP layers.i, LeNet without sub-module nesting beyond its layers', () => {
    const mlp = new MLP({ inputSize: 4, hiddenSizes: [5, 6], outputSize: 3 });
    expect(mlp.namedChildren().map(([n]) => n)).toEqual(['layers.0', 'layers.1', 'layers.2']);
    expect(mlp.namedModules().map(([n]) => n)).toEqual(['', 'layers.0', 'layers.1', 'layers.2']);
    const lenet = new LeNet();
    const modules = lenet.namedModules();
    expect(modules[0]).toEqual(['', lenet]);
    // Every parameter of LeNet belongs to one of its listed modules.
    const names = new Set(modules.map(([n]) => n));
    for (const [p] of lenet.namedParameters()) expect(names.has(p.slice(0, p.lastIndexOf('.')))).toBe(true);
  });
});
