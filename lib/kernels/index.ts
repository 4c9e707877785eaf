/**
 * Kernel dispatch: the one table ops call (`kernels.gemm(...)`).
 *
 * Today the table is the pure-TypeScript one. A native table, when one loads, replaces entries one kernel at a
 * time (dispatch falls back per kernel), and `backendInfo()` says what is in use and why.
 */
import { jsKernels } from './js';
import type { KernelTable } from './names';

export type { KernelTable, KernelName, UnaryOp, BinaryOp } from './names';
export { KERNEL_NAMES } from './names';
export { jsKernels };

export interface BackendInfo {
  /** The backend in use: 'native' when any kernel runs in the addon, else 'js'. */
  backend: 'js' | 'native';
  /** Why this backend was chosen (an environment setting, a load failure, ...). */
  reason: string;
}

/** The kernel table ops use. Its entries may be swapped per kernel by a native backend. */
export const kernels: KernelTable = { ...jsKernels };

let info: BackendInfo = { backend: 'js', reason: 'pure TypeScript kernels (no native addon in this build)' };

/** Which kernel backend is in use and why. */
export function backendInfo(): BackendInfo {
  return { ...info };
}
