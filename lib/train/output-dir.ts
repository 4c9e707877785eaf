/**
 * Checking an output directory before any work: a run must not train for an hour and then find that it cannot
 * write its results. `prepareOutputDir` creates the directory and proves that a file can be written there,
 * or throws an `OutputDirError` that names the directory and the reason.
 *
 * Refused: a path that exists and is not a directory, a path below a regular file, a directory on a
 * read-only file system or without write permission, and anything on a kernel pseudo file system (/proc,
 * /sys, /dev, cgroup, debugfs...), whose files are not storage: `--out /proc/x` used to hang forever.
 *
 * @example
 * const out = prepareOutputDir('runs/a', '--out');   // the absolute path, created and writable
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic-file';

/** An output directory that cannot be used; the message names it and says why. */
export class OutputDirError extends Error {
  override name = 'OutputDirError';
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
  }
}

// statfs f_type magic numbers of Linux's pseudo file systems (linux/magic.h).
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x62656570: 'configfs',
  0x65735543: 'fusectl',
  0x42494e4d: 'binfmt_misc',
};
// NOTE: /dev is usually devtmpfs, whose magic is tmpfs's: recognised by its path instead.
const PSEUDO_ROOTS: Record<string, string> = { '/proc': 'proc', '/sys': 'sysfs', '/dev': 'devtmpfs' };

/** The deepest part of `dir` that exists (at worst the file system's root). */
function existingAncestor(dir: string): string {
  let p = dir;
  while (!fs.existsSync(p)) {
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  return p;
}

function pseudoFileSystem(p: string): string | undefined {
  const real = fs.realpathSync(p);
  for (const [root, type] of Object.entries(PSEUDO_ROOTS)) if (real === root || real.startsWith(root + path.sep)) return type;
  if (typeof fs.statfsSync === 'function') {
    try {
      const type = PSEUDO_FS[Number(fs.statfsSync(real).type)];
      if (type) return type;
    } catch {
      // statfs unsupported here: the path rule above still holds.
    }
  }
  return undefined;
}

/**
 * Makes sure `dir` can hold a run's output, before anything is computed: it is created (with its parents)
 * when missing, and a probe file is written and removed. Returns the absolute path. `what` names the
 * setting in errors (`--out`).
 */
export function prepareOutputDir(dir: string, what = 'output directory'): string {
  const abs = path.resolve(dir);
  const fail = (why: string): never => {
    throw new OutputDirError(abs, `${what} ${dir}: ${why}`);
  };
  const found = existingAncestor(abs);
  const foundStat = fs.statSync(found);
  if (!foundStat.isDirectory()) {
    fail(found === abs ? 'exists and is not a directory' : `${found} is a file, so nothing can be created below it`);
  }
  const pseudo = pseudoFileSystem(found);
  if (pseudo) fail(`${found} is on the kernel's ${pseudo} pseudo file system, which cannot store files; choose a directory on a disk`);
  try {
    // access(2) says EROFS for a read-only mount even to root; a recursive mkdir there reports ENOENT instead.
    fs.accessSync(found, fs.constants.W_OK);
    fs.mkdirSync(abs, { recursive: true });
  } catch (e) {
    fail(`cannot create it (${describe(e)})`);
  }
  const probe = path.join(abs, `.vugrad-write-test-${process.pid}`);
  try {
    writeFileAtomic(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (e) {
    fail(`cannot write there (${describe(e)})`);
  }
  return abs;
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a part of the path is not a directory',
    EDQUOT: 'disk quota exceeded',
  };
  return err.code && reasons[err.code] ? `${err.code}: ${reasons[err.code]}` : err.message;
}
