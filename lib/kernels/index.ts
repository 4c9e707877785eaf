/**
 * Kernel dispatch: the one table ops call (`kernels.gemm(...)`).
 *
 * At load time this picks a backend for each kernel:
 * - `VUGRAD_BACKEND=js` uses the pure-TypeScript kernels and never loads the addon;
 * - otherwise (unset, `auto` or `native`) it loads the C++ addon when one is built or prebuilt, and each kernel
 *   the addon implements runs natively (tiny inputs stay in JS, see `SMALL_INPUT_CUTOFF`);
 * - when the addon cannot load, every kernel is JS and `backendInfo().reason` says why. With
 *   `VUGRAD_BACKEND=native` that is also a process warning (not an exception: a library should not stop a
 *   program that would run correctly, only slower); test suites assert on `backendInfo()` instead.
 *
 * Every call is argument-checked first (`validated`): a wrong length, dtype or size throws a clear Error on
 * either backend.
 *
 * @example
 * import { backendInfo, setNumThreads } from 'vugrad';
 * console.log(backendInfo().backend); // 'native' or 'js'
 * setNumThreads(1);                    // threads for each native kernel call
 */
import * as os from 'node:os';
import { jsKernels } from './js';
import type { KernelName, KernelTable } from './names';
import { composeTable, loadNative, nativeTable, SMALL_INPUT_CUTOFF, type NativeBinding } from './native';
import { validated } from './validate';

export type { KernelTable, KernelName, UnaryOp, BinaryOp } from './names';
export { KERNEL_NAMES } from './names';
export { jsKernels };
export { validated } from './validate';

export interface BackendInfo {
  /** The backend in use: 'native' when any kernel runs in the addon, else 'js'. */
  backend: 'js' | 'native';
  /** Why this backend was chosen (an environment setting, a load failure, ...). */
  reason: string;
  /** What VUGRAD_BACKEND asked for ('auto' when unset). */
  requested: 'auto' | 'js' | 'native';
  /** The addon file in use, or null. */
  addonPath: string | null;
  /** BLAS library and build configuration (from openblas_get_config), or null without the addon. */
  blas: string | null;
  /** The CPU kernel set OpenBLAS picked (openblas_get_corename), or null. */
  blasCore: string | null;
  /** Threads one native kernel call uses (1 for the JS backend, which is single-threaded). */
  threads: number;
  /** Logical cores available to this process. */
  cores: number;
  /**
   * Whether the addon keeps freed blocks of up to 32 MB in malloc's heap (glibc, opt-in with
   * VUGRAD_MALLOC_TUNING=1), so each batch's activations reuse memory instead of being page-faulted in again.
   * Never on when MALLOC_* settings are in the environment (yours win). See docs/native.md, "Memory".
   */
  mallocTuned: boolean;
  /** OPENBLAS_CORETYPE in the environment (it overrides OpenBLAS's CPU detection), or null when unset. */
  openblasCoretype: string | null;
  /** Kernels that run in the addon (for inputs above the small-input cut-offs). */
  nativeKernels: KernelName[];
  /** Kernels that always run in JS. */
  jsKernels: KernelName[];
  /** Inputs smaller than these stay in JS even for native kernels. */
  smallInputCutoff: typeof SMALL_INPUT_CUTOFF | null;
}

const requestedRaw = (process.env.VUGRAD_BACKEND ?? '').trim().toLowerCase();
const requested: BackendInfo['requested'] = requestedRaw === 'js' || requestedRaw === 'native' ? requestedRaw : 'auto';
if (requestedRaw !== '' && requestedRaw !== 'auto' && requested === 'auto') {
  process.emitWarning(`VUGRAD_BACKEND='${process.env.VUGRAD_BACKEND}' is not js, native or auto; using auto`);
}

const checkedJs = validated(jsKernels, { checkIndices: true });

let binding: NativeBinding | null = null;
let addonPath: string | null = null;
let reason: string;
if (requested === 'js') {
  reason = 'VUGRAD_BACKEND=js';
} else {
  const load = loadNative();
  binding = load.binding;
  if (binding) {
    addonPath = load.detail;
    reason = requested === 'native' ? 'VUGRAD_BACKEND=native' : 'native addon loaded';
  } else {
    reason = `native addon is unavailable (${load.detail}); using the JS kernels`;
    if (requested === 'native') {
      reason = `VUGRAD_BACKEND=native was requested, but the ${reason}`;
      process.emitWarning(`vugrad: ${reason}`);
    }
  }
}

let nativeNames: KernelName[] = [];
let checkedNative: KernelTable | null = null;
if (binding) {
  const composed = composeTable(nativeTable(binding, jsKernels), jsKernels);
  nativeNames = composed.native;
  // The addon range-checks index arrays itself, so the TypeScript checks skip that O(n) pass.
  checkedNative = validated(composed.table, { checkIndices: false });
  if (!process.env.OPENBLAS_NUM_THREADS && !process.env.OMP_NUM_THREADS) {
    // Default: no more BLAS threads than cores (OpenBLAS may count cores this process cannot use).
    binding.setNumThreads(Math.max(1, Math.min(binding.getNumThreads(), availableCores())));
  }
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The kernel table ops use. Its entries are the native ones where the addon provides them, else JS. */
export const kernels: KernelTable = { ...(checkedNative ?? checkedJs) };

/**
 * The argument-checked tables of each backend, for conformance tests and benchmarks: `js` always, `native`
 * when the addon loaded in this process (null otherwise, e.g. under VUGRAD_BACKEND=js).
 */
export function backendTables(): { js: KernelTable; native: KernelTable | null } {
  return { js: checkedJs, native: checkedNative };
}

/**
 * Which kernel backend is in use and why, the BLAS library, its thread count and the OPENBLAS_CORETYPE in effect.
 *
 * @example
 * node -e "console.log(require('vugrad').backendInfo())"
 */
export function backendInfo(): BackendInfo {
  const all = Object.keys(jsKernels) as KernelName[];
  return {
    backend: binding ? 'native' : 'js',
    reason,
    requested,
    addonPath,
    blas: binding ? binding.blasConfig() : null,
    blasCore: binding ? binding.blasCoreName() : null,
    threads: binding ? binding.getNumThreads() : 1,
    cores: availableCores(),
    mallocTuned: binding?.mallocTuned?.() ?? false,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
    nativeKernels: [...nativeNames],
    jsKernels: all.filter((k) => !nativeNames.includes(k)),
    smallInputCutoff: binding ? SMALL_INPUT_CUTOFF : null,
  };
}

/**
 * Sets the number of threads the native kernels use (process-wide: one setting for all threads and workers).
 * The addon splits each large gemm (by rows or columns of C, one single-threaded OpenBLAS call per part),
 * im2col, pooling and elementwise kernels across a small pool of its own threads; OpenBLAS itself always runs
 * single-threaded. The default is OpenBLAS's setting (`OPENBLAS_NUM_THREADS`) or the number of cores. Keep
 * these threads plus any threads of your own (worker_threads that each train) at or below the core count:
 * oversubscribing makes everything slower. Without the addon this does nothing (the JS kernels are
 * single-threaded).
 *
 * @example
 * setNumThreads(1); // e.g. when running two training workers on a 2-core machine
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: n must be an integer >= 1, got ${n}`);
  binding?.setNumThreads(n);
}

/**
 * Hands memory that freed blocks still hold in malloc's heaps back to the system (glibc `malloc_trim`, through
 * the addon; a no-op without it). A server calls it after a training worker exits, so RSS does not keep each
 * worker's peak. Returns true when memory was released.
 */
export function releaseFreedMemory(): boolean {
  return binding?.trimMemory?.() ?? false;
}

/** Threads each native kernel call uses (1 without the addon). */
export function getNumThreads(): number {
  return binding ? binding.getNumThreads() : 1;
}
