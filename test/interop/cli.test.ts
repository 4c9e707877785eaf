/**
 * @jest-environment ./test/interop/ort-environment.js
 */
/**
 * `vugrad export` and `vugrad predict` on models the CLI trained (an MLP on synth, LeNet on an MNIST subset):
 * onnxruntime runs the exported files with vugrad's outputs (within 1e-5), predict reads JSON, CSV, PNG and
 * JPEG and agrees with itself across them and across safetensors and ONNX, and bad input names the file/row.
 * The commands run in this process (`main(argv)`), but for one spawned run that checks stdout is pure JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { NDArray } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import { main } from '../../lib/cli/main';
import { loadSavedModel } from '../../lib/cli/saved-model';
import { saveModel } from '../../lib/io';
import { MLP } from '../../lib/nn';
import { maxAbsDiff, onnxRuntime, root } from './runtimes';

const { runtime: ort, why } = onnxRuntime();
if (!ort) console.warn(`interop/cli.test: onnxruntime comparisons skipped: ${why}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-interop-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `vugrad ...args` in this process; returns the exit code and what it printed. */
async function vugrad(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += a.join(' ') + '\n';
  });
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
    stderr += a.join(' ') + '\n';
  });
  try {
    const code = await main(['node', 'vugrad', ...args]);
    return { code, stdout, stderr };
  } finally {
    write.mockRestore();
    log.mockRestore();
    error.mockRestore();
  }
}

const mlpRun = path.join(tmp, 'mlp');
const lenetRun = path.join(tmp, 'lenet');
const mlpModel = path.join(mlpRun, 'model.safetensors');
const lenetModel = path.join(lenetRun, 'model.safetensors');
const mlpOnnx = path.join(tmp, 'mlp.onnx');
const lenetOnnx = path.join(tmp, 'lenet.onnx');

function vugradLogits(file: string, x: NDArray): Float32Array {
  const saved = loadSavedModel(file);
  return Float32Array.from(saved.model.forward(TensorNode.constant(x)).value.data);
}

function samples(n: number, shape: number[], scale = 1): NDArray {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return new NDArray(Float32Array.from({ length: size }, (_, i) => (((i * 7919) % 1000) / 1000) * scale), [n, ...shape]);
}

beforeAll(async () => {
  const a = await vugrad('train', '-D', 'synth', '--limit', '600', '-e', '1', '-b', '32', '--activation', 'tanh', '--hidden', '12,8', '--seed', '2', '--out', mlpRun);
  expect(a.code).toBe(0);
  const b = await vugrad('train', '-D', 'mnist', '--model', 'lenet', '--limit', '100', '-e', '1', '-b', '25', '--seed', '2', '--out', lenetRun);
  expect(b.code).toBe(0);
}, 120_000);

describe('vugrad export', () => {
  test('writes an ONNX file for each CLI-trained model and says what it wrote', async () => {
    const a = await vugrad('export', mlpModel, '--onnx', mlpOnnx);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(a.stdout).toMatch(/wrote .*mlp\.onnx: MLP 2-12-8-2 \(tanh\), input \[batch, 2\], opset 13, \d+ bytes/);
    const b = await vugrad('export', lenetModel, '--onnx', lenetOnnx, '--opset', '17');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/LeNet \(1x28x28 images, 10 classes\), input \[batch, 1, 28, 28\], opset 17/);
    // The run's configuration travels in the metadata, without this machine's paths (--out was under tmp).
    for (const file of [mlpOnnx, lenetOnnx]) {
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(Buffer.from('vugrad.config'))).toBe(true);
      expect(bytes.includes(Buffer.from(tmp))).toBe(false);
    }
  });

  (ort ? test : test.skip)('onnxruntime gives the outputs vugrad gives (within 1e-5)', async () => {
    for (const [model, onnx, shape, scale] of [
      [mlpModel, mlpOnnx, [2], 4],
      [lenetModel, lenetOnnx, [1, 28, 28], 1],
    ] as const) {
      const x = samples(7, [...shape], scale);
      const session = await ort!.InferenceSession.create(onnx);
      const out = await session.run({ input: new ort!.Tensor('float32', x.data as Float32Array, x.shape) });
      expect(out.logits.dims).toEqual([7, shape.length === 1 ? 2 : 10]);
      expect(maxAbsDiff(out.logits.data, vugradLogits(model, x))).toBeLessThan(1e-5);
    }
  });

  test('refuses a bad opset and a state dict without an activation, saying why', async () => {
    const a = await vugrad('export', mlpModel, '--onnx', path.join(tmp, 'x.onnx'), '--opset', '9');
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--opset: expected an integer from 13 to 21, got '9'/);
    const bare = path.join(tmp, 'bare.safetensors');
    saveModel(new MLP({ inputSize: 3, hiddenSizes: [4], outputSize: 2 }), bare);
    const b = await vugrad('export', bare, '--onnx', path.join(tmp, 'x.onnx'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bare\.safetensors records no activation for its MLP .*pass --activation/);
    expect(fs.existsSync(path.join(tmp, 'x.onnx'))).toBe(false);
    expect((await vugrad('export', bare, '--onnx', path.join(tmp, 'x.onnx'), '--activation', 'sigmoid')).code).toBe(0);
  });
});

describe('vugrad predict', () => {
  const digit = (value: (x: number, y: number) => number, w = 28, h = 28): PNG => {
    const png = new PNG({ width: w, height: h });
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = value(x, y);
        png.data.set([v, v, v, 255], (y * w + x) * 4);
      }
    }
    return png;
  };
  const stroke = (x: number, y: number) => (Math.abs(x - 14) < 3 && y > 4 && y < 24 ? 255 : (x * 3 + y) % 17);

  test('--json prints {classes, probabilities} alone on stdout (spawned bin)', () => {
    const rows = path.join(tmp, 'rows.json');
    fs.writeFileSync(rows, JSON.stringify([[0.1, 0.2], [1.5, -0.3], [-2, 2]]));
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'lib', 'cli', 'main.ts'), 'predict', mlpModel, '--input', rows, '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { classes: number[]; probabilities: number[][] };
    expect(Object.keys(out)).toEqual(['classes', 'probabilities']);
    expect(out.classes).toHaveLength(3);
    out.probabilities.forEach((p, i) => {
      expect(p).toHaveLength(2);
      expect(p[0] + p[1]).toBeCloseTo(1, 5);
      expect(out.classes[i]).toBe(p[1] > p[0] ? 1 : 0);
    });
  });

  test('JSON, CSV (with a header), safetensors and ONNX all give the same answers', async () => {
    const values = [[0.3, -1.2], [2.5, 0.7], [-0.4, 0.1]];
    fs.writeFileSync(path.join(tmp, 'rows2.json'), JSON.stringify({ inputs: values }));
    fs.writeFileSync(path.join(tmp, 'rows2.csv'), 'x1,x2\n' + values.map((r) => r.join(',')).join('\n') + '\n');
    const a = JSON.parse((await vugrad('predict', mlpModel, '--input', path.join(tmp, 'rows2.json'), '--json')).stdout);
    const b = JSON.parse((await vugrad('predict', mlpModel, '--input', path.join(tmp, 'rows2.csv'), '--json')).stdout);
    const c = JSON.parse((await vugrad('predict', mlpOnnx, '--input', path.join(tmp, 'rows2.csv'), '--json')).stdout);
    expect(b).toEqual(a);
    expect(c.classes).toEqual(a.classes);
    expect(maxAbsDiff(c.probabilities.flat(), a.probabilities.flat())).toBeLessThan(1e-6);
    const x = new NDArray(Float32Array.from(values.flat()), [3, 2]);
    const logits = vugradLogits(mlpModel, x);
    a.classes.forEach((k: number, i: number) => expect(k).toBe(logits[2 * i + 1] > logits[2 * i] ? 1 : 0));
    const plain = await vugrad('predict', mlpModel, '--input', path.join(tmp, 'rows2.csv'));
    expect(plain.stdout.trim().split('\n')).toEqual(a.classes.map((k: number, i: number) => `${path.join(tmp, 'rows2.csv')}:${i + 2}: class ${k}, probability ${a.probabilities[i][k].toFixed(4)}`));
  });

  test('PNG and JPEG images are read as the training data was (pixels / 255), from safetensors or ONNX', async () => {
    const png = digit(stroke);
    const pngFile = path.join(tmp, 'digit.png');
    fs.writeFileSync(pngFile, PNG.sync.write(png));
    const jpgFile = path.join(tmp, 'digit.jpg');
    fs.writeFileSync(jpgFile, jpeg.encode({ data: png.data, width: 28, height: 28 }, 100).data);
    // The same pixels as a JSON row: the image path must give exactly its probabilities.
    const row = Array.from({ length: 784 }, (_, p) => png.data[p * 4] / 255);
    fs.writeFileSync(path.join(tmp, 'digit.json'), JSON.stringify([row]));
    const fromPng = JSON.parse((await vugrad('predict', lenetModel, '--input', pngFile, pngFile, '--json')).stdout);
    const fromRow = JSON.parse((await vugrad('predict', lenetModel, '--input', path.join(tmp, 'digit.json'), '--json')).stdout);
    expect(fromPng.probabilities).toHaveLength(2);
    expect(maxAbsDiff(fromPng.probabilities[0], fromRow.probabilities[0])).toBeLessThan(1e-6);
    const fromJpg = JSON.parse((await vugrad('predict', lenetModel, '--input', jpgFile, '--json')).stdout);
    expect(fromJpg.probabilities[0]).toHaveLength(10);
    expect(maxAbsDiff(fromJpg.probabilities[0], fromPng.probabilities[0])).toBeLessThan(0.05); // JPEG is lossy
    const fromOnnx = JSON.parse((await vugrad('predict', lenetOnnx, '--input', pngFile, '--json')).stdout);
    expect(maxAbsDiff(fromOnnx.probabilities[0], fromPng.probabilities[0])).toBeLessThan(1e-6);
    const plain = await vugrad('predict', lenetModel, '--input', pngFile);
    expect(plain.stdout).toMatch(new RegExp(`digit\\.png: class ${fromPng.classes[0]}, probability 0\\.\\d{4}`));
  });

  test('bad input gives an error naming the file and row, exit code 2', async () => {
    const write = (name: string, content: string | Buffer) => {
      fs.writeFileSync(path.join(tmp, name), content);
      return path.join(tmp, name);
    };
    const cases: [string, string, RegExp][] = [
      [mlpModel, write('short.json', '[[1, 2], [3]]'), /short\.json: row 1: expected 2 numbers \(a sample of shape \[2\]\), got 1/],
      [mlpModel, write('text.json', '[[1, "a"]]'), /text\.json: row 0: value 2 is "a", not a finite number/],
      [mlpModel, write('inf.csv', '1,2\n3,inf\n'), /inf\.csv: line 2: value 2 is 'inf', not a finite number/],
      [mlpModel, write('wide.csv', 'a,b\n1,2\n1,2,3\n'), /wide\.csv: line 3: expected 2 numbers/],
      [mlpModel, write('bad.json', '{"rows": 1'), /bad\.json: not valid JSON/],
      [lenetModel, write('broken.png', Buffer.from('not an image at all')), /broken\.png: cannot decode image: not a PNG or JPEG/],
      [lenetModel, write('small.png', PNG.sync.write(digit(() => 0, 20, 20))), /small\.png: image is 20x20, expected 28x28/],
      [mlpModel, path.join(tmp, 'digit.png'), /digit\.png: this model takes \[2\] numbers, not an image/],
      [mlpModel, write('rows.txt', '1,2'), /rows\.txt: unknown input type '\.txt'/],
      [mlpModel, path.join(tmp, 'missing.csv'), /missing\.csv: cannot read/],
    ];
    for (const [model, input, message] of cases) {
      const r = await vugrad('predict', model, '--input', input);
      expect({ input, code: r.code, stdout: r.stdout }).toEqual({ input, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    }
  });
});
