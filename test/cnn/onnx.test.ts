/**
 * @jest-environment ./test/interop/ort-environment.js
 */
/**
 * ONNX export of the CNN layers: BatchNorm (inference, running statistics), average pooling, residual blocks
 * with both shortcuts and a ResNet, run by onnxruntime (test/peers) against vugrad in eval mode (1e-5, float32).
 */
import { NDArray, Random, TensorNode, exportOnnx } from '../../lib';
import { AdaptiveAvgPool2d, AvgPool2d, BasicBlock, BatchNorm1d, BatchNorm2d, Linear, ResNet, Sequential, type Module } from '../../lib/nn';
import { maxAbsDiff, onnxRuntime } from '../interop/runtimes';

const { runtime: ort, why } = onnxRuntime();
if (!ort) console.warn(`cnn onnx test: onnxruntime comparisons skipped: ${why}`);

function randn(shape: number[], seed: number): NDArray {
  const r = new Random(seed);
  const a = NDArray.zeros(shape);
  for (let i = 0; i < a.size; i++) a.data[i] = r.normal();
  return a;
}

/** A few training-mode batches so that the running statistics are not the initial 0 and 1. */
function warm(model: Module, shape: number[]): void {
  model.train();
  for (let s = 0; s < 3; s++) model.call(TensorNode.constant(randn([4, ...shape], 100 + s)));
}

const cases: [string, () => Module, number[]][] = [
  ['BatchNorm2d', () => new BatchNorm2d(3), [3, 5, 4]],
  ['Linear + BatchNorm1d (no affine)', () => new Sequential(new Linear(6, 4), new BatchNorm1d(4, { affine: false })), [6]],
  ['AvgPool2d(3, 2, 1)', () => new AvgPool2d(3, 2, 1), [2, 7, 6]],
  ['AdaptiveAvgPool2d(1)', () => new AdaptiveAvgPool2d(1), [2, 5, 3]],
  ['BasicBlock, shortcut A', () => new BasicBlock(4, 8, { stride: 2, shortcut: 'A', random: new Random(1) }), [4, 8, 8]],
  ['BasicBlock, shortcut B', () => new BasicBlock(4, 8, { stride: 2, shortcut: 'B', random: new Random(2) }), [4, 8, 8]],
  ['ResNet-8', () => new ResNet({ depth: 8, random: new Random(3) }), [3, 16, 16]],
];

(ort ? describe : describe.skip)('onnxruntime runs the exported CNN layers as vugrad does in eval mode (1e-5)', () => {
  test.each(cases)('%s', async (_name, make, shape) => {
    const model = make();
    warm(model, shape);
    const session = await ort!.InferenceSession.create(exportOnnx(model, { inputShape: shape }));
    model.eval();
    for (const batch of [1, 3]) {
      const x = randn([batch, ...shape], 7 + batch);
      const expected = model.call(TensorNode.constant(x)).value;
      const result = await session.run({ input: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
      const out = Object.values(result)[0] as { data: Float32Array; dims: readonly number[] };
      expect([...out.dims]).toEqual([...expected.shape]);
      expect(maxAbsDiff(out.data, expected.data)).toBeLessThan(1e-5);
    }
  });
});
