/** Shared pieces of the optimizer tests: the fixture's objective built from vugrad ops, and case loading. */
import { NDArray, TensorNode, type DType } from '../../lib';
import { referenceCases, toArray, type RefCase, type RefTensor } from '../helpers/reference';

export interface OptimCase extends RefCase {
  optimizer: string;
  options: Record<string, unknown>;
  A: RefTensor;
  b: RefTensor;
  p0: RefTensor;
  trajectory: number[][] | RefTensor[];
}

export function optimCases(): OptimCase[] {
  return referenceCases().filter((c) => c.name.startsWith('optim_')) as OptimCase[];
}

/** The trajectory's t-th point as a flat list of numbers (the fixture may store tensors or plain lists). */
export function trajectoryPoint(c: OptimCase, t: number): number[] {
  const point = c.trajectory[t];
  return Array.isArray(point) ? point : point.data;
}

/**
 * The fixture's objective `0.5*sum((A@p - b)^2) + 0.05*sum(p^4)` as a graph over the parameter p (shape [n]).
 * Returns a function that runs forward and backward, leaving the gradient in p.grad.
 */
export function objective(c: OptimCase, p: TensorNode, dtype: DType): () => number {
  const A = TensorNode.constant(toArray(c.A, dtype));
  const b = TensorNode.constant(toArray(c.b, dtype).reshape([c.b.shape[0], 1]));
  const n = p.shape[0];
  return () => {
    const col = p.reshape([n, 1]);
    const r = A.matmul(col).sub(b);
    const sq = col.mul(col);
    const loss = r.mul(r).sum().mul(0.5).add(sq.mul(sq).sum().mul(0.05));
    loss.backward();
    return loss.item();
  };
}

export function param(values: RefTensor, dtype: DType): TensorNode {
  return new TensorNode(toArray(values, dtype), { name: 'p' });
}

export { NDArray };
