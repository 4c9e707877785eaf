/**
 * The layering rules (.dependency-cruiser.cjs) hold for lib/, and the checker is shown to catch what it forbids:
 * an upward import, a cycle between folders and a cycle within lib/core, planted in test/fixtures/layers.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(cwd: string) {
  const res = spawnSync(process.execPath, [depcruise, 'lib', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
  });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

describe('layers', () => {
  it('lib/ imports only downward and has no cycle between folders', () => {
    const r = cruise(root);
    expect(r.out).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });

  it('the checker fails on an upward import, a folder cycle and a cycle within core', () => {
    const r = cruise(path.join(root, 'test', 'fixtures', 'layers'));
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('no-upward-from-kernels: lib/kernels/upward.ts → lib/cli/shell.ts');
    expect(r.out).toMatch(/no-circular-between-folders: lib\/(core\/a|kernels\/b)\.ts/);
    // A cycle within lib/core, even of type-only imports (tensor-node.ts and op.ts were one).
    expect(r.out).toMatch(/no-circular-in-core: lib\/core\/(c|d)\.ts/);
    // A type-only upward import is forbidden too.
    expect(r.out).toContain('no-upward-from-kernels: lib/kernels/typed.ts → lib/core/c.ts');
  });
});
