/**
 * Each kernel declared once: its arguments (kind, length formula), which arrays it writes and which may be the
 * same memory (the aliasing contract), and when the native backend hands a small call to JS.
 *
 * Derived from this table, so written nowhere else:
 * - the argument checks in front of both backends (`validated()` in validate.ts compiles one checker per kernel);
 * - `KERNEL_ALIASING` and `KERNEL_NAMES` (names.ts);
 * - the native adapter (native.ts): the small-input cut-off per call, op names to the addon's codes;
 * - the fuzz suite's aliasing cases, and a test that this table, names.ts, the JS table and the addon's exports
 *   name the same kernels with the same arities (test/kernels/specs.test.ts).
 * - the kernel's TypeScript signature (names.ts, `SpecSignature`), unless names.ts documents it by hand, and then
 *   the compiler checks the two agree.
 * Still written per kernel: the JS kernel, the C++ kernel (for an elementwise one, its loop and its entry in the
 * table of native/src/elementwise.cc, from which addon.cc exports a handler that checks again, for callers of
 * the raw addon; other families, a handler in addon.cc), and its conformance case.
 *
 * Argument kinds: `read`/`write` float arrays (all of one dtype, the first one's), `indices`/`indicesOut`
 * (Int32Array), `size` (an integer in [0, 2^31)), `positive` (a size >= 1), `num` (any number), `finite`,
 * `flag` (any value, read as a boolean), `bool` (a boolean), `op` (a name of UNARY_OPS or BINARY_OPS).
 * A length is the name of another array (the same length) or a product of sizes (`'m*k'`); `conv` sizes are the
 * output sizes of a window, `floor((size + 2 pad - k) / stride) + 1`, checked to fit.
 */

/**
 * The unary ops, in the order of vg::UnaryOp in native/include/vugrad/kernels.h (the index is the op's code
 * in the addon). `transcendental` ops cost ~15 ns an element in JS, so they go native sooner.
 */
export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sigmoid', 'relu', 'tanh', 'sqrt', 'abs', 'square', 'reciprocal',
] as const;
export const TRANSCENDENTAL_OPS: readonly (typeof UNARY_OPS)[number][] = ['exp', 'log', 'sigmoid', 'tanh'];

/** The binary ops, in the order of vg::BinaryOp (the index is the op's code in the addon). */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;

export type ArgSpec =
  | { readonly kind: 'read' | 'write'; readonly name: string; readonly length?: string; readonly optional?: boolean; readonly inPlace?: readonly string[] }
  | { readonly kind: 'indices'; readonly name: string; readonly length: string; readonly bound: string }
  | { readonly kind: 'indicesOut'; readonly name: string; readonly length: string }
  | { readonly kind: 'size' | 'positive' | 'num' | 'finite' | 'flag' | 'bool'; readonly name: string }
  | { readonly kind: 'op'; readonly name: string; readonly ops: 'unary' | 'binary' };

/** A size computed from others: the output size of a window along one axis (`pad` may be the literal '0'). */
export interface ConvSize {
  readonly name: string;
  readonly size: string;
  readonly k: string;
  readonly stride: string;
  readonly pad: string;
}

/**
 * Which small-input cut-off of SMALL_INPUT_CUTOFF (native.ts) applies, measured by what: an array's length or
 * a product of sizes. `perOp` uses the transcendental cut-off for TRANSCENDENTAL_OPS. `native` always calls
 * the addon (kernels with index arrays must: their range checks live in C++; and the row-wise ones).
 */
export type Cutoff =
  | { readonly class: 'cheapElementwise' | 'transcendental' | 'reduce' | 'gemm'; readonly by: string; readonly perOp?: boolean }
  | { readonly class: 'native' };

export interface KernelSpec {
  readonly args: readonly ArgSpec[];
  readonly conv?: readonly ConvSize[];
  readonly cutoff: Cutoff;
  /** What the kernel returns: nothing (it writes its arrays), or a number (a reduction such as `dot`). */
  readonly returns?: 'number';
}

// Argument constructors: short, so that a kernel's declaration fits on a few lines. Their types keep each
// argument's kind (and whether an array is optional), from which names.ts derives a kernel's TypeScript
// signature (`SpecSignature`).
/** A float array argument of kind K; `optional: true` (O) lets it be null. */
export interface ArrayArgSpec<K extends 'read' | 'write' = 'read' | 'write', O extends boolean = boolean> {
  readonly kind: K;
  readonly name: string;
  readonly length?: string;
  readonly optional?: O;
  readonly inPlace?: readonly string[];
}
type Scalar<K extends 'size' | 'positive' | 'num'> = { readonly kind: K; readonly name: string };
const read = <O extends boolean = false>(name: string, length?: string, more?: { optional?: O; inPlace?: readonly string[] }): ArrayArgSpec<'read', O> => ({ kind: 'read', name, length, ...more });
const write = <O extends boolean = false>(name: string, length?: string, more?: { optional?: O; inPlace?: readonly string[] }): ArrayArgSpec<'write', O> => ({ kind: 'write', name, length, ...more });
const indices = (name: string, length: string, bound: string) => ({ kind: 'indices', name, length, bound }) as const;
const indicesOut = (name: string, length: string) => ({ kind: 'indicesOut', name, length }) as const;
const size = (name: string): Scalar<'size'> => ({ kind: 'size', name });
const positive = (name: string): Scalar<'positive'> => ({ kind: 'positive', name });
const num = (name: string): Scalar<'num'> => ({ kind: 'num', name });
const op = <O extends 'unary' | 'binary'>(ops: O) => ({ kind: 'op', name: 'op', ops }) as const;
const sizes = <N extends string[]>(...names: N) => names.map(size) as { readonly [I in keyof N]: Scalar<'size'> };
const nums = <N extends string[]>(...names: N) => names.map(num) as { readonly [I in keyof N]: Scalar<'num'> };
/** An optimizer's state array: written, param's length. */
const state = <O extends boolean = false>(name: string, optional?: O) => write<O>(name, 'param', { optional: (optional ?? false) as O });
const conv = (name: string, sz: string, k: string, stride: string, pad: string): ConvSize => ({ name, size: sz, k, stride, pad });
/** conv2d's sizes: n images of [c, h, w], o filters of [c, kh, kw]. */
const CONV_LAYER = [...sizes('n', 'c', 'h', 'w', 'o'), positive('kh'), positive('kw'), positive('stride'), size('pad')] as const;
const CONV_OUT = [conv('oh', 'h', 'kh', 'stride', 'pad'), conv('ow', 'w', 'kw', 'stride', 'pad')];
const CONV_IMAGE = [...sizes('c', 'h', 'w'), positive('kh'), positive('kw'), positive('stride'), size('pad')] as const;

const cheap = (by: string): Cutoff => ({ class: 'cheapElementwise', by });
const transcendental = (by: string): Cutoff => ({ class: 'transcendental', by });
const reduce = (by: string): Cutoff => ({ class: 'reduce', by });
const NATIVE: Cutoff = { class: 'native' };

/**
 * Every kernel, in table order (KERNEL_NAMES). The argument names are names.ts's (error messages and the
 * aliasing contract use them). A kernel's TypeScript signature is derived from its entry (names.ts,
 * `SpecSignature`): a kernel documented in names.ts's KernelTable is checked by the compiler to have that
 * signature; a new one needs no entry there. test/kernels/specs.test.ts checks each entry has as many
 * arguments as its JS kernel.
 */
const SPECS = {
  gemm: {
    args: [{ kind: 'flag', name: 'transA' }, { kind: 'flag', name: 'transB' }, ...sizes('m', 'n', 'k'), { kind: 'finite', name: 'alpha' },
      read('a', 'm*k'), read('b', 'k*n'), { kind: 'finite', name: 'beta' }, write('c', 'm*n')],
    cutoff: { class: 'gemm', by: 'm*n*k' },
  },
  unary: { args: [op('unary'), read('x'), write('out', 'x', { inPlace: ['x'] })], cutoff: { class: 'cheapElementwise', by: 'x', perOp: true } },
  unaryBackward: {
    args: [op('unary'), read('x', 'g'), read('y', 'g'), read('g'), write('out', 'g', { inPlace: ['x', 'y', 'g'] })],
    cutoff: cheap('g'),
  },
  binary: { args: [op('binary'), read('a'), read('b', 'a'), write('out', 'a', { inPlace: ['a', 'b'] })], cutoff: cheap('a') },
  binaryScalar: { args: [op('binary'), read('a'), num('s'), write('out', 'a', { inPlace: ['a'] })], cutoff: cheap('a') },
  axpy: { args: [num('alpha'), read('x'), write('y', 'x', { inPlace: ['x'] })], cutoff: cheap('x') },
  axpby: { args: [num('alpha'), read('x'), num('beta'), read('y', 'x'), write('out', 'x', { inPlace: ['x', 'y'] })], cutoff: cheap('x') },
  sgdMomentum: {
    args: [write('param'), read('grad', 'param'), state('buf'), ...nums('lr', 'momentum', 'dampening'), { kind: 'bool', name: 'nesterov' }],
    cutoff: cheap('param'),
  },
  adam: {
    args: [write('param'), read('grad', 'param'), state('m'), state('v'), state('vmax', true), ...nums('beta1', 'beta2', 'stepSize', 'bc2Sqrt', 'eps')],
    cutoff: transcendental('param'),
  },
  rmsprop: {
    args: [write('param'), read('grad', 'param'), state('sq'), state('gAvg', true), state('buf', true), ...nums('lr', 'alpha', 'eps', 'momentum')],
    cutoff: transcendental('param'),
  },
  adagrad: { args: [write('param'), read('grad', 'param'), state('sum'), num('clr'), num('eps')], cutoff: transcendental('param') },
  adamax: {
    args: [write('param'), read('grad', 'param'), state('m'), state('u'), ...nums('beta1', 'beta2', 'stepSize', 'eps')],
    cutoff: cheap('param'),
  },
  adadelta: {
    args: [write('param'), read('grad', 'param'), state('sq'), state('acc'), ...nums('lr', 'rho', 'eps')],
    cutoff: transcendental('param'),
  },
  rprop: {
    args: [write('param'), read('grad', 'param'), state('prev'), state('stepSize'), ...nums('etaminus', 'etaplus', 'minStep', 'maxStep')],
    cutoff: cheap('param'),
  },
  asgd: { args: [write('param'), read('grad', 'param'), state('ax'), num('decay'), num('eta'), num('mu')], cutoff: cheap('param') },
  fill: { args: [write('out'), num('value')], cutoff: cheap('out') },
  sumAll: { args: [read('x')], cutoff: reduce('x'), returns: 'number' },
  dot: { args: [read('a'), read('b', 'a')], cutoff: reduce('a'), returns: 'number' },
  sumAxis: { args: [read('x', 'outer*n*inner'), size('outer'), size('n'), size('inner'), write('out', 'outer*inner')], cutoff: reduce('x') },
  maxAxis: {
    args: [read('x', 'outer*n*inner'), size('outer'), positive('n'), size('inner'), write('out', 'outer*inner'), indicesOut('argmax', 'outer*inner')],
    cutoff: reduce('x'),
  },
  broadcastAxis: { args: [read('x', 'outer*inner'), size('outer'), size('n'), size('inner'), write('out', 'outer*n*inner')], cutoff: reduce('out') },
  scatterAxis: {
    args: [read('g', 'outer*inner'), indices('idx', 'outer*inner', 'n'), size('outer'), size('n'), size('inner'), write('out', 'outer*n*inner')],
    cutoff: NATIVE,
  },
  gather: { args: [read('x', 'rows*cols'), size('rows'), size('cols'), indices('idx', 'rows', 'cols'), write('out', 'rows')], cutoff: NATIVE },
  transpose: { args: [read('x', 'rows*cols'), size('rows'), size('cols'), write('out', 'rows*cols')], cutoff: reduce('x') },
  softmax: { args: [read('x', 'rows*cols'), size('rows'), size('cols'), write('out', 'rows*cols')], cutoff: NATIVE },
  softmaxBackward: { args: [read('y', 'rows*cols'), read('g', 'rows*cols'), size('rows'), size('cols'), write('out', 'rows*cols')], cutoff: NATIVE },
  logSoftmax: { args: [read('x', 'rows*cols'), size('rows'), size('cols'), write('out', 'rows*cols')], cutoff: NATIVE },
  logSoftmaxBackward: { args: [read('y', 'rows*cols'), read('g', 'rows*cols'), size('rows'), size('cols'), write('out', 'rows*cols')], cutoff: NATIVE },
  crossEntropy: {
    args: [read('x', 'rows*cols'), size('rows'), size('cols'), indices('targets', 'rows', 'cols'), write('losses', 'rows'), write('probs', 'rows*cols')],
    cutoff: NATIVE,
  },
  crossEntropyBackward: {
    args: [read('probs', 'rows*cols'), indices('targets', 'rows', 'cols'), read('scale', 'rows'), size('rows'), size('cols'), write('out', 'rows*cols')],
    cutoff: NATIVE,
  },
  im2col: {
    args: [read('x', 'c*h*w'), ...CONV_IMAGE, write('out', 'c*kh*kw*oh*ow')],
    conv: CONV_OUT,
    cutoff: NATIVE,
  },
  col2im: {
    args: [read('cols', 'c*kh*kw*oh*ow'), ...CONV_IMAGE, write('out', 'c*h*w')],
    conv: CONV_OUT,
    cutoff: NATIVE,
  },
  conv2d: {
    args: [read('x', 'n*c*h*w'), read('weight', 'o*c*kh*kw'), read('bias', 'o', { optional: true }), ...CONV_LAYER, write('out', 'n*o*oh*ow')],
    conv: CONV_OUT,
    cutoff: NATIVE,
  },
  conv2dBackwardWeight: {
    args: [read('x', 'n*c*h*w'), read('g', 'n*o*oh*ow'), ...CONV_LAYER, write('gw', 'o*c*kh*kw')],
    conv: CONV_OUT,
    cutoff: NATIVE,
  },
  conv2dBackwardInput: {
    args: [read('g', 'n*o*oh*ow'), read('weight', 'o*c*kh*kw'), ...CONV_LAYER, write('gx', 'n*c*h*w')],
    conv: CONV_OUT,
    cutoff: NATIVE,
  },
  maxPool2d: {
    args: [read('x', 'planes*h*w'), ...sizes('planes', 'h', 'w'), positive('k'), positive('stride'), write('out', 'planes*oh*ow'), indicesOut('argmax', 'planes*oh*ow')],
    conv: [conv('oh', 'h', 'k', 'stride', '0'), conv('ow', 'w', 'k', 'stride', '0')],
    cutoff: NATIVE,
  },
  maxPool2dBackward: {
    args: [read('g', 'planes*oh*ow'), indices('argmax', 'planes*oh*ow', 'h*w'), ...sizes('planes', 'h', 'w', 'oh', 'ow'), write('out', 'planes*h*w')],
    cutoff: NATIVE,
  },
} as const satisfies { readonly [name: string]: KernelSpec };

/** The declarations' exact types (each argument's kind), from which names.ts derives the kernels' signatures. */
export type KernelSpecs = typeof SPECS;

/** Every kernel's declaration, by name (SPECS, seen through the KernelSpec interface). */
export const KERNEL_SPECS: { readonly [K in keyof KernelSpecs]: KernelSpec } = SPECS;

/** The array arguments of a spec (float and index), in argument order. */
export function arrayArgs(spec: KernelSpec): Extract<ArgSpec, { kind: 'read' | 'write' | 'indices' | 'indicesOut' }>[] {
  return spec.args.filter((a): a is Extract<ArgSpec, { kind: 'read' | 'write' | 'indices' | 'indicesOut' }> =>
    a.kind === 'read' || a.kind === 'write' || a.kind === 'indices' || a.kind === 'indicesOut');
}

/** Whether an array argument is written by the kernel. */
export function isWritten(a: ArgSpec): boolean {
  return a.kind === 'write' || a.kind === 'indicesOut';
}
