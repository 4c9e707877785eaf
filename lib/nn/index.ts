/** Modules, layers, the course's models, initializers and losses. */
export { Module, type ModuleEntry } from './module';
export {
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  type Conv2dLayerOptions,
  type LayerOptions,
} from './layers';
export { LeNet, MLP, type Activation, type LeNetOptions, type MLPOptions } from './models';
export { BatchNorm, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm';
export { AdaptiveAvgPool2d, AvgPool2d } from './pooling';
export { labelSmoothingCrossEntropy, type LabelSmoothingOptions } from './label-smoothing';
export { BasicBlock, ResNet, type BasicBlockOptions, type ResNetOptions, type Shortcut } from './resnet';
export {
  computeFans,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  initLayer,
  initializer,
  kaimingNormal,
  kaimingUniform,
  normal,
  pytorchDefault,
  uniform,
  xavierNormal,
  xavierUniform,
  zeros,
  type InitName,
  type InitOptions,
  type Initializer,
  type KaimingOptions,
} from './init';
export {
  crossEntropyLoss,
  logceloss,
  lossByName,
  mseLoss,
  multiMarginLoss,
  nllLoss,
  oneHot,
  type LossFunction,
  type LossName,
  type LossOptions,
  type MultiMarginOptions,
  type Reduction,
} from './losses';
