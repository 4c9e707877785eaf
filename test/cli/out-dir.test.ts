/**
 * `--out` is checked and created before any data is loaded: an unusable target fails at once with an error
 * naming it and the reason, instead of after every epoch (or never: `--out /proc/x` used to hang).
 *
 * Read-only storage as root: chmod does not stop root, so the read-only case mounts a small read-only tmpfs
 * on a temporary directory (skipped, with a message, where mounting is not permitted).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutputDirError, prepareOutputDir } from '../../lib/train/output-dir';
import { writeFileAtomic } from '../../lib/io/atomic-file';

const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function vugrad(...args: string[]): { code: number; stdout: string; stderr: string; ms: number } {
  const t = Date.now();
  // A short timeout: these must fail fast, and a hang (the old /proc behaviour) fails the test.
  const r = spawnSync(tsx, [path.join(root, 'lib', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 45_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-out-'));
const aFile = path.join(tmp, 'a-file');
fs.writeFileSync(aFile, 'not a directory');

// A read-only file system we own: a tmpfs mounted read-only (needs root with CAP_SYS_ADMIN).
const readOnly = path.join(tmp, 'ro');
fs.mkdirSync(readOnly);
const mounted = process.platform === 'linux' && spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', readOnly]).status === 0;
if (!mounted) console.warn('out-dir test: cannot mount a read-only tmpfs here (not root or no CAP_SYS_ADMIN); skipping the read-only case');
afterAll(() => {
  if (mounted) spawnSync('umount', [readOnly]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('prepareOutputDir', () => {
  test('creates a missing directory (and its parents) and leaves no probe file', () => {
    const dir = path.join(tmp, 'new', 'deeper');
    expect(prepareOutputDir(dir)).toBe(dir);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test.each([
    ['an existing file', () => aFile, /a-file: exists and is not a directory/],
    ['a path below a regular file', () => path.join(aFile, 'sub'), /a-file is a file, so nothing can be created below it/],
    ['a path under /proc', () => '/proc/vugrad-out-test', /\/proc\/vugrad-out-test: \/proc is on the kernel's proc pseudo file system/],
    ['a path under /sys', () => '/sys/vugrad-out-test/x', /\/sys is on the kernel's sysfs pseudo file system/],
  ])('refuses %s, naming it', (_what, dir, message) => {
    expect(() => prepareOutputDir(dir(), '--out')).toThrow(OutputDirError);
    expect(() => prepareOutputDir(dir(), '--out')).toThrow(message);
  });

  (mounted ? test : test.skip)('refuses a read-only file system (EROFS), naming it', () => {
    expect(() => prepareOutputDir(path.join(readOnly, 'run'), '--out')).toThrow(new RegExp(`--out ${readOnly}/run: cannot create it \\(EROFS: read-only file system\\)`));
    expect(() => prepareOutputDir(readOnly, '--out')).toThrow(new RegExp(`--out ${readOnly}: .*EROFS: read-only file system`));
  });
});

describe('writeFileAtomic', () => {
  test('replaces a file whole and leaves no temporary file; a failed write names the file', () => {
    const dir = path.join(tmp, 'atomic');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'metrics.csv');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, Buffer.from('new'));
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['metrics.csv']);
    expect(() => writeFileAtomic(path.join(aFile, 'x.csv'), 'x')).toThrow(`cannot write ${path.join(aFile, 'x.csv')}: ENOTDIR`);
  });
});

describe('vugrad train --out fails fast, before loading data', () => {
  // A CIFAR-10 directory that does not exist: if --out were checked after loading, the data error would come first.
  const noData = path.join(tmp, 'no-cifar');
  test.each([
    ['/proc', () => '/proc/vugrad-x', /--out \/proc\/vugrad-x: \/proc is on the kernel's proc pseudo file system/],
    ['an existing file', () => aFile, /a-file: exists and is not a directory/],
    ['a path below a file', () => path.join(aFile, 'run'), /is a file, so nothing can be created below it/],
  ])('%s', (_what, out, message) => {
    const r = vugrad('train', '-D', 'cifar10', '--data', noData, '--out', out());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain(noData);
    expect(r.stdout).not.toMatch(/^epoch/m);
  });

  (mounted ? test : test.skip)('a read-only file system', () => {
    const r = vugrad('train', '-D', 'cifar10', '--data', noData, '--out', path.join(readOnly, 'run'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('EROFS: read-only file system');
  });

  test('experiment and graph check --out first too', () => {
    const e = vugrad('experiment', 'batch-size', '--quick', '--data', noData, '--out', '/proc/vugrad-exp');
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--out \/proc\/vugrad-exp: \/proc is on the kernel's proc pseudo file system/);
    const g = vugrad('graph', '-D', 'cifar10', '--model', 'lenet', '--data', noData, '--out', aFile);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/exists and is not a directory/);
  });
});
