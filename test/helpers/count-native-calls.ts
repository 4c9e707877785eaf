/**
 * A measurement aid, not part of the suite: counts, per test file, the kernel calls made on the table ops use
 * and the calls that reach the addon, and writes them as JSON into $VUGRAD_COUNT_CALLS_DIR. Used as
 *
 *   VUGRAD_COUNT_CALLS_DIR=/tmp/calls VUGRAD_BACKEND=native npx jest --setupFilesAfterEnv ./test/helpers/count-native-calls.ts
 *   node -e "..."  # sum the files
 *
 * to show how much of the native pass runs native code (with and without VUGRAD_NATIVE_MIN_SIZE=0).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as native from '../../lib/kernels/native';
import { backendInfo, kernels, KERNEL_NAMES } from '../../lib/kernels';

const dir = process.env.VUGRAD_COUNT_CALLS_DIR;
const KERNELS = new Set<string>(KERNEL_NAMES);
const counts = { table: 0, addon: 0 };
if (dir) {
  const load = native.loadNative;
  (native as { loadNative: typeof load }).loadNative = () => {
    const r = load();
    if (!r.binding) return r;
    const b = r.binding as unknown as Record<string, unknown>;
    const counted: Record<string, unknown> = {};
    for (const k of Object.getOwnPropertyNames(b)) {
      const f = b[k];
      counted[k] = typeof f === 'function' && KERNELS.has(k) ? (...args: unknown[]) => (counts.addon++, (f as (...a: unknown[]) => unknown)(...args)) : f;
    }
    return { ...r, binding: counted as unknown as native.NativeBinding };
  };
  backendInfo(); // selects the backend now, through the counting loader
  const table = kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [k, f] of Object.entries(table)) table[k] = (...args: unknown[]) => (counts.table++, f(...args));
  afterAll(() => {
    fs.mkdirSync(dir, { recursive: true });
    const file = expect.getState().testPath ?? 'unknown';
    fs.writeFileSync(path.join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`), JSON.stringify({ file, ...counts }));
  });
}
