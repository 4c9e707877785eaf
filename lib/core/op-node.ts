/**
 * `OpNode` and `Context`: the record of one op application in the computation graph, and what its forward left
 * for its backward.
 *
 * An OpNode only holds its input and output tensor nodes, it never looks into them: so this module imports
 * no graph code (`OpNode<Node>` is generic in the node type), and the graph's modules import in one direction:
 * ndarray < op-node < tensor-node (`source: OpNode<TensorNode>`) < op (`doForward` builds both).
 *
 * @example
 * const c = a.add(b);
 * c.source;                 // OpNode(Add, inputs=2)
 * c.source.inputs[0] === a; // true
 * c.source.context;         // { needsInputGrad: [true, true] }
 */
import type { NDArray } from './ndarray';

/**
 * What forward leaves for backward. `needsInputGrad[i]` says whether input i wants a gradient, so backward can
 * skip work nobody asked for (return null for it).
 */
export interface Context {
  needsInputGrad: boolean[];
  /**
   * Set only while backward runs: for input i, an array of the input's shape that backward may write input i's
   * whole gradient into instead of allocating one (the input's own gradient buffer, zeroed by `zeroGrad` and
   * not otherwise needed), or null. An op that writes into it returns that array as input i's gradient.
   * Parameters then keep one gradient buffer for the whole training run (see `gradInto` in ops/util.ts).
   */
  gradInto?: (NDArray | null)[];
  [key: string]: unknown;
}

/** One gradient per input, or null where the input needs none. */
export type Grads = (NDArray | null)[];

/** Constants an op is configured with (`dim`, `repeats`, `indices`, ...): they get no gradient. */
export type OpOptions = Record<string, unknown>;

/** The class side of an Op, as stored in `OpNode.op`. */
export interface OpClass {
  readonly name: string;
  forward(context: Context, ...args: never[]): NDArray;
  backward(context: Context, gradOutput: NDArray): Grads;
}

/**
 * The node recording one application of an Op: which op, what it saved, its inputs and outputs. `Node` is
 * the graph's tensor node type: a `TensorNode`'s `source` is an `OpNode<TensorNode>`.
 */
export class OpNode<Node = unknown> {
  constructor(
    readonly op: OpClass,
    public context: Context,
    public inputs: Node[],
    public outputs: Node[] = [],
  ) {}

  toString(): string {
    return `OpNode(${this.op.name}, inputs=${this.inputs.length})`;
  }
}
