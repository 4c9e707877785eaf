/**
 * Arithmetic methods on TensorNode (`a.add(b)`, `a.matmul(b)`, `x.sum()`, ...). They live here, not in
 * tensor-node.ts, so that the graph core does not depend on the ops built on top of it.
 */
import type { NDArray } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { Add, AddScalar, Div, MulScalar, Multiply, ScalarDiv, Sub } from './elementwise';
import { BatchMM, MatrixMultiply } from './matmul';
import { MaxAxis, Mean, Sum, SumAxis } from './reduce';
import { Expand, Reshape, Select, Squeeze, Transpose, Unsqueeze } from './shape';
import { Exp, Log, Neg, ReLU, Sigmoid, Tanh } from './unary';

declare module '../core/tensor-node' {
  interface TensorNode {
    /** Elementwise `this + other` (a node of the same shape, or a number). */
    add(other: TensorNode | number): TensorNode;
    /** Elementwise `this - other`. */
    sub(other: TensorNode | number): TensorNode;
    /** Elementwise `this * other`. */
    mul(other: TensorNode | number): TensorNode;
    /** Elementwise `this / other`. */
    div(other: TensorNode | number): TensorNode;
    /** Matrix product `this @ other` of 2-D nodes. */
    matmul(other: TensorNode): TensorNode;
    /** `this @ weight^T` for a batch of row vectors (the course's BatchMM with the weight first). */
    linear(weight: TensorNode): TensorNode;
    neg(): TensorNode;
    exp(): TensorNode;
    log(): TensorNode;
    sigmoid(): TensorNode;
    relu(): TensorNode;
    tanh(): TensorNode;
    /** Sum of all elements (a scalar), or along `dim`. */
    sum(dim?: number, keepdim?: boolean): TensorNode;
    /** Mean of all elements. */
    mean(): TensorNode;
    /** Maximum along `dim` (default 1: each row's maximum). */
    max(dim?: number, keepdim?: boolean): TensorNode;
    reshape(shape: readonly number[]): TensorNode;
    transpose(): TensorNode;
    squeeze(dim: number): TensorNode;
    unsqueeze(dim: number): TensorNode;
    /** Repeats the size-1 axis `dim` `repeats` times (the course's broadcasting). */
    expand(dim: number, repeats: number): TensorNode;
    /** One entry per row: `out[i] = this[i, indices[i]]`. */
    select(indices: ArrayLike<number>): TensorNode;
  }
}

function check(op: string, other: unknown): asserts other is TensorNode | number {
  if (!(other instanceof TensorNode) && typeof other !== 'number') {
    throw new TypeError(`${op}: operand must be a TensorNode or a number, got ${typeof other}`);
  }
}

const methods: Partial<Record<keyof TensorNode, unknown>> & ThisType<TensorNode> = {
  add(other: TensorNode | number) {
    check('add', other);
    return typeof other === 'number' ? AddScalar.doForward(this, { value: other }) : Add.doForward(this, other);
  },
  sub(other: TensorNode | number) {
    check('sub', other);
    return typeof other === 'number' ? AddScalar.doForward(this, { value: -other }) : Sub.doForward(this, other);
  },
  mul(other: TensorNode | number) {
    check('mul', other);
    return typeof other === 'number' ? MulScalar.doForward(this, { value: other }) : Multiply.doForward(this, other);
  },
  div(other: TensorNode | number) {
    check('div', other);
    return typeof other === 'number' ? MulScalar.doForward(this, { value: 1 / other }) : Div.doForward(this, other);
  },
  matmul(other: TensorNode) {
    return MatrixMultiply.doForward(this, other);
  },
  linear(weight: TensorNode) {
    return BatchMM.doForward(weight, this);
  },
  neg() {
    return Neg.doForward(this);
  },
  exp() {
    return Exp.doForward(this);
  },
  log() {
    return Log.doForward(this);
  },
  sigmoid() {
    return Sigmoid.doForward(this);
  },
  relu() {
    return ReLU.doForward(this);
  },
  tanh() {
    return Tanh.doForward(this);
  },
  sum(dim?: number, keepdim = false) {
    return dim === undefined ? Sum.doForward(this) : SumAxis.doForward(this, { dim, keepdim });
  },
  mean() {
    return Mean.doForward(this);
  },
  max(dim = 1, keepdim = false) {
    return MaxAxis.doForward(this, { dim, keepdim });
  },
  reshape(shape: readonly number[]) {
    return Reshape.doForward(this, { shape });
  },
  transpose() {
    return Transpose.doForward(this);
  },
  squeeze(dim: number) {
    return Squeeze.doForward(this, { dim });
  },
  unsqueeze(dim: number) {
    return Unsqueeze.doForward(this, { dim });
  },
  expand(dim: number, repeats: number) {
    return Expand.doForward(this, { dim, repeats });
  },
  select(indices: ArrayLike<number>) {
    return Select.doForward(this, { indices });
  },
};

Object.assign(TensorNode.prototype, methods);

/** `c / x` for a number c (numbers cannot carry methods, so this one is a function). */
export function rdiv(value: number, x: TensorNode): TensorNode {
  return ScalarDiv.doForward(x, { value });
}

/** Wraps an array as a leaf node; `requiresGrad: false` for data. */
export function tensor(value: NDArray, options: { requiresGrad?: boolean; name?: string } = {}): TensorNode {
  return new TensorNode(value, options);
}
