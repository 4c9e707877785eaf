/**
 * Elementwise functions `Y = f(X)`.
 *
 * The course's derivation for any elementwise function: each output depends only on the input at the same
 * position, so the Jacobian is diagonal and the chain rule reduces to `dL/dX = G * f'(X)`, elementwise.
 * The kernel `unaryBackward` computes `G * f'(X)` from whichever of X and Y is cheaper.
 */
import type { NDArray } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels, type UnaryOp } from '../kernels';
import { uninitialized } from './util';

/** Shared body of the elementwise functions: subclasses name their kernel. */
export abstract class ElementwiseFunction extends Op {
  static readonly kernel: UnaryOp;

  static override forward(context: Context, x: NDArray): NDArray {
    const out = uninitialized(x);
    kernels.unary(this.kernel, x.data, out.data);
    context.x = x;
    context.y = out;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const gx = uninitialized(g);
    kernels.unaryBackward(this.kernel, (context.x as NDArray).data, (context.y as NDArray).data, g.data, gx.data);
    return [gx];
  }
}

/** Natural logarithm. Gradient: dL/dX = G / X. */
export class Log extends ElementwiseFunction {
  static override readonly kernel = 'log';
}

/** Exponential. Gradient: dL/dX = G * exp(X) = G * Y. */
export class Exp extends ElementwiseFunction {
  static override readonly kernel = 'exp';
}

/**
 * Logistic sigmoid, `Y = 1 / (1 + exp(-X))`, computed without overflow for large negative X.
 * Gradient: dL/dX = G * Y * (1 - Y). PyTorch: `torch.sigmoid`.
 */
export class Sigmoid extends ElementwiseFunction {
  static override readonly kernel = 'sigmoid';
}

/** Rectified linear unit, `Y = max(X, 0)`. Gradient: dL/dX = G where X > 0, else 0. PyTorch: `torch.relu`. */
export class ReLU extends ElementwiseFunction {
  static override readonly kernel = 'relu';
}

/** Hyperbolic tangent. Gradient: dL/dX = G * (1 - Y^2). */
export class Tanh extends ElementwiseFunction {
  static override readonly kernel = 'tanh';
}

/** Negation, `Y = -X`. Gradient: dL/dX = -G. */
export class Neg extends ElementwiseFunction {
  static override readonly kernel = 'neg';
}

/** Square root. Gradient: dL/dX = G / (2 Y). */
export class Sqrt extends ElementwiseFunction {
  static override readonly kernel = 'sqrt';
}

/** Elementwise square, `Y = X^2`. Gradient: dL/dX = 2 X G. */
export class Square extends ElementwiseFunction {
  static override readonly kernel = 'square';
}

/** Absolute value. Gradient: dL/dX = G * sign(X) (0 at 0, as PyTorch). */
export class Abs extends ElementwiseFunction {
  static override readonly kernel = 'abs';
}

/**
 * Identity, `Y = X` (a new node with the same value). Gradient: dL/dX = G.
 * Useful to give a value a second name in the graph, as the course does.
 */
export class Id extends Op {
  static override forward(_context: Context, x: NDArray): NDArray {
    return x;
  }

  static override backward(_context: Context, g: NDArray): Grads {
    return [g];
  }
}
