/**
 * The `vugrad` command as a user runs it: `bin/vugrad.js`, which loads the compiled `dist/cli/main.js`.
 *
 * When the working tree's dist/ is up to date (every lib/.../x.ts has its dist/.../x.js at least as new: CI
 * runs `npm run build` just before the tests), the repository itself is the package. Otherwise (a developer
 * who edited sources and did not build) `stagePackage` compiles the current sources as `npm run build` does
 * into a staging folder next to a copy of `bin/` and `package.json`, with `node_modules` and the native build
 * (`build/`, `prebuilds/`) linked from the repository: the layout of an installed package. Either way the
 * tests run today's code, and the working tree's dist/ is never written.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Stage {
  /** The package's root: the repository (dist/ fresh) or the staging copy. */
  root: string;
  /** Its bin/vugrad.js. */
  bin: string;
  /** A scratch directory for the test's files; removed by `cleanup`. */
  tmp: string;
  /**
   * Runs `node bin/vugrad.js ...args` in `tmp`, with HOME, the CIFAR cache and the kernel backend choice
   * isolated from the test runner's environment (`VUGRAD_BACKEND` unset unless `env` sets it).
   */
  vugrad(args: string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): RunResult;
  cleanup(): void;
}

function check(res: SpawnSyncReturns<string>, what: string): void {
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`${what} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
}

/** The newest modification time of the files under `dir` whose names end with `ext`, by relative path. */
function mtimes(dir: string, ext: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!fs.existsSync(dir)) return out;
  for (const rel of fs.readdirSync(dir, { recursive: true }).map(String)) {
    if (rel.endsWith(ext)) out.set(rel.slice(0, -ext.length), fs.statSync(path.join(dir, rel)).mtimeMs);
  }
  return out;
}

/** True when every lib/.../x.ts has a dist/.../x.js written after it (and after the tsconfig files). */
export function distIsFresh(): boolean {
  const sources = mtimes(path.join(repoRoot, 'lib'), '.ts');
  const outputs = mtimes(path.join(repoRoot, 'dist'), '.js');
  const config = Math.max(...['tsconfig.json', 'tsconfig.build.json'].map((f) => fs.statSync(path.join(repoRoot, f)).mtimeMs));
  for (const [rel, t] of sources) {
    if (rel.endsWith('.d')) continue;
    const built = outputs.get(rel);
    if (built === undefined || built < t || built < config) return false;
  }
  return sources.size > 0;
}

/**
 * The package to run: the repository when its dist/ is fresh, else a staging build (5-20 s of tsc). Call
 * from beforeAll with a generous timeout.
 */
export function stagePackage(prefix: string): Stage {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vugrad-${prefix}-`));
  let root = repoRoot;
  if (!distIsFresh()) {
    root = path.join(tmp, 'pkg');
    fs.mkdirSync(root);
    const tsc = require.resolve('typescript/bin/tsc', { paths: [repoRoot] });
    try {
      check(
        spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.build.json'), '--outDir', path.join(root, 'dist')], {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 240_000,
        }),
        'tsc (the build of dist/)',
      );
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true }); // afterAll has no stage to clean up
      throw e;
    }
    fs.cpSync(path.join(repoRoot, 'bin'), path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
    for (const link of ['node_modules', 'build', 'prebuilds']) {
      if (fs.existsSync(path.join(repoRoot, link))) fs.symlinkSync(path.join(repoRoot, link), path.join(root, link), 'dir');
    }
  }
  const work = path.join(tmp, 'work');
  const home = path.join(tmp, 'home');
  fs.mkdirSync(work);
  fs.mkdirSync(home);
  const bin = path.join(root, 'bin', 'vugrad.js');
  return {
    root,
    bin,
    tmp: work,
    vugrad(args, env = {}, timeoutMs = 240_000) {
      const base: NodeJS.ProcessEnv = { ...process.env, HOME: home, VUGRAD_CACHE_DIR: path.join(tmp, 'cache'), FORCE_COLOR: '0' };
      delete base.VUGRAD_BACKEND;
      delete base.NODE_OPTIONS; // jest's own
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8', env: { ...base, ...env }, timeout: timeoutMs });
      if (r.error) throw r.error;
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    cleanup() {
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Whether the native addon loads here (as scripts/run-tests.js decides whether to run the native pass). */
export function nativeLoads(): boolean {
  const probe = spawnSync(process.execPath, ['-e', "require('node-gyp-build')(process.argv[1]).blasConfig()", repoRoot], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return probe.status === 0;
}

/** `[label, number]` pairs from lines like `epoch 2/3: training loss 0.1234, val accuracy 56.78% ...`. */
export function epochLines(stdout: string): { epoch: number; of: number; loss: number; accuracy: number; split: string }[] {
  const out: { epoch: number; of: number; loss: number; accuracy: number; split: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^epoch (\d+)\/(\d+): training loss (\d+\.\d+), (\w+) accuracy (\d+\.\d+)%/.exec(line);
    if (m) out.push({ epoch: Number(m[1]), of: Number(m[2]), loss: Number(m[3]), split: m[4], accuracy: Number(m[5]) });
  }
  return out;
}

/** Parses a metrics.csv written by `train --out` into rows of numbers by column name. */
export function readMetricsCsv(file: string): Record<string, number>[] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v === '' ? NaN : Number(v)])));
}
