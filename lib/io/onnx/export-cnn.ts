/**
 * ONNX exporters of the CNN layers (issue 19), as entries of `ONNX_EXPORTERS` (see export.ts):
 * BatchNorm1d/2d -> BatchNormalization (inference: the running statistics), AvgPool2d -> AveragePool
 * (count_include_pad = 1, as PyTorch's default), AdaptiveAvgPool2d(1) -> GlobalAveragePool, BasicBlock ->
 * its convolutions, BatchNormalizations, Relu and the residual Add (shortcut A as the constant 1x1 strided
 * Conv it is), ResNet -> its blocks, GlobalAveragePool, Flatten and Gemm.
 */
import { NDArray } from '../../core/ndarray';
import { TensorNode } from '../../core/tensor-node';
import { BatchNorm1d, BatchNorm2d, type BatchNorm } from '../../nn/batchnorm';
import { AdaptiveAvgPool2d, AvgPool2d } from '../../nn/pooling';
import { BasicBlock, ResNet } from '../../nn/resnet';
import type { Module } from '../../nn/module';
import { GlobalAvgPool2dFunction } from '../../ops/pooling-avg';
import { Conv2dFunction } from '../../ops/conv';
import '../../ops/tensor-methods';
import type { OnnxExporter, OnnxGraphBuilder, OnnxValue } from './export';

function batchNorm(m: BatchNorm, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  if (!m.runningMean || !m.runningVar) {
    throw new Error(`exportOnnx: ${m.constructor.name} without running statistics (trackRunningStats: false) has no inference form in ONNX`);
  }
  const c = m.numFeatures;
  const prefix = (m.weight && b.parameterName(m.weight)?.replace(/\.weight$/, '')) || 'batchnorm';
  // Affine off: weight 1 and bias 0, as initializers (BatchNormalization takes all five inputs).
  const scale = m.weight ? b.weight(m.weight, 'weight') : b.weight(TensorNode.constant(NDArray.ones([c])), `${prefix}.scale`);
  const bias = m.bias ? b.weight(m.bias, 'bias') : b.weight(TensorNode.constant(NDArray.zeros([c])), `${prefix}.shift`);
  const mean = b.weight(TensorNode.constant(m.runningMean.copy()), `${prefix}.running_mean`);
  const variance = b.weight(TensorNode.constant(m.runningVar.copy()), `${prefix}.running_var`);
  const wasTraining = m.training;
  m.eval();
  const y = m.call(x.example);
  m.train(wasTraining);
  return b.node('BatchNormalization', [x.name, scale, bias, mean, variance], { epsilon: { float: m.eps } }, y, 'batchnorm');
}

function avgPool(m: AvgPool2d, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const p = m.padding;
  return b.node(
    'AveragePool',
    [x.name],
    { kernel_shape: [m.kernel, m.kernel], strides: [m.stride, m.stride], pads: [p, p, p, p], count_include_pad: 1, ceil_mode: 0 },
    m.call(x.example),
    'avgpool',
  );
}

function adaptiveAvgPool(m: AdaptiveAvgPool2d, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  if (m.outputSize !== 1) throw new Error(`exportOnnx: AdaptiveAvgPool2d(${m.outputSize}) is exported only for output 1 (GlobalAveragePool)`);
  return b.node('GlobalAveragePool', [x.name], {}, m.call(x.example), 'gap');
}

function block(m: BasicBlock, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  const relu = (v: OnnxValue): OnnxValue => b.node('Relu', [v.name], {}, v.example.relu(), 'relu');
  const y = b.emit(m.bn2, b.emit(m.conv2, relu(b.emit(m.bn1, b.emit(m.conv1, x)))));
  let s = x;
  if (m.shortcut) s = b.emit(m.shortcut, x);
  else {
    const select = (m as unknown as { _select: TensorNode | null })._select;
    if (select) {
      const w = b.weight(select, 'shortcut_select');
      s = b.node(
        'Conv',
        [x.name, w],
        { kernel_shape: [1, 1], strides: [m.stride, m.stride], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 },
        Conv2dFunction.doForward(x.example, select, { stride: m.stride, padding: 0 }),
        'shortcut',
      );
    }
  }
  return relu(b.node('Add', [y.name, s.name], {}, y.example.add(s.example), 'residual'));
}

function resnet(m: ResNet, x: OnnxValue, b: OnnxGraphBuilder): OnnxValue {
  let y = b.emit(m.bn1, b.emit(m.conv1, x));
  y = b.node('Relu', [y.name], {}, y.example.relu(), 'relu');
  for (const blk of [...m.layer1, ...m.layer2, ...m.layer3]) y = b.emit(blk, y);
  y = b.node('GlobalAveragePool', [y.name], {}, GlobalAvgPool2dFunction.doForward(y.example), 'gap');
  const flat = y.example.reshape([y.example.shape[0], y.example.shape[1]]);
  y = b.node('Flatten', [y.name], { axis: 1 }, flat, 'flatten');
  return b.emit(m.fc, y);
}

/** The entries export.ts adds to `ONNX_EXPORTERS`. */
export const CNN_EXPORTERS: [abstract new (...args: never[]) => Module, OnnxExporter<never>][] = [
  [BatchNorm1d, batchNorm],
  [BatchNorm2d, batchNorm],
  [AvgPool2d, avgPool],
  [AdaptiveAvgPool2d, adaptiveAvgPool],
  [BasicBlock, block],
  [ResNet, resnet],
];
