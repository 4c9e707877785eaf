/**
 * The CIFAR ResNets of He et al. 2015 ("Deep Residual Learning", section 4.2): a 3x3 convolution to 16
 * channels, then three stages of `n` residual blocks with 16, 32 and 64 channels (the second and third start
 * with stride 2, halving the image), global average pooling and one Linear layer. Depth = 6n + 2: ResNet-20
 * (n = 3, 0.27M parameters), ResNet-8 (n = 1), ResNet-32, -44, -56, -110.
 *
 * Parameter names follow the common PyTorch CIFAR implementation (and torchvision's naming): `conv1`, `bn1`,
 * `layer1.0.conv1`, `layer1.0.bn1`, `layer1.0.conv2`, `layer1.0.bn2`, (`layer2.0.shortcut.0`/`.1` with
 * option B), `fc`; scripts/fixtures/make-cnn-reference.py builds the same model in PyTorch and the tests
 * compare the keys and shapes.
 *
 * @example
 * const net = new ResNet({ depth: 20 });
 * const logits = net.call(images);      // images [N, 3, 32, 32] -> logits [N, 10]
 */
import { NDArray, type DType } from '../core/ndarray';
import type { Random } from '../core/random';
import { TensorNode } from '../core/tensor-node';
import { Conv2dOp } from '../ops/conv';
import { GlobalAvgPool2dOp } from '../ops/pooling-avg';
import '../ops/tensor-methods';
import { BatchNorm2d } from './batchnorm';
import { Conv2d, Linear, Sequential } from './layers';
import { Module } from './module';

/**
 * How a block's shortcut matches a change of shape (stride 2, more channels), as in the paper:
 * 'A' takes every second pixel and pads the new channels with zeros (no parameters; the paper's CIFAR
 * choice); 'B' is a 1x1 convolution with that stride followed by BatchNorm (a projection).
 */
export type Shortcut = 'A' | 'B';

export interface BasicBlockOptions {
  stride?: number;
  shortcut?: Shortcut;
  dtype?: DType;
  random?: Random;
}

/**
 * The basic residual block: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, both convolutions 3x3
 * without bias (BatchNorm's shift makes it redundant). The shortcut is the identity when the shape does not
 * change, else option A or B (see `Shortcut`). PyTorch: torchvision's `BasicBlock`.
 */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Option B's projection (1x1 conv + BN), or null. */
  readonly shortcut: Sequential | null;
  /** Option A's selection weight `[out, in, 1, 1]`: a constant 1x1 convolution with the block's stride. */
  private readonly _select: TensorNode | null;
  readonly stride: number;

  constructor(
    readonly inPlanes: number,
    readonly planes: number,
    options: BasicBlockOptions = {},
  ) {
    super();
    const stride = options.stride ?? 1;
    this.stride = stride;
    const layer = { bias: false, init: 'he' as const, dtype: options.dtype, random: options.random };
    this.conv1 = new Conv2d(inPlanes, planes, 3, { ...layer, stride, padding: 1 });
    this.bn1 = new BatchNorm2d(planes, { dtype: options.dtype });
    this.conv2 = new Conv2d(planes, planes, 3, { ...layer, padding: 1 });
    this.bn2 = new BatchNorm2d(planes, { dtype: options.dtype });
    this.shortcut = null;
    this._select = null;
    if (stride !== 1 || inPlanes !== planes) {
      if ((options.shortcut ?? 'A') === 'B') {
        this.shortcut = new Sequential(
          new Conv2d(inPlanes, planes, 1, { ...layer, stride }),
          new BatchNorm2d(planes, { dtype: options.dtype }),
        );
      } else {
        if (planes < inPlanes || (planes - inPlanes) % 2 !== 0) {
          throw new RangeError(`BasicBlock: shortcut A pads channels evenly on both sides, not ${inPlanes} -> ${planes}`);
        }
        // NOTE: x[:, :, ::stride, ::stride] zero-padded with (planes - inPlanes) / 2 channels on each side (the
        // usual PyTorch code's F.pad) is exactly a 1x1 convolution with stride `stride` whose weight selects
        // input channel ch into output channel ch + pad: 1 x value + 0 x the others. It reuses the conv kernels
        // and their gradient; the weight is a constant (no gradient, not in the state dict).
        const w = NDArray.zeros([planes, inPlanes, 1, 1], options.dtype ?? 'float32');
        const pad = (planes - inPlanes) / 2;
        for (let ch = 0; ch < inPlanes; ch++) w.data[(ch + pad) * inPlanes + ch] = 1;
        this._select = TensorNode.constant(w);
      }
    }
  }

  forward(x: TensorNode): TensorNode {
    const y = this.bn2.call(this.conv2.call(this.bn1.call(this.conv1.call(x)).relu()));
    let s = x;
    if (this.shortcut) s = this.shortcut.call(x);
    else if (this._select) s = Conv2dOp.doForward(x, this._select, { stride: this.stride, padding: 0 });
    return y.add(s).relu();
  }

  protected override describe(): string {
    return `BasicBlock(${this.inPlanes} -> ${this.planes}, stride=${this.stride})`;
  }
}

export interface ResNetOptions {
  /** 6n + 2: 20 (the default), 8, 14, 32, 44, 56, 110. */
  depth?: number;
  numClasses?: number;
  inChannels?: number;
  /** Channels of the three stages (default [16, 32, 64], the paper's). */
  widths?: [number, number, number];
  /** Shortcut where a stage changes shape (default 'A', the paper's CIFAR choice). */
  shortcut?: Shortcut;
  dtype?: DType;
  random?: Random;
}

/** A CIFAR ResNet (see the file comment). Input `[N, inChannels, H, W]` (any H, W >= 4); output logits. */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: BasicBlock[];
  readonly layer2: BasicBlock[];
  readonly layer3: BasicBlock[];
  readonly fc: Linear;
  readonly depth: number;

  constructor(options: ResNetOptions = {}) {
    super();
    const depth = options.depth ?? 20;
    if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
      throw new RangeError(`ResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110), got ${depth}`);
    }
    this.depth = depth;
    const n = (depth - 2) / 6;
    const [w1, w2, w3] = options.widths ?? [16, 32, 64];
    const common = { dtype: options.dtype, random: options.random };
    this.conv1 = new Conv2d(options.inChannels ?? 3, w1, 3, { padding: 1, bias: false, init: 'he', ...common });
    this.bn1 = new BatchNorm2d(w1, { dtype: options.dtype });
    const stage = (inPlanes: number, planes: number, stride: number): BasicBlock[] =>
      Array.from({ length: n }, (_, i) =>
        new BasicBlock(i === 0 ? inPlanes : planes, planes, { stride: i === 0 ? stride : 1, shortcut: options.shortcut, ...common }),
      );
    this.layer1 = stage(w1, w1, 1);
    this.layer2 = stage(w1, w2, 2);
    this.layer3 = stage(w2, w3, 2);
    this.fc = new Linear(w3, options.numClasses ?? 10, common);
  }

  forward(x: TensorNode): TensorNode {
    let y = this.bn1.call(this.conv1.call(x)).relu();
    for (const block of [...this.layer1, ...this.layer2, ...this.layer3]) y = block.call(y);
    y = GlobalAvgPool2dOp.doForward(y);
    return this.fc.call(y.reshape([y.shape[0], y.shape[1]]));
  }

  protected override describe(): string {
    return `ResNet(depth=${this.depth})`;
  }
}
