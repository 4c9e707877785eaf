/**
 * The computation graph behind a node, as Graphviz DOT: the picture the course draws by hand, with tensor
 * nodes (ellipses: name and shape) and op nodes (boxes: the op's name), edges in the direction of the forward.
 *
 * @example
 * const dot = graphToDot(loss);
 * fs.writeFileSync('graph.dot', dot);
 * fs.writeFileSync('graph.svg', await dotToSvg(dot));
 */
import { shapeString } from '../core/ndarray';
import type { OpNode } from '../core/op';
import type { TensorNode } from '../core/tensor-node';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The graph behind `root` as DOT. Each tensor, op and edge appears once; an input an op uses more than once
 * (`x.mul(x)`) gets one edge labelled with the count. `names` labels tensors (a model's parameter names).
 * Throws for a graph that `clear()` cut, which would be drawn as the root alone.
 */
export function graphToDot(root: TensorNode, options: { names?: Map<TensorNode, string> } = {}): string {
  if (root.cleared) {
    throw new Error(`graphToDot: ${root} was cut from its graph by clear(); draw the graph before clearing it`);
  }
  const tensorIds = new Map<TensorNode, string>();
  const opIds = new Map<OpNode, string>();
  const lines = ['digraph vugrad {', '  rankdir=BT;', '  node [fontname="DejaVu Sans", fontsize=10];'];
  // NOTE: tensorId() queues each tensor the first time it names it, the root included; queueing the root here
  // as well drew its incoming edge (CrossEntropy -> loss) twice.
  const todo: TensorNode[] = [];
  const tensorId = (t: TensorNode): string => {
    let id = tensorIds.get(t);
    if (!id) {
      id = `t${tensorIds.size}`;
      tensorIds.set(t, id);
      const name = options.names?.get(t) ?? t.name ?? (t.source ? '' : t.requiresGrad ? 'parameter' : 'input');
      const label = `${name ? name + '\\n' : ''}${shapeString(t.shape)}`;
      const style = t.source ? '' : t.requiresGrad ? ', style=filled, fillcolor="#dbe9f6"' : ', style=filled, fillcolor="#eeeeee"';
      lines.push(`  ${id} [shape=ellipse, label=${quote(label).replace(/\\\\n/g, '\\n')}${style}];`);
      todo.push(t);
    }
    return id;
  };
  tensorId(root);
  while (todo.length > 0) {
    const t = todo.pop() as TensorNode;
    const src = t.source;
    if (!src) continue;
    let opId = opIds.get(src);
    if (!opId) {
      opId = `o${opIds.size}`;
      opIds.set(src, opId);
      lines.push(`  ${opId} [shape=box, style="rounded,filled", fillcolor="#fde9c8", label=${quote(typeof src.context.label === 'string' ? src.context.label : src.op.name)}];`);
      const uses = new Map<TensorNode, number>();
      for (const input of src.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
      for (const [input, count] of uses) {
        lines.push(`  ${tensorId(input)} -> ${opId}${count > 1 ? ` [label="x${count}"]` : ''};`);
      }
    }
    // Each tensor is dequeued once, so this edge (op -> the tensor it made) is written once.
    lines.push(`  ${opId} -> ${tensorId(t)};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Lays out DOT as SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no system Graphviz needed. */
export async function dotToSvg(dot: string): Promise<string> {
  const viz = await (await import('@viz-js/viz')).instance();
  return viz.renderString(dot, { format: 'svg' });
}
