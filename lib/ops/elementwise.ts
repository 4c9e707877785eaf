/**
 * Elementwise arithmetic of two tensors of the same shape, and of a tensor and a number.
 *
 * Throughout, G is the gradient of the loss with respect to the op's output, so the chain rule gives each
 * input's gradient as G times the local derivative, elementwise.
 */
import { NDArray } from '../core/ndarray';
import { Op, type Context, type Grads } from '../core/op';
import { kernels } from '../kernels';
import { checkSameShape, like } from './util';

/**
 * Elementwise addition, `Z = X + Y`.
 *
 * Gradient: dL/dX = G and dL/dY = G (addition passes the gradient through unchanged).
 *
 * @example const z = Add.doForward(x, y);  // same as x.add(y)
 */
export class Add extends Op {
  static override forward(_context: Context, x: NDArray, y: NDArray): NDArray {
    checkSameShape('add', x, y);
    const out = like(x);
    kernels.binary('add', x.data, y.data, out.data);
    return out;
  }

  static override backward(_context: Context, g: NDArray): Grads {
    return [g, g];
  }
}

/**
 * Elementwise subtraction, `Z = X - Y`.
 *
 * Gradient: dL/dX = G and dL/dY = -G.
 */
export class Sub extends Op {
  static override forward(_context: Context, x: NDArray, y: NDArray): NDArray {
    checkSameShape('sub', x, y);
    const out = like(x);
    kernels.binary('sub', x.data, y.data, out.data);
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    let gy: NDArray | null = null;
    if (context.needsInputGrad[1]) {
      gy = like(g);
      kernels.unary('neg', g.data, gy.data);
    }
    return [g, gy];
  }
}

/**
 * Elementwise (Hadamard) product, `Z = X * Y`.
 *
 * Gradient: dL/dX = G * Y and dL/dY = G * X.
 */
export class Multiply extends Op {
  static override forward(context: Context, x: NDArray, y: NDArray): NDArray {
    checkSameShape('mul', x, y);
    context.x = x;
    context.y = y;
    const out = like(x);
    kernels.binary('mul', x.data, y.data, out.data);
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const x = context.x as NDArray;
    const y = context.y as NDArray;
    let gx: NDArray | null = null;
    let gy: NDArray | null = null;
    if (context.needsInputGrad[0]) {
      gx = like(g);
      kernels.binary('mul', g.data, y.data, gx.data);
    }
    if (context.needsInputGrad[1]) {
      gy = like(g);
      kernels.binary('mul', g.data, x.data, gy.data);
    }
    return [gx, gy];
  }
}

/**
 * Elementwise division, `Z = X / Y`.
 *
 * Gradient (the course's worked example): dL/dX = G / Y and dL/dY = -G X / Y^2 (which is -G Z / Y).
 */
export class Div extends Op {
  static override forward(context: Context, x: NDArray, y: NDArray): NDArray {
    checkSameShape('div', x, y);
    const out = like(x);
    kernels.binary('div', x.data, y.data, out.data);
    context.y = y;
    context.z = out;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const y = context.y as NDArray;
    const z = context.z as NDArray;
    let gx: NDArray | null = null;
    let gy: NDArray | null = null;
    if (context.needsInputGrad[0] || context.needsInputGrad[1]) {
      gx = like(g);
      kernels.binary('div', g.data, y.data, gx.data); // G / Y
    }
    if (context.needsInputGrad[1]) {
      gy = like(g);
      kernels.binary('mul', (gx as NDArray).data, z.data, gy.data); // (G / Y) * (X / Y)
      kernels.unary('neg', gy.data, gy.data);
    }
    return [context.needsInputGrad[0] ? gx : null, gy];
  }
}

/**
 * Adds a constant number, `Z = X + c`. The number is an option, not a graph input.
 *
 * Gradient: dL/dX = G.
 */
export class AddScalar extends Op {
  static override forward(_context: Context, x: NDArray, options: { value: number }): NDArray {
    const out = like(x);
    kernels.binaryScalar('add', x.data, options.value, out.data);
    return out;
  }

  static override backward(_context: Context, g: NDArray): Grads {
    return [g];
  }
}

/**
 * Multiplies by a constant number, `Z = c X`.
 *
 * Gradient: dL/dX = c G.
 */
export class MulScalar extends Op {
  static override forward(context: Context, x: NDArray, options: { value: number }): NDArray {
    context.value = options.value;
    const out = like(x);
    kernels.binaryScalar('mul', x.data, options.value, out.data);
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const gx = like(g);
    kernels.binaryScalar('mul', g.data, context.value as number, gx.data);
    return [gx];
  }
}

/**
 * Divides a constant number by a tensor, `Z = c / X` (what `2 / x` means).
 *
 * Gradient: dL/dX = -c G / X^2 = -G Z / X.
 */
export class ScalarDiv extends Op {
  static override forward(context: Context, x: NDArray, options: { value: number }): NDArray {
    const out = like(x);
    kernels.unary('reciprocal', x.data, out.data);
    kernels.binaryScalar('mul', out.data, options.value, out.data);
    context.x = x;
    context.z = out;
    return out;
  }

  static override backward(context: Context, g: NDArray): Grads {
    const gx = like(g);
    kernels.binary('mul', g.data, (context.z as NDArray).data, gx.data);
    kernels.binary('div', gx.data, (context.x as NDArray).data, gx.data);
    kernels.unary('neg', gx.data, gx.data);
    return [gx];
  }
}
