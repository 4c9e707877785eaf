/**
 * All nine of the course's experiments (`vugrad experiment NAME --quick`), on tiny data written to a temp
 * dir: MNIST-format IDX files for the MLP experiments and a CIFAR-10 image folder for the LeNet ones, with
 * `--limit 40 -e 1` (2 epochs for `epochs`) so that each takes seconds. Each must write results.md,
 * results.csv and figure.svg/.png with one row / curve per setting, numbers in range, and the same numbers
 * in the markdown and the CSV.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset, type Dataset } from '../../lib';
import { stagePackage, type Stage } from './helpers/stage';
import { writeCifarFolder, writeIdxDir } from './helpers/tiny-data';

let stage: Stage;
let mnist: string;
let cifar: string;
const LIMIT = 40;

beforeAll(() => {
  stage = stagePackage('experiments');
  mnist = path.join(stage.tmp, 'mnist');
  cifar = path.join(stage.tmp, 'cifar');
  // Non-final runs hold out a share of the training file for validation (1/12 for MNIST, 1/10 for CIFAR-10):
  // enough that the validation split has LIMIT samples.
  writeIdxDir(mnist, { train: 600, test: 50, seed: 8 });
  writeCifarFolder(cifar, 50, 1);
}, 300_000);
afterAll(() => stage?.cleanup());

interface Row {
  run: string;
  finalTrainLoss: number;
  finalAccuracy: number;
  bestAccuracy: number;
  seconds: number;
}

function readCsv(file: string): Row[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(header).toBe('run,finalTrainLoss,finalAccuracy,bestAccuracy,seconds');
  return lines.map((l) => {
    const m = /^("(?:[^"\\]|\\.)*"|[^,]*),(.*)$/.exec(l)!;
    const [loss, acc, best, secs] = m[2].split(',').map(Number);
    return { run: m[1].startsWith('"') ? JSON.parse(m[1]) : m[1], finalTrainLoss: loss, finalAccuracy: acc, bestAccuracy: best, seconds: secs };
  });
}

/** The expected settings of each experiment (README, "The command line"): label fragments, in order. */
const EXPECTED: Record<string, { data: 'mnist' | 'cifar'; settings: RegExp[] }> = {
  activation: { data: 'mnist', settings: [/synth.*sigmoid/, /synth.*relu/, /mnist.*sigmoid/, /mnist.*relu/] },
  width: { data: 'mnist', settings: [/\b16\b/, /\b64\b/, /\b256\b/, /\b1024\b/] },
  depth: { data: 'mnist', settings: [/\b1\b/, /\b2\b/, /\b3\b/, /\b4\b/] },
  init: { data: 'mnist', settings: [/zeros/, /normal/, /glorot/, /he/] },
  lr: { data: 'mnist', settings: [/0\.0001/, /0\.001/, /0\.01/, /0\.1/, /\b1\b/] },
  epochs: { data: 'mnist', settings: [/epochs/] },
  'batch-size': { data: 'cifar', settings: [/\b4\b/, /\b16\b/, /\b64\b/, /\b256\b/] },
  optimizers: { data: 'cifar', settings: ['sgd', 'adam', 'adamax', 'adadelta', 'adagrad', 'rprop', 'asgd', 'rmsprop'].map((o) => new RegExp(`^${o}$`)) },
  losses: { data: 'mnist', settings: [/^ce$/, /multimargin/, /mse/] },
};

const results = new Map<string, { rows: Row[]; md: string; svg: string; stdout: string; out: string }>();

function runExperiment(name: string) {
  const cached = results.get(name);
  if (cached) return cached;
  const out = path.join(stage.tmp, `exp-${name}`);
  const data = EXPECTED[name].data === 'mnist' ? mnist : cifar;
  const epochs = name === 'epochs' ? '2' : '1';
  const r = stage.vugrad(['experiment', name, '--quick', '--data', data, '--limit', String(LIMIT), '-e', epochs, '--out', out]);
  if (r.code !== 0) throw new Error(`experiment ${name} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  const res = {
    rows: readCsv(path.join(out, 'results.csv')),
    md: fs.readFileSync(path.join(out, 'results.md'), 'utf8'),
    svg: fs.readFileSync(path.join(out, 'figure.svg'), 'utf8'),
    stdout: r.stdout,
    out,
  };
  results.set(name, res);
  return res;
}

describe.each(Object.keys(EXPECTED))('vugrad experiment %s --quick', (name) => {
  test('writes results.md, results.csv and figure.svg/.png: one row and one curve per setting, numbers in range', () => {
    const { rows, md, svg, stdout, out } = runExperiment(name);
    const { settings } = EXPECTED[name];
    expect(rows).toHaveLength(settings.length);
    rows.forEach((row, i) => expect(row.run).toMatch(settings[i]));
    for (const row of rows) {
      expect(Number.isFinite(row.finalTrainLoss) && row.finalTrainLoss >= 0).toBe(true);
      expect(row.finalAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.finalAccuracy).toBeLessThanOrEqual(row.bestAccuracy);
      expect(row.bestAccuracy).toBeLessThanOrEqual(1);
      expect(row.seconds).toBeGreaterThan(0);
      // LIMIT validation samples: an accuracy is a whole number of them.
      expect(Math.abs(row.finalAccuracy * LIMIT - Math.round(row.finalAccuracy * LIMIT))).toBeLessThan(1e-9);
      // The markdown table carries the same numbers as the CSV.
      const line = md.split('\n').find((l) => l.startsWith(`| ${row.run} |`));
      expect(line).toBeDefined();
      const cells = line!.split('|').map((c) => c.trim());
      expect(cells[2]).toBe(row.finalTrainLoss.toFixed(4));
      expect(cells[3]).toBe(`${(row.finalAccuracy * 100).toFixed(2)}%`);
      expect(cells[4]).toBe(`${(row.bestAccuracy * 100).toFixed(2)}%`);
      // The figure names every setting (its legend).
      expect(svg).toContain(row.run.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
    }
    expect(md).toContain(`# Experiment: ${name}`);
    expect(md).toContain('(quick');
    expect(stdout).toContain(`# Experiment: ${name}`);
    expect(svg).toMatch(/^<svg|<svg /);
    expect(svg.match(/<polyline|<circle/g)?.length ?? 0).toBeGreaterThanOrEqual(rows.length);
    const png = fs.readFileSync(path.join(out, 'figure.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('what the experiments show, checked against the data', () => {
  test('init: all-zero weights cannot break symmetry, so the net predicts one class: its accuracy is that class share', async () => {
    const { rows } = runExperiment('init');
    const zeros = rows.find((r) => /zeros/.test(r.run))!;
    // The validation split the runs used, as the library makes it.
    const val = ((await loadDataset('mnist', { dir: mnist, limit: LIMIT })).val as Dataset).y;
    expect(val).toHaveLength(LIMIT);
    const shares = new Set(Array.from({ length: 10 }, (_, c) => val.filter((y) => y === c).length / LIMIT));
    expect(shares.has(zeros.finalAccuracy)).toBe(true);
  });

  test('epochs: one run whose curve has a point per epoch', () => {
    const { stdout } = runExperiment('epochs');
    expect(stdout.match(/^epoch \d+\/2:/gm)).toHaveLength(2);
  });

  test('optimizers: eight LeNet runs on CIFAR-10, each logged', () => {
    const { stdout } = runExperiment('optimizers');
    expect(stdout.match(/^== optimizers: /gm)).toHaveLength(8);
    expect(stdout).not.toMatch(/NaN/);
  });
});
