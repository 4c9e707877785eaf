/** Every op, the course's functions, and the TensorNode methods built on them. */
import './tensor-methods';

export { Add, AddScalar, Div, MulScalar, Multiply, ScalarDiv, Sub } from './elementwise';
export { Abs, ElementwiseFunction, Exp, Id, Log, Neg, ReLU, Sigmoid, Sqrt, Square, Tanh } from './unary';
export { BatchMM, MatrixMultiply } from './matmul';
export { MaxAxis, Mean, Normalize, RowMax, RowSum, Sum, SumAxis } from './reduce';
export { Expand, Reshape, Select, Squeeze, Transpose, Unsqueeze } from './shape';
export { CrossEntropy, LogSoftmax, Softmax, type Reduction } from './softmax';
export { celoss, crossEntropy, logceloss, logsoftmax, relu, sigmoid, softmax } from './functions';
export { rdiv, tensor } from './tensor-methods';
export { Conv2dOp, MaxPool2dOp, conv2d, convOutputSize, maxPool2d, type Conv2dOptions } from './conv';
export { LinearOp, linear } from './linear';
export { BatchNormOp, batchNorm, type BatchNormOptions as BatchNormOpOptions } from './batchnorm';
export { AvgPool2dOp, GlobalAvgPool2dOp, adaptiveAvgPool2d, avgPool2d, type AvgPool2dOptions } from './pooling-avg';
export { MSELoss, MultiMarginLoss, NLLLoss } from './losses';

// Deprecated names (removed in 0.3): op classes are named as in docs/conventions.md, "Naming".
export { Conv2dFunction, MaxPool2dFunction } from './conv';
export { LinearFunction } from './linear';
export { BatchNormFunction, type BatchNormFunctionOptions } from './batchnorm';
export { AvgPool2dFunction, GlobalAvgPool2dFunction } from './pooling-avg';
