import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Runs a CommonJS snippet in a fresh node at the repo root (TypeScript through tsx); returns the JSON it prints last. */
export function runChild(code: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): any {
  const res = spawnSync(process.execPath, [...nodeArgs, '--require', 'tsx/cjs', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  if (res.status !== 0) throw new Error(`child exited ${res.status}: ${res.stderr}`);
  const lines = res.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
