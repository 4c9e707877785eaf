/**
 * Weight initializers, with PyTorch's formulas (`torch.nn.init`) and fan computation.
 *
 * A weight's *fans* are how many inputs feed each output (fan-in) and how many outputs each input feeds
 * (fan-out). For a Linear weight `[out, in]` they are `in` and `out`; for a Conv2d weight `[out, in, kh, kw]`
 * both are multiplied by the receptive field `kh * kw`. Initializers scale the random values by the fans so
 * that the variance of activations (Glorot: and of gradients) stays about the same from layer to layer.
 *
 * Every initializer draws from a `Random` (default: the library-wide `globalRandom`), so `manualSeed(n)`
 * makes initialisation reproducible.
 *
 * @example
 * manualSeed(0);
 * const w = heNormal([128, 784]);                         // float32, std sqrt(2 / 784)
 * const v = initializer('glorot')([10, 128], { dtype: 'float64' });
 */
import { AllocationError, NDArray, allocate, shapeSize, shapeString, type DType } from '../core/ndarray';
import { globalRandom, type Random } from '../core/random';

export interface InitOptions {
  /** Element type of the new array (default float32). */
  dtype?: DType;
  /** Where the random numbers come from (default `globalRandom`, seeded by `manualSeed`). */
  random?: Random;
}

/** Makes a new array of the given shape (a layer's weight or bias). */
export type Initializer = (shape: readonly number[], options?: InitOptions) => NDArray;

/** The initializers selectable by name (`initializer(name)`, and the `init` option of layers and models). */
export type InitName = 'zeros' | 'normal' | 'glorot' | 'glorot-uniform' | 'he' | 'he-uniform' | 'default';

/**
 * Fan-in and fan-out of a weight, as PyTorch computes them: for shape `[out, in, ...kernel]`,
 * `fanIn = in * prod(kernel)` and `fanOut = out * prod(kernel)`. A 1-D shape `[n]` (a bias) has both equal to n.
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) throw new RangeError('init: cannot compute fans of a scalar');
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shapeSize(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

function fill(shape: readonly number[], options: InitOptions, draw: (r: Random) => number): NDArray {
  const data = allocate(options.dtype ?? 'float32', shapeSize(shape), shape, 'init');
  const r = options.random ?? globalRandom;
  for (let i = 0; i < data.length; i++) data[i] = draw(r);
  return new NDArray(data, shape);
}

function positiveFan(name: string, fan: number, shape: readonly number[]): number {
  if (!(fan > 0)) throw new RangeError(`${name}: shape ${shapeString(shape)} has a zero fan; nothing to scale by`);
  return fan;
}

/** All zeros (no randomness drawn). */
export function zeros(shape: readonly number[], options: InitOptions = {}): NDArray {
  return NDArray.zeros(shape, options.dtype ?? 'float32');
}

/** Uniform in `[low, high)`. PyTorch: `nn.init.uniform_`. */
export function uniform(shape: readonly number[], options: InitOptions & { low?: number; high?: number } = {}): NDArray {
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  return fill(shape, options, (r) => r.uniform(low, high));
}

/**
 * Normal with mean `mean` (default 0) and standard deviation `std`. The default std is **0.01**, the classic
 * "small random weights" initialisation (PyTorch's `nn.init.normal_` defaults to std 1, which is rarely what a
 * weight wants; pass `std: 1` for that).
 */
export function normal(shape: readonly number[], options: InitOptions & { std?: number; mean?: number } = {}): NDArray {
  const std = options.std ?? 0.01;
  const mean = options.mean ?? 0;
  return fill(shape, options, (r) => r.normal(mean, std));
}

/**
 * Glorot (Xavier) normal: N(0, std^2) with `std = gain * sqrt(2 / (fanIn + fanOut))`. Keeps the variance of
 * activations and of gradients about constant through tanh/sigmoid layers. PyTorch: `nn.init.xavier_normal_`.
 */
export function glorotNormal(shape: readonly number[], options: InitOptions & { gain?: number } = {}): NDArray {
  const { fanIn, fanOut } = computeFans(shape);
  const std = (options.gain ?? 1) * Math.sqrt(2 / positiveFan('glorotNormal', fanIn + fanOut, shape));
  return fill(shape, options, (r) => r.normal(0, std));
}

/** Glorot (Xavier) uniform: U(-a, a) with `a = gain * sqrt(6 / (fanIn + fanOut))`. PyTorch: `nn.init.xavier_uniform_`. */
export function glorotUniform(shape: readonly number[], options: InitOptions & { gain?: number } = {}): NDArray {
  const { fanIn, fanOut } = computeFans(shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / positiveFan('glorotUniform', fanIn + fanOut, shape));
  return fill(shape, options, (r) => r.uniform(-bound, bound));
}

export interface KaimingOptions extends InitOptions {
  /** Gain (default sqrt(2), for ReLU). */
  gain?: number;
  /** Scale by fan-in (default; preserves the forward variance) or fan-out (the backward variance). */
  mode?: 'fan_in' | 'fan_out';
}

function kaimingFan(name: string, shape: readonly number[], mode: 'fan_in' | 'fan_out' = 'fan_in'): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new RangeError(`${name}: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const { fanIn, fanOut } = computeFans(shape);
  return positiveFan(name, mode === 'fan_in' ? fanIn : fanOut, shape);
}

/**
 * He (Kaiming) normal: N(0, std^2) with `std = gain / sqrt(fan)`, gain sqrt(2) for ReLU, fan = fan-in by
 * default. PyTorch: `nn.init.kaiming_normal_(w, nonlinearity='relu')`.
 */
export function heNormal(shape: readonly number[], options: KaimingOptions = {}): NDArray {
  const std = (options.gain ?? Math.SQRT2) / Math.sqrt(kaimingFan('heNormal', shape, options.mode));
  return fill(shape, options, (r) => r.normal(0, std));
}

/**
 * He (Kaiming) uniform: U(-a, a) with `a = gain * sqrt(3 / fan)` (the same variance as heNormal).
 * PyTorch: `nn.init.kaiming_uniform_(w, nonlinearity='relu')`.
 */
export function heUniform(shape: readonly number[], options: KaimingOptions = {}): NDArray {
  const bound = (options.gain ?? Math.SQRT2) * Math.sqrt(3 / kaimingFan('heUniform', shape, options.mode));
  return fill(shape, options, (r) => r.uniform(-bound, bound));
}

/**
 * PyTorch's default for `nn.Linear` and `nn.Conv2d`: U(-1/sqrt(fanIn), 1/sqrt(fanIn)), for the weight (this is
 * `kaiming_uniform_(w, a=sqrt(5))`) and for the bias alike. A bias has no fan-in of its own: pass the weight's
 * as `fanIn` (layers do).
 */
export function pytorchDefault(shape: readonly number[], options: InitOptions & { fanIn?: number } = {}): NDArray {
  const fanIn = options.fanIn ?? computeFans(shape).fanIn;
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return fill(shape, options, (r) => r.uniform(-bound, bound));
}

export const xavierNormal = glorotNormal;
export const xavierUniform = glorotUniform;
export const kaimingNormal = heNormal;
export const kaimingUniform = heUniform;

const byName: Record<InitName, Initializer> = {
  zeros,
  normal,
  glorot: glorotNormal,
  'glorot-uniform': glorotUniform,
  he: heNormal,
  'he-uniform': heUniform,
  default: pytorchDefault,
};

/** The initializer called `name` (`'glorot'` is Glorot normal, `'he'` is He normal, `'default'` is PyTorch's). */
export function initializer(name: InitName): Initializer {
  const init = byName[name];
  if (init === undefined) {
    throw new RangeError(`initializer: unknown name '${String(name)}' (expected one of ${Object.keys(byName).join(', ')})`);
  }
  return init;
}

/**
 * A layer's weight and bias from an initializer name or function. The weight gets the initializer. The bias
 * gets PyTorch's default (U(+-1/sqrt(fanIn)) of the weight) when the initializer is `'default'`, and zeros
 * otherwise (the usual companion of Glorot/He weights; PyTorch leaves the bias at its default unless told).
 * `layer` names the layer in errors: an array too large to allocate is reported as
 * `Linear(100000 -> 100000).weight [100000,100000] float32 needs 40 GB, ...`.
 */
export function initLayer(
  weightShape: readonly number[],
  biasShape: readonly number[] | null,
  init: InitName | Initializer = 'default',
  options: InitOptions = {},
  layer = 'layer',
): { weight: NDArray; bias: NDArray | null } {
  const weightInit = typeof init === 'function' ? init : initializer(init);
  const weight = named(`${layer}.weight`, () => weightInit(weightShape, options));
  let bias: NDArray | null = null;
  if (biasShape !== null) {
    bias = named(`${layer}.bias`, () =>
      weightInit === pytorchDefault
        ? pytorchDefault(biasShape, { ...options, fanIn: computeFans(weightShape).fanIn })
        : zeros(biasShape, options),
    );
  }
  return { weight, bias };
}

/** Runs `make`; an `AllocationError` from it is re-thrown naming the parameter `what`. */
function named(what: string, make: () => NDArray): NDArray {
  try {
    return make();
  } catch (e) {
    throw e instanceof AllocationError ? e.named(what) : e;
  }
}
