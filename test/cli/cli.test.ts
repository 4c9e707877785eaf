/**
 * End-to-end: the `vugrad` command runs, prints what it promises, writes the files it names, and the numbers
 * in those files match what it printed. Small data (synth, MNIST subsets) keeps it to seconds.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function vugrad(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, 'lib', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('vugrad train', () => {
  const out = path.join(tmp, 'synth-run');
  let run: ReturnType<typeof vugrad>;
  beforeAll(() => {
    run = vugrad('train', '-D', 'synth', '--limit', '3000', '-e', '3', '-b', '64', '-l', '0.01', '--seed', '3', '--out', out);
  });

  test('prints training loss and validation accuracy after every epoch, the last included', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^epoch \d+\/3:/.test(l));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/training loss \d+\.\d{4}, val accuracy \d+\.\d{2}%/);
    expect(run.stdout).toMatch(/final val accuracy: \d+\.\d{2}%/);
  });

  test('writes metrics (CSV, JSON lines), plots (SVG, PNG), config and model', () => {
    for (const f of ['metrics.csv', 'metrics.jsonl', 'curves.svg', 'curves.png', 'config.json', 'model.safetensors']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
      expect(fs.statSync(path.join(out, f)).size).toBeGreaterThan(100);
    }
    const png = fs.readFileSync(path.join(out, 'curves.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(fs.readFileSync(path.join(out, 'curves.svg'), 'utf8')).toContain('<polyline');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).toMatchObject({ dataset: 'synth', epochs: 3, seed: 3, lr: 0.01 });
  });

  test('the numbers in the files are the numbers it printed', () => {
    const printed = run.stdout
      .split('\n')
      .filter((l) => /^epoch \d+\/3:/.test(l))
      .map((l) => {
        const m = /training loss (\d+\.\d+), val accuracy (\d+\.\d+)%/.exec(l)!;
        return { loss: Number(m[1]), acc: Number(m[2]) };
      });
    const csv = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    const rows = csv.slice(1).map((r) => Object.fromEntries(r.split(',').map((v, i) => [header[i], Number(v)])));
    const jsonl = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    rows.forEach((r, i) => {
      expect(r.epoch).toBe(i + 1);
      expect(r.trainLoss.toFixed(4)).toBe(printed[i].loss.toFixed(4));
      expect((r.valAccuracy * 100).toFixed(2)).toBe(printed[i].acc.toFixed(2));
      expect(jsonl[i].trainLoss).toBe(r.trainLoss);
    });
    // Synth is easy: the network must have learned something real.
    expect(rows[2].valAccuracy).toBeGreaterThan(0.9);
  });

  test('evaluate reloads the model and reports the same accuracy', () => {
    const ev = vugrad('evaluate', path.join(out, 'model.safetensors'));
    expect(ev.code).toBe(0);
    const last = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n').pop()!.split(',');
    const header = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').split('\n')[0].split(',');
    const acc = Number(last[header.indexOf('valAccuracy')]);
    expect(ev.stdout).toContain(`accuracy ${(acc * 100).toFixed(2)}%`);
  });
});

describe('vugrad train on MNIST (a subset)', () => {
  test('the course preset runs with raw pixels, sigmoid and the summed loss', () => {
    const out = path.join(tmp, 'course');
    const r = vugrad('train', '--preset', 'course', '-D', 'mnist', '--limit', '1000', '-e', '1', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/1: training loss/);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ hidden: [3136], activation: 'sigmoid', optimizer: 'sgd', lr: 0.0001, raw: true, reduction: 'sum', batchSize: 128 });
  });
});

describe('vugrad graph', () => {
  test('writes DOT and SVG with tensor nodes, op nodes and shapes', () => {
    const out = path.join(tmp, 'graph');
    const r = vugrad('graph', '-D', 'synth', '--hidden', '4', '--activation', 'sigmoid', '--out', out);
    expect(r.code).toBe(0);
    const dot = fs.readFileSync(path.join(out, 'graph.dot'), 'utf8');
    expect(dot).toMatch(/^digraph/);
    expect(dot).toContain('Sigmoid');
    expect(dot).toContain('shape=box');
    expect(dot).toContain('[4,2]'); // a weight's shape
    expect(fs.readFileSync(path.join(out, 'graph.svg'), 'utf8')).toContain('<svg');
  });
});

describe('vugrad experiment', () => {
  test('writes a results table (markdown and CSV) and a figure, one row per setting', () => {
    const out = path.join(tmp, 'exp');
    const r = vugrad('experiment', 'losses', '--quick', '--limit', '300', '-e', '1', '--out', out);
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    for (const label of ['ce', 'multimargin', 'mse']) expect(md).toContain(`| ${label} |`);
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(fs.readFileSync(path.join(out, 'figure.svg'), 'utf8').match(/<polyline|<circle/g)!.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'figure.png'))).toBe(true);
    expect(r.stdout).toContain('# Experiment: losses');
  });

  test('an unknown experiment is an error that lists the known ones', () => {
    const r = vugrad('experiment', 'nonsense');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown experiment 'nonsense'.*activation/);
  });
});

describe('flag errors are clear', () => {
  test.each([
    [['train', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['train', '-e', 'abc'], /--epochs: expected a positive integer, got 'abc'/],
    [['train', '-D', 'imagenet'], /Allowed choices are synth, mnist, fashion-mnist, cifar10/],
    [['train', '-D', 'synth', '--model', 'lenet'], /--model lenet needs image data/],
    [['train', '-l', '-1'], /--learning-rate: expected a positive number/],
  ])('%j', (args, message) => {
    const r = vugrad(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  test('missing data names the path and how to get it', () => {
    const r = vugrad('train', '-D', 'cifar10', '--data', path.join(tmp, 'nowhere'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path.join(tmp, 'nowhere'));
  });
});
