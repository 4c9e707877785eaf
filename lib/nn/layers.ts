/**
 * The layers: Linear, Conv2d, MaxPool2d, Flatten, the activations, Dropout and Sequential, with PyTorch's
 * layouts and defaults so that weights carry over (`weight [out, in]`, `weight [out, in, kh, kw]`, NCHW).
 *
 * @example
 * const net = new Sequential(new Flatten(), new Linear(784, 100), new ReLU(), new Linear(100, 10));
 * const logits = net.call(x);
 */
import { NDArray, shapeString, type DType } from '../core/ndarray';
import { globalRandom, type Random } from '../core/random';
import { TensorNode } from '../core/tensor-node';
import { Conv2dOp, MaxPool2dOp } from '../ops/conv';
import { LinearOp, linear, type LinearActivation } from '../ops/linear';
import '../ops/tensor-methods';
import { initLayer, type InitName, type Initializer } from './init';
import { Module, type ModuleEntry } from './module';

export interface LayerOptions {
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** Weight initializer, by name or as a function (default `'default'`: PyTorch's). See `initLayer`. */
  init?: InitName | Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Random source for initialisation (default `globalRandom`). */
  random?: Random;
}

/** Throws a RangeError naming the layer unless every size is a positive integer. */
function checkSizes(layer: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${layer}: ${name} must be a positive integer, got ${v} (${Object.entries(sizes).map(([k, x]) => `${k} ${x}`).join(', ')})`);
    }
  }
}

/**
 * Fully connected layer, `y = x W^T + b`, with weight `[outFeatures, inFeatures]` and bias `[outFeatures]`,
 * both initialised as PyTorch's `nn.Linear` unless `init` says otherwise. Input `[..., inFeatures]`.
 */
export class Linear extends Module {
  weight: TensorNode;
  bias: TensorNode | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    super();
    checkSizes('Linear', { inFeatures, outFeatures });
    const { weight, bias } = initLayer(
      [outFeatures, inFeatures],
      options.bias === false ? null : [outFeatures],
      options.init,
      options,
      `Linear(${inFeatures} -> ${outFeatures})`,
    );
    this.weight = this.param('weight', weight);
    this.bias = bias === null ? null : this.param('bias', bias);
  }

  forward(x: TensorNode): TensorNode {
    return this.bias === null ? LinearOp.doForward(x, this.weight) : LinearOp.doForward(x, this.weight, this.bias);
  }

  /** `activation(this(x))` as one op (see LinearOp): what MLP runs between its layers. */
  forwardActivated(x: TensorNode, activation: LinearActivation): TensorNode {
    return linear(x, this.weight, this.bias, activation);
  }

  protected override describe(): string {
    return `Linear(in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null})`;
  }
}

export interface Conv2dLayerOptions extends LayerOptions {
  stride?: number;
  padding?: number;
}

/**
 * 2-D convolution layer on NCHW input: weight `[outChannels, inChannels, kh, kw]`, bias `[outChannels]`,
 * initialised as PyTorch's `nn.Conv2d` unless `init` says otherwise. `kernelSize` is a number (square) or
 * `[kh, kw]`; stride and padding are the same along both axes.
 */
export class Conv2d extends Module {
  weight: TensorNode;
  bias: TensorNode | null;
  readonly kernelSize: [number, number];
  readonly stride: number;
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    options: Conv2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const [kh, kw] = this.kernelSize;
    checkSizes('Conv2d', { inChannels, outChannels, kernelHeight: kh, kernelWidth: kw, stride: this.stride });
    if (!Number.isInteger(this.padding) || this.padding < 0) {
      throw new RangeError(`Conv2d: padding must be a non-negative integer, got ${this.padding}`);
    }
    const { weight, bias } = initLayer(
      [outChannels, inChannels, kh, kw],
      options.bias === false ? null : [outChannels],
      options.init,
      options,
      `Conv2d(${inChannels} -> ${outChannels}, ${kh}x${kw})`,
    );
    this.weight = this.param('weight', weight);
    this.bias = bias === null ? null : this.param('bias', bias);
  }

  forward(x: TensorNode): TensorNode {
    const options = { stride: this.stride, padding: this.padding };
    return this.bias === null
      ? Conv2dOp.doForward(x, this.weight, options)
      : Conv2dOp.doForward(x, this.weight, this.bias, options);
  }

  protected override describe(): string {
    const [kh, kw] = this.kernelSize;
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernel=${kh}x${kw}, stride=${this.stride}, padding=${this.padding})`;
  }
}

/** Max-pooling over `kernel x kernel` windows, step `stride` (default: the kernel), no padding. */
export class MaxPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride: number = kernel,
  ) {
    super();
    checkSizes('MaxPool2d', { kernel, stride });
  }

  forward(x: TensorNode): TensorNode {
    return MaxPool2dOp.doForward(x, { kernel: this.kernel, stride: this.stride });
  }

  protected override describe(): string {
    return `MaxPool2d(kernel=${this.kernel}, stride=${this.stride})`;
  }
}

/** Flattens every axis from `startDim` (default 1) on: `[N, C, H, W] -> [N, C*H*W]`. PyTorch: `nn.Flatten`. */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }

  forward(x: TensorNode): TensorNode {
    if (x.shape.length < this.startDim) {
      throw new RangeError(`Flatten: input of shape ${shapeString(x.shape)} has no axis ${this.startDim}`);
    }
    return x.reshape([...x.shape.slice(0, this.startDim), -1]);
  }
}

/** max(x, 0) elementwise. */
export class ReLU extends Module {
  forward(x: TensorNode): TensorNode {
    return x.relu();
  }
}

/** The logistic sigmoid elementwise. */
export class Sigmoid extends Module {
  forward(x: TensorNode): TensorNode {
    return x.sigmoid();
  }
}

/** tanh elementwise. */
export class Tanh extends Module {
  forward(x: TensorNode): TensorNode {
    return x.tanh();
  }
}

/**
 * Dropout: in training mode, zeroes each element with probability `p` and scales the survivors by
 * `1 / (1 - p)`, so the expected value is unchanged; in eval mode, the identity. The mask is drawn from the
 * given `Random` (default `globalRandom`, so `manualSeed` makes it reproducible). PyTorch: `nn.Dropout`.
 */
export class Dropout extends Module {
  private readonly _random: Random | undefined;

  constructor(
    readonly p = 0.5,
    random?: Random,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
    this._random = random;
  }

  forward(x: TensorNode): TensorNode {
    if (!this.training || this.p === 0) return x;
    const r = this._random ?? globalRandom;
    const keep = 1 - this.p;
    const mask = NDArray.zeros(x.shape, x.dtype);
    // NOTE: drawing the mask is data generation (like initialisation), not arithmetic on the graph; the
    // multiplication itself is the Multiply op, whose gradient (G * mask) is the dropout gradient.
    for (let i = 0; i < mask.size; i++) mask.data[i] = r.uniform() < keep ? 1 / keep : 0;
    return x.mul(TensorNode.constant(mask));
  }

  protected override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

/**
 * Applies modules one after another. Parameters are named by position, as PyTorch's `nn.Sequential`
 * (`0.weight`, `2.bias`), so a state dict carries over.
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...modules: Module[]) {
    super();
    this.layers = modules;
  }

  forward(x: TensorNode): TensorNode {
    let y = x;
    for (const m of this.layers) y = m.call(y);
    return y;
  }

  protected override namedEntries(): [string, ModuleEntry][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
}
