/**
 * ResNet training throughput (issue 19): samples/s of one CIFAR ResNet training step (forward, cross-entropy,
 * backward, SGD Nesterov with weight decay) at batch 128 on random 3x32x32 images, vugrad native against
 * PyTorch (python3-torch) in the same run, in alternating rounds, 1 and 2 threads each; medians.
 *
 *   npx tsx benchmarks/resnet.ts [--depth 20] [--batch 128] [--steps 3] [--rounds 3] [--profile]
 *
 * `--profile` also prints where vugrad's step goes, per kernel (and per op of `binary`/`unary`).
 * Child: `npx tsx benchmarks/resnet.ts --child DEPTH BATCH STEPS THREADS` prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { NDArray, Random, SGD, TensorNode, backendInfo, crossEntropy, kernels, setNumThreads } from '../lib';
import { ResNet } from '../lib/nn';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};

function child(depth: number, batch: number, steps: number, threads: number, profile: boolean): void {
  setNumThreads(threads);
  const info = backendInfo();
  const acc: Record<string, number> = {};
  if (profile) {
    for (const k of Object.keys(kernels)) {
      const f = (kernels as unknown as Record<string, (...a: unknown[]) => unknown>)[k];
      (kernels as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
        const t0 = performance.now();
        const r = f(...a);
        const key = k === 'binary' || k === 'unary' || k === 'binaryScalar' || k === 'unaryBackward' ? `${k}:${String(a[0])}` : k;
        acc[key] = (acc[key] ?? 0) + performance.now() - t0;
        return r;
      };
    }
  }
  const net = new ResNet({ depth, random: new Random(0) });
  const opt = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const x = NDArray.zeros([batch, 3, 32, 32]);
  const r = new Random(1);
  for (let i = 0; i < x.size; i++) x.data[i] = r.normal();
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const step = (): void => {
    const loss = crossEntropy(net.call(TensorNode.constant(x)), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    loss.clear();
  };
  step();
  for (const k of Object.keys(acc)) delete acc[k];
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const kernelsMs = Object.fromEntries(Object.entries(acc).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / steps).toFixed(1)]));
  console.log(JSON.stringify({ framework: `vugrad ${info.backend} (${threads} thr)`, median_s: median, samples_per_s: batch / median, ...(profile ? { kernelsMs } : {}) }));
}

interface Result {
  framework: string;
  median_s: number;
  samples_per_s: number;
  kernelsMs?: Record<string, number>;
}

function main(): void {
  const depth = Number(option('--depth', '20'));
  const batch = Number(option('--batch', '128'));
  const steps = Number(option('--steps', '3'));
  const rounds = Number(option('--rounds', '3'));
  const profile = argv.includes('--profile');
  const runs: Record<string, number[]> = {};
  let lastProfile: Record<string, number> | undefined;
  const record = (out: string): void => {
    const line = out.trim().split('\n').pop() ?? '';
    try {
      const r = JSON.parse(line) as Result;
      (runs[r.framework] ??= []).push(r.samples_per_s);
      if (r.kernelsMs) lastProfile = r.kernelsMs;
    } catch {
      console.log(`  (no result: ${out.slice(-300)})`);
    }
  };
  for (let round = 0; round < rounds; round++) {
    for (const threads of [1, 2]) {
      const v = spawnSync(process.execPath, ['--require', 'tsx/cjs', __filename, '--child', String(depth), String(batch), String(steps), String(threads), ...(profile ? ['--profile'] : [])], { encoding: 'utf8', cwd: path.join(__dirname, '..') });
      record(v.stdout + v.stderr);
      const t = spawnSync('/usr/bin/python3', [path.join(__dirname, 'resnet_torch.py'), String(depth), String(batch), String(steps), String(threads)], { encoding: 'utf8' });
      record(t.stdout + t.stderr);
    }
  }
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  console.log(`ResNet-${depth} training, batch ${batch}, samples/s (median of ${rounds} rounds, each the median of ${steps} steps); OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? 'unset'}`);
  const best = (prefix: string): number => Math.max(...Object.entries(runs).filter(([k]) => k.startsWith(prefix)).map(([, v]) => median(v)));
  for (const [k, v] of Object.entries(runs)) console.log(`  ${k.padEnd(34)} ${median(v).toFixed(1).padStart(8)}   (min ${Math.min(...v).toFixed(1)}, max ${Math.max(...v).toFixed(1)})`);
  console.log(`  vugrad best / pytorch best: ${(best('vugrad') / best('pytorch')).toFixed(2)}x`);
  if (lastProfile) {
    console.log('  vugrad per-step kernel time (ms, last run):');
    for (const [k, v] of Object.entries(lastProfile).slice(0, 15)) console.log(`    ${k.padEnd(28)} ${v}`);
  }
}

if (argv[0] === '--child') child(Number(argv[1]), Number(argv[2]), Number(argv[3]), Number(argv[4]), argv.includes('--profile'));
else main();
