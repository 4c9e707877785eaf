/**
 * The course's experiments: each is a list of runs that differ in one setting, trained with `runTraining`,
 * summarised in a results table (markdown and CSV) and one figure comparing their curves.
 * `--quick` trains on subsets for fewer epochs so that each finishes in minutes on two cores.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/load-dataset';
import type { DatasetSplits } from '../data/dataset';
import { chartRow, svgToPng } from '../report/plot';
import { resolveConfig, type RunConfig, type TrainFlags } from '../train/config';
import { dataOptions } from '../train/recipe';
import { runTraining, type RunResult } from './run';
import { writeFileAtomic } from '../io/atomic-file';
import { prepareOutputDir } from '../train/output-dir';

export interface ExperimentRun {
  label: string;
  flags: TrainFlags;
}

export interface Experiment {
  description: string;
  runs: ExperimentRun[];
  /** Flags added by --quick (subsets, fewer epochs). */
  quick: TrainFlags;
  /** Add a third chart: accuracy against training time (for runs whose cost per epoch differs). */
  byTime?: boolean;
}

const each = <T>(values: T[], make: (v: T) => ExperimentRun): ExperimentRun[] => values.map(make);
const optimizerLr: Record<string, string> = {
  sgd: '0.01', adam: '0.001', adamax: '0.002', adadelta: '1', adagrad: '0.01', rprop: '0.001', asgd: '0.01', rmsprop: '0.001',
};

export const EXPERIMENTS: Record<string, Experiment> = {
  activation: {
    description: 'sigmoid vs ReLU hidden units, on synth and MNIST',
    runs: ['synth', 'mnist'].flatMap((dataset) =>
      each(['sigmoid', 'relu'], (activation) => ({ label: `${dataset} ${activation}`, flags: { dataset, activation, optimizer: 'sgd', learningRate: dataset === 'synth' ? '0.1' : '0.05', epochs: '10' } })),
    ),
    quick: { limit: '5000', epochs: '3' },
  },
  width: {
    description: 'the width of one hidden layer (MNIST MLP)',
    runs: each(['16', '64', '256', '1024'], (hidden) => ({ label: `${hidden} units`, flags: { dataset: 'mnist', hidden, epochs: '10' } })),
    quick: { limit: '5000', epochs: '3' },
  },
  depth: {
    description: 'the number of hidden layers of 128 units (MNIST MLP)',
    runs: each(['1', '2', '3', '4'], (layers) => ({ label: `${layers} layers`, flags: { dataset: 'mnist', hidden: '128', layers, epochs: '10' } })),
    quick: { limit: '5000', epochs: '3' },
  },
  init: {
    description: 'weight initialisation: zeros, normal, Glorot, He (MNIST MLP, ReLU, SGD)',
    runs: each(['zeros', 'normal', 'glorot', 'he'], (init) => ({ label: init, flags: { dataset: 'mnist', init, optimizer: 'sgd', learningRate: '0.05', hidden: '256,128', epochs: '10' } })),
    quick: { limit: '5000', epochs: '3' },
  },
  lr: {
    description: 'the learning rate of plain SGD (MNIST MLP)',
    runs: each(['0.0001', '0.001', '0.01', '0.1', '1'], (lr) => ({ label: `lr ${lr}`, flags: { dataset: 'mnist', optimizer: 'sgd', learningRate: lr, epochs: '10' } })),
    quick: { limit: '5000', epochs: '3' },
  },
  epochs: {
    description: 'training for longer: the curves of one long run show where validation accuracy stops improving (MNIST MLP, SGD)',
    runs: [{ label: '30 epochs', flags: { dataset: 'mnist', optimizer: 'sgd', learningRate: '0.05', epochs: '30' } }],
    quick: { limit: '5000', epochs: '6' },
  },
  'batch-size': {
    description: 'the batch size for LeNet on CIFAR-10 (SGD, momentum 0.9)',
    runs: each(['4', '16', '64', '256'], (b) => ({
      label: `batch ${b}`,
      flags: { dataset: 'cifar10', model: 'lenet', batchSize: b, optimizer: 'sgd', momentum: '0.9', learningRate: String(0.001 * Math.sqrt(Number(b) / 4)), epochs: '10' },
    })),
    quick: { limit: '2000', epochs: '2' },
  },
  optimizers: {
    description: "the course's eight optimizers on LeNet / CIFAR-10 (batch 32)",
    runs: each(Object.keys(optimizerLr), (optimizer) => ({
      label: optimizer,
      flags: { dataset: 'cifar10', model: 'lenet', optimizer, learningRate: optimizerLr[optimizer], momentum: optimizer === 'sgd' ? '0.9' : undefined, batchSize: '32', epochs: '10' },
    })),
    quick: { limit: '2000', epochs: '2' },
  },
  'cifar-models': {
    description:
      "the course's LeNet against the CIFAR ResNets of He et al. 2015 (ResNet-8, ResNet-20: BatchNorm, residual blocks, " +
      'SGD with Nesterov momentum, weight decay 5e-4, one-cycle schedule, random crop and flip) on CIFAR-10',
    runs: [
      { label: 'LeNet', flags: { dataset: 'cifar10', model: 'lenet', optimizer: 'sgd', momentum: '0.9', learningRate: '0.01', batchSize: '32', epochs: '15' } },
      { label: 'ResNet-8', flags: { dataset: 'cifar10', model: 'resnet8', epochs: '15' } },
      { label: 'ResNet-20', flags: { dataset: 'cifar10', model: 'resnet20', epochs: '15' } },
    ],
    quick: { limit: '2000', epochs: '3' },
    byTime: true,
  },
  losses: {
    description: 'cross-entropy vs multi-margin (hinge) vs MSE on one-hot targets (MNIST MLP)',
    runs: each(['ce', 'multimargin', 'mse'], (loss) => ({ label: loss, flags: { dataset: 'mnist', loss, epochs: '10' } })),
    quick: { limit: '5000', epochs: '3' },
  },
};

export interface ExperimentResult {
  name: string;
  rows: { label: string; finalTrainLoss: number; finalAccuracy: number; bestAccuracy: number; seconds: number }[];
  files: string[];
}

/** Runs an experiment and writes `results.md`, `results.csv`, `figure.svg` and `figure.png` under `outDir`. */
export async function runExperiment(
  name: string,
  options: { quick?: boolean; outDir: string; data?: string; log?: (line: string) => void; extra?: TrainFlags },
): Promise<ExperimentResult> {
  const exp = EXPERIMENTS[name];
  if (!exp) throw new Error(`experiment: unknown experiment '${name}'; choose one of ${Object.keys(EXPERIMENTS).join(', ')}`);
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const configs: [string, RunConfig][] = exp.runs.map((r) => [
    r.label,
    resolveConfig({ ...r.flags, ...(options.quick ? exp.quick : {}), ...(options.extra ?? {}), data: options.data ?? r.flags.data }),
  ]);
  // Checked before the first run trains, not after the last.
  prepareOutputDir(options.outDir, '--out');
  const cache = new Map<string, DatasetSplits>();
  const results: RunResult[] = [];
  for (const [label, config] of configs) {
    const key = JSON.stringify([config.dataset, dataOptions(config)]);
    if (!cache.has(key)) cache.set(key, await loadDataset(config.dataset, dataOptions(config)));
    log(`== ${name}: ${label}`);
    results.push(await runTraining(config, { data: cache.get(key), log, progress: false }));
  }

  fs.mkdirSync(options.outDir, { recursive: true });
  const rows = results.map((r, i) => {
    const h = r.history;
    const last = h[h.length - 1];
    return {
      label: configs[i][0],
      finalTrainLoss: last.trainLoss,
      finalAccuracy: last.valAccuracy ?? NaN,
      bestAccuracy: Math.max(...h.map((m) => m.valAccuracy ?? NaN)),
      seconds: h.reduce((s, m) => s + m.seconds, 0),
    };
  });
  const heldOutName = results[0]?.heldOutName ?? 'val';
  const md = [
    `# Experiment: ${name}`,
    '',
    exp.description + (options.quick ? ' (quick: subsets, fewer epochs)' : ''),
    '',
    `| run | final training loss | final ${heldOutName} accuracy | best ${heldOutName} accuracy | training time (s) |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.finalTrainLoss.toFixed(4)} | ${(r.finalAccuracy * 100).toFixed(2)}% | ${(r.bestAccuracy * 100).toFixed(2)}% | ${r.seconds.toFixed(1)} |`),
    '',
  ].join('\n');
  const csv = ['run,finalTrainLoss,finalAccuracy,bestAccuracy,seconds', ...rows.map((r) => `${JSON.stringify(r.label)},${r.finalTrainLoss},${r.finalAccuracy},${r.bestAccuracy},${r.seconds}`)].join('\n') + '\n';
  const charts = [
    { title: `${name}: ${heldOutName} accuracy`, xLabel: 'epoch', yLabel: 'accuracy', series: results.map((r, i) => ({ name: configs[i][0], points: r.history.map((m) => [m.epoch, m.valAccuracy ?? NaN] as [number, number]) })) },
    { title: `${name}: training loss`, xLabel: 'epoch', yLabel: 'loss per sample', series: results.map((r, i) => ({ name: configs[i][0], points: r.history.map((m) => [m.epoch, m.trainLoss] as [number, number]) })) },
  ];
  if (exp.byTime) {
    // Accuracy against cumulative training time: what a bigger network costs for what it gains.
    const byTime = (h: RunResult['history']): [number, number][] => {
      let t = 0;
      return h.map((m) => [(t += m.seconds), m.valAccuracy ?? NaN]);
    };
    charts.push({ title: `${name}: ${heldOutName} accuracy by training time`, xLabel: 'seconds', yLabel: 'accuracy', series: results.map((r, i) => ({ name: configs[i][0], points: byTime(r.history) })) });
  }
  const svg = chartRow(charts);
  const files: Record<string, string | Buffer> = { 'results.md': md, 'results.csv': csv, 'figure.svg': svg, 'figure.png': svgToPng(svg) };
  for (const [f, content] of Object.entries(files)) writeFileAtomic(path.join(options.outDir, f), content);
  log(md);
  return { name, rows, files: Object.keys(files).map((f) => path.join(options.outDir, f)) };
}
