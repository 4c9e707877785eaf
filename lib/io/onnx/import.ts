/**
 * ONNX import: a vugrad `Sequential` from an ONNX graph that is a chain of supported ops, with the graph's
 * initializers as its (trainable) parameters. The graphs PyTorch's `torch.onnx.export` writes for MLPs and
 * LeNet-style networks are such chains, so a model trained in Python can be evaluated or fine-tuned in Node.
 *
 * Supported: Gemm, MatMul (+ Add of a bias) -> Linear; Conv -> Conv2d; MaxPool -> MaxPool2d; Flatten and a
 * Reshape to `[batch, features]` -> Flatten; Relu, Sigmoid, Tanh; Dropout -> Dropout; Identity (dropped).
 * The table `ONNX_IMPORTERS` maps each op type to a function; a new layer adds an entry. A graph with other
 * ops is refused with one error that lists every unsupported op (and how often it occurs).
 *
 * @example
 * const net = importOnnx('lenet.onnx');           // e.g. from torch.onnx.export
 * const { inputShape } = readOnnxInfo('lenet.onnx');   // [3, 32, 32]
 * const logits = net.eval().call(TensorNode.constant(images));
 */
import * as fs from 'node:fs';
import { NDArray, shapeSize, shapeString } from '../../core/ndarray';
import { TensorNode } from '../../core/tensor-node';
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh } from '../../nn/layers';
import type { Module } from '../../nn/module';
import { AttributeType, DataType, decodeModel, type AttributeProtoObject, type ModelProtoObject, type NodeProtoObject, type TensorProtoObject } from './schema';

/** What an importer sees: the node, its attributes, constant inputs, and the chain's next node. */
export interface OnnxImportContext {
  /** The node being imported. */
  node: NodeProtoObject;
  /** The node's data input for a batch of one zero sample, when the graph's input shape is fixed (else null). */
  example: TensorNode | null;
  /** An attribute's value (int, float, ints, floats), or `fallback` when the node does not set it. */
  attr(name: string, fallback: number): number;
  attr(name: string, fallback: number[]): number[];
  /** The constant (initializer or Constant node) named by input `i`, or null when input `i` is absent or not constant. */
  constant(i: number): NDArray | null;
  /** The next node of the chain, if it takes this node's output (for fusing MatMul with its Add). */
  next(): NodeProtoObject | null;
  /** Marks the next node as taken by this one. */
  consumeNext(): void;
  /** Throws an error naming this node and the problem. */
  fail(why: string): never;
}

/** Builds the vugrad module for one ONNX node (null: the node computes nothing, e.g. Identity). */
export type OnnxImporter = (ctx: OnnxImportContext) => Module | null;

function weightOf(ctx: OnnxImportContext, i: number, what: string): NDArray {
  const w = ctx.constant(i);
  if (w === null) return ctx.fail(`its ${what} (input ${i}) must be an initializer`);
  return w;
}

function checkBias(ctx: OnnxImportContext, bias: NDArray | null, out: number): NDArray | null {
  if (bias === null) return null;
  if (bias.size !== out || bias.shape.filter((d) => d !== 1).length > 1) {
    ctx.fail(`its bias of shape ${shapeString(bias.shape)} is not one value per output (${out})`);
  }
  return new NDArray(bias.data, [out]);
}

function linearFrom(weight: NDArray, bias: NDArray | null): Linear {
  const [out, inp] = weight.shape;
  const layer = new Linear(inp, out, { bias: bias !== null });
  layer.weight.value.data.set(weight.data);
  if (bias !== null && layer.bias !== null) layer.bias.value.data.set(bias.data);
  return layer;
}

function transpose2d(a: NDArray): NDArray {
  const [rows, cols] = a.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a.data[r * cols + c];
  return new NDArray(out, [cols, rows]);
}

function gemm(ctx: OnnxImportContext): Module {
  if (ctx.attr('alpha', 1) !== 1 || ctx.attr('beta', 1) !== 1) ctx.fail(`alpha ${ctx.attr('alpha', 1)} and beta ${ctx.attr('beta', 1)} must be 1`);
  if (ctx.attr('transA', 0) !== 0) ctx.fail('transA must be 0');
  const b = weightOf(ctx, 1, 'weight');
  if (b.shape.length !== 2) ctx.fail(`its weight has shape ${shapeString(b.shape)}, not 2-D`);
  // PyTorch writes transB=1 with the weight as [out, in], vugrad's (and PyTorch's) own layout.
  const weight = ctx.attr('transB', 0) === 1 ? b : transpose2d(b);
  return linearFrom(weight, checkBias(ctx, ctx.constant(2), weight.shape[0]));
}

function matmul(ctx: OnnxImportContext): Module {
  const b = weightOf(ctx, 1, 'weight');
  if (b.shape.length !== 2) ctx.fail(`its weight has shape ${shapeString(b.shape)}, not 2-D`);
  const weight = transpose2d(b); // MatMul's B is [in, out]
  let bias: NDArray | null = null;
  const next = ctx.next();
  if (next?.op_type === 'Add') {
    // x W + b, as exporters write a Linear on inputs of more than two axes: one Linear with a bias.
    const other = next.input?.find((name) => name !== ctx.node.output?.[0]);
    const c = other === undefined ? null : (ctx as OnnxImportContextInternal).constantNamed(other);
    if (c !== null && c.size === weight.shape[0]) {
      bias = checkBias(ctx, c, weight.shape[0]);
      ctx.consumeNext();
    }
  }
  return linearFrom(weight, bias);
}

function pairOf(ctx: OnnxImportContext, name: string, values: number[], what: string): number {
  if (values.length !== 2 || values[0] !== values[1]) ctx.fail(`${name} ${JSON.stringify(values)} is not supported (${what})`);
  return values[0];
}

function pads(ctx: OnnxImportContext): number {
  const autoPad = (ctx as OnnxImportContextInternal).stringAttr('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') ctx.fail(`auto_pad ${autoPad} is not supported (give explicit pads)`);
  const p = ctx.attr('pads', [0, 0, 0, 0]);
  if (p.length !== 4 || p.some((v) => v !== p[0])) ctx.fail(`pads ${JSON.stringify(p)} are not supported (the same padding on every side only)`);
  return p[0];
}

function conv(ctx: OnnxImportContext): Module {
  const w = weightOf(ctx, 1, 'weight');
  if (w.shape.length !== 4) ctx.fail(`its weight has shape ${shapeString(w.shape)}; only 2-D convolutions ([out, in, kh, kw]) are supported`);
  if (ctx.attr('group', 1) !== 1) ctx.fail(`group ${ctx.attr('group', 1)} is not supported (only 1)`);
  const dilations = ctx.attr('dilations', [1, 1]);
  if (dilations.some((d) => d !== 1)) ctx.fail(`dilations ${JSON.stringify(dilations)} are not supported (only 1)`);
  const [out, inp, kh, kw] = w.shape;
  const kernel = ctx.attr('kernel_shape', [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) ctx.fail(`kernel_shape ${JSON.stringify(kernel)} differs from its weight's ${kh}x${kw}`);
  const stride = pairOf(ctx, 'strides', ctx.attr('strides', [1, 1]), 'the same stride on both axes only');
  const bias = checkBias(ctx, ctx.constant(2), out);
  const layer = new Conv2d(inp, out, [kh, kw], { stride, padding: pads(ctx), bias: bias !== null });
  layer.weight.value.data.set(w.data);
  if (bias !== null && layer.bias !== null) layer.bias.value.data.set(bias.data);
  return layer;
}

function maxPool(ctx: OnnxImportContext): Module {
  const kernel = pairOf(ctx, 'kernel_shape', ctx.attr('kernel_shape', [] as number[]), 'square 2-D windows only');
  const stride = pairOf(ctx, 'strides', ctx.attr('strides', [1, 1]), 'the same stride on both axes only');
  if (pads(ctx) !== 0) ctx.fail(`pads ${JSON.stringify(ctx.attr('pads', []))} are not supported (MaxPool2d has no padding)`);
  if (ctx.attr('ceil_mode', 0) !== 0) ctx.fail('ceil_mode 1 is not supported');
  if (ctx.attr('dilations', [1, 1]).some((d) => d !== 1)) ctx.fail('dilations other than 1 are not supported');
  if ((ctx.node.output ?? []).filter((o) => o !== '').length > 1) ctx.fail('its second output (the indices) is not supported');
  return new MaxPool2d(kernel, stride);
}

function flatten(ctx: OnnxImportContext): Module {
  const axis = ctx.attr('axis', 1);
  if (axis !== 1) ctx.fail(`axis ${axis} is not supported (only 1: [batch, features])`);
  return new Flatten(1);
}

function reshape(ctx: OnnxImportContext): Module {
  const shape = ctx.constant(1);
  if (shape === null) return ctx.fail('its target shape must be a constant');
  const target = Array.from(shape.data);
  // A reshape that keeps the leading axes and merges the rest is vugrad's Flatten(k): [0, d1..d(k-1), -1]
  // (0 copies an input axis), or [-1 | 0, K] for k = 1. Checked against the input's shape when it is known.
  const k = target.length - 1;
  const sample = ctx.example?.shape ?? null;
  const keeps = target.slice(1, k).every((d, j) => d === 0 || (sample !== null && d === sample[j + 1]));
  const last = target[k];
  const lastOk = last === -1 || (last > 0 && (sample === null || last === shapeSize(sample.slice(k))));
  const firstOk = target[0] === 0 || (k === 1 && target[0] === -1 && last !== -1);
  const flattens = k >= 1 && firstOk && keeps && lastOk;
  if (!flattens) ctx.fail(`a reshape to [${target.join(', ')}]${sample ? ` of [batch, ${sample.slice(1).join(', ')}]` : ''} is not supported (only flattening trailing axes)`);
  return new Flatten(k);
}

function dropout(ctx: OnnxImportContext): Module {
  // Opset 12+: the ratio is input 1 (default 0.5); before, an attribute.
  return new Dropout(ctx.constant(1)?.data[0] ?? ctx.attr('ratio', 0.5));
}

/** ONNX op type -> importer. Add an entry for a new layer. */
export const ONNX_IMPORTERS: Record<string, OnnxImporter> = {
  Gemm: gemm,
  MatMul: matmul,
  Conv: conv,
  MaxPool: maxPool,
  Flatten: flatten,
  Reshape: reshape,
  Relu: () => new ReLU(),
  Sigmoid: () => new Sigmoid(),
  Tanh: () => new Tanh(),
  Dropout: dropout,
  Identity: () => null,
  // Add is a layer's bias only: MatMul takes the Add that follows it.
  Add: (ctx) => ctx.fail('an Add that is not the bias of a MatMul before it is not supported'),
};

interface OnnxImportContextInternal extends OnnxImportContext {
  constantNamed(name: string): NDArray | null;
  stringAttr(name: string, fallback: string): string;
}

/** What `readOnnxInfo` reports about a model file. */
export interface OnnxInfo {
  /** The graph input's name. */
  inputName: string;
  /** One sample's shape (the input's shape without its first, batch, axis); null where a size is not fixed. */
  inputShape: number[] | null;
  outputName: string;
  /** The default domain's opset. */
  opset: number;
  producer: string;
  /** The op types in the graph, in order of first use. */
  ops: string[];
  /** The model's metadata_props. */
  metadata: Record<string, string>;
}

function load(source: string | Uint8Array): { model: ModelProtoObject; name: string } {
  if (typeof source === 'string') {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(source);
    } catch (e) {
      throw new Error(`onnx: cannot read ${source}: ${(e as Error).message}`);
    }
    return { model: decodeModel(bytes, source), name: source };
  }
  return { model: decodeModel(source, 'buffer'), name: 'buffer' };
}

function graphInputs(model: ModelProtoObject, name: string) {
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new RangeError(`onnx: ${name} has no graph nodes (is it an ONNX model?)`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  // Older exporters list the initializers among the inputs too; the data input is the one that is not.
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  const outputs = graph.output ?? [];
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw new RangeError(`onnx: ${name} has ${inputs.length} inputs and ${outputs.length} outputs; only models with one of each are supported`);
  }
  return { graph, input: inputs[0], output: outputs[0] };
}

/** Input and output names, the sample shape, opset, producer and op types of an ONNX model file or bytes. */
export function readOnnxInfo(source: string | Uint8Array): OnnxInfo {
  const { model, name } = load(source);
  const { graph, input, output } = graphInputs(model, name);
  const dims = input.type?.tensor_type?.shape?.dim ?? [];
  const sample = dims.slice(1).map((d) => (typeof d.dim_value === 'number' && d.dim_value > 0 ? d.dim_value : NaN));
  const metadata: Record<string, string> = {};
  for (const { key, value } of model.metadata_props ?? []) if (key !== undefined) metadata[key] = value ?? '';
  return {
    inputName: input.name ?? '',
    inputShape: dims.length >= 2 && sample.every((d) => !Number.isNaN(d)) ? sample : null,
    outputName: output.name ?? '',
    opset: (model.opset_import ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 0,
    producer: [model.producer_name, model.producer_version].filter(Boolean).join(' '),
    ops: [...new Set((graph.node ?? []).map((n) => n.op_type ?? ''))],
    metadata,
  };
}

/** A float or int64 tensor as an NDArray (float32; int64 values as numbers, exact up to 2^24). raw_data is little-endian. */
function tensorValue(t: TensorProtoObject, where: string): NDArray {
  const dims = t.dims ?? [];
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`onnx: ${where} has an invalid shape [${dims.join(', ')}]`);
  const size = shapeSize(dims);
  if (t.data_location === 1) throw new RangeError(`onnx: ${where} keeps its data in an external file, which is not supported`);
  const raw = t.raw_data && t.raw_data.length > 0 ? Buffer.from(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength) : null;
  const type = t.data_type ?? 0;
  const width = type === DataType.FLOAT ? 4 : type === DataType.DOUBLE || type === DataType.INT64 ? 8 : 0;
  if (width === 0) throw new RangeError(`onnx: ${where} has data type ${type}; only float32, float64 and int64 tensors are supported`);
  const listed = type === DataType.FLOAT ? t.float_data : type === DataType.DOUBLE ? t.double_data : t.int64_data;
  // The count is checked before anything is allocated: a file's shape could claim any size.
  const count = raw ? raw.length / width : (listed ?? []).length;
  if (count !== size) throw new RangeError(`onnx: ${where} of shape ${shapeString(dims)} holds ${count} values instead of ${size}`);
  const out = new Float32Array(size);
  if (raw === null) out.set(listed ?? []);
  else if (type === DataType.FLOAT) for (let i = 0; i < size; i++) out[i] = raw.readFloatLE(i * 4);
  else if (type === DataType.DOUBLE) for (let i = 0; i < size; i++) out[i] = raw.readDoubleLE(i * 8);
  else for (let i = 0; i < size; i++) out[i] = Number(raw.readBigInt64LE(i * 8));
  return new NDArray(out, dims.length === 0 ? [] : dims);
}

function attrValue(a: AttributeProtoObject): number | number[] | string | TensorProtoObject | undefined {
  switch (a.type) {
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INTS:
      return a.ints ?? [];
    case AttributeType.FLOATS:
      return a.floats ?? [];
    case AttributeType.STRING:
      return Buffer.from(a.s ?? new Uint8Array()).toString('utf8');
    case AttributeType.TENSOR:
      return a.t;
    default:
      return undefined;
  }
}

/**
 * A vugrad `Sequential` (in eval mode) holding the layers and weights of an ONNX model, from a file path or
 * the model's bytes. The graph must be one chain from its single input to its single output; every node's
 * other inputs must be initializers or Constant nodes. A graph with unsupported ops throws one `RangeError`
 * listing all of them; an unsupported attribute value throws one naming the node.
 */
export function importOnnx(source: string | Uint8Array): Sequential {
  const { model, name } = load(source);
  const { graph, input, output } = graphInputs(model, name);
  const nodes = graph.node ?? [];

  const unsupported = new Map<string, number>();
  for (const n of nodes) {
    const op = n.op_type ?? '';
    const domain = n.domain ?? '';
    if (op === 'Constant' && domain === '') continue;
    const key = domain === '' || domain === 'ai.onnx' ? op : `${domain}.${op}`;
    if (!(key in ONNX_IMPORTERS)) unsupported.set(key, (unsupported.get(key) ?? 0) + 1);
  }
  if (unsupported.size > 0) {
    const list = [...unsupported].map(([op, n]) => (n > 1 ? `${op} (${n} nodes)` : op)).join(', ');
    throw new RangeError(`onnx: ${name} uses ops vugrad cannot import: ${list}. Supported: ${Object.keys(ONNX_IMPORTERS).join(', ')}`);
  }

  const constants = new Map<string, NDArray>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', tensorValue(t, `initializer '${t.name}'`));
  const layers: Module[] = [];
  let current = input.name ?? '';
  const inputShape = readInputShape(input);
  // A batch of one zero sample run through the layers as they are built: shapes for the importers, and a
  // graph whose layers do not fit together fails at its node, not at the first prediction.
  let example: TensorNode | null = inputShape === null ? null : TensorNode.constant(NDArray.zeros([1, ...inputShape]));
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const label = `node ${i} (${node.op_type}${node.name ? ` '${node.name}'` : ''})`;
    if (node.op_type === 'Constant') {
      const value = node.attribute?.find((a) => a.name === 'value');
      if (!value?.t) throw new RangeError(`onnx: ${name}: ${label} is a Constant without a tensor 'value', which is not supported`);
      constants.set(node.output?.[0] ?? '', tensorValue(value.t, label));
      continue;
    }
    const inputs = node.input ?? [];
    const dataInputs = inputs.filter((n) => n !== '' && !constants.has(n));
    if (dataInputs.length !== 1 || dataInputs[0] !== current) {
      throw new RangeError(
        `onnx: ${name}: ${label} takes [${dataInputs.join(', ')}] where a chain of layers would take only '${current}'; only sequential graphs can be imported`,
      );
    }
    const attributes = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
    let consumed = false;
    const ctx: OnnxImportContextInternal = {
      node,
      example,
      attr: ((key: string, fallback: number | number[]) => {
        const a = attributes.get(key);
        if (a === undefined) return fallback;
        const v = attrValue(a);
        if (typeof v !== typeof fallback && !(Array.isArray(v) && Array.isArray(fallback))) {
          ctx.fail(`attribute ${key} has type ${a.type}, not ${Array.isArray(fallback) ? 'a list of numbers' : 'a number'}`);
        }
        return v;
      }) as OnnxImportContext['attr'],
      stringAttr: (key, fallback) => {
        const a = attributes.get(key);
        return a === undefined ? fallback : String(attrValue(a));
      },
      constant: (k) => (inputs[k] ? constants.get(inputs[k]) ?? null : null),
      constantNamed: (n) => constants.get(n) ?? null,
      next: () => {
        const n = nodes[i + 1];
        return n && (n.input ?? []).includes(node.output?.[0] ?? '') ? n : null;
      },
      consumeNext: () => {
        consumed = true;
      },
      fail: (why) => {
        throw new RangeError(`onnx: ${name}: ${label}: ${why}`);
      },
    };
    const layer = ONNX_IMPORTERS[node.op_type ?? ''](ctx);
    if (layer !== null) {
      layer.eval();
      layers.push(layer);
      if (example !== null) {
        try {
          example = layer.call(example);
        } catch (e) {
          ctx.fail(`the ${layer.constructor.name} it becomes does not take inputs of shape [batch, ${example.shape.slice(1).join(', ')}]: ${(e as Error).message}`);
        }
      }
    }
    const last = consumed ? nodes[++i] : node;
    current = last.output?.[0] ?? '';
  }
  if (current !== output.name) {
    throw new RangeError(`onnx: ${name}: the chain of layers ends in '${current}', not in the graph output '${output.name}'`);
  }
  return new Sequential(...layers).eval();
}

function readInputShape(input: { type?: { tensor_type?: { shape?: { dim?: { dim_value?: number }[] } } } }): number[] | null {
  const dims = input.type?.tensor_type?.shape?.dim ?? [];
  const sample = dims.slice(1).map((d) => d.dim_value ?? 0);
  return dims.length >= 2 && sample.every((d) => d > 0) ? sample : null;
}
