/**
 * @jest-environment ./test/interop/ort-environment.js
 */
/**
 * ONNX export and import. Every layer is exported and run by onnxruntime (test/peers), whose outputs must
 * equal vugrad's within 1e-5 (float32), at two batch sizes (the batch axis is dynamic). Import is checked
 * by round trips (export -> import gives the same function and parameters) and its errors by hand-made graphs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray } from '../../lib/core/ndarray';
import { manualSeed } from '../../lib/core/random';
import { TensorNode } from '../../lib/core/tensor-node';
import { exportOnnx, importOnnx, readOnnxInfo, saveOnnx, ONNX_EXPORTERS } from '../../lib/io';
import { encodeModel, decodeModel, DataType, AttributeType, type NodeProtoObject } from '../../lib/io/onnx/schema';
import { Conv2d, Dropout, Flatten, LeNet, Linear, MaxPool2d, MLP, Module, ReLU, Sequential, Sigmoid, Tanh } from '../../lib/nn';
import { maxAbsDiff, onnxRuntime } from '../interop/runtimes';

const { runtime: ort, why } = onnxRuntime();
if (!ort) console.warn(`onnx.test: onnxruntime comparisons skipped: ${why}`);

function randomInput(batch: number, shape: number[], seed: number): NDArray {
  let s = seed;
  const n = batch * shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648) * 4 - 2;
  }
  return new NDArray(data, [batch, ...shape]);
}

function vugradOutput(model: Module, x: NDArray): Float32Array {
  const wasTraining = model.training;
  model.eval();
  const dtype = model.parameters()[0]?.value.dtype ?? 'float32';
  const y = model.call(TensorNode.constant(x.astype(dtype))).value;
  model.train(wasTraining);
  return Float32Array.from(y.data);
}

// Each case: a model and one sample's shape. Every layer class vugrad has appears in at least one.
const cases: [string, () => Module, number[]][] = [
  ['Linear (Gemm)', () => new Linear(7, 5), [7]],
  ['Linear without bias', () => new Linear(7, 3, { bias: false }), [7]],
  ['Linear on [batch, t, features] (MatMul + Add)', () => new Linear(6, 4), [3, 6]],
  ['Conv2d', () => new Conv2d(3, 4, 3), [3, 9, 9]],
  ['Conv2d stride 2 padding 1', () => new Conv2d(2, 5, 3, { stride: 2, padding: 1 }), [2, 11, 11]],
  ['Conv2d 2x3 kernel, no bias, padding 2', () => new Conv2d(1, 2, [2, 3], { padding: 2, bias: false }), [1, 6, 7]],
  ['MaxPool2d 2', () => new MaxPool2d(2), [3, 8, 8]],
  ['MaxPool2d 3 stride 2', () => new MaxPool2d(3, 2), [2, 9, 9]],
  ['Flatten', () => new Flatten(), [2, 3, 4]],
  ['Flatten from axis 2 (Reshape)', () => new Flatten(2), [2, 3, 4]],
  ['ReLU', () => new ReLU(), [10]],
  ['Sigmoid', () => new Sigmoid(), [10]],
  ['Tanh', () => new Tanh(), [2, 5]],
  ['Dropout (identity)', () => new Dropout(0.5), [6]],
  [
    'Sequential of every layer',
    () => new Sequential(new Conv2d(1, 3, 3, { padding: 1 }), new Tanh(), new MaxPool2d(2), new Flatten(), new Dropout(0.2), new Linear(48, 6), new Sigmoid()),
    [1, 8, 8],
  ],
  ['MLP relu', () => new MLP({ inputSize: 12, hiddenSizes: [16, 8], outputSize: 4 }), [12]],
  ['MLP sigmoid', () => new MLP({ inputSize: 12, hiddenSizes: [9], outputSize: 3, activation: 'sigmoid' }), [12]],
  ['MLP tanh, float64', () => new MLP({ inputSize: 5, hiddenSizes: [7], outputSize: 2, activation: 'tanh', dtype: 'float64' }), [5]],
  ['MLP without hidden layers', () => new MLP({ inputSize: 5, hiddenSizes: [], outputSize: 2 }), [5]],
  ['LeNet 3x32x32', () => new LeNet(), [3, 32, 32]],
  ['LeNet 1x28x28', () => new LeNet({ inChannels: 1, imageSize: 28, numClasses: 7 }), [1, 28, 28]],
];

(ort ? describe : describe.skip)('onnxruntime runs every exported layer as vugrad does (within 1e-5)', () => {
  test.each(cases)('%s', async (_name, make, shape) => {
    manualSeed(17);
    const model = make();
    const session = await ort!.InferenceSession.create(exportOnnx(model, { inputShape: shape }));
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    for (const batch of [1, 5]) {
      const x = randomInput(batch, shape, batch * 31 + shape.length);
      const result = await session.run({ input: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
      const expected = vugradOutput(model, x);
      expect(result.logits.dims[0]).toBe(batch);
      expect(result.logits.data.length).toBe(expected.length);
      expect(maxAbsDiff(result.logits.data, expected)).toBeLessThan(1e-5);
    }
  });

  test('a model in training mode exports its inference graph and stays in training mode', async () => {
    manualSeed(3);
    const model = new Sequential(new Linear(4, 4), new Dropout(0.9));
    const session = await ort!.InferenceSession.create(exportOnnx(model, { inputShape: [4] }));
    expect(model.training).toBe(true);
    const x = randomInput(2, [4], 5);
    const out = await session.run({ input: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
    expect(maxAbsDiff(out.logits.data, vugradOutput(model, x))).toBeLessThan(1e-5);
  });

  test('a new layer needs one ONNX_EXPORTERS entry', async () => {
    class Scale extends Module {
      constructor(readonly factor: number) {
        super();
      }
      forward(x: TensorNode): TensorNode {
        return x.mul(this.factor);
      }
    }
    ONNX_EXPORTERS.set(Scale, (m: Scale, x, b) =>
      b.node('Mul', [x.name, b.weight(TensorNode.constant(NDArray.from([m.factor])), 'factor')], {}, m.call(x.example)),
    );
    try {
      const model = new Sequential(new Linear(4, 3), new Scale(-2.5));
      const session = await ort!.InferenceSession.create(exportOnnx(model, { inputShape: [4] }));
      const x = randomInput(2, [4], 8);
      const out = await session.run({ input: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
      expect(maxAbsDiff(out.logits.data, vugradOutput(model, x))).toBeLessThan(1e-5);
    } finally {
      ONNX_EXPORTERS.delete(Scale);
    }
  });

  test('opset 21 and custom input/output names run too', async () => {
    const model = new MLP({ inputSize: 3, hiddenSizes: [4], outputSize: 2 });
    const bytes = exportOnnx(model, { inputShape: [3], opset: 21, inputName: 'x', outputName: 'y' });
    const session = await ort!.InferenceSession.create(bytes);
    const x = randomInput(3, [3], 1);
    const out = await session.run({ x: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
    expect(maxAbsDiff(out.y.data, vugradOutput(model, x))).toBeLessThan(1e-5);
  });
});

describe('exportOnnx', () => {
  test('writes opset 13, a dynamic batch axis, the parameters as initializers under their own names', () => {
    const model = new LeNet();
    const decoded = decodeModel(exportOnnx(model, { inputShape: [3, 32, 32], metadata: { epochs: '3' } }));
    expect(decoded.opset_import).toEqual([{ domain: '', version: 13 }]);
    expect(decoded.ir_version).toBe(7);
    expect(decoded.producer_name).toBe('vugrad');
    expect(decoded.metadata_props).toEqual([{ key: 'epochs', value: '3' }]);
    const g = decoded.graph!;
    expect(g.input![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 3 }, { dim_value: 32 }, { dim_value: 32 }]);
    expect(g.output![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 10 }]);
    expect(g.initializer!.map((t) => t.name)).toEqual(model.namedParameters().map(([n]) => n));
    expect(g.node!.map((n) => n.op_type)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    const w = g.initializer![0];
    expect(w.dims).toEqual([6, 3, 5, 5]);
    expect(Array.from(new Float32Array(new Uint8Array(w.raw_data!).buffer))).toEqual(Array.from(model.conv1.weight.value.data));
  });

  test('refuses a module it has no mapping for, naming it and the supported ones', () => {
    class Custom extends Module {
      forward(x: TensorNode): TensorNode {
        return x;
      }
    }
    expect(() => exportOnnx(new Sequential(new Linear(2, 2), new Custom()), { inputShape: [2] })).toThrow(/no ONNX mapping for Custom \(supported: Linear, .*LeNet\)/);
    expect(ONNX_EXPORTERS.has(Linear)).toBe(true);
  });

  test('an exporter that does not compute the forward is caught at export', () => {
    class Two extends Module {
      first = new Linear(3, 3);
      second = new Linear(3, 3);
      forward(x: TensorNode): TensorNode {
        return this.second.call(this.first.call(x));
      }
    }
    ONNX_EXPORTERS.set(Two, (m: Two, x, b) => b.emit(m.first, x)); // forgets the second layer
    try {
      expect(() => exportOnnx(new Two(), { inputShape: [3] })).toThrow(/the ONNX graph built for Two does not compute its forward .*ONNX_EXPORTERS entry is out of date/);
    } finally {
      ONNX_EXPORTERS.delete(Two);
    }
  });

  test('checks the opset and the input shape, naming the values', () => {
    const mlp = new MLP({ inputSize: 4, hiddenSizes: [], outputSize: 2 });
    expect(() => exportOnnx(mlp, { inputShape: [4], opset: 11 })).toThrow(/opset must be an integer from 13 to 21, got 11/);
    expect(() => exportOnnx(mlp, { inputShape: [] })).toThrow(/inputShape must be the shape of one sample/);
    expect(() => exportOnnx(mlp, { inputShape: [0, 4] })).toThrow(/got \[0,4\]/);
    expect(() => exportOnnx(mlp, { inputShape: [5] })).toThrow(/MLP cannot take inputs of shape \[batch, 5\]/);
    expect(() => exportOnnx(new LeNet(), { inputShape: [1, 32, 32] })).toThrow(/LeNet cannot take inputs of shape \[batch, 1, 32, 32\]/);
  });

  test('saveOnnx writes the same bytes to a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-onnx-'));
    try {
      const mlp = new MLP({ inputSize: 4, hiddenSizes: [3], outputSize: 2 });
      saveOnnx(mlp, path.join(dir, 'm.onnx'), { inputShape: [4] });
      expect(Buffer.compare(fs.readFileSync(path.join(dir, 'm.onnx')), Buffer.from(exportOnnx(mlp, { inputShape: [4] })))).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(['m.onnx']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('importOnnx', () => {
  test.each(cases.filter(([name]) => !name.startsWith('Dropout')))('round trip through ONNX computes the same: %s', (_name, make, shape) => {
    manualSeed(5);
    const model = make();
    const back = importOnnx(exportOnnx(model, { inputShape: shape }));
    const x = randomInput(3, shape, 9);
    expect(maxAbsDiff(vugradOutput(back, x), vugradOutput(model, x))).toBeLessThan(1e-6);
    expect(back.parameters().reduce((n, p) => n + p.value.size, 0)).toBe(model.parameters().reduce((n, p) => n + p.value.size, 0));
  });

  test('the imported model trains: its parameters take gradients', () => {
    const back = importOnnx(exportOnnx(new MLP({ inputSize: 3, hiddenSizes: [4], outputSize: 2 }), { inputShape: [3] }));
    back.train();
    back.call(TensorNode.constant(randomInput(2, [3], 1))).sum().backward();
    for (const p of back.parameters()) expect(p.grad!.data.some((g) => g !== 0)).toBe(true);
  });

  test('readOnnxInfo reports the input, output, opset and ops', () => {
    const info = readOnnxInfo(exportOnnx(new LeNet(), { inputShape: [3, 32, 32], opset: 17 }));
    expect(info).toMatchObject({ inputName: 'input', inputShape: [3, 32, 32], outputName: 'logits', opset: 17, ops: ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm'] });
  });

  const floatTensor = (name: string, dims: number[], values: number[]) => ({ name, dims, data_type: DataType.FLOAT, float_data: values });
  const graph = (nodes: NodeProtoObject[], initializer: ReturnType<typeof floatTensor>[] = [], outputName = 'y') =>
    encodeModel({
      ir_version: 7,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: nodes,
        initializer,
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, { dim_value: 2 }] } } } }],
        output: [{ name: outputName, type: { tensor_type: { elem_type: 1 } } }],
      },
    });

  test('unsupported ops give one error listing them all', () => {
    const bytes = graph([
      { op_type: 'Relu', input: ['x'], output: ['a'] },
      { op_type: 'LSTM', input: ['a'], output: ['b'] },
      { op_type: 'Softmax', input: ['b'], output: ['c'] },
      { op_type: 'Softmax', input: ['c'], output: ['y'] },
    ]);
    expect(() => importOnnx(bytes)).toThrow(/uses ops vugrad cannot import: LSTM, Softmax \(2 nodes\)\. Supported: Gemm, MatMul/);
  });

  test('reads float_data weights, MatMul + Add as one Linear, Reshape to [batch, features] as Flatten', () => {
    const bytes = graph(
      [
        { op_type: 'Constant', output: ['shape'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [2], data_type: DataType.INT64, int64_data: [-1, 2] } }] },
        { op_type: 'Reshape', input: ['x', 'shape'], output: ['r'] },
        { op_type: 'MatMul', input: ['r', 'W'], output: ['m'] },
        { op_type: 'Add', input: ['m', 'b'], output: ['y'] },
      ],
      [floatTensor('W', [2, 3], [1, 2, 3, 4, 5, 6]), floatTensor('b', [3], [0.5, -1, 2])],
    );
    const net = importOnnx(bytes);
    expect(net.layers.map((l) => l.constructor.name)).toEqual(['Flatten', 'Linear']);
    const y = net.call(TensorNode.constant(NDArray.from([[1, 1]])));
    expect(Array.from(y.value.data)).toEqual([5.5, 6, 11]);
  });

  test('a graph that is not a chain, or that has unsupported attributes, is refused naming the node', () => {
    const branch = graph([
      { op_type: 'Relu', input: ['x'], output: ['a'] },
      { op_type: 'Gemm', input: ['a', 'x'], output: ['y'] },
    ]);
    expect(() => importOnnx(branch)).toThrow(/node 1 \(Gemm\) takes \[a, x\] where a chain of layers would take only 'a'/);
    const grouped = graph(
      [{ op_type: 'Conv', name: 'c1', input: ['x', 'W'], output: ['y'], attribute: [{ name: 'group', type: AttributeType.INT, i: 2 }] }],
      [floatTensor('W', [2, 1, 1, 1], [1, 1])],
    );
    expect(() => importOnnx(grouped)).toThrow(/node 0 \(Conv 'c1'\): group 2 is not supported/);
    const transpose = graph([
      { op_type: 'Constant', output: ['s'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [2], data_type: DataType.INT64, int64_data: [2, -1] } }] },
      { op_type: 'Reshape', input: ['x', 's'], output: ['y'] },
    ]);
    expect(() => importOnnx(transpose)).toThrow(/node 1 \(Reshape\): a reshape to \[2, -1\] of \[batch, 2\] is not supported/);
    const add = graph([{ op_type: 'Add', input: ['x', 'b'], output: ['y'] }], [floatTensor('b', [2], [1, 2])]);
    expect(() => importOnnx(add)).toThrow(/node 0 \(Add\): an Add that is not the bias of a MatMul/);
    const misfit = graph([{ op_type: 'Gemm', input: ['x', 'W'], output: ['y'], attribute: [{ name: 'transB', type: AttributeType.INT, i: 1 }] }], [floatTensor('W', [1, 3], [1, 2, 3])]);
    expect(() => importOnnx(misfit)).toThrow(/node 0 \(Gemm\): the Linear it becomes does not take inputs of shape \[batch, 2\]/);
  });

  test('a weight whose data does not fill its shape, or of an unsupported type, is refused before allocating', () => {
    const gemm = (w: object) => graph([{ op_type: 'Gemm', input: ['x', 'W'], output: ['y'] }], [w as ReturnType<typeof floatTensor>]);
    expect(() => importOnnx(gemm(floatTensor('W', [1_000_000_000, 2], [1, 2])))).toThrow(/initializer 'W' of shape \[1000000000,2\] holds 2 values instead of 2000000000/);
    expect(() => importOnnx(gemm({ name: 'W', dims: [2, 2], data_type: 10, raw_data: new Uint8Array(8) }))).toThrow(/initializer 'W' has data type 10; only float32, float64 and int64/);
  });

  test('bytes that are not an ONNX model, and a missing file, name the source', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-onnx-'));
    try {
      const bad = path.join(dir, 'bad.onnx');
      fs.writeFileSync(bad, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
      expect(() => importOnnx(bad)).toThrow(new RegExp(`onnx: ${bad.replace(/[.]/g, '\\.')} is not an ONNX model`));
      expect(() => importOnnx(path.join(dir, 'none.onnx'))).toThrow(/cannot read .*none\.onnx/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
