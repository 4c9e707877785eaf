/**
 * A trained model file back as a runnable model, whoever wrote it: `vugrad train --out`'s model.safetensors
 * (its run configuration is in the metadata), a PyTorch state dict saved as safetensors with vugrad's key
 * names (an MLP's `layers.N.*`, LeNet's `conv1.*` ... `fc3.*`), or an ONNX file. The architecture is read
 * from the tensor names and shapes; the configuration, when there is one, adds what weights cannot say (the
 * MLP's activation, the data set and so how to turn an image into the model's input).
 *
 * @example
 * const saved = loadSavedModel('runs/mnist/model.safetensors');
 * saved.inputShape;   // [784]
 * saved.imageShape;   // [1, 28, 28]: a 28x28 PNG is read as one sample
 */
import * as path from 'node:path';
import type { NDArray } from '../core/ndarray';
import { CIFAR10_CLASSES, CIFAR10_STATS } from '../data/cifar10';
import { FASHION_MNIST_CLASSES } from '../data/fashion-mnist';
import { MNIST_CLASSES } from '../data/mnist';
import type { ChannelStats } from '../data/normalize';
import { importOnnx, loadSafetensors, readOnnxInfo } from '../io';
import { LeNet, MLP, type Activation, type Module } from '../nn';
import { ConfigError } from '../train/config';

/** A model file loaded for inference, with what is known about its inputs. */
export interface SavedModel {
  /** The model, in eval mode. */
  model: Module;
  /** One sample's shape (no batch axis): `[784]`, `[3, 32, 32]`. */
  inputShape: number[];
  /** `[channels, height, width]` of the images the model was trained on, when it was trained on images. */
  imageShape: [number, number, number] | null;
  /** What a pixel byte is multiplied by (1/255, or 1 for a model trained with `--raw`). */
  pixelScale: number;
  /** Per-channel standardisation applied after scaling (CIFAR-10 with `normalize`), or null. */
  normalize: ChannelStats | null;
  /** Class names by index, when the data set is known. */
  classes: readonly string[] | null;
  /** The run configuration stored with the model (vugrad train's), if any. */
  config: Record<string, unknown> | null;
  /** One line saying what was loaded (`MLP 784-300-10 (relu)`). */
  description: string;
}

/** Sample shapes and class names of the image data sets the CLI trains on. */
const DATASETS: Record<string, { shape: [number, number, number]; classes: readonly string[] }> = {
  mnist: { shape: [1, 28, 28], classes: MNIST_CLASSES },
  'fashion-mnist': { shape: [1, 28, 28], classes: FASHION_MNIST_CLASSES },
  cifar10: { shape: [3, 32, 32], classes: CIFAR10_CLASSES },
};

const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh'];

export interface LoadSavedModelOptions {
  /** An MLP's activation when the file does not record one (a PyTorch state dict); overrides none recorded. */
  activation?: string;
}

function parseConfig(json: string | undefined, file: string): Record<string, unknown> | null {
  if (json === undefined) return null;
  try {
    const c = JSON.parse(json) as unknown;
    return c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : null;
  } catch (e) {
    throw new RangeError(`${file}: its 'config' metadata is not valid JSON (${(e as Error).message})`);
  }
}

function inputsFromConfig(config: Record<string, unknown> | null) {
  const dataset = typeof config?.dataset === 'string' ? DATASETS[config.dataset] : undefined;
  return {
    dataset,
    pixelScale: config?.raw === true ? 1 : 1 / 255,
    normalize: config?.dataset === 'cifar10' && config?.normalize === true ? CIFAR10_STATS : null,
    classes: dataset?.classes ?? null,
  };
}

/** The image shape an MLP of `inputSize` inputs reads: the data set's when it fits, else a square gray or RGB image. */
function imageShapeFor(inputSize: number, known: [number, number, number] | undefined): [number, number, number] | null {
  if (known && known[0] * known[1] * known[2] === inputSize) return known;
  for (const c of [1, 3]) {
    const side = Math.round(Math.sqrt(inputSize / c));
    if (side > 1 && c * side * side === inputSize) return [c, side, side];
  }
  return null;
}

function shapeOf(tensors: Record<string, NDArray>, name: string, file: string, rank: number): number[] {
  const t = tensors[name];
  if (t === undefined) throw new RangeError(`${file}: has no tensor '${name}'`);
  if (t.shape.length !== rank) throw new RangeError(`${file}: '${name}' has shape [${t.shape.join(',')}], expected ${rank} axes`);
  return [...t.shape];
}

function fromStateDict(file: string, options: LoadSavedModelOptions): SavedModel {
  const { tensors, metadata } = loadSafetensors(file);
  const config = parseConfig(metadata.config, file);
  const io = inputsFromConfig(config);
  const names = Object.keys(tensors);
  const dtype = Object.values(tensors)[0]?.dtype ?? 'float32';
  let model: Module;
  let inputShape: number[];
  let imageShape: [number, number, number] | null;
  let description: string;
  if ('conv1.weight' in tensors) {
    const [, inChannels] = shapeOf(tensors, 'conv1.weight', file, 4);
    const [, fc1In] = shapeOf(tensors, 'fc1.weight', file, 2);
    const [numClasses] = shapeOf(tensors, 'fc3.weight', file, 2);
    // fc1 sees 16 x side x side; the data set says the image size, else the smallest that gives that side
    // (32 for CIFAR's 5, 28 for MNIST's 4: the two the course uses).
    const side = Math.round(Math.sqrt(fc1In / 16));
    if (16 * side * side !== fc1In) throw new RangeError(`${file}: fc1 takes ${fc1In} inputs, not 16 x side x side as LeNet's does`);
    const known = io.dataset?.shape;
    const imageSize = known && known[0] === inChannels ? known[1] : 4 * side + 12;
    model = new LeNet({ inChannels, numClasses, imageSize, dtype });
    inputShape = [inChannels, imageSize, imageSize];
    imageShape = [inChannels, imageSize, imageSize];
    description = `LeNet (${inChannels}x${imageSize}x${imageSize} images, ${numClasses} classes)`;
  } else if ('layers.0.weight' in tensors) {
    const sizes: number[] = [];
    for (let i = 0; `layers.${i}.weight` in tensors; i++) {
      const [out, inp] = shapeOf(tensors, `layers.${i}.weight`, file, 2);
      if (i === 0) sizes.push(inp);
      sizes.push(out);
    }
    const recorded = typeof config?.activation === 'string' ? config.activation : undefined;
    const activation = options.activation ?? recorded;
    if (activation === undefined && sizes.length > 2) {
      throw new ConfigError(`${file} records no activation for its MLP (not written by 'vugrad train'?): pass --activation relu|sigmoid|tanh`);
    }
    if (activation !== undefined && !ACTIVATIONS.includes(activation as Activation)) {
      throw new ConfigError(`--activation: '${activation}' is not one of ${ACTIVATIONS.join(', ')}`);
    }
    model = new MLP({ inputSize: sizes[0], hiddenSizes: sizes.slice(1, -1), outputSize: sizes[sizes.length - 1], activation: (activation ?? 'relu') as Activation, dtype });
    inputShape = [sizes[0]];
    imageShape = imageShapeFor(sizes[0], io.dataset?.shape);
    description = `MLP ${sizes.join('-')}${sizes.length > 2 ? ` (${activation})` : ''}`;
  } else {
    const shown = names.slice(0, 6).join(', ') + (names.length > 6 ? ', ...' : '');
    throw new RangeError(`${file}: not a vugrad MLP (layers.N.weight) or LeNet (conv1.weight ... fc3.weight) state dict; its tensors are ${shown || 'none'}`);
  }
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new RangeError(`${file}: ${(e as Error).message}`);
  }
  return { model: model.eval(), inputShape, imageShape, pixelScale: io.pixelScale, normalize: io.normalize, classes: io.classes, config, description };
}

function fromOnnx(file: string): SavedModel {
  const info = readOnnxInfo(file);
  if (info.inputShape === null) throw new RangeError(`${file}: its input '${info.inputName}' has no fixed sample shape, which predict needs`);
  const model = importOnnx(file);
  // `vugrad export` stores the run configuration in the ONNX metadata: images are then read as in training.
  const config = parseConfig(info.metadata['vugrad.config'], file);
  const io = inputsFromConfig(config);
  const shape = info.inputShape;
  const imageShape: [number, number, number] | null =
    shape.length === 3 ? [shape[0], shape[1], shape[2]] : shape.length === 1 ? imageShapeFor(shape[0], io.dataset?.shape) : null;
  const layers = model.layers.map((l) => l.constructor.name);
  return {
    model,
    inputShape: shape,
    imageShape,
    pixelScale: io.pixelScale,
    normalize: io.normalize,
    classes: io.classes,
    config,
    description: `ONNX ${info.producer ? `from ${info.producer} ` : ''}(${layers.length} layers, input [batch, ${shape.join(', ')}])`,
  };
}

/**
 * Loads a model for inference from a `.onnx` file or a safetensors state dict (see the file comment). Errors
 * name the file and what is missing or wrong.
 */
export function loadSavedModel(file: string, options: LoadSavedModelOptions = {}): SavedModel {
  return path.extname(file).toLowerCase() === '.onnx' ? fromOnnx(file) : fromStateDict(file, options);
}
