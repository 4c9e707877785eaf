/**
 * Average-pooling layers: `AvgPool2d` (square windows) and `AdaptiveAvgPool2d` (to a fixed output size; 1 is
 * the global pooling that ends a ResNet). PyTorch: `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d`.
 *
 * @example
 * const pool = new AdaptiveAvgPool2d(1);
 * pool.call(x).shape;   // [N, C, 1, 1] for x of [N, C, H, W]
 */
import type { TensorNode } from '../core/tensor-node';
import { AvgPool2dOp, adaptiveAvgPool2d } from '../ops/pooling-avg';
import { Module } from './module';

/** Average over `kernel x kernel` windows, step `stride` (default: the kernel), zero `padding` counted in the mean. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride: number = kernel,
    readonly padding = 0,
  ) {
    super();
    for (const [name, v, min] of [['kernel', kernel, 1], ['stride', stride, 1], ['padding', padding, 0]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`AvgPool2d: ${name} must be an integer >= ${min}, got ${v}`);
    }
  }

  forward(x: TensorNode): TensorNode {
    return AvgPool2dOp.doForward(x, { kernel: this.kernel, stride: this.stride, padding: this.padding });
  }

  protected override describe(): string {
    return `AvgPool2d(kernel=${this.kernel}, stride=${this.stride}, padding=${this.padding})`;
  }
}

/**
 * Average pooling to `outputSize x outputSize` whatever the input size: 1 (the default) is global average
 * pooling, `[N, C, H, W] -> [N, C, 1, 1]`; larger sizes need a square input they divide.
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize = 1) {
    super();
    if (!Number.isInteger(outputSize) || outputSize < 1) {
      throw new RangeError(`AdaptiveAvgPool2d: outputSize must be a positive integer, got ${outputSize}`);
    }
  }

  forward(x: TensorNode): TensorNode {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override describe(): string {
    return `AdaptiveAvgPool2d(${this.outputSize})`;
  }
}
