/**
 * Tiny data sets written to a temporary directory, in the layouts the loaders read, so CLI tests need no
 * download and no optional package:
 * - `writeIdxDir`: MNIST / Fashion-MNIST's four IDX files (`train-images-idx3-ubyte`, ...; optionally gzipped);
 * - `writeCifarFolder`: CIFAR-10 as an image folder `train/<class>/*.png` and `test/<class>/*.png`.
 * The classes are easy to tell apart (class c lights up its own band of rows / has its own colour), so a
 * network trained for an epoch or two does clearly better than chance.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { CIFAR10_CLASSES, Random, encodeIdxUbyte } from '../../../lib';

/** Labels 0..9 in a seeded random order. */
function labels(n: number, r: Random): Uint8Array {
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = r.int(10);
  return y;
}

/** 28x28 images: noise in 0..40, and rows 2c+3 .. 2c+5 of class c bright (200..255). */
function idxImages(y: Uint8Array, r: Random): Uint8Array {
  const px = new Uint8Array(y.length * 784);
  for (let i = 0; i < y.length; i++) {
    for (let p = 0; p < 784; p++) px[i * 784 + p] = r.int(41);
    for (let row = 2 * y[i] + 3; row < 2 * y[i] + 6; row++) {
      for (let col = 4; col < 24; col++) px[i * 784 + row * 28 + col] = 200 + r.int(56);
    }
  }
  return px;
}

export interface IdxDirOptions {
  train: number;
  test: number;
  seed?: number;
  gzip?: boolean;
  /** Maps each label before it is written (e.g. a permutation, to make a data set the model was not trained on). */
  relabel?: (label: number) => number;
}

/** Writes the four IDX files under `dir`; returns the labels written (train and test). */
export function writeIdxDir(dir: string, options: IdxDirOptions): { train: Uint8Array; test: Uint8Array } {
  fs.mkdirSync(dir, { recursive: true });
  const r = new Random(options.seed ?? 1);
  const out: { train: Uint8Array; test: Uint8Array } = { train: new Uint8Array(0), test: new Uint8Array(0) };
  for (const [prefix, n, key] of [['train', options.train, 'train'], ['t10k', options.test, 'test']] as const) {
    const y = labels(n, r);
    const x = idxImages(y, r);
    const written = options.relabel ? y.map(options.relabel) : y;
    const suffix = options.gzip ? '.gz' : '';
    const enc = (b: Uint8Array) => (options.gzip ? zlib.gzipSync(b) : b);
    fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte${suffix}`), enc(encodeIdxUbyte([n, 28, 28], x)));
    fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte${suffix}`), enc(encodeIdxUbyte([n], written)));
    out[key] = written;
  }
  return out;
}

/** A 32x32 PNG of class `c`: its own base colour, with noise. */
function cifarPng(c: number, r: Random): Buffer {
  const png = new PNG({ width: 32, height: 32 });
  const base = [(c * 83) % 256, (c * 151 + 40) % 256, (c * 47 + 90) % 256];
  for (let p = 0; p < 32 * 32; p++) {
    for (let ch = 0; ch < 3; ch++) png.data[p * 4 + ch] = Math.max(0, Math.min(255, base[ch] + r.int(61) - 30));
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

/**
 * Writes `train/<class>/NNNNN.png` (`trainPerClass` per class) and `test/<class>/...` (`testPerClass`).
 * A few distinct images per class are encoded and repeated under new names, so thousands of files (the
 * validation images a non-final run holds out) take about a second.
 */
export function writeCifarFolder(dir: string, trainPerClass: number, testPerClass: number, seed = 2): void {
  const r = new Random(seed);
  const variants = CIFAR10_CLASSES.map((_, c) => Array.from({ length: 4 }, () => cifarPng(c, r)));
  for (const [split, perClass] of [['train', trainPerClass], ['test', testPerClass]] as const) {
    CIFAR10_CLASSES.forEach((name, c) => {
      const classDir = path.join(dir, split, name);
      fs.mkdirSync(classDir, { recursive: true });
      for (let i = 0; i < perClass; i++) {
        fs.writeFileSync(path.join(classDir, `${String(i).padStart(5, '0')}.png`), variants[c][(i * 7 + c) % variants[c].length]);
      }
    });
  }
}
