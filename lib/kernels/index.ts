/**
 * Kernel dispatch: the one table ops call (`kernels.gemm(...)`).
 *
 * At load time this picks a backend for each kernel (and `useBackend` picks again at run time):
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
import { composeTable, loadNative, nativeTable, smallInputCutoffs, type NativeBinding, type SmallInputCutoffs } from './native';
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
  smallInputCutoff: SmallInputCutoffs | null;
  /**
   * Which library runs each kernel family in the addon, and why: `gemm` (OpenBLAS or oneDNN), `conv2d` (vugrad's
   * own loops or oneDNN), and whether oneDNN loaded (it is loaded at run time where libdnnl is installed; see
   * docs/native.md). Null without the addon.
   */
  providers: Providers | null;
}

/** The kernel providers (BackendInfo.providers). */
export interface Providers {
  /** Whether oneDNN loaded (its version and instruction set, or why not), and 'supported' or why bf16 is not. */
  onednn: { loaded: boolean; detail: string; bf16: string };
  /** float32 gemms: 'onednn' or 'openblas'. */
  gemm: ProviderChoice;
  /** float32 conv2d and its gradients: 'onednn' or 'vugrad' (direct loops, im2col + gemm). */
  conv2d: ProviderChoice;
}

export interface ProviderChoice {
  provider: string;
  why: string;
}

type Requested = BackendInfo['requested'];

function parseRequested(raw: string | undefined): Requested {
  const r = (raw ?? '').trim().toLowerCase();
  if (r === 'js' || r === 'native' || r === 'auto') return r;
  if (r !== '') process.emitWarning(`VUGRAD_BACKEND='${raw}' is not js, native or auto; using auto`);
  return 'auto';
}

const checkedJs = validated(jsKernels, { checkIndices: true });

/** The addon, loaded at most once per process (on the first request for a native backend), and its table. */
let addon: { binding: NativeBinding | null; detail: string; table: KernelTable | null; names: KernelName[] } | null = null;

function loadAddon(): NonNullable<typeof addon> {
  if (addon) return addon;
  const load = loadNative();
  addon = { binding: load.binding, detail: load.detail, table: null, names: [] };
  if (load.binding) {
    const composed = composeTable(nativeTable(load.binding, jsKernels, cutoffs), jsKernels);
    addon.names = composed.native;
    // The addon range-checks index arrays itself, so the TypeScript checks skip that O(n) pass.
    addon.table = validated(composed.table, { checkIndices: false });
    if (!process.env.OPENBLAS_NUM_THREADS && !process.env.OMP_NUM_THREADS) {
      // Default: no more BLAS threads than cores (OpenBLAS may count cores this process cannot use).
      load.binding.setNumThreads(Math.max(1, Math.min(load.binding.getNumThreads(), availableCores())));
    }
  }
  return addon;
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const cutoffs = smallInputCutoffs();

/**
 * The kernel table ops use. Its entries are the native ones where the addon provides them, else JS. Until the
 * first kernel call (or backendInfo/useBackend) each entry is a stand-in that makes the environment's choice
 * and then calls the chosen kernel: the addon is loaded only when a backend that uses it is first needed.
 */
export const kernels: KernelTable = Object.fromEntries(
  (Object.keys(checkedJs) as KernelName[]).map((name) => [
    name,
    (...args: unknown[]) => {
      ensureSelected();
      return (kernels[name] as (...a: unknown[]) => unknown)(...args);
    },
  ]),
) as unknown as KernelTable;

/** What is in use now: set by `select`, read by backendInfo and the thread settings. */
let active: { requested: Requested; reason: string; binding: NativeBinding | null } = {
  requested: 'auto',
  reason: 'not selected yet',
  binding: null,
};

function select(requested: Requested, source: string): { ok: boolean; detail: string } {
  if (requested === 'js') {
    precision = 'fp32'; // the JS kernels compute in the tensors' own dtype
    Object.assign(kernels, checkedJs);
    active = { requested, reason: source === 'env' ? 'VUGRAD_BACKEND=js' : `useBackend('js')`, binding: null };
    return { ok: true, detail: '' };
  }
  const a = loadAddon();
  if (!a.binding || !a.table) {
    Object.assign(kernels, checkedJs);
    let reason = `native addon is unavailable (${a.detail}); using the JS kernels`;
    if (requested === 'native') reason = `${source === 'env' ? 'VUGRAD_BACKEND=native' : `useBackend('native')`} was requested, but the ${reason}`;
    active = { requested, reason, binding: null };
    return { ok: false, detail: a.detail };
  }
  Object.assign(kernels, a.table);
  a.binding.setPrecision?.(precision === 'bf16' ? 1 : 0);
  const reason =
    requested === 'native'
      ? source === 'env' ? 'VUGRAD_BACKEND=native' : `useBackend('native')`
      : 'native addon loaded';
  active = { requested, reason, binding: a.binding };
  return { ok: true, detail: a.detail };
}

let selected = false;

/** Makes the environment's choice (VUGRAD_BACKEND, default auto) once, unless useBackend made one first. */
function ensureSelected(): void {
  if (selected) return;
  selected = true;
  const fromEnv = parseRequested(process.env.VUGRAD_BACKEND);
  const r = select(fromEnv, 'env');
  if (!r.ok && fromEnv === 'native') process.emitWarning(`vugrad: ${active.reason}`);
}

/**
 * Switches every kernel to one backend, at run time, for everything in this process that uses vugrad (ops,
 * modules, optimizers): `'js'` (the TypeScript kernels; the addon is never loaded for it), `'native'` (the
 * addon; throws, naming the reason, when it cannot load here) or `'auto'` (the addon when it loads, else JS).
 * The default is `VUGRAD_BACKEND` (else `'auto'`). Argument checks stay in front of either table. Returns
 * `backendInfo()` after the switch.
 *
 * @example
 * import { useBackend } from 'vugrad';
 * useBackend('js');      // e.g. to compare results with the native kernels
 * useBackend('auto');
 */
export function useBackend(name: Requested): BackendInfo {
  if (name !== 'js' && name !== 'native' && name !== 'auto') {
    throw new TypeError(`useBackend: expected 'auto', 'js' or 'native', got ${JSON.stringify(name)}`);
  }
  selected = true;
  const r = select(name, 'call');
  if (!r.ok && name === 'native') throw new Error(`useBackend('native'): the native addon is unavailable here (${r.detail})`);
  return backendInfo();
}

/**
 * The argument-checked tables of each backend, for conformance tests and benchmarks: `js` always, `native`
 * when the addon loaded in this process (null otherwise, e.g. under VUGRAD_BACKEND=js until useBackend asks
 * for it).
 */
export function backendTables(): { js: KernelTable; native: KernelTable | null } {
  ensureSelected();
  return { js: checkedJs, native: addon?.table ?? null };
}

/**
 * Which kernel backend is in use and why, the BLAS library, its thread count and the OPENBLAS_CORETYPE in effect.
 *
 * @example
 * node -e "console.log(require('vugrad').backendInfo())"
 */
export function backendInfo(): BackendInfo {
  ensureSelected();
  const all = Object.keys(jsKernels) as KernelName[];
  const binding = active.binding;
  const nativeNames = binding ? (addon?.names ?? []) : [];
  return {
    backend: binding ? 'native' : 'js',
    reason: active.reason,
    requested: active.requested,
    addonPath: binding ? (addon?.detail ?? null) : null,
    blas: binding ? binding.blasConfig() : null,
    blasCore: binding ? binding.blasCoreName() : null,
    threads: binding ? binding.getNumThreads() : 1,
    cores: availableCores(),
    mallocTuned: binding?.mallocTuned?.() ?? false,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
    nativeKernels: [...nativeNames],
    jsKernels: all.filter((k) => !nativeNames.includes(k)),
    smallInputCutoff: binding ? cutoffs : null,
    providers: binding?.providers ? (JSON.parse(binding.providers()) as Providers) : null,
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
  ensureSelected();
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: n must be an integer >= 1, got ${n}`);
  // The addon's pool is process-wide: set it even while the JS backend is selected, for a later switch.
  addon?.binding?.setNumThreads(n);
}

/**
 * Hands memory that freed blocks still hold in malloc's heaps back to the system (glibc `malloc_trim`, through
 * the addon; a no-op without it). A server calls it after a training worker exits, so RSS does not keep each
 * worker's peak. Returns true when memory was released.
 */
export function releaseFreedMemory(): boolean {
  ensureSelected();
  return addon?.binding?.trimMemory?.() ?? false;
}

/**
 * The precision of matmul and convolution inputs: `'fp32'` (the default) or `'bf16'` (mixed precision: the
 * float32 operands of every gemm and convolution are rounded to bfloat16, products are accumulated in float32,
 * and everything else, weights, optimizer state, activations, the loss, stays float32). Float64 tensors are
 * never affected.
 */
export type Precision = 'fp32' | 'bf16';

let precision: Precision = 'fp32';

/**
 * Whether bf16 matmul and convolution can run here: they need the native addon built with oneDNN, libdnnl at
 * run time and a CPU with AVX512_BF16 (or AMX). `reason` says what is missing, or what runs them.
 */
export function bf16Support(): { supported: boolean; reason: string } {
  ensureSelected();
  const b = active.binding;
  if (!b) return { supported: false, reason: `bf16 needs the native addon, and the JS kernels are in use (${active.reason})` };
  if (typeof b.bf16Support !== 'function') return { supported: false, reason: `the addon at ${addon?.detail} was built without oneDNN support` };
  const why = b.bf16Support();
  return why === '' ? { supported: true, reason: 'oneDNN bf16 matmul and convolution, float32 accumulation' } : { supported: false, reason: why };
}

/**
 * Sets the precision of matmul and convolution inputs for this thread (the main thread, or one worker_thread:
 * each has its own setting). Throws, naming what is missing, when `'bf16'` cannot run here. `fit` sets it from
 * its `precision` option for the length of a run.
 *
 * @example
 * import { setPrecision, bf16Support } from 'vugrad';
 * if (bf16Support().supported) setPrecision('bf16');
 */
export function setPrecision(p: Precision): void {
  if (p !== 'fp32' && p !== 'bf16') throw new TypeError(`setPrecision: expected 'fp32' or 'bf16', got ${JSON.stringify(p)}`);
  ensureSelected();
  if (p === 'bf16') {
    const s = bf16Support();
    if (!s.supported) throw new Error(`precision 'bf16' is not available here: ${s.reason}. Use precision 'fp32'.`);
  }
  precision = p;
  active.binding?.setPrecision?.(p === 'bf16' ? 1 : 0);
}

/** The precision set for this thread (`setPrecision`). */
export function getPrecision(): Precision {
  return precision;
}

/**
 * Runs `fn` with the given precision and restores the previous one afterwards (also when `fn` throws or its
 * promise rejects).
 */
export function withPrecision<T>(p: Precision, fn: () => T): T {
  const before = precision;
  setPrecision(p);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    setPrecision(before);
    throw err;
  }
  if (result instanceof Promise) {
    return result.finally(() => setPrecision(before)) as T;
  }
  setPrecision(before);
  return result;
}

/** Threads each native kernel call uses (1 without the addon). */
export function getNumThreads(): number {
  ensureSelected();
  return active.binding ? active.binding.getNumThreads() : 1;
}
