/**
 * A binary cache of decoded images, so that a data set stored as 60,000 JPEGs is decoded once and then loads
 * in well under a second.
 *
 * File layout (little-endian): the 8-byte magic `VGIMG01\n`, uint32 sample count, uint32 bytes per sample,
 * uint32 signature length, the signature (UTF-8 JSON naming the source, its size and modification time: a
 * changed source invalidates the cache), then one label byte per sample, then the samples' pixel bytes.
 *
 * The cache goes to `<source>/.vugrad-cache/` when the source directory is writable, else to
 * `<os.tmpdir()>/vugrad-cache/<hash of the source path>/` (shared data is often read-only), or under
 * `$VUGRAD_CACHE_DIR` when set.
 *
 * @example
 * const dir = cacheDirFor('/data/cifar10');
 * writeImageCache(path.join(dir, 'cifar10-train.bin'), sig, raw);
 * readImageCache(path.join(dir, 'cifar10-train.bin'), sig); // the same RawImages, or null if stale
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Images as stored: `pixels` holds `n` samples of `sampleBytes` bytes (CHW planes), `labels` one byte each. */
export interface RawImages {
  n: number;
  sampleBytes: number;
  labels: Uint8Array;
  pixels: Uint8Array;
}

const MAGIC = Buffer.from('VGIMG01\n', 'latin1');

/**
 * The cache directory for data at `sourceDir`: `$VUGRAD_CACHE_DIR/<hash>` when that variable is set, else
 * `<sourceDir>/.vugrad-cache` when `sourceDir` is writable, else `<os.tmpdir()>/vugrad-cache/<hash>`, the hash
 * naming the source path. Nothing is created here.
 */
export function cacheDirFor(sourceDir: string): string {
  const hash = crypto.createHash('sha1').update(path.resolve(sourceDir)).digest('hex').slice(0, 12);
  const fromEnv = process.env.VUGRAD_CACHE_DIR;
  if (fromEnv) return path.join(fromEnv, hash);
  if (isWritableDir(sourceDir)) return path.join(sourceDir, '.vugrad-cache');
  return path.join(os.tmpdir(), 'vugrad-cache', hash);
}

/**
 * Writable for us, and not marked read-only. NOTE: root passes every access() check, so a directory whose
 * mode has no write bit at all (a read-only share, `chmod a-w`) counts as read-only too.
 */
function isWritableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return (fs.statSync(dir).mode & 0o222) !== 0;
  } catch {
    return false;
  }
}

/** Reads a cache file; null when it is absent, of another format, truncated or made from another source. */
export function readImageCache(file: string, signature: string): RawImages | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  if (buf.length < MAGIC.length + 12 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  let at = MAGIC.length;
  const n = buf.readUInt32LE(at);
  const sampleBytes = buf.readUInt32LE(at + 4);
  const sigLength = buf.readUInt32LE(at + 8);
  at += 12;
  if (buf.length !== at + sigLength + n + n * sampleBytes) return null;
  if (buf.toString('utf8', at, at + sigLength) !== signature) return null;
  at += sigLength;
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { n, sampleBytes, labels: bytes.subarray(at, at + n), pixels: bytes.subarray(at + n) };
}

/**
 * Writes a cache file atomically (a temporary file, then a rename), so that a reader never sees half a file
 * and two processes building the same cache do not corrupt it. Failure to write is not an error: the data
 * is loaded anyway, and the next run decodes again.
 */
export function writeImageCache(file: string, signature: string, raw: RawImages): boolean {
  const sig = Buffer.from(signature, 'utf8');
  const header = Buffer.alloc(MAGIC.length + 12);
  MAGIC.copy(header);
  header.writeUInt32LE(raw.n, MAGIC.length);
  header.writeUInt32LE(raw.sampleBytes, MAGIC.length + 4);
  header.writeUInt32LE(sig.length, MAGIC.length + 8);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [header, sig, raw.labels, raw.pixels]) fs.writeSync(fd, part);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}
