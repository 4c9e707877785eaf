/**
 * Index arrays in shared memory that another thread rewrites during a call must never crash the process
 * (issue 13). The hammering runs in a child process (fuzz/race-child.ts), so that a crash shows as the child's
 * signal instead of killing jest: the child must exit 0, and every error it saw must name the call.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { backendInfo } from '../../lib/kernels';

const root = path.resolve(__dirname, '..', '..');
const backend = backendInfo().backend;

test(`indices rewritten by a worker during ${backend} kernel calls: no crash, only named errors`, () => {
  const res = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'fuzz', 'race-child.ts')], {
    cwd: root,
    // The child runs the backend this process runs (the suite is run once per backend).
    env: { ...process.env, VUGRAD_BACKEND: backend, VUGRAD_RACE_MS: '400' },
    encoding: 'utf8',
    timeout: 90000,
  });
  expect({ signal: res.signal, status: res.status, stderr: res.status === 0 ? '' : res.stderr.slice(-2000) }).toEqual({
    signal: null,
    status: 0,
    stderr: '',
  });
  const lines = res.stdout.trim().split('\n');
  const out = JSON.parse(lines[lines.length - 1]) as {
    backend: string;
    tally: Record<string, { calls: number; errors: number; unnamed: string[] }>;
  };
  expect(out.backend).toBe(backend);
  const sections = Object.entries(out.tally);
  // 7 sections through the API and the dispatched table, 5 more on the raw addon.
  expect(sections.length).toBe(backend === 'native' ? 12 : 7);
  for (const [label, t] of sections) {
    expect({ label, unnamed: t.unnamed }).toEqual({ label, unnamed: [] });
    expect(t.calls).toBeGreaterThan(10);
  }
}, 120000);
