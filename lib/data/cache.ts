/**
 * A binary cache of decoded images, so that a data set stored as 60,000 JPEGs is decoded once and then loads
 * in well under a second.
 *
 * File layout (little-endian): the 8-byte magic `VGIMG01\n`, uint32 sample count, uint32 bytes per sample,
 * uint32 signature length, the signature (UTF-8 JSON naming the source, its size and modification time: a
 * changed source invalidates the cache), then one label byte per sample, then the samples' pixel bytes.
 *
 * Caches live in the user's cache directory, never beside the data (which may be shared, or mounted
 * read-only): `$VUGRAD_CACHE_DIR` when set, else `$XDG_CACHE_HOME/vugrad`, else `~/.cache/vugrad`; under it
 * `images/<source name>-<hash of the source's real path>/`, so that two data sets, or two copies of one, never
 * share a file. Files are written atomically (a temporary file in the same directory, flushed, then renamed).
 * A cache file is checked when read (header, sizes, labels); a damaged one is reported by name and rebuilt.
 *
 * @example
 * const dir = cacheDirFor('/data/cifar10');         // ~/.cache/vugrad/images/cifar10-3f9a1c0b2d4e
 * writeImageCache(path.join(dir, 'cifar10-train.bin'), sig, raw);
 * readImageCache(path.join(dir, 'cifar10-train.bin'), sig, { sampleBytes: 3072, numClasses: 10 });
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic-file';
import { DataError } from './errors';

/** Images as stored: `pixels` holds `n` samples of `sampleBytes` bytes (CHW planes), `labels` one byte each. */
export interface RawImages {
  n: number;
  sampleBytes: number;
  labels: Uint8Array;
  pixels: Uint8Array;
}

/**
 * A damaged cache file (`readImageCache`): the message names the file, what is wrong and how to recover;
 * `reason` is what is wrong alone.
 */
export class ImageCacheError extends DataError {
  constructor(
    file: string,
    readonly reason: string,
  ) {
    super(file, `${file}: damaged image cache: ${reason}. Delete the file; it is rebuilt from the images on the next load`);
    this.name = 'ImageCacheError';
  }
}

/** What a cache file must hold to be used: checked by `readImageCache`. */
export interface ImageCacheExpect {
  /** Bytes per sample (3,072 for CIFAR-10's 3x32x32). */
  sampleBytes?: number;
  /** Labels must be below this (10 for CIFAR-10). */
  numClasses?: number;
}

const MAGIC = Buffer.from('VGIMG01\n', 'latin1');
const HEADER = MAGIC.length + 12;

/**
 * The root of vugrad's caches: `$VUGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/vugrad`, else `~/.cache/vugrad`
 * (the XDG convention, which most Linux tools follow). Nothing is created here.
 */
export function userCacheDir(): string {
  const fromEnv = process.env.VUGRAD_CACHE_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  // NOTE: the XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'vugrad');
  return path.join(process.env.HOME || os.homedir() || os.tmpdir(), '.cache', 'vugrad');
}

/**
 * The cache directory for data at `source` (a directory or an archive): `<userCacheDir()>/images/<name>-<hash>`,
 * the hash naming the source's real path (symlinks resolved), so that different data sets and different
 * copies never collide. Never inside the data's directory. Nothing is created here.
 */
export function cacheDirFor(source: string): string {
  let real = path.resolve(source);
  try {
    real = fs.realpathSync(real);
  } catch {
    // absent source: key on the path as given
  }
  const hash = crypto.createHash('sha256').update(real).digest('hex').slice(0, 12);
  const name = path.basename(real).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'data';
  return path.join(userCacheDir(), 'images', `${name}-${hash}`);
}

/**
 * Reads a cache file. Returns null when there is no cache yet (the file is absent) or it was made from another
 * source or version of it (the signature differs): the caller decodes the images then. Throws an `ImageCacheError`
 * naming the file, what is wrong and how to recover when the file is damaged: truncated, not a cache, samples of
 * another size, or labels out of range (which would otherwise surface as a cross-entropy index error).
 */
export function readImageCache(file: string, signature: string, expect: ImageCacheExpect = {}): RawImages | null {
  const corrupt = (why: string): never => {
    throw new ImageCacheError(file, why);
  };
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    // Absent: the file, or its directory (ENOTDIR: a file stands where a directory of the path should be).
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    return corrupt(`cannot read it (${(e as Error).message})`);
  }
  if (buf.length < HEADER) corrupt(`${buf.length} bytes, shorter than the ${HEADER}-byte header`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) corrupt('it does not start with the cache format marker VGIMG01');
  let at = MAGIC.length;
  const n = buf.readUInt32LE(at);
  const sampleBytes = buf.readUInt32LE(at + 4);
  const sigLength = buf.readUInt32LE(at + 8);
  at += 12;
  // A cache of another source (or an older copy of it) is not damaged: it is replaced without a word.
  if (at + sigLength <= buf.length && buf.toString('utf8', at, at + sigLength) !== signature) return null;
  const expected = at + sigLength + n + n * sampleBytes;
  if (buf.length !== expected) {
    corrupt(
      `${buf.length} bytes, but its header says ${n} samples of ${sampleBytes} bytes, ${expected} bytes in all ` +
        `(${buf.length < expected ? 'truncated' : 'extra bytes at the end'})`,
    );
  }
  if (expect.sampleBytes !== undefined && sampleBytes !== expect.sampleBytes) {
    corrupt(`samples of ${sampleBytes} bytes, expected ${expect.sampleBytes}`);
  }
  at += sigLength;
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const labels = bytes.subarray(at, at + n);
  if (expect.numClasses !== undefined) {
    for (let i = 0; i < n; i++) {
      if (labels[i] >= expect.numClasses) corrupt(`sample ${i} has label ${labels[i]}, expected 0..${expect.numClasses - 1}`);
    }
  }
  return { n, sampleBytes, labels, pixels: bytes.subarray(at + n) };
}

/**
 * Writes a cache file atomically: a temporary file in the same directory, flushed to disk, then renamed over
 * the old one, so that a reader (or a crash) never leaves half a file, and two processes building the same
 * cache do not mix their bytes. Throws a `DataError` naming the file and the system's reason when it cannot
 * be written (read-only or full disk, no permission); the temporary file is removed then.
 */
export function writeImageCache(file: string, signature: string, raw: RawImages): void {
  const sig = Buffer.from(signature, 'utf8');
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header);
  header.writeUInt32LE(raw.n, MAGIC.length);
  header.writeUInt32LE(raw.sampleBytes, MAGIC.length + 4);
  header.writeUInt32LE(sig.length, MAGIC.length + 8);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, [header, sig, raw.labels, raw.pixels]);
  } catch (e) {
    throw new DataError(file, `${file}: cannot write the image cache (${(e as Error).message})`);
  }
}
