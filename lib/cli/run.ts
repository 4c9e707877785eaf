/**
 * One training run from the command line: the recipe (`trainFromConfig`) with a progress display and a line
 * per epoch, then (with `out`) metrics, plots, the configuration and the model on disk. The `train` command
 * and every experiment go through here; the recipe itself lives in lib/train.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { DatasetSplits } from '../data/dataset';
import { serializeSafetensors } from '../io';
import { writeFileAtomic } from '../io/atomic-file';
import type { Module } from '../nn';
import type { EpochMetrics } from '../train/fit';
import { trainFromConfig } from '../train/recipe';
import type { CheckpointState } from '../train/checkpoint';
import { chartRow, svgToPng } from '../report/plot';
import type { RunConfig } from '../train/config';

// The recipe's builders used to live here: re-exported for code that imports them from the CLI.
export { buildLoss, buildModel, dataOptions, optimizerOptions } from '../train/recipe';

/** A finished command-line run. */
export interface RunResult {
  config: RunConfig;
  history: EpochMetrics[];
  model: Module;
  /** The held-out split's name: 'val', or 'test' with --final. */
  heldOutName: 'val' | 'test';
}

/** Where a run's output goes, and what it reuses. */
export interface RunIO {
  /** Where progress and per-epoch lines go (default: stdout). */
  log?: (line: string) => void;
  /** Show a progress bar (default: when stdout is a terminal). */
  progress?: boolean;
  /** Data already loaded (experiments reuse it across runs). */
  data?: DatasetSplits;
  signal?: AbortSignal;
  /** Continue from this checkpoint (see `vugrad train --resume`). */
  resume?: CheckpointState;
}

/** Trains `config` with terminal output, and writes the run's files when `config.out` is set. */
export async function runTraining(config: RunConfig, io: RunIO = {}): Promise<RunResult> {
  const log = io.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const showBar = io.progress ?? Boolean(process.stdout.isTTY);
  let heldOutName: 'val' | 'test' = 'val';
  let bar: SingleBar | null = null;
  let lastLine = Date.now();
  let epochStart = Date.now();
  const result = await trainFromConfig(config, {
    data: io.data,
    signal: io.signal,
    resume: io.resume,
    // With --out, a checkpoint after every epoch (see train-command.ts for --resume).
    checkpointDir: config.out ? path.join(config.out, 'checkpoint') : undefined,
    onStart: (s) => {
      heldOutName = s.heldOutName;
      epochStart = Date.now();
    },
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
  const run: RunResult = { config, history: result.history, model: result.model, heldOutName: result.heldOutName };
  if (config.out) writeRunOutputs(config.out, run);
  return run;
}

const CSV_COLUMNS: (keyof EpochMetrics)[] = ['epoch', 'trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'seconds', 'samplesPerSec'];

export function metricsCsv(history: EpochMetrics[]): string {
  const rows = history.map((m) => CSV_COLUMNS.map((k) => (m[k] === undefined ? '' : String(m[k]))).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** Writes metrics.csv, metrics.jsonl, curves.svg/png, config.json and model.safetensors under `dir`, each atomically. */
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
  // Each file whole or not at all (temporary file, fsync, rename): a crash never leaves half a metrics file.
  for (const [name, content] of Object.entries(files)) writeFileAtomic(path.join(dir, name), content);
  writeFileAtomic(path.join(dir, 'model.safetensors'), serializeSafetensors(model.stateDict(), { config: JSON.stringify(config) }));
  return [...Object.keys(files), 'model.safetensors'].map((f) => path.join(dir, f));
}
