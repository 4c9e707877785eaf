/**
 * What every JS runner of the suite shares: the workload list, the synthetic data (the same numbers in every
 * framework, PyTorch's runner included), the timing loop and the result protocol.
 *
 * A runner is a child process started by benchmarks/bench.ts with one JSON argument (`RunnerConfig`). It runs
 * the workloads asked for, once each after a warm-up, and prints one line `RESULT {...}` (`RunnerResult`).
 */

export type WorkloadId = 'gemm1024' | 'conv' | 'mlp128' | 'mlp16' | 'lenet4' | 'lenet64' | 'mnistEpoch' | 'memory';

export interface RunnerConfig {
  workloads: WorkloadId[];
  /** Seconds to time each throughput workload (after the warm-up). */
  seconds: number;
  /** Cap on the MNIST epoch (seconds); beyond it the epoch time is extrapolated from the batches done. */
  epochCap: number;
  /** Cap on the 10-epoch memory run (seconds). */
  memoryCap: number;
  /** BLAS / framework threads (0: the framework's default). */
  threads: number;
  /** tfjs only: 'cpu' | 'wasm' | 'tensorflow' (tfjs-node). */
  backend?: string;
}

/** One measured value, or why there is none. */
export interface Cell {
  value?: number;
  /** Extra numbers a workload reports (gemm-only time, RSS per epoch, ...). */
  extra?: Record<string, number | number[] | string | boolean>;
  error?: string;
}

export interface RunnerResult {
  framework: string;
  version: string;
  threads: number;
  /** PyTorch: the threads of the OpenBLAS it calls for gemms (its own setting, not torch.set_num_threads). */
  blasThreads?: number | null;
  cells: Partial<Record<WorkloadId, Cell>>;
}

/** Data sizes shared by every runner. */
export const SIZES = {
  mnistTrain: 60000,
  memorySamples: 10000,
  memoryEpochs: 10,
} as const;

/** x[i] = 0.5 sin(0.37 i) as float32: the same inputs in every framework (PyTorch computes it in float64 too). */
export function synthetic(n: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 0.5 * Math.sin(0.37 * (i + offset));
  return a;
}

/** Labels (7 i) mod 10. */
export function labels(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = (7 * i) % 10;
  return a;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/**
 * Calls `step` (async or not) for a warm-up (0.3 s, at least two calls; one call when a call is slower than
 * `seconds`), then for `seconds` (one slow call is enough), and returns the calls per second.
 */
export async function rate(step: () => unknown, seconds: number): Promise<number> {
  let t0 = now();
  let n = 0;
  while (n < 2 || now() - t0 < Math.min(0.3, seconds / 3)) {
    await step();
    n++;
    if (now() - t0 > seconds) break; // a slow step: one warm-up call is enough
  }
  t0 = now();
  n = 0;
  let t = t0;
  while (n === 0 || t - t0 < seconds) {
    await step();
    n++;
    t = now();
  }
  return n / (t - t0);
}

/**
 * Median seconds of one call: a warm-up call, then calls timed one by one for `seconds` (at least 3). The C
 * baseline reports the median call too, so gemm is compared call for call (a mean would count the machine's
 * hiccups against whoever had them).
 */
export async function medianCall(f: () => unknown, seconds: number): Promise<number> {
  await f();
  const ts: number[] = [];
  const t0 = now();
  while (ts.length < 3 || now() - t0 < seconds) {
    const s = now();
    await f();
    ts.push(now() - s);
  }
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1];
}

/** Median seconds of `reps` calls of a synchronous f (no warm-up: for timings interleaved with other work). */
export function medianOfCalls(f: () => void, reps: number): number {
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = now();
    f();
    ts.push(now() - s);
  }
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1];
}

export { now };

/** Runs each workload, turning a throw into a cell that says why. */
export async function runAll(
  config: RunnerConfig,
  impl: Partial<Record<WorkloadId, () => Promise<Cell> | Cell>>,
  unsupported: Partial<Record<WorkloadId, string>> = {},
): Promise<Partial<Record<WorkloadId, Cell>>> {
  const cells: Partial<Record<WorkloadId, Cell>> = {};
  for (const w of config.workloads) {
    if (unsupported[w]) {
      cells[w] = { error: unsupported[w] };
      continue;
    }
    const f = impl[w];
    if (!f) {
      cells[w] = { error: 'not implemented for this framework' };
      continue;
    }
    try {
      cells[w] = await f();
    } catch (err) {
      cells[w] = { error: (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 160) };
    }
  }
  return cells;
}

export function emit(result: RunnerResult): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Current and peak resident set size of this process, MB. */
export function rssMB(): { rss: number; peak: number } {
  return { rss: process.memoryUsage.rss() / 2 ** 20, peak: process.resourceUsage().maxRSS / 1024 };
}

export function parseConfig(): RunnerConfig {
  return JSON.parse(process.argv[2]) as RunnerConfig;
}
