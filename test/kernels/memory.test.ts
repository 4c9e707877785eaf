/**
 * releaseFreedMemory: a no-op without the addon, glibc's malloc_trim through it. And the addon's malloc setting
 * (backendInfo().mallocTuned), which keeps each batch's freed activations for the next batch.
 */
import { backendInfo, releaseFreedMemory } from '../../lib';
import { runChild } from './child';

test('releaseFreedMemory answers on either backend and never throws', () => {
  const big: Float32Array[] = [];
  for (let i = 0; i < 8; i++) big.push(new Float32Array(1 << 20));
  big.length = 0;
  const released = releaseFreedMemory();
  if (backendInfo().backend === 'js') expect(released).toBe(false);
  else expect(typeof released).toBe('boolean');
});

// The malloc setting of native/src/memory.cc, seen from fresh processes (it is made once per process).
describe('malloc tuning for per-batch activations', () => {
  const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);
  const native = backendInfo().backend === 'native';
  // Four 1.6 MB arrays (the course MLP's activations) written and dropped per round, with a full GC between
  // rounds; page faults per round, after five warm-up rounds.
  const ROUNDS = `
const k = require('./lib/kernels');
k.backendInfo(); // the addon (and its malloc setting) loads on first need: make that now, before the rounds
const faults = () => process.resourceUsage().minorPageFault;
const round = () => { for (let j = 0; j < 4; j++) new Float32Array(Buffer.allocUnsafeSlow(1600 * 1024).buffer).fill(1); };
for (let i = 0; i < 5; i++) { round(); global.gc(); }
const f0 = faults();
for (let i = 0; i < 20; i++) { round(); global.gc(); }
console.log(JSON.stringify({ tuned: k.backendInfo().mallocTuned, backend: k.backendInfo().backend, faultsPerRound: (faults() - f0) / 20 }));
`;
  const run = (env: Record<string, string | undefined>) => runChild(ROUNDS, { VUGRAD_MALLOC_TUNING: undefined, ...env }, ['--expose-gc']);
  const ON = { VUGRAD_MALLOC_TUNING: '1' };

  (native && glibc ? test : test.skip)('VUGRAD_MALLOC_TUNING=1 with the addon: freed activations are reused without page faults', () => {
    const out = run(ON);
    expect(out).toMatchObject({ backend: 'native', tuned: true });
    // 1,600 pages are written per round; fresh memory would fault on every one of them.
    expect(out.faultsPerRound).toBeLessThan(400);
  });

  test('off by default, with VUGRAD_MALLOC_TUNING=0, when the user set malloc knobs, and without the addon', () => {
    expect(run({}).tuned).toBe(false);
    expect(run({ VUGRAD_MALLOC_TUNING: '0' }).tuned).toBe(false);
    expect(run({ ...ON, MALLOC_TRIM_THRESHOLD_: '131072' }).tuned).toBe(false);
    expect(run({ ...ON, GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072' }).tuned).toBe(false);
    expect(run({ ...ON, VUGRAD_BACKEND: 'js' }).tuned).toBe(false);
  });
});
