/**
 * vugrad: automatic differentiation and neural networks for Node.js, after the course library of the same
 * name. See the README for a tour.
 */
export * from './core';
export * from './ops';
export { kernels, jsKernels, backendInfo, KERNEL_NAMES } from './kernels';
export type { BackendInfo, KernelTable, KernelName, UnaryOp, BinaryOp } from './kernels';
