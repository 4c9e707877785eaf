/**
 * The test runner (scripts/run-tests.js) is a checker too: it is proven by running it on planted files that jest
 * fails in each way it can, and seeing that the run fails and its last line says so.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'runner');

function runner(file: string, env: Record<string, string> = {}) {
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-runner-'));
  try {
    const res = spawnSync(
      process.execPath,
      [path.join(root, 'scripts', 'run-tests.js'), '--roots', fixtures, '--testMatch', `**/${file}`, '--ci'],
      {
        cwd: root,
        encoding: 'utf8',
        // CI's own VUGRAD_REQUIRE_NATIVE and VUGRAD_NATIVE_PATH must not leak into the planted runs.
        env: { ...process.env, VUGRAD_BACKEND: 'js', VUGRAD_REQUIRE_NATIVE: '', VUGRAD_NATIVE_PATH: '', VUGRAD_TEST_RESULTS_DIR: results, ...env },
      },
    );
    const lines = res.stdout.trim().split('\n');
    return { status: res.status, last: lines[lines.length - 1], stdout: res.stdout };
  } finally {
    fs.rmSync(results, { recursive: true, force: true });
  }
}

const LAST_LINE = /^(\d+) passed, (\d+) failed, (\d+) skipped$/;

describe('scripts/run-tests.js', () => {
  it('passes a passing file and counts its skip', () => {
    const r = runner('passes.check.js');
    expect(r.last).toMatch(LAST_LINE);
    expect(r.last).toBe('2 passed, 0 failed, 1 skipped');
    expect(r.status).toBe(0);
  });

  it('fails a failing test', () => {
    const r = runner('fails.check.js');
    expect(r.last).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  it('fails when afterAll throws although every test passed', () => {
    const r = runner('after-all-throws.check.js');
    const [, passed, failed] = LAST_LINE.exec(r.last) ?? [];
    expect(Number(passed)).toBe(1);
    expect(Number(failed)).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toContain('after-all-throws.check.js');
    expect(r.status).toBe(1);
  });

  it('runs a failed file once more, says so, and counts the second run', () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-flaky-')), 'marker');
    const r = runner('flaky.check.js', { VUGRAD_FLAKY_MARKER: marker });
    expect(r.stdout).toMatch(/\[js\] RERUN test\/fixtures\/runner\/flaky\.check\.js once after a failure: .*flaky/);
    expect(r.last).toBe('1 passed, 0 failed, 0 skipped');
    expect(r.status).toBe(0);
    // Without reruns the same file fails the run.
    fs.rmSync(marker);
    const strict = runner('flaky.check.js', { VUGRAD_FLAKY_MARKER: marker, VUGRAD_TEST_RERUN: '0' });
    expect(strict.last).toBe('0 passed, 1 failed, 0 skipped');
  });

  it('fails a file that does not load', () => {
    const r = runner('does-not-load.check.js');
    expect(r.last).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  it('fails when a native pass is required and the addon cannot load', () => {
    const env = { VUGRAD_BACKEND: '', VUGRAD_REQUIRE_NATIVE: '1', VUGRAD_NATIVE_PATH: path.join(fixtures, 'missing.node') };
    const r = runner('passes.check.js', env);
    expect(r.last).toBe('2 passed, 1 failed, 1 skipped');
    expect(r.stdout).toContain('a native pass is required');
    expect(r.status).toBe(1);
  });

  it('without the requirement, a missing addon leaves the JS pass alone and says why', () => {
    const r = runner('passes.check.js', { VUGRAD_BACKEND: '', VUGRAD_NATIVE_PATH: path.join(fixtures, 'missing.node') });
    expect(r.stdout).toContain('[native] pass not run');
    expect(r.last).toBe('2 passed, 0 failed, 1 skipped');
    expect(r.status).toBe(0);
  });
});
