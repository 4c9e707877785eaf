/**
 * The course's two networks: a multilayer perceptron and LeNet for CIFAR-shaped images.
 *
 * @example
 * const mlp = new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10, activation: 'relu' });
 * const lenet = new LeNet();                   // 3x32x32 images, 10 classes
 * const loss = crossEntropyLoss(lenet.call(images), labels);
 */
import { AllocationError, checkAllocation, formatBytes, shapeString, type DType } from '../core/ndarray';
import * as os from 'node:os';
import type { Random } from '../core/random';
import type { TensorNode } from '../core/tensor-node';
import { convOutputSize } from '../ops/conv';
import '../ops/tensor-methods';
import type { InitName, Initializer } from './init';
import { Conv2d, Flatten, Linear, MaxPool2d } from './layers';
import { Module } from './module';

export type Activation = 'sigmoid' | 'relu' | 'tanh';

export interface MLPOptions {
  inputSize: number;
  /** Sizes of the hidden layers, in order (may be empty: a linear model). */
  hiddenSizes: number[];
  outputSize: number;
  /** Nonlinearity after each hidden layer (default 'relu'); none after the output layer. */
  activation?: Activation;
  /** Weight initializer (default 'default', PyTorch's). */
  init?: InitName | Initializer;
  dtype?: DType;
  random?: Random;
}

/**
 * Fails before any layer is built when a weight cannot be allocated, or all of them together would not fit in
 * the machine's memory. NOTE: initialising a layer draws one random number per weight (784 x 100000: tens
 * of seconds), so `--hidden 100000,100000` would otherwise spend that long before failing on the next layer.
 */
function checkParameterMemory(sizes: readonly number[], dtype: DType): void {
  let total = 0;
  const parts: string[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const shape = [sizes[i], sizes[i - 1]];
    const what = `Linear(${sizes[i - 1]} -> ${sizes[i]}).weight`;
    try {
      checkAllocation(dtype, sizes[i] * sizes[i - 1], shape, what);
    } catch (e) {
      throw e instanceof AllocationError ? e.named(`MLP layers.${i - 1} = ${what}`) : e;
    }
    const bytes = (sizes[i] * sizes[i - 1] + sizes[i]) * (dtype === 'float64' ? 8 : 4);
    total += bytes;
    parts.push(`${shapeString(shape)} ${formatBytes(bytes)}`);
  }
  if (total > os.totalmem()) {
    throw new AllocationError(
      `MLP ${sizes.join('-')}`,
      dtype,
      total / (dtype === 'float64' ? 8 : 4),
      undefined,
      `more than this machine's ${formatBytes(os.totalmem())} of memory (layers: ${parts.join(', ')}); choose fewer or narrower layers`,
    );
  }
}

function activate(x: TensorNode, activation: Activation): TensorNode {
  if (activation === 'relu') return x.relu();
  if (activation === 'sigmoid') return x.sigmoid();
  return x.tanh();
}

/**
 * A multilayer perceptron: Linear layers of the given sizes with an activation between them. The output layer
 * has no activation: it returns logits (feed them to `crossEntropyLoss`). Input `[batch, inputSize]`.
 * Parameters are `layers.0.weight`, `layers.0.bias`, ..., one Linear per hidden size plus the output layer.
 */
export class MLP extends Module {
  readonly layers: Linear[];
  readonly activation: Activation;

  constructor(options: MLPOptions) {
    super();
    const activation = options.activation ?? 'relu';
    if (activation !== 'relu' && activation !== 'sigmoid' && activation !== 'tanh') {
      throw new RangeError(`MLP: activation must be 'relu', 'sigmoid' or 'tanh', got '${String(activation)}'`);
    }
    this.activation = activation;
    const sizes = [options.inputSize, ...options.hiddenSizes, options.outputSize];
    for (const s of sizes) {
      if (!Number.isInteger(s) || s < 1) throw new RangeError(`MLP: layer sizes must be positive integers, got [${sizes.join(', ')}]`);
    }
    checkParameterMemory(sizes, options.dtype ?? 'float32');
    const layerOptions = { init: options.init, dtype: options.dtype, random: options.random };
    this.layers = sizes.slice(1).map((out, i) => new Linear(sizes[i], out, layerOptions));
  }

  forward(x: TensorNode): TensorNode {
    let y = x;
    this.layers.forEach((layer, i) => {
      // Between layers, the product and its activation are one op (LinearOp with an activation): one tensor and
      // one graph node fewer per layer. A subclass that overrides a layer's forward keeps the plain two steps.
      if (i < this.layers.length - 1) {
        y = layer.forward === Linear.prototype.forward ? layer.forwardActivated(y, this.activation) : activate(layer.call(y), this.activation);
      } else {
        y = layer.call(y);
      }
    });
    return y;
  }
}

export interface LeNetOptions {
  /** Channels of the input images (default 3). */
  inChannels?: number;
  /** Number of classes (default 10). */
  numClasses?: number;
  /** Height and width of the (square) input images (default 32). */
  imageSize?: number;
  init?: InitName | Initializer;
  dtype?: DType;
  random?: Random;
}

/**
 * The course's CIFAR network (the PyTorch tutorial's `Net`): conv 6@5x5, ReLU, max-pool 2, conv 16@5x5, ReLU,
 * max-pool 2, flatten, fc 120, ReLU, fc 84, ReLU, fc numClasses (logits). Input `[batch, inChannels, size, size]`.
 * Parameter names are the tutorial's: `conv1.weight`, `conv1.bias`, `conv2.*`, `fc1.*`, `fc2.*`, `fc3.*`.
 */
export class LeNet extends Module {
  readonly conv1: Conv2d;
  readonly pool: MaxPool2d;
  readonly conv2: Conv2d;
  readonly flatten: Flatten;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;

  constructor(options: LeNetOptions = {}) {
    super();
    const inChannels = options.inChannels ?? 3;
    const numClasses = options.numClasses ?? 10;
    const imageSize = options.imageSize ?? 32;
    const side = Math.floor(convOutputSize(Math.floor(convOutputSize(imageSize, 5) / 2), 5) / 2);
    if (!(side >= 1)) throw new RangeError(`LeNet: images of ${imageSize}x${imageSize} are too small (need at least 16)`);
    const layerOptions = { init: options.init, dtype: options.dtype, random: options.random };
    this.conv1 = new Conv2d(inChannels, 6, 5, layerOptions);
    this.pool = new MaxPool2d(2, 2);
    this.conv2 = new Conv2d(6, 16, 5, layerOptions);
    this.flatten = new Flatten();
    this.fc1 = new Linear(16 * side * side, 120, layerOptions);
    this.fc2 = new Linear(120, 84, layerOptions);
    this.fc3 = new Linear(84, numClasses, layerOptions);
  }

  forward(x: TensorNode): TensorNode {
    let y = this.pool.call(this.conv1.call(x).relu());
    y = this.pool.call(this.conv2.call(y).relu());
    y = this.flatten.call(y);
    y = this.fc1.call(y).relu();
    y = this.fc2.call(y).relu();
    return this.fc3.call(y);
  }
}
