/**
 * The native backend: loads the C++ addon (native/, built by node-gyp or shipped in prebuilds/) and adapts it
 * to the KernelTable interface.
 *
 * Loading never throws: `loadNative()` returns the binding or the reason it could not be had (no binary for
 * this platform, a missing shared library, ...). The adapter passes op names as small integer codes (cheaper
 * to cross into C++ than strings) and keeps tiny inputs in JS, where the ~100 ns cost of a native call is more
 * than the work itself (the cut-offs below are measured: `npm run bench:kernels`). Arguments are checked by
 * `validated()` in front of this table, and checked again in C++.
 */
import * as path from 'node:path';
import type { FloatArray } from './dtype';
import type { BinaryOp, KernelName, KernelTable, UnaryOp } from './names';
import { generated } from './codegen';
import { BINARY_OPS, KERNEL_SPECS, TRANSCENDENTAL_OPS, UNARY_OPS, type KernelSpec } from './specs';

/** An addon argument: op names cross as their codes (UNARY_CODES), booleans as booleans or 0/1. */
type NativeArgs<P extends readonly unknown[]> = {
  [I in keyof P]: P[I] extends UnaryOp | BinaryOp ? number : P[I] extends boolean ? boolean | number : P[I];
};

/**
 * The functions the addon exports (native/src/addon.cc): every kernel of the table, with op names as codes
 * (derived from KernelTable, so it is not written again here), and the BLAS and memory settings.
 */
export type NativeBinding = {
  [K in KernelName]: (...args: NativeArgs<Parameters<KernelTable[K]>>) => ReturnType<KernelTable[K]>;
} & {
  blasConfig(): string;
  blasCoreName(): string;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  trimMemory?(): boolean;
  mallocTuned?(): boolean;
  /** The matmul/convolution input precision of the calling thread: 0 fp32, 1 bf16 (oneDNN builds only). */
  setPrecision?(code: number): void;
  /** '' when bf16 matmul and convolution can run here, else why not (no oneDNN, no AVX512_BF16, ...). */
  bf16Support?(): string;
  /** JSON: which library runs each kernel family and why (see BackendInfo.providers). */
  providers?(): string;
};

/** Op codes: the index of each op in UNARY_OPS / BINARY_OPS (specs.ts), the order of vg::UnaryOp / vg::BinaryOp. */
export const UNARY_CODES = Object.fromEntries(UNARY_OPS.map((op, i) => [op, i])) as Readonly<Record<UnaryOp, number>>;
export const BINARY_CODES = Object.fromEntries(BINARY_OPS.map((op, i) => [op, i])) as Readonly<Record<BinaryOp, number>>;

export interface NativeLoad {
  binding: NativeBinding | null;
  /** Where the binary came from (a file path), or why it could not be loaded. */
  detail: string;
}

/** The package root: this file is lib/kernels/native.ts (tests) or dist/kernels/native.js (the build). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Loads the addon with node-gyp-build (build/Release, then prebuilds/<platform>-<arch>), or from
 * `VUGRAD_NATIVE_PATH` (a .node file or a package-like folder) when that is set. Never throws.
 */
export function loadNative(): NativeLoad {
  const override = process.env.VUGRAD_NATIVE_PATH;
  try {
    let binding: NativeBinding;
    let where: string;
    if (override) {
      const p = path.resolve(override);
      if (p.endsWith('.node')) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        binding = require(p) as NativeBinding;
        where = p;
      } else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
        where = nodeGypBuild.resolve(p);
        binding = nodeGypBuild(p) as NativeBinding;
      }
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
      where = nodeGypBuild.resolve(PACKAGE_ROOT);
      binding = nodeGypBuild(PACKAGE_ROOT) as NativeBinding;
    }
    if (typeof binding?.gemm !== 'function' || typeof binding.blasConfig !== 'function') {
      return { binding: null, detail: `${where} is not a vugrad addon (no gemm/blasConfig export)` };
    }
    return { binding, detail: where };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { binding: null, detail: override ? `VUGRAD_NATIVE_PATH=${override}: ${msg}` : msg };
  }
}

/**
 * Below these sizes (elements; for gemm, m*n*k multiply-adds) a kernel stays in JS: the native call costs more
 * than it saves. Measured on a 2-core machine with `npm run bench:kernels` (section 2): an addon call costs
 * about 0.3-0.4 us before any work (mostly N-API reading each typed array), a JS add loop about 1-4 ns per
 * element and a JS exp loop about 15 ns, so elementwise adds break even near 100 elements and exp near 30.
 * A native gemm costs about 1.3 us even for 2x2 (OpenBLAS's own set-up); the JS gemm passes it near 8x8x8.
 * Kernels with index arrays always go native (their range checks live in C++). Which cut-off a kernel uses, and
 * measured by what, is its `cutoff` in specs.ts.
 */
export const SMALL_INPUT_CUTOFF = {
  cheapElementwise: 128,
  transcendental: 32,
  reduce: 128,
  gemm: 512,
} as const;

/** Small-input cut-offs by kind of kernel (elements; gemm: multiply-adds). */
export type SmallInputCutoffs = { readonly [K in keyof typeof SMALL_INPUT_CUTOFF]: number };

/**
 * The cut-offs in effect: `SMALL_INPUT_CUTOFF`, or every one set to `VUGRAD_NATIVE_MIN_SIZE` when that is a
 * non-negative integer. `VUGRAD_NATIVE_MIN_SIZE=0` sends every kernel call to the addon, however small: the test
 * suite's native pass runs that way, so that it tests native code and not the JS kernels a second time.
 *
 * @example
 * VUGRAD_NATIVE_MIN_SIZE=0 node train.js   # every call native (slower on tiny tensors; for testing)
 */
export function smallInputCutoffs(env: NodeJS.ProcessEnv = process.env): SmallInputCutoffs {
  const raw = env.VUGRAD_NATIVE_MIN_SIZE;
  if (raw === undefined || raw.trim() === '') return SMALL_INPUT_CUTOFF;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.emitWarning(`vugrad: VUGRAD_NATIVE_MIN_SIZE='${raw}' is not a non-negative integer; using the measured cut-offs`);
    return SMALL_INPUT_CUTOFF;
  }
  return { cheapElementwise: n, transcendental: n, reduce: n, gemm: n };
}

/**
 * Adapts the binding to KernelTable. `js` answers the calls that are too small to be worth crossing into C++.
 * Returns every kernel: the addon implements the whole table today; a kernel it lacked would be left out here
 * and dispatch would use the JS one (see `composeTable`).
 */
export function nativeTable(b: NativeBinding, js: KernelTable, cut: SmallInputCutoffs = SMALL_INPUT_CUTOFF): Partial<KernelTable> {
  const table = adapters(b, js, cut);
  // An addon built from older sources (a stale build/ or prebuild) may lack a newer kernel: leave it to JS.
  for (const name of Object.keys(table) as KernelName[]) {
    if (typeof (b as unknown as Record<string, unknown>)[name] !== 'function') delete table[name];
  }
  return table;
}

function adapters(b: NativeBinding, js: KernelTable, cut: SmallInputCutoffs): Partial<KernelTable> {
  const table: Record<string, unknown> = {};
  for (const name of Object.keys(KERNEL_SPECS) as KernelName[]) table[name] = compileAdapter(name, KERNEL_SPECS[name], b, js, cut);
  return table as Partial<KernelTable>;
}

/**
 * The source of one kernel's adapter: JS below its cut-off, else the addon with op names as codes, e.g.
 * `if (a.length < $cut.cheapElementwise) return $js.binary(op, a, b, out); return $b.binary($BINARY[op], a, b, out);`.
 * Exported for tests.
 */
export function adapterSource(name: string, spec: KernelSpec): string {
  const K = JSON.stringify(name);
  const params = spec.args.map((a) => a.name);
  const toNative = spec.args.map((a) => {
    if (a.kind === 'op') return `${a.ops === 'unary' ? '$UNARY' : '$BINARY'}[${a.name}]`;
    if (a.kind === 'bool') return `(${a.name} ? 1 : 0)`;
    return a.name;
  });
  const lines: string[] = [];
  const c = spec.cutoff;
  if (c.class !== 'native') {
    const arrays = new Set(spec.args.filter((a) => a.kind === 'read' || a.kind === 'write').map((a) => a.name));
    const measure = arrays.has(c.by) ? `${c.by}.length` : c.by.split('*').join(' * ');
    const limit = c.perOp ? '$perOp[op]' : `$cut.${c.class}`;
    lines.push(`if (${measure} < ${limit}) return $js[${K}](${params.join(', ')});`);
  }
  lines.push(`return $b[${K}](${toNative.join(', ')});`);
  return `return function ${name}(${params.join(', ')}) {\n  ${lines.join('\n  ')}\n};`;
}

function compileAdapter(name: KernelName, spec: KernelSpec, b: NativeBinding, js: KernelTable, cut: SmallInputCutoffs): unknown {
  // The cut-off of each unary op: transcendental ones go native sooner.
  const perOp: Record<string, number> = Object.fromEntries(
    UNARY_OPS.map((op) => [op, TRANSCENDENTAL_OPS.includes(op) ? cut.transcendental : cut.cheapElementwise]),
  );
  // Generated from specs.ts only (see codegen.ts; validate.ts's compileChecker).
  const f = generated(['$b', '$js', '$cut', '$perOp', '$UNARY', '$BINARY'], adapterSource(name, spec), [b, js, cut, perOp, UNARY_CODES, BINARY_CODES]);
  if (f !== null) return f;
  // Where code generation is forbidden: the same adapter as a closure over the declaration.
  const c = spec.cutoff;
  const position = new Map(spec.args.map((a, i) => [a.name, i]));
  const arrays = new Set(spec.args.filter((a) => a.kind === 'read' || a.kind === 'write').map((a) => a.name));
  const opAt = position.get('op') ?? -1;
  return (...args: unknown[]) => {
    if (c.class !== 'native') {
      const measure = arrays.has(c.by)
        ? (args[position.get(c.by)!] as FloatArray).length
        : c.by.split('*').reduce((p, x) => p * (args[position.get(x)!] as number), 1);
      const limit = c.perOp ? perOp[args[opAt] as string] : cut[c.class];
      if (measure < limit) return (js[name] as (...a: unknown[]) => unknown)(...args);
    }
    const native = spec.args.map((a, i) => {
      if (a.kind === 'op') return (a.ops === 'unary' ? UNARY_CODES : BINARY_CODES)[args[i] as UnaryOp & BinaryOp];
      if (a.kind === 'bool') return args[i] ? 1 : 0;
      return args[i];
    });
    return (b[name] as (...a: unknown[]) => unknown)(...native);
  };
}

/** A full table: `partial`'s entries where it has them, `fallback`'s elsewhere (per-kernel fallback). */
export function composeTable(partial: Partial<KernelTable>, fallback: KernelTable): { table: KernelTable; native: KernelName[] } {
  const table = { ...fallback } as Record<KernelName, unknown>;
  const native: KernelName[] = [];
  for (const name of Object.keys(fallback) as KernelName[]) {
    const f = partial[name];
    if (typeof f === 'function') {
      table[name] = f;
      native.push(name);
    }
  }
  return { table: table as unknown as KernelTable, native };
}
