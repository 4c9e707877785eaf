/**
 * Valid arguments for every kernel of the table, from a few random sizes and a value source: the fuzz suite
 * (test/kernels/fuzz.test.ts) starts from these and then breaks them (wrong lengths and types, detached,
 * resizable, shared or overlapping buffers). Argument names match names.ts (KERNEL_ALIASING uses them).
 */
import { convOutputSize, type KernelName, type UnaryOp, type BinaryOp } from '../../../lib/kernels/names';
import { BINARY_OPS, KERNEL_SPECS, UNARY_OPS } from '../../../lib/kernels/specs';

export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Random small sizes and choices, drawn by fast-check. */
export interface Dims {
  /** Six sizes, each in [0, 6]. */
  s: number[];
  /** A larger size, so that calls cross the native backend's small-input cut-offs (0..300). */
  big: number;
  useBig: boolean;
  flags: boolean[];
  /** An index into small lists (ops, scalars). */
  pick: number[];
}

/** One argument: an array to be made from `values` (with its kind), or a plain value. */
export type ArgSpec =
  | { name: string; kind: 'float'; length: number; role?: Role }
  | { name: string; kind: 'int'; length: number; bound: number }
  | { name: string; kind: 'value'; value: unknown };

/**
 * How values are shaped: 'positive' (|x|, a second moment), 'atLeastHalf' (|x| + 0.5) and 'small' (x / 10),
 * so that centered RMSprop's `sq - gAvg^2` is well away from 0, as an optimizer's real state is: random state
 * there cancels, and float32 and double disagree by far more than rounding.
 */
export type Role = 'positive' | 'atLeastHalf' | 'small';

export interface CallSpec {
  kernel: KernelName;
  args: ArgSpec[];
}

/** Every op, in code order (specs.ts). */
const UNARY: readonly UnaryOp[] = UNARY_OPS;
const BINARY: readonly BinaryOp[] = BINARY_OPS;
/** Scalars: ordinary values, zero, and the special ones. */
export const SCALARS = [1, 0.5, -2, 0.1, 0, 0.9, 1e-8, -0, NaN, Infinity, -Infinity];

function f(name: string, length: number, role?: Role): ArgSpec {
  return { name, kind: 'float', length, role };
}
function int(name: string, length: number, bound: number): ArgSpec {
  return { name, kind: 'int', length, bound };
}
function v(name: string, value: unknown): ArgSpec {
  return { name, kind: 'value', value };
}

/** The valid call of `kernel` for these dims. */
export function specFor(kernel: KernelName, d: Dims): CallSpec {
  const s = d.s;
  const p = (i: number, list: readonly unknown[]) => list[d.pick[i] % list.length];
  const sc = (i: number) => p(i, SCALARS) as number;
  // Usual scalars (finite) for the optimizer's rates, where NaN would only make every output NaN.
  const rate = (i: number) => p(i, [0.1, 0.5, 0.9, 0.99, 1, 0]) as number;
  const n = d.useBig ? d.big : s[0];
  const args = ((): ArgSpec[] => {
    switch (kernel) {
      case 'gemm': {
        const [m, nn, k] = d.useBig ? [s[0] * 2 + 1, s[1] * 2 + 1, s[2] * 3] : [s[0], s[1], s[2]];
        return [
          v('transA', d.flags[0]), v('transB', d.flags[1]), v('m', m), v('n', nn), v('k', k), v('alpha', sc(0)),
          f('a', m * k), f('b', k * nn), v('beta', sc(1)), f('c', m * nn),
        ];
      }
      case 'unary':
        return [v('op', p(0, UNARY)), f('x', n), f('out', n)];
      case 'unaryBackward':
        return [v('op', p(0, UNARY)), f('x', n), f('y', n), f('g', n), f('out', n)];
      case 'binary':
        return [v('op', p(0, BINARY)), f('a', n), f('b', n), f('out', n)];
      case 'binaryScalar':
        return [v('op', p(0, BINARY)), f('a', n), v('s', sc(1)), f('out', n)];
      case 'axpy':
        return [v('alpha', sc(0)), f('x', n), f('y', n)];
      case 'axpby':
        return [v('alpha', sc(0)), f('x', n), v('beta', sc(1)), f('y', n), f('out', n)];
      case 'sgdMomentum':
        return [f('param', n), f('grad', n), f('buf', n), v('lr', rate(0)), v('momentum', rate(1)), v('dampening', rate(2)), v('nesterov', d.flags[0])];
      case 'adam':
        return [
          f('param', n), f('grad', n), f('m', n), f('v', n, 'positive'), d.flags[0] ? f('vmax', n, 'positive') : v('vmax', null),
          v('beta1', rate(0)), v('beta2', rate(1)), v('stepSize', rate(2)), v('bc2Sqrt', rate(3) || 0.5), v('eps', 1e-8),
        ];
      case 'rmsprop':
        return [
          f('param', n), f('grad', n), f('sq', n, 'atLeastHalf'), d.flags[0] ? f('gAvg', n, 'small') : v('gAvg', null),
          // alpha = 0 would make the centered sq - gAvg^2 exactly g^2 - g^2: rounding noise under a square root.
          d.flags[1] ? f('buf', n) : v('buf', null), v('lr', rate(0)), v('alpha', p(1, [0.1, 0.5, 0.9, 0.99, 1]) as number), v('eps', 1e-8), v('momentum', rate(2)),
        ];
      case 'adagrad':
        return [f('param', n), f('grad', n), f('sum', n, 'positive'), v('clr', rate(0)), v('eps', 1e-10)];
      case 'adamax':
        return [f('param', n), f('grad', n), f('m', n), f('u', n, 'positive'), v('beta1', rate(0)), v('beta2', rate(1)), v('stepSize', rate(2)), v('eps', 1e-8)];
      case 'adadelta':
        return [f('param', n), f('grad', n), f('sq', n, 'positive'), f('acc', n, 'positive'), v('lr', rate(0)), v('rho', rate(1)), v('eps', 1e-6)];
      case 'rprop':
        return [f('param', n), f('grad', n), f('prev', n), f('stepSize', n, 'positive'), v('etaminus', 0.5), v('etaplus', 1.2), v('minStep', 1e-6), v('maxStep', 50)];
      case 'asgd':
        return [f('param', n), f('grad', n), f('ax', n), v('decay', rate(0)), v('eta', rate(1)), v('mu', p(2, [1, 0.5, 0.01]))];
      case 'fill':
        return [f('out', n), v('value', sc(0))];
      case 'sumAll':
        return [f('x', n)];
      case 'dot':
        return [f('a', n), f('b', n)];
      case 'sumAxis':
      case 'broadcastAxis':
      case 'maxAxis':
      case 'scatterAxis': {
        const outer = s[0];
        const mid = kernel === 'maxAxis' || kernel === 'scatterAxis' ? s[1] + 1 : s[1];
        const inner = d.useBig ? d.big : s[2];
        if (kernel === 'sumAxis') return [f('x', outer * mid * inner), v('outer', outer), v('n', mid), v('inner', inner), f('out', outer * inner)];
        if (kernel === 'broadcastAxis') return [f('x', outer * inner), v('outer', outer), v('n', mid), v('inner', inner), f('out', outer * mid * inner)];
        if (kernel === 'maxAxis') return [f('x', outer * mid * inner), v('outer', outer), v('n', mid), v('inner', inner), f('out', outer * inner), int('argmax', outer * inner, 1)];
        return [f('g', outer * inner), int('idx', outer * inner, mid), v('outer', outer), v('n', mid), v('inner', inner), f('out', outer * mid * inner)];
      }
      case 'gather': {
        const rows = d.useBig ? d.big : s[0];
        const cols = s[1] + 1;
        return [f('x', rows * cols), v('rows', rows), v('cols', cols), int('idx', rows, cols), f('out', rows)];
      }
      case 'transpose':
      case 'softmax':
      case 'logSoftmax': {
        const rows = d.useBig ? d.big : s[0];
        const cols = s[1];
        return [f('x', rows * cols), v('rows', rows), v('cols', cols), f('out', rows * cols)];
      }
      case 'softmaxBackward':
      case 'logSoftmaxBackward': {
        const rows = d.useBig ? d.big : s[0];
        const cols = s[1];
        return [f('y', rows * cols), f('g', rows * cols), v('rows', rows), v('cols', cols), f('out', rows * cols)];
      }
      case 'crossEntropy':
      case 'crossEntropyBackward': {
        const rows = d.useBig ? d.big : s[0];
        const cols = s[1] + 1;
        if (kernel === 'crossEntropy') {
          return [f('x', rows * cols), v('rows', rows), v('cols', cols), int('targets', rows, cols), f('losses', rows), f('probs', rows * cols)];
        }
        return [f('probs', rows * cols, 'positive'), int('targets', rows, cols), f('scale', rows), v('rows', rows), v('cols', cols), f('out', rows * cols)];
      }
      case 'im2col':
      case 'col2im':
      case 'conv2d':
      case 'conv2dBackwardWeight':
      case 'conv2dBackwardInput': {
        const pad = s[4] % 3;
        const kh = 1 + (s[3] % 3);
        const kw = 1 + (s[5] % 3);
        const stride = 1 + (d.pick[1] % 2);
        const h = Math.max(0, kh - 2 * pad) + s[1];
        const w = Math.max(0, kw - 2 * pad) + s[2];
        const c = s[0] % 4;
        const oh = convOutputSize(h, kh, stride, pad);
        const ow = convOutputSize(w, kw, stride, pad);
        const image = c * h * w;
        const colsLen = c * kh * kw * oh * ow;
        if (kernel === 'im2col') return [f('x', image), v('c', c), v('h', h), v('w', w), v('kh', kh), v('kw', kw), v('stride', stride), v('pad', pad), f('out', colsLen)];
        if (kernel === 'col2im') return [f('cols', colsLen), v('c', c), v('h', h), v('w', w), v('kh', kh), v('kw', kw), v('stride', stride), v('pad', pad), f('out', image)];
        const nb = d.pick[2] % 3;
        const o = d.pick[3] % 4;
        const sizes = [v('n', nb), v('c', c), v('h', h), v('w', w), v('o', o), v('kh', kh), v('kw', kw), v('stride', stride), v('pad', pad)];
        if (kernel === 'conv2d') {
          return [f('x', nb * image), f('weight', o * c * kh * kw), d.flags[0] ? f('bias', o) : v('bias', null), ...sizes, f('out', nb * o * oh * ow)];
        }
        if (kernel === 'conv2dBackwardWeight') return [f('x', nb * image), f('g', nb * o * oh * ow), ...sizes, f('gw', o * c * kh * kw)];
        return [f('g', nb * o * oh * ow), f('weight', o * c * kh * kw), ...sizes, f('gx', nb * image)];
      }
      case 'maxPool2d':
      case 'maxPool2dBackward': {
        const k = 1 + (s[3] % 3);
        const stride = 1 + (d.pick[1] % 3);
        const h = k + s[1];
        const w = k + s[2];
        const planes = s[0];
        const oh = convOutputSize(h, k, stride, 0);
        const ow = convOutputSize(w, k, stride, 0);
        if (kernel === 'maxPool2d') {
          return [f('x', planes * h * w), v('planes', planes), v('h', h), v('w', w), v('k', k), v('stride', stride), f('out', planes * oh * ow), int('argmax', planes * oh * ow, 1)];
        }
        return [f('g', planes * oh * ow), int('argmax', planes * oh * ow, h * w), v('planes', planes), v('h', h), v('w', w), v('oh', oh), v('ow', ow), f('out', planes * h * w)];
      }
      default:
        return elementwiseCall(kernel, n, sc, d.flags, p);
    }
  })();
  return { kernel, args };
}

/**
 * A valid call of an elementwise kernel that has no case above, from its declaration (KERNEL_SPECS): every array
 * of length n, numbers from SCALARS, ops and booleans drawn. A kernel with sizes or index arrays needs a case.
 */
function elementwiseCall(
  kernel: KernelName, n: number, sc: (i: number) => number, flags: boolean[], p: (i: number, list: readonly unknown[]) => unknown,
): ArgSpec[] {
  let scalar = 0;
  return KERNEL_SPECS[kernel].args.map((a): ArgSpec => {
    switch (a.kind) {
      case 'read':
      case 'write':
        return a.optional && flags[1] ? v(a.name, null) : f(a.name, n);
      case 'num':
      case 'finite':
        return v(a.name, sc(scalar++ % 2));
      case 'op':
        return v(a.name, p(0, a.ops === 'unary' ? UNARY : BINARY));
      case 'bool':
      case 'flag':
        return v(a.name, flags[0]);
      default:
        throw new Error(`fuzz specFor: ${kernel} has ${a.kind} arguments; give it a case`);
    }
  });
}
