/**
 * `vugrad predict MODEL --input FILE...`: classify inputs with a trained model (safetensors or ONNX) and print
 * each input's class and probability, or with `--json` one object `{"classes": [...], "probabilities": [[...]]}`.
 *
 * Inputs: `.json` (an array of rows, or `{"inputs": [...]}`; a row may be nested, e.g. [C][H][W]), `.csv`
 * (one row per line; a first line that is not numbers is a header), or `.png`/`.jpg` images (one sample
 * each, read as the model's training data was: scaled to [0, 1] unless trained `--raw`, standardised when
 * trained with `--normalize`; a one-channel model gets the image's gray level). Rows are taken as they are:
 * give them preprocessed as the training data was.
 *
 * @example
 * npx vugrad predict runs/mnist/model.safetensors --input digit.png
 * npx vugrad predict model.onnx --input rows.csv --json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { NDArray, shapeSize } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { decodeImage } from '../data/image-folder';
import { normalizeChannels } from '../data/normalize';
import { softmax } from '../ops/functions';
import { loadSavedModel, type SavedModel } from './saved-model';

/** Inputs read from files: one row per sample, and a label saying where each came from. */
export interface PredictInputs {
  x: NDArray;
  labels: string[];
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

function checkRow(values: readonly unknown[], width: number, where: string, inputShape: readonly number[]): number[] {
  if (values.length !== width) {
    throw new RangeError(`${where}: expected ${width} numbers (a sample of shape [${inputShape.join(',')}]), got ${values.length}`);
  }
  values.forEach((v, j) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${where}: value ${j + 1} is ${JSON.stringify(v) ?? String(v)}, not a finite number`);
  });
  return values as number[];
}

function jsonRows(file: string, text: string, width: number, inputShape: readonly number[]): [number[][], string[]] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new RangeError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'inputs' in data) data = (data as { inputs: unknown }).inputs;
  if (!Array.isArray(data)) throw new RangeError(`${file}: expected an array of rows (or {"inputs": [...]}), got ${data === null ? 'null' : typeof data}`);
  // One flat row of numbers is one sample.
  const rows: unknown[] = data.length > 0 && data.every((v) => !Array.isArray(v)) ? [data] : data;
  const out = rows.map((row, i) => {
    const where = `${file}: row ${i}`;
    if (!Array.isArray(row)) throw new RangeError(`${where}: expected an array of numbers, got ${JSON.stringify(row)}`);
    return checkRow(row.flat(Infinity), width, where, inputShape);
  });
  return [out, out.map((_, i) => `${file}[${i}]`)];
}

// A field a number was meant to be in (NaN and infinities included, so that they are reported as values).
const looksNumeric = (f: string): boolean => f === '' || !Number.isNaN(Number(f)) || /^[-+]?(inf(inity)?|nan)$/i.test(f);

function csvRows(file: string, text: string, width: number, inputShape: readonly number[]): [number[][], string[]] {
  const rows: number[][] = [];
  const labels: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = line.split(',').map((f) => f.trim());
    // A first line of names is a header (pandas' to_csv writes one).
    if (rows.length === 0 && labels.length === 0 && !fields.every(looksNumeric)) {
      labels.push('header');
      return;
    }
    const where = `${file}: line ${i + 1}`;
    const values = fields.map((f) => (f === '' ? NaN : Number(f)));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0 && values.length === width) throw new RangeError(`${where}: value ${bad + 1} is '${fields[bad]}', not a finite number`);
    rows.push(checkRow(values, width, where, inputShape));
    labels.push(`${file}:${i + 1}`);
  });
  if (labels[0] === 'header') labels.shift();
  return [rows, labels];
}

function imageRow(file: string, saved: SavedModel): Float32Array {
  const shape = saved.imageShape;
  if (shape === null) {
    throw new RangeError(`${file}: this model takes [${saved.inputShape.join(', ')}] numbers, not an image; give rows as JSON or CSV`);
  }
  const [c, h, w] = shape;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new RangeError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const rgb = decodeImage(bytes, file, w, h);
  const plane = h * w;
  const out = new Float32Array(c * plane);
  if (c === 3) {
    for (let i = 0; i < 3 * plane; i++) out[i] = rgb[i] * saved.pixelScale;
  } else {
    // Gray level as PIL's convert('L') computes it (ITU-R 601 luma); a gray image's channels are all equal.
    for (let p = 0; p < plane; p++) out[p] = ((rgb[p] * 299 + rgb[plane + p] * 587 + rgb[2 * plane + p] * 114) / 1000) * saved.pixelScale;
  }
  if (saved.normalize) normalizeChannels(new NDArray(out, [1, c, h, w]), saved.normalize, true);
  return out;
}

/** Reads every input file into one batch for `saved`'s model; errors name the file and row. */
export function readPredictInputs(files: readonly string[], saved: SavedModel): PredictInputs {
  const width = shapeSize(saved.inputShape);
  const rows: ArrayLike<number>[] = [];
  const labels: string[] = [];
  for (const file of files) {
    const ext = path.extname(file).toLowerCase();
    if (IMAGE_EXTENSIONS.includes(ext)) {
      rows.push(imageRow(file, saved));
      labels.push(file);
      continue;
    }
    if (ext !== '.json' && ext !== '.csv') throw new RangeError(`${file}: unknown input type '${ext}'; give .json, .csv, .png or .jpg files`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new RangeError(`${file}: cannot read: ${(e as Error).message}`);
    }
    const [r, l] = ext === '.json' ? jsonRows(file, text, width, saved.inputShape) : csvRows(file, text, width, saved.inputShape);
    rows.push(...r);
    labels.push(...l);
  }
  if (rows.length === 0) throw new RangeError(`no samples in ${files.join(', ')}`);
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, i) => x.set(r, i * width));
  return { x: new NDArray(x, [rows.length, ...saved.inputShape]), labels };
}

/** Most probable class and softmax probabilities of each sample, in batches of `batchSize`. */
export function predictBatch(saved: SavedModel, x: NDArray, batchSize = 256): { classes: number[]; probabilities: number[][] } {
  const dtype = saved.model.parameters()[0]?.value.dtype ?? 'float32';
  const n = x.shape[0];
  const width = n === 0 ? 0 : x.size / n;
  const classes: number[] = [];
  const probabilities: number[][] = [];
  saved.model.eval();
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const chunk = new NDArray(x.data.slice(start * width, end * width), [end - start, ...x.shape.slice(1)]).astype(dtype);
    const probs = softmax(saved.model.forward(TensorNode.constant(chunk))).value;
    const k = probs.shape[1];
    for (let i = 0; i < end - start; i++) {
      const row = Array.from(probs.data.subarray(i * k, (i + 1) * k));
      let best = 0;
      for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
      classes.push(best);
      probabilities.push(row);
    }
  }
  return { classes, probabilities };
}

interface PredictFlags {
  input: string[];
  json?: boolean;
  activation?: string;
}

async function predictCommand(modelFile: string, flags: PredictFlags): Promise<void> {
  const saved = loadSavedModel(modelFile, { activation: flags.activation });
  const { x, labels } = readPredictInputs(flags.input, saved);
  const { classes, probabilities } = predictBatch(saved, x);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ classes, probabilities }) + '\n');
    return;
  }
  const lines = classes.map((c, i) => {
    const name = saved.classes?.[c];
    return `${labels[i]}: class ${c}${name !== undefined && name !== String(c) ? ` (${name})` : ''}, probability ${probabilities[i][c].toFixed(4)}`;
  });
  process.stdout.write(lines.join('\n') + '\n');
}

/** Adds `predict` to the `vugrad` program. */
export function registerPredict(program: Command): void {
  program
    .command('predict <model>')
    .description('classify inputs (JSON rows, CSV, PNG/JPEG images) with a model (.safetensors from train --out, or .onnx)')
    .requiredOption('--input <files...>', 'input files: .json, .csv, .png, .jpg')
    .option('--json', 'print {"classes": [...], "probabilities": [[...], ...]} on stdout')
    .option('--activation <name>', "an MLP's activation, for a state dict that does not record it (relu, sigmoid, tanh)")
    .action(predictCommand);
}
