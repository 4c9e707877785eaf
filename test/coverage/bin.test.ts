/**
 * `bin/vugrad.js` as a user runs it (`npx vugrad ...`, `node bin/vugrad.js ...`): it loads the compiled
 * `dist/cli/main.js`, and it must turn `--backend js|native` into the kernel choice *before* the kernels load.
 * `--threads N` must reach the native kernels. Which backend and how many threads a run really used is read
 * from inside the process: a `--require`d probe prints `backendInfo()` of the kernel module the CLI loaded
 * (found in the module cache) when the process exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { epochLines, nativeLoads, stagePackage, type Stage } from './helpers/stage';

let stage: Stage;
let probe: string;
const hasNative = nativeLoads();
/** The cores this process may use, as the CLI counts them. */
const cores = os.availableParallelism();

beforeAll(() => {
  stage = stagePackage('bin');
  probe = path.join(stage.tmp, 'probe.js');
  fs.writeFileSync(
    probe,
    `'use strict';
process.on('exit', () => {
  const key = Object.keys(require.cache).find((k) => /[\\\\/]dist[\\\\/]kernels[\\\\/]index\\.js$/.test(k));
  const info = key ? require.cache[key].exports.backendInfo() : null;
  require('fs').writeSync(2, '\\nPROBE ' + JSON.stringify(info && { backend: info.backend, threads: info.threads, requested: info.requested }) + '\\n');
});
`,
  );
}, 300_000);
afterAll(() => stage?.cleanup());

/** Runs the bin with the probe; returns the run and what the probe saw. */
function probed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = stage.vugrad(args, { NODE_OPTIONS: `--require ${probe}`, ...env });
  const m = /\nPROBE (.*)\n/.exec(r.stderr);
  const info = m ? (JSON.parse(m[1]) as { backend: string; threads: number; requested: string | null } | null) : undefined;
  return { ...r, info, stderr: r.stderr.replace(/\nPROBE .*\n/, '') };
}

const quick = ['train', '-D', 'synth', '--limit', '200', '-e', '1', '-b', '50'];

describe('bin/vugrad.js', () => {
  test('runs the compiled CLI: --help lists the commands, train --help the runtime flags', () => {
    const help = stage.vugrad(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['train', 'evaluate', 'graph', 'experiment']) expect(help.stdout).toContain(cmd);
    const trainHelp = stage.vugrad(['train', '--help']);
    expect(trainHelp.code).toBe(0);
    expect(trainHelp.stdout).toMatch(/--backend <name>/);
    expect(trainHelp.stdout).toMatch(/--threads <n>/);
    expect(trainHelp.stdout).toMatch(/"js", "native"|js, native|js\|native/);
  });

  test('is an executable script with a node shebang (how npx runs it)', () => {
    const text = fs.readFileSync(stage.bin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    if (process.platform === 'win32') return;
    expect(fs.statSync(path.join(__dirname, '..', '..', 'bin', 'vugrad.js')).mode & 0o111).not.toBe(0);
    // Executed directly, through the shebang.
    const r = spawnSync(stage.bin, ['--help'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('train');
  });

  test('a training run exits 0 and prints its epochs and final accuracy', () => {
    const r = stage.vugrad(quick);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const epochs = epochLines(r.stdout);
    expect(epochs).toHaveLength(1);
    expect(epochs[0].epoch).toBe(1);
    expect(r.stdout).toMatch(/final val accuracy: \d+\.\d{2}%/);
  });

  test('a bad flag exits 2 with the message on stderr', () => {
    const r = stage.vugrad(['train', '--threads', '0', '-D', 'synth']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads: expected a positive integer, got '0'/);
    const b = stage.vugrad(['train', '--backend', 'cuda', '-D', 'synth']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--backend/);
  });
});

describe('--backend', () => {
  test.each([[['--backend', 'js']], [['--backend=js']]])('%j: the JS kernels run, even when VUGRAD_BACKEND says native', (args) => {
    const r = probed([...quick, ...args], { VUGRAD_BACKEND: 'native' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ on the js backend/);
    expect(r.info).toMatchObject({ backend: 'js', requested: 'js' });
  });

  test('--backend native: the addon runs where it is built; elsewhere a warning and the JS kernels', () => {
    const r = probed([...quick, '--backend', 'native'], { VUGRAD_BACKEND: 'js' });
    expect(r.code).toBe(0);
    if (hasNative) {
      expect(r.stdout).toMatch(/ on the native backend/);
      expect(r.info).toMatchObject({ backend: 'native', requested: 'native' });
    } else {
      expect(r.stdout).toMatch(/ on the js backend/);
      expect(r.stderr).toMatch(/VUGRAD_BACKEND=native was requested/);
    }
  });

  test('without --backend the default (native when the addon loads) is used, and the banner says which', () => {
    const r = probed(quick);
    expect(r.code).toBe(0);
    const expected = hasNative ? 'native' : 'js';
    expect(r.stdout).toMatch(new RegExp(` on the ${expected} backend`));
    expect(r.info?.backend).toBe(expected);
  });
});

describe('--threads', () => {
  const native = hasNative ? test : test.skip;
  if (!hasNative) test('(native thread tests skipped: the addon does not load here)', () => expect(hasNative).toBe(false));

  // Every count from 1 to the cores is used as given (documented in `train --help`: at most the cores).
  native.each([...new Set([1, cores])])('--threads %i reaches the native kernels', (n) => {
    const r = probed([...quick, '--backend', 'native', '--threads', String(n)]);
    expect(r.code).toBe(0);
    expect(r.info).toMatchObject({ backend: 'native', threads: n });
  });

  native('--threads above the cores is clamped to the cores, with a warning naming them', () => {
    const r = probed([...quick, '--backend', 'native', '--threads', String(cores + 3)]);
    expect(r.code).toBe(0);
    expect(r.info).toMatchObject({ backend: 'native', threads: cores });
    expect(r.stderr).toContain(`--threads ${cores + 3}`);
    expect(r.stderr).toContain(String(cores));
  });

  test('--threads with the JS kernels is accepted and changes nothing (they are single-threaded)', () => {
    const r = probed([...quick, '--backend', 'js', '--threads', '2']);
    expect(r.code).toBe(0);
    expect(r.info).toMatchObject({ backend: 'js', threads: 1 });
  });
});
