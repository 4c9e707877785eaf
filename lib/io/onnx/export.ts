/**
 * ONNX export: a vugrad model as a standard ONNX graph (opset 13 or later) that onnxruntime, PyTorch's tools,
 * Netron and every serving runtime read. The weights go in as initializers named as the model's parameters
 * (`conv1.weight`, PyTorch's names too), the batch axis is dynamic (`batch`), and each layer maps to the
 * standard op PyTorch's exporter uses for it: Linear -> Gemm, Conv2d -> Conv, MaxPool2d -> MaxPool,
 * Flatten -> Flatten, ReLU/Sigmoid/Tanh -> Relu/Sigmoid/Tanh, Dropout -> Identity (inference).
 *
 * The mapping is a table from a module's class to a function that emits its nodes (`ONNX_EXPORTERS`); a new
 * layer adds one entry. Lookup is by exact class, not `instanceof`: a subclass of Sequential with its own
 * `forward` would otherwise be exported as a plain Sequential, silently computing something else.
 *
 * @example
 * const net = new LeNet();
 * fs.writeFileSync('lenet.onnx', exportOnnx(net, { inputShape: [3, 32, 32] }));
 * // python: onnxruntime.InferenceSession('lenet.onnx').run(None, {'input': x})
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray, shapeString } from '../../core/ndarray';
import { TensorNode } from '../../core/tensor-node';
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh } from '../../nn/layers';
import { LeNet, MLP } from '../../nn/models';
import type { Module } from '../../nn/module';
import '../../ops/tensor-methods';
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProtoObject,
  type NodeProtoObject,
  type TensorProtoObject,
  type ValueInfoProtoObject,
} from './schema';
import { CNN_EXPORTERS } from './export-cnn';

/** The opsets this exporter writes. Every op it emits has the same meaning across them for our attributes. */
export const ONNX_OPSETS = { min: 13, max: 21, default: 13 } as const;

// The IR version that came with each opset's ONNX release (runtimes check it against what they know).
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/** A value flowing through the graph being built: its ONNX name and a batch-of-one example of it. */
export interface OnnxValue {
  name: string;
  /** The value for a batch of one fixed sample: gives every later layer its input shape, and checks the graph. */
  example: TensorNode;
}

/** An attribute value: an integer, a float (`{ float: x }`), or a list of integers. */
export type OnnxAttribute = number | { float: number } | readonly number[];

/** What an exporter uses to add nodes and weights; `emit` exports a sub-module through the table. */
export interface OnnxGraphBuilder {
  /** Exports `module` applied to `x` (through `ONNX_EXPORTERS`) and returns its output. */
  emit(module: Module, x: OnnxValue): OnnxValue;
  /** Adds one node with one output; `example` is what the node computes on `x.example` (vugrad's forward). */
  node(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute>, example: TensorNode, hint?: string): OnnxValue;
  /** Adds a float initializer for a parameter (named as the parameter, or `hint`) and returns its name. */
  weight(param: TensorNode, hint: string): string;
  /** The model's name for a parameter (`fc1.weight`), if it is one of the model's. */
  parameterName(param: TensorNode): string | undefined;
  /** Adds an int64 initializer (e.g. a Reshape target) and returns its name. */
  int64s(values: readonly number[], hint: string): string;
}

/** Emits the ONNX nodes for one module class. */
export type OnnxExporter<M extends Module = Module> = (module: M, x: OnnxValue, b: OnnxGraphBuilder) => OnnxValue;

function linear(m: Linear, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const y = m.call(x.example);
  if (x.example.shape.length === 2) {
    const w = b.weight(m.weight, 'weight');
    // Gemm: y = x W^T + b with transB, PyTorch's layout as is (no transposed copy of the weights).
    const inputs = m.bias === null ? [x.name, w] : [x.name, w, b.weight(m.bias, 'bias')];
    return b.node('Gemm', inputs, { transB: 1 }, y, 'linear');
  }
  // Gemm is 2-D only; on [..., in] inputs Linear is MatMul with W^T, then Add: the weight is stored transposed.
  const wT = b.weight(TensorNode.constant(transpose2d(m.weight.value)), `${b.parameterName(m.weight) ?? 'weight'}_transposed`);
  // (The product has y's shape: y serves as its example.)
  const product = b.node('MatMul', [x.name, wT], {}, y, 'matmul');
  return m.bias === null ? product : b.node('Add', [product.name, b.weight(m.bias, 'bias')], {}, y, 'add');
}

function transpose2d(a: NDArray): NDArray {
  const [rows, cols] = a.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a.data[r * cols + c];
  return new NDArray(out, [cols, rows]);
}

function conv2d(m: Conv2d, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const inputs = [x.name, b.weight(m.weight, 'weight')];
  if (m.bias !== null) inputs.push(b.weight(m.bias, 'bias'));
  const p = m.padding;
  return b.node(
    'Conv',
    inputs,
    { kernel_shape: m.kernelSize, strides: [m.stride, m.stride], pads: [p, p, p, p], dilations: [1, 1], group: 1 },
    m.call(x.example),
    'conv',
  );
}

function maxPool2d(m: MaxPool2d, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  return b.node(
    'MaxPool',
    [x.name],
    { kernel_shape: [m.kernel, m.kernel], strides: [m.stride, m.stride], pads: [0, 0, 0, 0], ceil_mode: 0 },
    m.call(x.example),
    'maxpool',
  );
}

function flatten(m: Flatten, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const y = m.call(x.example);
  // ONNX Flatten always gives 2-D [prod(:axis), prod(axis:)]: the same as ours from axis 1 only.
  if (m.startDim === 1) return b.node('Flatten', [x.name], { axis: 1 }, y, 'flatten');
  // Otherwise Reshape: 0 copies an input axis (the dynamic batch), -1 takes the rest.
  const target = m.startDim === 0 ? [-1] : [0, ...x.example.shape.slice(1, m.startDim), -1];
  return b.node('Reshape', [x.name, b.int64s(target, 'flatten_shape')], {}, y, 'reshape');
}

const activation =
  (opType: string) =>
  (m: Module, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue =>
    b.node(opType, [x.name], {}, m.call(x.example), opType.toLowerCase());

function activationNode(name: MLP['activation'], x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const op = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' }[name];
  const example = name === 'relu' ? x.example.relu() : name === 'sigmoid' ? x.example.sigmoid() : x.example.tanh();
  return b.node(op, [x.name], {}, example, name);
}

/**
 * Module class -> exporter. Add an entry for a new layer (exact class; see the file comment). Models with
 * their own `forward` (MLP, LeNet) are entries too, written in terms of their layers.
 */
export const ONNX_EXPORTERS = new Map<abstract new (...args: never[]) => Module, OnnxExporter<never>>([
  [Linear, linear],
  [Conv2d, conv2d],
  [MaxPool2d, maxPool2d],
  [Flatten, flatten],
  [ReLU, activation('Relu')],
  [Sigmoid, activation('Sigmoid')],
  [Tanh, activation('Tanh')],
  // In inference, dropout is the identity (and vugrad's is, once the model is in eval mode).
  [Dropout, (m: Dropout, x: OnnxValue, b: OnnxGraphBuilder) => b.node('Identity', [x.name], {}, x.example, 'dropout')],
  [Sequential, (m: Sequential, x: OnnxValue, b: OnnxGraphBuilder) => m.layers.reduce((y, layer) => b.emit(layer, y), x)],
  // BatchNorm, average pooling, residual blocks and ResNet (lib/io/onnx/export-cnn.ts).
  ...CNN_EXPORTERS,
  [
    MLP,
    (m: MLP, x: OnnxValue, b: OnnxGraphBuilder) =>
      m.layers.reduce((y, layer, i) => {
        const out = b.emit(layer, y);
        return i < m.layers.length - 1 ? activationNode(m.activation, out, b) : out;
      }, x),
  ],
  [
    LeNet,
    (m: LeNet, x: OnnxValue, b: OnnxGraphBuilder) => {
      const relu = (v: OnnxValue) => activationNode('relu', v, b);
      let y = b.emit(m.pool, relu(b.emit(m.conv1, x)));
      y = b.emit(m.pool, relu(b.emit(m.conv2, y)));
      y = relu(b.emit(m.fc1, b.emit(m.flatten, y)));
      y = relu(b.emit(m.fc2, y));
      return b.emit(m.fc3, y);
    },
  ],
]);

export interface ExportOnnxOptions {
  /** The shape of one sample, without the batch axis: `[784]` for an MLP on MNIST, `[3, 32, 32]` for LeNet. */
  inputShape: readonly number[];
  /** ONNX opset (default 13; 13 to 21). */
  opset?: number;
  /** Name of the graph input (default `input`). */
  inputName?: string;
  /** Name of the graph output (default `logits`). */
  outputName?: string;
  /** Key/value strings stored in the model's `metadata_props` (e.g. the training configuration). */
  metadata?: Record<string, string>;
  /** The graph's name (default: the model's class name). */
  graphName?: string;
}

function attribute(name: string, value: OnnxAttribute): AttributeProtoObject {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: [...(value as number[])] };
  return { name, type: AttributeType.FLOAT, f: (value as { float: number }).float };
}

function valueInfo(name: string, shape: readonly (number | string)[]): ValueInfoProtoObject {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

function floatBytes(a: NDArray): Uint8Array {
  // float32 on the wire (onnxruntime's CPU kernels for Conv and Gemm are float32); raw_data is little-endian.
  const f32 = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  const bytes = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  return os.endianness() === 'BE' ? Buffer.from(bytes).swap32() : new Uint8Array(bytes);
}

/**
 * The ONNX bytes (a serialized `ModelProto`) of `model` in inference mode, float32, for inputs
 * `[batch, ...inputShape]`. The model is run on one sample of that shape, and so is the graph (replayed in
 * vugrad), so a shape the model cannot take, or a graph that does not compute the model's forward, is an
 * error here, not in the runtime. A module class without an exporter is an error naming it and the
 * supported classes. The model's training/eval mode is left as it was.
 *
 * @example
 * const bytes = exportOnnx(new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10 }), { inputShape: [784] });
 */
export function exportOnnx(model: Module, options: ExportOnnxOptions): Uint8Array {
  const opset = options.opset ?? ONNX_OPSETS.default;
  if (!Number.isInteger(opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new RangeError(`exportOnnx: opset must be an integer from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${opset}`);
  }
  const inputShape = [...options.inputShape];
  if (inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`exportOnnx: inputShape must be the shape of one sample (positive integers, no batch axis), got ${shapeString(inputShape)}`);
  }
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'logits';
  if (inputName === outputName) throw new RangeError(`exportOnnx: inputName and outputName are both '${inputName}'`);

  const paramNames = new Map(model.namedParameters().map(([n, p]) => [p, n] as [TensorNode, string]));
  const nodes: NodeProtoObject[] = [];
  const initializers: TensorProtoObject[] = [];
  const weightNames = new Map<TensorNode, string>();
  const used = new Set<string>([inputName, outputName]);
  const counters = new Map<string, number>();
  const fresh = (hint: string): string => {
    let name = hint;
    for (let n = counters.get(hint) ?? 0; used.has(name); n++) {
      name = `${hint}_${n}`;
      counters.set(hint, n + 1);
    }
    used.add(name);
    return name;
  };

  const builder: OnnxGraphBuilder = {
    emit(module, x) {
      const exporter = ONNX_EXPORTERS.get(module.constructor as new () => Module) as OnnxExporter | undefined;
      if (exporter === undefined) {
        const known = [...ONNX_EXPORTERS.keys()].map((c) => c.name).join(', ');
        throw new TypeError(`exportOnnx: no ONNX mapping for ${module.constructor.name} (supported: ${known}); add one to ONNX_EXPORTERS`);
      }
      return exporter(module, x, builder);
    },
    node(opType, inputs, attributes, example, hint) {
      const output = fresh(hint ?? opType.toLowerCase());
      const attribute_ = Object.entries(attributes).map(([k, v]) => attribute(k, v));
      nodes.push({ op_type: opType, name: `${opType}_${nodes.length}`, input: inputs, output: [output], ...(attribute_.length ? { attribute: attribute_ } : {}) });
      return { name: output, example };
    },
    weight(param, hint) {
      const known = weightNames.get(param);
      if (known !== undefined) return known;
      const name = fresh(paramNames.get(param) ?? hint);
      weightNames.set(param, name);
      initializers.push({ name, dims: [...param.value.shape], data_type: DataType.FLOAT, raw_data: floatBytes(param.value) });
      return name;
    },
    parameterName: (param) => paramNames.get(param),
    int64s(values, hint) {
      const name = fresh(hint);
      initializers.push({ name, dims: [values.length], data_type: DataType.INT64, int64_data: [...values] });
      return name;
    },
  };

  // Export what inference computes: eval mode throughout, restored afterwards (the caller may be mid-training).
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  let output: OnnxValue;
  try {
    // A fixed, varied sample (not zeros, which would hide a layer missing or out of order in a model exporter).
    const sample = NDArray.zeros([1, ...inputShape], model.parameters()[0]?.value.dtype ?? 'float32');
    for (let i = 0; i < sample.size; i++) sample.data[i] = Math.sin(i * 0.7 + 0.3);
    const example = TensorNode.constant(sample, inputName);
    let expected: NDArray;
    try {
      expected = model.call(example).value;
      output = builder.emit(model, { name: inputName, example });
    } catch (e) {
      if (e instanceof TypeError && e.message.startsWith('exportOnnx:')) throw e;
      throw new RangeError(`exportOnnx: ${model.constructor.name} cannot take inputs of shape [batch, ${inputShape.join(', ')}]: ${(e as Error).message}`);
    }
    // The nodes' examples replay the graph in vugrad: it must compute what the model's own forward does. This
    // catches an exporter (a model's above all) that drifted from its forward, before a runtime serves it.
    const got = output.example.value;
    let diff = got.size === expected.size ? 0 : Infinity;
    let scale = 1;
    for (let i = 0; i < expected.size && diff !== Infinity; i++) {
      diff = Math.max(diff, Math.abs(got.data[i] - expected.data[i]));
      scale = Math.max(scale, Math.abs(expected.data[i]));
    }
    if (!(diff <= 1e-5 * scale)) {
      throw new Error(`exportOnnx: the ONNX graph built for ${model.constructor.name} does not compute its forward (largest difference ${diff}); its ONNX_EXPORTERS entry is out of date`);
    }
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
  // Name the last value as the graph's output (an Identity when the model passed the input straight through).
  const last = nodes.find((n) => n.output?.[0] === output.name);
  if (last === undefined) nodes.push({ op_type: 'Identity', name: `Identity_${nodes.length}`, input: [output.name], output: [outputName] });
  else last.output = [outputName];

  const outShape = output.example.shape;
  return encodeModel({
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'vugrad',
    producer_version: vugradVersion(),
    graph: {
      name: options.graphName ?? model.constructor.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, ['batch', ...inputShape])],
      output: [valueInfo(outputName, ['batch', ...outShape.slice(1)])],
    },
    ...(options.metadata ? { metadata_props: Object.entries(options.metadata).map(([key, value]) => ({ key, value: String(value) })) } : {}),
  });
}

/** Writes `exportOnnx(model, options)` to `file` (atomically: a temporary file renamed into place). */
export function saveOnnx(model: Module, file: string, options: ExportOnnxOptions): void {
  const bytes = exportOnnx(model, options);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, bytes);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

let version: string | undefined;
function vugradVersion(): string {
  if (version === undefined) {
    try {
      // lib/io/onnx and dist/io/onnx are both three levels below the package root.
      version = String(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version ?? '');
    } catch {
      version = '';
    }
  }
  return version;
}
