/**
 * `vugrad train --precision bf16` (issue 20), spawned as a user runs it. Where bf16 can run here
 * (`bf16Support()`, the same answer the spawned process gets: it inherits VUGRAD_BACKEND) the run trains in it
 * and records it for `--resume` and `evaluate`; elsewhere it is refused in one line with the reason, exit 2, no
 * stack and nothing written. `--backend js` is refused on every machine (the JS kernels have no bf16).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSafetensors, metadataJson } from '../../lib/io';
import { bf16Support } from '../../lib/kernels';
import { loadCheckpoint } from '../../lib/train/checkpoint';

const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const main = path.join(root, 'lib', 'cli', 'main.ts');
const support = bf16Support();

function vugrad(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A refusal as the issue asks for it: non-zero exit, one line on stderr, no stack, nothing trained. */
function expectRefused(r: ReturnType<typeof vugrad>, message: string): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toEqual([message]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).not.toMatch(/^epoch /m);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-precision-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const small = ['train', '-D', 'mnist', '--limit', '1200', '--hidden', '32', '-e', '2', '--seed', '1'];

test('train --help documents --precision and its values', () => {
  const r = vugrad('train', '--help');
  expect(r.code).toBe(0);
  const help = r.stdout.replace(/\s+/g, ' ');
  expect(help).toMatch(/--precision <p> bf16: mixed precision, matmul and convolution inputs in bfloat16 with float32 accumulation/);
  expect(help).toContain('(choices: "fp32", "bf16")');
});

test('an unknown --precision is refused by the parser with the allowed values', () => {
  const r = vugrad(...small, '--precision', 'fp16');
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("option '--precision <p>' argument 'fp16' is invalid. Allowed choices are fp32, bf16.");
});

test('--precision bf16 with --dtype float64 is refused in one line', () => {
  expectRefused(
    vugrad(...small, '--precision', 'bf16', '--dtype', 'float64'),
    'vugrad: --precision bf16: rounds float32 matmul and convolution inputs, and a float64 run has none (choose bf16 or float64)',
  );
});

test('--precision bf16 on the JS kernels is refused in one line with the reason, before --out is made', () => {
  const out = path.join(tmp, 'js');
  expectRefused(
    vugrad(...small, '--precision', 'bf16', '--backend', 'js', '--out', out),
    "vugrad: --precision bf16: not available here: bf16 needs the native addon, and the JS kernels are in use (useBackend('js')); leave --precision out to train in fp32",
  );
  expect(fs.existsSync(out)).toBe(false);
});

if (support.supported) {
  describe(`bf16 runs here (${support.reason})`, () => {
    const out = path.join(tmp, 'bf16');
    let run: ReturnType<typeof vugrad>;
    beforeAll(() => {
      run = vugrad(...small, '--precision', 'bf16', '--out', out);
    });

    test('trains, says so, and the loss falls', () => {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^vugrad: training mlp on mnist \(.*, bf16 mixed precision\) on the native backend$/m);
      const losses = [...run.stdout.matchAll(/^epoch \d\/2: training loss (\d+\.\d+)/gm)].map((m) => Number(m[1]));
      expect(losses).toHaveLength(2);
      expect(losses[1]).toBeLessThan(losses[0]);
    });

    test('records the precision in config.json, the model and the checkpoint', () => {
      expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).precision).toBe('bf16');
      const model = path.join(out, 'model.safetensors');
      expect(metadataJson(loadSafetensors(model).metadata!, 'config', model, { object: true })).toMatchObject({ precision: 'bf16' });
      expect(loadCheckpoint(path.join(out, 'checkpoint')).config.precision).toBe('bf16');
    });

    test('evaluate reports the accuracy it printed, in bf16 as trained', () => {
      const printed = /final val accuracy: (\d+\.\d+)%/.exec(run.stdout)![1];
      const r = vugrad('evaluate', path.join(out, 'model.safetensors'));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`val: accuracy ${printed}%`);
      expect(r.stdout).toContain('in bf16 as trained');
    });

    test('--resume continues in bf16, and --precision cannot change it', () => {
      expectRefused(
        vugrad('train', '--resume', out, '-e', '3', '--precision', 'fp32'),
        'vugrad: --resume: the run continues with its saved settings; drop --precision (only -e/--epochs, --data, --backend and --threads may change)',
      );
      const r = vugrad('train', '--resume', out, '-e', '3');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^vugrad: training .*bf16 mixed precision\)/m);
      expect(r.stdout).toMatch(/^epoch 3\/3: /m);
      // A machine (or backend) without bf16 refuses to go on instead of switching the run to fp32.
      expectRefused(
        vugrad('train', '--resume', out, '-e', '4', '--backend', 'js'),
        `vugrad: --resume: the run in ${out} trains with --precision bf16, which is not available here: bf16 needs the native addon, and the JS kernels are in use (useBackend('js'))`,
      );
    });
  });
} else {
  test(`--precision bf16 is refused in one line with the reason (${support.reason})`, () => {
    const out = path.join(tmp, 'refused');
    expectRefused(
      vugrad(...small, '--precision', 'bf16', '--out', out),
      `vugrad: --precision bf16: not available here: ${support.reason}; leave --precision out to train in fp32`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });
}
