export { AllocationError, DTYPES, NDArray, allocate, checkAllocation, checkDType, dtypeOf, formatBytes, sameShape, shapeSize, shapeString } from './ndarray';
export type { DType, FloatArray, NestedArray } from './ndarray';
export { Random, globalRandom, manualSeed, getRngState, setRngState, type RandomState } from './random';
export { TensorNode, topologicalOrder, type TensorNodeOptions } from './tensor-node';
export { Op } from './op';
export { OpNode, type Context, type Grads, type OpClass, type OpOptions } from './op-node';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck';
