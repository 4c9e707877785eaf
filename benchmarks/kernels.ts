/**
 * Kernel benchmarks (npm run bench:kernels): not a test, a report printed in one run.
 *
 * 1. gemm GFLOP/s through vugrad (the native table, argument checks included) against the same OpenBLAS called
 *    from a tiny C program (benchmarks/c/gemm.c, compiled here with gcc), N = 64, 256, 1024, medians of
 *    repeated calls, same thread count, same OPENBLAS_CORETYPE (inherited; never changed here).
 * 2. Per-call cost of small elementwise kernels: the addon called directly, through dispatch, and the JS
 *    kernel, over sizes around the small-input cut-offs (this is how SMALL_INPUT_CUTOFF was chosen).
 * 3. The conv2d kernels, forward + both gradients, for x [64,3,32,32], 6 filters 5x5.
 *
 * Options: --threads N (threads for vugrad's kernels and for OpenBLAS in the C program alike).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendInfo, backendTables, getNumThreads, jsKernels, setNumThreads, type KernelTable } from '../lib/kernels';
import { loadNative } from '../lib/kernels/native';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of one call to f, over `reps` timed calls after a warm-up. */
function timeIt(f: () => void, reps: number, warm = 3): number {
  for (let i = 0; i < warm; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(ts);
}

/** Median seconds per call, timing batches of `inner` calls (for calls too short to time one by one). */
function timeBatch(f: () => void, inner: number, batches = 15): number {
  for (let i = 0; i < inner; i++) f();
  const ts: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9 / inner);
  }
  return median(ts);
}

function fill(a: Float32Array, seed: number): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = (((i * 7 + seed) % 13) / 13) - 0.5;
  return a;
}

// --threads N: BLAS threads for both vugrad and the C program (default: vugrad's default, the core count).
// On a busy machine, 1 thread gives steadier ratios.
const threadArg = process.argv.indexOf('--threads');
if (threadArg > 0) setNumThreads(Number(process.argv[threadArg + 1]));
const info = backendInfo();
const { native } = backendTables();
const threads = getNumThreads();
console.log('vugrad kernel benchmarks');
console.log(`  backend: ${info.backend} (${info.reason})`);
console.log(`  addon: ${info.addonPath ?? '-'}`);
console.log(`  BLAS: ${info.blas ?? '-'}; core ${info.blasCore ?? '-'}; threads ${threads} of ${info.cores} cores`);
console.log(`  OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}`);
console.log(`  node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}`);

// ---- 1. gemm vs C ----------------------------------------------------------------------------------------
console.log('\n1. sgemm C = A @ B, N x N, median of repeats (GFLOP/s)');
let cBin: string | null = null;
try {
  const src = path.join(__dirname, 'c', 'gemm.c');
  cBin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-')), 'gemm');
  const pc = (arg: string) => execFileSync('pkg-config', [arg, 'openblas'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  execFileSync('gcc', ['-O2', ...pc('--cflags'), src, '-o', cBin, ...pc('--libs')], { stdio: 'inherit' });
} catch (err) {
  console.log(`  (C baseline not built: ${(err as Error).message.split('\n')[0]})`);
  cBin = null;
}
const reps: Record<number, number> = { 64: 1001, 256: 51, 1024: 7 };
const ROUNDS = 5;
/** Blocks this thread for ms milliseconds (lets OpenBLAS's idle worker threads stop spinning). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
// NOTE: C and vugrad alternate, ROUNDS times per N, and the table shows the median round. Each C run starts
// after a pause: after a gemm, OpenBLAS's worker threads in this process busy-wait for a while and would
// compete with the C program for the cores. Other load on the machine moves both columns alike.
console.log('      N   vugrad   C/OpenBLAS   vugrad/C');
for (const n of [64, 256, 1024]) {
  const vgRounds: number[] = [];
  const cRounds: number[] = [];
  const a = fill(new Float32Array(n * n), 1);
  const b = fill(new Float32Array(n * n), 2);
  const c = new Float32Array(n * n);
  for (let round = 0; round < ROUNDS; round++) {
    if (cBin) {
      pause(300);
      const out = execFileSync(cBin, [String(n), String(reps[n]), String(threads)], { encoding: 'utf8' }).trim().split(' ');
      cRounds.push(Number(out[2]));
    }
    if (native) {
      const t = timeIt(() => native.gemm(false, false, n, n, n, 1, a, b, 0, c), reps[n]);
      vgRounds.push((2 * n ** 3) / t / 1e9);
    }
  }
  const vg = vgRounds.length ? median(vgRounds) : NaN;
  const cg = cRounds.length ? median(cRounds) : NaN;
  console.log(`  ${String(n).padStart(5)} ${vg.toFixed(1).padStart(8)} ${cg.toFixed(1).padStart(12)} ${(vg / cg).toFixed(3).padStart(10)}`);
}

// ---- 2. per-call overhead --------------------------------------------------------------------------------
console.log('\n2. per-call time of small kernels, ns per call (float32)');
const binding = native ? loadNative().binding : null;
console.log('  kernel        n   addon direct   dispatch   JS kernel');
for (const [label, op] of [['binary add', 0], ['unary exp', 1]] as const) {
  for (const n of [1, 16, 64, 256, 1024, 4096]) {
    const a = fill(new Float32Array(n), 3);
    const b = fill(new Float32Array(n), 4);
    const out = new Float32Array(n);
    const inner = Math.max(200, Math.floor(200000 / (n + 16)));
    const js = label === 'binary add' ? () => jsKernels.binary('add', a, b, out) : () => jsKernels.unary('exp', a, out);
    const disp = native ? (label === 'binary add' ? () => native.binary('add', a, b, out) : () => native.unary('exp', a, out)) : null;
    const direct = binding ? (label === 'binary add' ? () => binding.binary(op, a, b, out) : () => binding.unary(op, a, out)) : null;
    const ns = (f: (() => void) | null) => (f ? (timeBatch(f, inner) * 1e9).toFixed(0) : '-');
    console.log(`  ${label.padEnd(10)} ${String(n).padStart(5)} ${ns(direct).padStart(14)} ${ns(disp).padStart(10)} ${ns(js).padStart(11)}`);
  }
}
console.log('  (dispatch keeps inputs under SMALL_INPUT_CUTOFF in JS: ' + JSON.stringify(info.smallInputCutoff) + ')');

// ---- 3. convolution ---------------------------------------------------------------------------------------
console.log('\n3. conv2d kernels: x [64,3,32,32], w [6,3,5,5], stride 1, no padding; forward + both gradients per batch');
console.log('   (native: direct convolution, images across threads; js: im2col + gemm per image)');
function convStep(K: KernelTable, x: Float32Array, w: Float32Array, g: Float32Array, y: Float32Array, dw: Float32Array, dx: Float32Array): void {
  K.conv2d(x, w, null, 64, 3, 32, 32, 6, 5, 5, 1, 0, y);
  K.conv2dBackwardWeight(x, g, 64, 3, 32, 32, 6, 5, 5, 1, 0, dw);
  K.conv2dBackwardInput(g, w, 64, 3, 32, 32, 6, 5, 5, 1, 0, dx);
}
{
  const x = fill(new Float32Array(64 * 3 * 32 * 32), 5);
  const w = fill(new Float32Array(6 * 75), 6);
  const g = fill(new Float32Array(64 * 6 * 28 * 28), 7);
  const bufs = () => [new Float32Array(64 * 6 * 784), new Float32Array(450), new Float32Array(x.length)] as const;
  const { js } = backendTables();
  const results: [string, number][] = [];
  for (const [name, K] of [['native', native], ['js', js]] as const) {
    if (!K) continue;
    const [y, dw, dx] = bufs();
    const t = timeIt(() => convStep(K, x, w, g, y, dw, dx), name === 'js' ? 5 : 21, 2);
    results.push([name, t]);
    console.log(`  ${name.padEnd(7)} ${(t * 1e3).toFixed(2)} ms per batch (${(64 / t).toFixed(0)} images/s)`);
  }
  if (results.length === 2) console.log(`  native is ${(results[1][1] / results[0][1]).toFixed(1)}x faster than js`);
}
