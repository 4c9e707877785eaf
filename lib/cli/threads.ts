/**
 * `--threads N`: BLAS threads. More threads than cores makes training slower, not faster (4.5x slower at
 * `--threads 1000` on two cores, from oversubscription), so a larger N is clamped to the cores, with a warning
 * that names them.
 *
 * @example
 * setNumThreads(resolveThreads('1000', console.warn));   // 2 on a 2-core machine, and a warning
 */
import * as os from 'node:os';
import { ConfigError } from '../train/config';

/** The cores this process may use (`os.availableParallelism`, which respects CPU affinity). */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Parses `--threads`: a positive integer, at most the cores (larger values are clamped, with a warning). */
export function resolveThreads(value: string, warn: (message: string) => void, cores = availableCores()): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--threads: expected a positive integer, got '${value}'`);
  if (n > cores) {
    warn(`vugrad: --threads ${n} is more than the ${cores} cores available here; using ${cores} (more threads than cores only slows training)`);
    return cores;
  }
  return n;
}
