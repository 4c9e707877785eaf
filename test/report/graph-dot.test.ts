/** The DOT picture of a graph: every tensor, op and edge drawn exactly once. */
import { NDArray } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import { Linear } from '../../lib/nn/layers';
import { crossEntropy } from '../../lib/ops/functions';
import { graphToDot } from '../../lib/report/graph-dot';

/** The edge lines (`a -> b;`) of a DOT text. */
const edges = (dot: string): string[] => dot.split('\n').filter((l) => l.includes('->')).map((l) => l.trim());

/** Entries of `list` that occur more than once. */
const repeated = (list: string[]): string[] => list.filter((e, i) => list.indexOf(e) !== i);

describe('graphToDot', () => {
  test('a linear layer and cross-entropy: every edge once, the loss with one incoming edge', () => {
    const layer = new Linear(3, 2);
    const x = TensorNode.constant(NDArray.from([[1, 2, 3], [4, 5, 6]]), 'input');
    const loss = crossEntropy(layer.call(x), [0, 1]);
    loss.name = 'loss';
    const dot = graphToDot(loss);
    const lines = edges(dot);
    expect(repeated(lines)).toEqual([]);
    // The loss is the root: the op that made it points at it once.
    const lossId = /\s(t\d+) \[shape=ellipse, label="loss/.exec(dot)![1];
    expect(lines.filter((l) => l.endsWith(`-> ${lossId};`))).toHaveLength(1);
    // input, weight and bias -> linear op -> logits -> cross-entropy op -> loss.
    expect(lines).toHaveLength(6);
  });

  test('a node used twice by one op (x * x) is drawn with one edge into the op', () => {
    const x = new TensorNode(NDArray.from([1, 2]), { name: 'x' });
    const dot = graphToDot(x.mul(x).sum());
    expect(repeated(edges(dot))).toEqual([]);
    expect(edges(dot)).toHaveLength(4); // x -> mul, mul -> t, t -> sum, sum -> root
    expect(dot).toContain('label="x2"');
  });

  test('a graph cut by clear() is an error, not a picture of the loss alone', () => {
    const x = new TensorNode(NDArray.from([1, 2]), { name: 'x' });
    const loss = x.mul(x).sum();
    loss.clear();
    expect(() => graphToDot(loss)).toThrow(/clear\(\)/);
  });
});
