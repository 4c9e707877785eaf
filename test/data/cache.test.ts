/**
 * The decoded-image cache: in the user's cache directory (never beside the data), one directory per source,
 * written atomically, checked when read (a damaged file is named, decoded again and replaced), and a cache
 * directory that cannot be written means loading without a cache, said once.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import {
  CIFAR10_CLASSES,
  DataError,
  ImageCacheError,
  cacheDirFor,
  loadCifar10,
  readImageCache,
  userCacheDir,
  writeImageCache,
} from '../../lib/data';

let tmp: string;
const saved = { VUGRAD_CACHE_DIR: process.env.VUGRAD_CACHE_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, HOME: process.env.HOME };
const restore = () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-cache-'));
});
beforeEach(() => {
  process.env.VUGRAD_CACHE_DIR = path.join(tmp, 'cache');
});
afterEach(restore);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** root: train/<class>/k.png for k < perClass, test/<class>/0.png; solid colours. */
function writeFolder(root: string, perClass = 2): void {
  CIFAR10_CLASSES.forEach((name, cls) => {
    for (const [split, n] of [['train', perClass], ['test', 1]] as const) {
      fs.mkdirSync(path.join(root, split, name), { recursive: true });
      for (let k = 0; k < n; k++) {
        const png = new PNG({ width: 32, height: 32 });
        for (let p = 0; p < 1024; p++) png.data.set([cls * 20, k * 50, 7, 255], p * 4);
        fs.writeFileSync(path.join(root, split, name, `${k}.png`), PNG.sync.write(png));
      }
    }
  });
}

/** Every file under dir, relative. */
const filesUnder = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : []);

describe('where the cache goes', () => {
  test('VUGRAD_CACHE_DIR, else $XDG_CACHE_HOME/vugrad, else ~/.cache/vugrad', () => {
    process.env.VUGRAD_CACHE_DIR = path.join(tmp, 'env');
    expect(userCacheDir()).toBe(path.join(tmp, 'env'));
    delete process.env.VUGRAD_CACHE_DIR;
    process.env.XDG_CACHE_HOME = path.join(tmp, 'xdg');
    expect(userCacheDir()).toBe(path.join(tmp, 'xdg', 'vugrad'));
    process.env.XDG_CACHE_HOME = 'relative/ignored';
    process.env.HOME = path.join(tmp, 'home');
    expect(userCacheDir()).toBe(path.join(tmp, 'home', '.cache', 'vugrad'));
  });

  test('one directory per source, keyed by its real path, never inside the data', () => {
    const a = path.join(tmp, 'keyed', 'a', 'cifar10');
    const b = path.join(tmp, 'keyed', 'b', 'cifar10');
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(b, { recursive: true });
    fs.symlinkSync(a, path.join(tmp, 'keyed', 'link'));
    expect(cacheDirFor(a)).not.toBe(cacheDirFor(b));
    expect(path.basename(cacheDirFor(a))).toMatch(/^cifar10-[0-9a-f]{12}$/);
    expect(cacheDirFor(path.join(tmp, 'keyed', 'link'))).toBe(cacheDirFor(a));
    expect(cacheDirFor(a).startsWith(path.join(tmp, 'cache', 'images') + path.sep)).toBe(true);
    // Two archives side by side get their own caches too.
    expect(cacheDirFor(path.join(tmp, 'x.tar.gz'))).not.toBe(cacheDirFor(path.join(tmp, 'y.tar.gz')));
  });

  test('loading a folder writes nothing beside the data, even when the data directory is writable', async () => {
    // No VUGRAD_CACHE_DIR: the default, the user's cache directory (here XDG_CACHE_HOME, under tmp).
    delete process.env.VUGRAD_CACHE_DIR;
    process.env.XDG_CACHE_HOME = path.join(tmp, 'xdg-default');
    const root = path.join(tmp, 'folder-writable');
    writeFolder(root);
    const before = filesUnder(root).sort();
    await loadCifar10({ dir: root, final: true });
    expect(filesUnder(root).sort()).toEqual(before);
    expect(cacheDirFor(root).startsWith(path.join(tmp, 'xdg-default', 'vugrad') + path.sep)).toBe(true);
    expect(filesUnder(cacheDirFor(root)).sort()).toEqual(['cifar10-test.bin', 'cifar10-train.bin']);
  });
});

describe('an unwritable cache directory', () => {
  test('the load works without a cache and says so once per directory', async () => {
    const root = path.join(tmp, 'folder-nocache');
    writeFolder(root);
    // A regular file where the cache directory should be: not writable as a directory, even for root.
    const blocked = path.join(tmp, 'blocked');
    fs.writeFileSync(blocked, 'not a directory');
    process.env.VUGRAD_CACHE_DIR = blocked;
    const warnings: string[] = [];
    const onWarning = (m: string) => warnings.push(m);
    const first = await loadCifar10({ dir: root, final: true, onWarning });
    expect(first.train.x.shape).toEqual([20, 3, 32, 32]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/blocked.*cifar10-train\.bin: cannot write the image cache \(.*\); going on without a cache.*VUGRAD_CACHE_DIR/);
    const second = await loadCifar10({ dir: root, final: true, onWarning });
    expect(Array.from(second.train.y)).toEqual(Array.from(first.train.y));
    expect(warnings).toHaveLength(1);
  });

  test('writeImageCache names the file and leaves no temporary file behind', () => {
    const dir = path.join(tmp, 'ro-target');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'sub');
    fs.writeFileSync(file, 'x'); // a file where a directory is needed
    const raw = { n: 1, sampleBytes: 2, labels: new Uint8Array([1]), pixels: new Uint8Array([3, 4]) };
    expect(() => writeImageCache(path.join(file, 'c.bin'), 'sig', raw)).toThrow(DataError);
    expect(() => writeImageCache(path.join(file, 'c.bin'), 'sig', raw)).toThrow(/sub\/c\.bin: cannot write the image cache/);
    expect(fs.readdirSync(dir)).toEqual(['sub']);
  });

  test('a write is atomic: the old file stays whole until the new one replaces it, no temporary files remain', () => {
    const file = path.join(tmp, 'atomic', 'c.bin');
    const raw = { n: 2, sampleBytes: 3, labels: new Uint8Array([0, 1]), pixels: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    writeImageCache(file, 'one', raw);
    writeImageCache(file, 'two', { ...raw, labels: new Uint8Array([1, 1]) });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['c.bin']);
    expect(readImageCache(file, 'one')).toBeNull(); // another signature: stale, not damaged
    expect(Array.from(readImageCache(file, 'two')!.labels)).toEqual([1, 1]);
  });
});

describe('a damaged cache file', () => {
  const raw = { n: 3, sampleBytes: 4, labels: new Uint8Array([0, 9, 2]), pixels: new Uint8Array(12).fill(5) };

  test.each([
    ['truncated', (f: string) => fs.truncateSync(f, fs.statSync(f).size - 5), /truncated/],
    ['extra bytes', (f: string) => fs.appendFileSync(f, 'xx'), /extra bytes at the end/],
    ['not a cache', (f: string) => fs.writeFileSync(f, Buffer.alloc(64, 1)), /does not start with the cache format marker/],
    ['tiny', (f: string) => fs.writeFileSync(f, 'VG'), /2 bytes, shorter than the 20-byte header/],
    [
      'a label out of range',
      (f: string) => {
        const b = fs.readFileSync(f);
        b[b.length - 12 - 2] = 200; // the second label byte
        fs.writeFileSync(f, b);
      },
      /sample 1 has label 200, expected 0\.\.9/,
    ],
  ])('%s: an ImageCacheError naming the file and saying to delete it', (_what, damage, why) => {
    const file = path.join(tmp, 'damaged', `${_what.replace(/ /g, '-')}.bin`);
    writeImageCache(file, 'sig', raw);
    expect(readImageCache(file, 'sig', { sampleBytes: 4, numClasses: 10 })!.n).toBe(3);
    damage(file);
    let err: unknown;
    try {
      readImageCache(file, 'sig', { sampleBytes: 4, numClasses: 10 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageCacheError);
    expect((err as Error).message).toContain(`${file}: damaged image cache: `);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/Delete the file; it is rebuilt from the images on the next load/);
  });

  test('samples of another size are refused', () => {
    const file = path.join(tmp, 'damaged', 'size.bin');
    writeImageCache(file, 'sig', raw);
    expect(() => readImageCache(file, 'sig', { sampleBytes: 3072 })).toThrow(/samples of 4 bytes, expected 3072/);
  });

  test.each([
    ['labels out of range (once a cross-entropy index error)', 'labels'],
    ['a truncated file', 'truncate'],
  ])('loadCifar10 over %s: warns naming the file, decodes again, replaces the cache', async (_what, how) => {
    const root = path.join(tmp, `folder-damaged-${how}`);
    writeFolder(root);
    const good = await loadCifar10({ dir: root, final: true, cache: false });
    await loadCifar10({ dir: root, final: true }); // writes the cache
    const file = path.join(cacheDirFor(root), 'cifar10-train.bin');
    const bytes = fs.readFileSync(file);
    if (how === 'labels') {
      const labelsAt = bytes.length - 20 * 3072 - 20;
      bytes.fill(77, labelsAt, labelsAt + 20);
      fs.writeFileSync(file, bytes);
    } else {
      fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    }
    const warnings: string[] = [];
    const again = await loadCifar10({ dir: root, final: true, onWarning: (m) => warnings.push(m) });
    expect(Array.from(again.train.y)).toEqual(Array.from(good.train.y));
    expect(Array.from(again.train.x.data)).toEqual(Array.from(good.train.x.data));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${file}: damaged image cache (`);
    expect(warnings[0]).toMatch(how === 'labels' ? /label 77, expected 0\.\.9/ : /truncated/);
    expect(warnings[0]).toMatch(/decoding .* again and replacing it\. If this repeats, delete /);
    // Replaced: the next load reads it without a word.
    const quiet: string[] = [];
    await loadCifar10({ dir: root, final: true, onWarning: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
    expect(readImageCache(file, JSON.parse(JSON.stringify(readSignature(file))), { numClasses: 10 })!.n).toBe(20);
  });
});

/** The signature stored in a cache file (after the 20-byte header). */
function readSignature(file: string): string {
  const b = fs.readFileSync(file);
  return b.toString('utf8', 20, 20 + b.readUInt32LE(16));
}
