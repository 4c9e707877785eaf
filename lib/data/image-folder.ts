/**
 * Image-folder data sets, `<root>/<split>/<class>/*.png|jpg` (torchvision's `ImageFolder` layout), read from
 * a directory or straight out of a `.tar.gz` of one, and decoded with pure-JS codecs (`jpeg-js`, `pngjs`:
 * nothing native, nothing downloaded at install).
 *
 * Samples are ordered round-robin over the classes (first file of each class, then the second of each, ...),
 * files in name order within a class. So the order is the same on every machine, any prefix (a `limit`) is
 * balanced, and the last 5,000 training images make a balanced validation set.
 *
 * @example
 * const src = openImageFolder('/data/cifar10', CIFAR10_CLASSES, 'see README');
 * const entries = src.list('train');              // [{ cls, name, read }]
 * const raw = await decodeImages(entries, 32, 32); // RawImages, CHW planes
 */
import * as fs from 'fs';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tar from 'tar';
import { RawImages } from './cache';
import { DataError } from './errors';

/** One image file: its class index, its path (for errors) and a way to get its bytes. */
export interface ImageEntry {
  cls: number;
  name: string;
  read(): Uint8Array;
}

export interface ImageSource {
  /** The directory or archive, for messages. */
  location: string;
  /** Identifies the source's content (path, size, modification time) for cache validation. */
  signature: string;
  /** The split's images in round-robin class order; an empty list when the split is absent. */
  list(split: string): ImageEntry[];
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** Opens an image folder on disk. Throws a `DataError` when a class folder is unknown. */
export function openImageFolder(root: string, classes: readonly string[], hint: string): ImageSource {
  const stamp: Record<string, number> = {};
  const lists = new Map<string, ImageEntry[]>();
  const list = (split: string): ImageEntry[] => {
    const cached = lists.get(split);
    if (cached) return cached;
    const dir = path.join(root, split);
    const perClass = classes.map(() => [] as ImageEntry[]);
    if (fs.existsSync(dir)) {
      for (const sub of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!sub.isDirectory()) continue;
        const cls = classIndex(classes, sub.name, path.join(dir, sub.name), hint);
        const classDir = path.join(dir, sub.name);
        for (const f of fs.readdirSync(classDir).sort()) {
          if (!IMAGE_FILE.test(f)) continue;
          const file = path.join(classDir, f);
          perClass[cls].push({ cls, name: file, read: () => fs.readFileSync(file) });
        }
      }
    }
    const entries = roundRobin(perClass);
    lists.set(split, entries);
    return entries;
  };
  for (const split of ['train', 'test']) {
    stamp[split] = list(split).length;
  }
  const signature = JSON.stringify({ folder: path.resolve(root), counts: stamp, mtime: mtimeOf(root, classes) });
  return { location: root, signature, list };
}

/** Modification times of the class folders: adding or removing an image changes its folder's time. */
function mtimeOf(root: string, classes: readonly string[]): number {
  let latest = 0;
  for (const split of ['train', 'test']) {
    for (const c of classes) {
      try {
        latest = Math.max(latest, fs.statSync(path.join(root, split, c)).mtimeMs);
      } catch {
        // absent class folder: nothing to stamp
      }
    }
  }
  return latest;
}

/**
 * Reads the files of a `.tar.gz` whose path `accept`s into memory, keyed by their path in the archive.
 * Throws a `DataError` naming the archive when it cannot be read.
 */
export async function readTarFiles(file: string, accept: (entryPath: string) => boolean, hint: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type !== 'File' || !accept(entry.path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(entry.path, Buffer.concat(chunks)));
      },
    });
  } catch (e) {
    throw new DataError(file, `${file}: cannot read the archive (${(e as Error).message}). ${hint}`);
  }
  return files;
}

const TAR_IMAGE = /(?:^|\/)(train|test)\/([^/]+)\/([^/]+\.(?:png|jpe?g))$/i;

/** True for archive paths that look like `[top/]train|test/<class>/<file>.png|jpg`. */
export function isTarImagePath(entryPath: string): boolean {
  return TAR_IMAGE.test(entryPath);
}

/**
 * An image source over files read from a `.tar.gz` (see `readTarFiles`): about 20 MB in memory for CIFAR-10
 * as JPEG, rather than 60,000 small files unpacked to disk, since the decoded cache is what makes later loads
 * fast. Paths may sit under a top-level folder (`cifar10/train/cat/0001.jpg`).
 */
export function imageSourceFromTar(
  file: string,
  files: Map<string, Buffer>,
  classes: readonly string[],
  hint: string,
): ImageSource {
  const perSplit = new Map<string, ImageEntry[][]>();
  const sorted = [...files.keys()].sort();
  for (const entryPath of sorted) {
    const m = TAR_IMAGE.exec(entryPath);
    if (!m) continue;
    const [, split, className] = m;
    const cls = classIndex(classes, className, `${file}:${path.posix.dirname(entryPath)}`, hint);
    let lists = perSplit.get(split);
    if (!lists) perSplit.set(split, (lists = classes.map(() => [])));
    const bytes = files.get(entryPath) as Buffer;
    lists[cls].push({ cls, name: `${file}:${entryPath}`, read: () => bytes });
  }
  const lists = new Map<string, ImageEntry[]>();
  for (const [split, perClass] of perSplit) lists.set(split, roundRobin(perClass));
  const stat = fs.statSync(file);
  const signature = JSON.stringify({ archive: path.resolve(file), size: stat.size, mtime: stat.mtimeMs });
  return { location: file, signature, list: (split) => lists.get(split) ?? [] };
}

function classIndex(classes: readonly string[], name: string, where: string, hint: string): number {
  const cls = classes.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  if (cls < 0) throw new DataError(where, `${where}: unknown class folder '${name}', expected one of ${classes.join(' ')}. ${hint}`);
  return cls;
}

function roundRobin(perClass: ImageEntry[][]): ImageEntry[] {
  const out: ImageEntry[] = [];
  const longest = Math.max(0, ...perClass.map((l) => l.length));
  for (let k = 0; k < longest; k++) {
    for (const l of perClass) if (k < l.length) out.push(l[k]);
  }
  return out;
}

/**
 * Decodes one PNG or JPEG (told apart by their magic numbers, not the file name) into channel-major RGB planes
 * (`R` plane, then `G`, then `B`, as CIFAR's binary files), checking its size.
 */
export function decodeImage(bytes: Uint8Array, name: string, width: number, height: number, out?: Uint8Array): Uint8Array {
  const plane = width * height;
  out ??= new Uint8Array(3 * plane);
  let rgba: Uint8Array;
  let channels: number;
  let w: number;
  let h: number;
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width: w, height: h } = png);
      rgba = png.data;
      channels = 4;
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
      ({ width: w, height: h } = img);
      rgba = img.data;
      channels = 3;
    } else {
      throw new Error(`not a PNG or JPEG (starts with ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
    }
  } catch (e) {
    throw new DataError(name, `${name}: cannot decode image: ${(e as Error).message}`);
  }
  if (w !== width || h !== height) throw new DataError(name, `${name}: image is ${w}x${h}, expected ${width}x${height}`);
  for (let p = 0, q = 0; p < plane; p++, q += channels) {
    out[p] = rgba[q];
    out[plane + p] = rgba[q + 1];
    out[2 * plane + p] = rgba[q + 2];
  }
  return out;
}

/**
 * Decodes a list of images into one `RawImages`, yielding to the event loop every few hundred images so that
 * a server stays responsive. `onProgress(done, total)` is called as it goes.
 */
export async function decodeImages(
  entries: readonly ImageEntry[],
  width: number,
  height: number,
  onProgress?: (done: number, total: number) => void,
): Promise<RawImages> {
  const n = entries.length;
  const sampleBytes = 3 * width * height;
  const pixels = new Uint8Array(n * sampleBytes);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    decodeImage(e.read(), e.name, width, height, pixels.subarray(i * sampleBytes, (i + 1) * sampleBytes));
    labels[i] = e.cls;
    if ((i + 1) % 500 === 0 || i + 1 === n) {
      onProgress?.(i + 1, n);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { n, sampleBytes, labels, pixels };
}
