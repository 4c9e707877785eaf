/**
 * Writing files so that a crash never leaves a half-written one: the bytes go to a temporary file in the same
 * directory, are flushed to the disk (fsync), and the temporary file is renamed over the target, which POSIX
 * makes atomic. A reader sees the old file or the new one, never a mix; after a power cut, the directory is
 * fsynced too so the rename itself survives.
 *
 * NOTE: npm's `write-file-atomic` does the same but does not fsync the directory, and is only a transitive
 * development dependency here; these twenty lines avoid a new runtime dependency. Every synchronous atomic
 * write of the library goes through here (models, checkpoints, run outputs, the image cache); the job store's
 * asynchronous twin is in lib/jobs/file-store.ts.
 *
 * @example
 * writeFileAtomic('runs/a/metrics.csv', csv);
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';

let counter = 0;

/**
 * Writes `data` (or its parts, in order) to `file` atomically (temporary file, fsync, rename, fsync of the
 * directory). An error names the file and the system's reason; the temporary file is removed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = path.dirname(file);
  // pid, thread and a counter: two writers of the same file never share a temporary file.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${threadId}.${counter++}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) fs.writeFileSync(fd, data);
      else for (const part of data) fs.writeSync(fd, part);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The temporary file was never made (its directory is missing or is not one): nothing to remove.
    }
    const err = e as NodeJS.ErrnoException;
    err.message = `cannot write ${file}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message.replace(/^[A-Z]+: /, '')}`;
    throw err;
  }
  syncDirectory(dir);
}

/** Flushes a directory's entries (a rename) to the disk; a no-op where directories cannot be opened. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms and file systems refuse fsync on a directory (EISDIR, EINVAL): the file itself is synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
