/**
 * Runs that cannot succeed stop with a clear message and a non-zero exit: a diverged loss (exit 3, with what
 * to try), absurd numeric flags (exit 2, naming the flag and the bound), and `--threads` above the cores is
 * clamped with a warning naming them.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveThreads } from '../../lib/cli/threads';
import { LIMITS, resolveConfig } from '../../lib/train/config';

const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function vugrad(...args: string[]): { code: number; stdout: string; stderr: string } {
  // A timeout: `-e 1e20` used to train forever.
  const r = spawnSync(tsx, [path.join(root, 'lib', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('a diverged run', () => {
  test('Adam at -l 1e6 stops with exit 3, says it diverged and what to try, and reports no final accuracy', () => {
    const r = vugrad('train', '-D', 'mnist', '--limit', '2000', '-l', '1e6', '-e', '3');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/training diverged: epoch 1's training loss \S+ is over 1000x the loss at the start \(2\.\d+\)/);
    expect(r.stderr).toContain('try a learning rate 10x smaller (-l 100000; it was 1000000, and adam usually trains near 0.001)');
    expect(r.stdout).not.toMatch(/final val accuracy/);
    expect(r.stdout).not.toMatch(/^epoch 1\/3/m);
  });

  test('a healthy run is not stopped by the rule', () => {
    const r = vugrad('train', '-D', 'synth', '--limit', '1000', '-e', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/final val accuracy/);
  });
});

describe('--threads', () => {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

  test('more than the cores is clamped to them with a warning naming the cores', () => {
    const warnings: string[] = [];
    expect(resolveThreads('1000', (m) => warnings.push(m), 2)).toBe(2);
    expect(warnings).toEqual(['vugrad: --threads 1000 is more than the 2 cores available here; using 2 (more threads than cores only slows training)']);
    expect(resolveThreads('1', (m) => warnings.push(m), 2)).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(() => resolveThreads('1e3', () => undefined)).toThrow("--threads: expected a positive integer, got '1e3'");
  });

  test('from the command line', () => {
    const r = vugrad('train', '-D', 'synth', '--limit', '200', '-e', '1', '--threads', '1000');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`--threads 1000 is more than the ${cores} cores available here; using ${cores}`);
  });
});

describe('absurd numeric flags are clear errors', () => {
  test.each([
    [['-b', '100000000000000000000'], `--batch-size: 100000000000000000000 is too large (at most ${LIMITS.size})`],
    [['-b', '1e20'], "--batch-size: expected a positive integer, got '1e20'"],
    [['-e', '100000000000000000000'], `--epochs: 100000000000000000000 is too large (at most ${LIMITS.epochs})`],
    [['--layers', '1e9'], `--layers: 1e9 is too large (at most ${LIMITS.layers} hidden layers)`],
    [['--seed', '1e300'], '--seed: 1e300 is too large'],
    [['--limit', '99999999999'], `--limit: 99999999999 is too large (at most ${LIMITS.size})`],
    [['--threads', '0'], "--threads: expected a positive integer, got '0'"],
  ])('%j', (args, message) => {
    const r = vugrad('train', '-D', 'synth', ...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('the bounds themselves are accepted', () => {
    expect(resolveConfig({ dataset: 'synth', epochs: String(LIMITS.epochs), batchSize: String(LIMITS.size), layers: '3' }).epochs).toBe(LIMITS.epochs);
  });
});
