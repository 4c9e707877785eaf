/**
 * One training run from a RunConfig: load the data, build the model, loss and optimizer, train with a
 * progress display, and (with `out`) write metrics, plots, the configuration and the model.
 * The `train` command and every experiment go through here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { manualSeed } from '../core/random';
import { heldOut, type Dataset, type DatasetSplits } from '../data/dataset';
import { loadDataset } from '../data/load-dataset';
import { LeNet, MLP, lossByName, type Module } from '../nn';
import { saveModel } from '../io';
import { createOptimizer } from '../optim';
import { fit, type EpochMetrics, type LossFn } from '../train/fit';
import { chartRow, svgToPng } from '../report/plot';
import { crossEntropy } from '../ops/functions';
import type { RunConfig } from './config';

export interface RunResult {
  config: RunConfig;
  history: EpochMetrics[];
  model: Module;
  /** The held-out split's name: 'val', or 'test' with --final. */
  heldOutName: 'val' | 'test';
}

export interface RunIO {
  /** Where progress and per-epoch lines go (default: stdout). */
  log?: (line: string) => void;
  /** Show a progress bar (default: when stdout is a terminal). */
  progress?: boolean;
  /** Data already loaded (experiments reuse it across runs). */
  data?: DatasetSplits;
  signal?: AbortSignal;
}

export function dataOptions(config: RunConfig) {
  return {
    dir: config.data,
    final: config.final,
    raw: config.raw,
    limit: config.limit,
    seed: config.seed,
    flatten: config.model === 'mlp',
    normalize: config.normalize,
  };
}

export function buildModel(config: RunConfig, train: Dataset): Module {
  const shape = train.x.shape.slice(1);
  if (config.model === 'lenet') {
    if (shape.length !== 3) throw new Error(`lenet needs images [C, H, W]; ${train.name} has samples of shape [${shape.join(',')}]`);
    return new LeNet({ inChannels: shape[0], numClasses: train.numClasses, imageSize: shape[1] });
  }
  const inputSize = shape.reduce((a, b) => a * b, 1);
  return new MLP({
    inputSize,
    hiddenSizes: config.hidden,
    outputSize: train.numClasses,
    activation: config.activation,
    init: config.init,
  });
}

export function buildLoss(config: RunConfig): LossFn {
  if (config.loss === 'ce') {
    const reduction = config.reduction;
    return (logits, targets) => crossEntropy(logits, targets, { reduction });
  }
  return lossByName(config.loss);
}

export function optimizerOptions(config: RunConfig): Record<string, number> {
  const opts: Record<string, number> = { lr: config.lr };
  if (config.optimizer === 'sgd' && config.momentum > 0) opts.momentum = config.momentum;
  return opts;
}

export async function runTraining(config: RunConfig, io: RunIO = {}): Promise<RunResult> {
  const log = io.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const showBar = io.progress ?? Boolean(process.stdout.isTTY);
  manualSeed(config.seed);
  const data = io.data ?? (await loadDataset(config.dataset, dataOptions(config)));
  const held = heldOut(data);
  const heldOutName = data.val ? 'val' : 'test';
  const model = buildModel(config, data.train);
  const optimizer = createOptimizer(config.optimizer, model.parameters(), optimizerOptions(config));
  const loss = buildLoss(config);

  let bar: SingleBar | null = null;
  let lastLine = Date.now();
  let epochStart = Date.now();
  const history = await fit(model, { train: data.train, val: held }, {
    optimizer,
    loss,
    lossReduction: config.loss === 'ce' ? config.reduction : 'mean',
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    signal: io.signal,
    onBatch: (m) => {
      if (showBar) {
        if (!bar) {
          bar = new SingleBar({
            format: `epoch ${m.epoch}/${config.epochs} [{bar}] {percentage}% | {value}/{total} batches | loss {loss} | {rate} samples/s | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
          });
          bar.start(m.batches, 0, { loss: '-', rate: '-' });
        }
        const elapsed = (Date.now() - epochStart) / 1000;
        bar.update(m.batch, { loss: m.loss.toFixed(4), rate: Math.round(m.samples / Math.max(elapsed, 1e-3)) });
      } else if (Date.now() - lastLine > 10000) {
        log(`  epoch ${m.epoch}: batch ${m.batch}/${m.batches}, loss ${m.loss.toFixed(4)}`);
        lastLine = Date.now();
      }
    },
    onEpoch: (m) => {
      if (bar) {
        (bar as SingleBar).stop();
        bar = null;
      }
      epochStart = Date.now();
      const acc = m.valAccuracy !== undefined ? `, ${heldOutName} accuracy ${(m.valAccuracy * 100).toFixed(2)}%` : '';
      log(
        `epoch ${m.epoch}/${config.epochs}: training loss ${m.trainLoss.toFixed(4)}${acc} ` +
          `(${m.seconds.toFixed(1)} s, ${Math.round(m.samplesPerSec)} samples/s)`,
      );
    },
  });
  if (config.out) writeRunOutputs(config.out, { config, history, model, heldOutName });
  return { config, history, model, heldOutName };
}


const CSV_COLUMNS: (keyof EpochMetrics)[] = ['epoch', 'trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'seconds', 'samplesPerSec'];

export function metricsCsv(history: EpochMetrics[]): string {
  const rows = history.map((m) => CSV_COLUMNS.map((k) => (m[k] === undefined ? '' : String(m[k]))).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** Writes metrics.csv, metrics.jsonl, curves.svg/png, config.json and model.safetensors under `dir`. */
export function writeRunOutputs(dir: string, result: RunResult): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const { config, history, model, heldOutName } = result;
  const files: Record<string, string | Buffer> = {};
  files['metrics.csv'] = metricsCsv(history);
  files['metrics.jsonl'] = history.map((m) => JSON.stringify(m)).join('\n') + '\n';
  files['config.json'] = JSON.stringify({ ...config, heldOut: heldOutName }, null, 2) + '\n';
  const svg = chartRow([
    {
      title: `${config.dataset} ${config.model}: loss`,
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'training', points: history.map((m) => [m.epoch, m.trainLoss]) },
        { name: heldOutName, points: history.filter((m) => m.valLoss !== undefined).map((m) => [m.epoch, m.valLoss as number]) },
      ],
    },
    {
      title: `${config.dataset} ${config.model}: accuracy`,
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: [
        { name: 'training', points: history.map((m) => [m.epoch, m.trainAccuracy]) },
        { name: heldOutName, points: history.filter((m) => m.valAccuracy !== undefined).map((m) => [m.epoch, m.valAccuracy as number]) },
      ],
    },
  ]);
  files['curves.svg'] = svg;
  files['curves.png'] = svgToPng(svg);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  saveModel(model, path.join(dir, 'model.safetensors'), { config: JSON.stringify(config) });
  return [...Object.keys(files), 'model.safetensors'].map((f) => path.join(dir, f));
}
