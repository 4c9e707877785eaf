/**
 * Which library should run float32 conv2d: vugrad's own kernels (direct convolution or im2col + gemm, images
 * across the pool) or oneDNN's convolution primitives (native/src/onednn_conv.cc: batch slices across the pool,
 * one single-threaded primitive per slice). The provider is fixed per process (VUGRAD_CONV_PROVIDER, read once),
 * so each configuration runs in a long-lived child process, and the children take turns shape by shape (the
 * order reversed every other turn), round after round, so that both see the same load on a shared machine: each
 * turn times forward (with bias where the layer has one), weight gradient and input gradient, each as the median
 * of repeated calls (~40 ms). The report gives per shape the median over rounds of each configuration's times
 * and their ratios to vugrad's (below 1: faster than vugrad's).
 *
 *   npx tsx benchmarks/conv-providers.ts                 # vugrad against onednn; 9 rounds
 *   npx tsx benchmarks/conv-providers.ts --rounds 15 --configs vugrad,onednn,onednn-plain,onednn-bf16
 *   npx tsx benchmarks/conv-providers.ts --shapes res     # only the shapes whose name contains 'res' (a,b: either)
 *   npx tsx benchmarks/conv-providers.ts --threads 1     # the pool at 1 thread (per-core speed, less noise)
 *
 * Configurations: vugrad (VUGRAD_CONV_PROVIDER=vugrad), onednn (oneDNN, the layouts it picks, with reorders),
 * onednn-nochunk (a whole batch slice per primitive call: VUGRAD_ONEDNN_CONV_CHUNK=0), onednn-plain (oneDNN on
 * the NCHW / OIHW arrays themselves: VUGRAD_ONEDNN_CONV_LAYOUT=plain), onednn-bf16
 * (oneDNN with precision bf16), onednn-chunk<N>k (VUGRAD_ONEDNN_CONV_CHUNK = N KiB), default (whatever the addon
 * chooses with no setting), default-bf16 (that with precision bf16).
 */
import { spawn } from 'node:child_process';
import { backendInfo, backendTables, setNumThreads, setPrecision, type KernelTable } from '../lib/kernels';

interface Shape {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
  stride: number;
  pad: number;
  bias: boolean;
}

const SHAPES: Shape[] = [
  { name: 'lenet1 b4', n: 4, c: 3, h: 32, w: 32, o: 6, k: 5, stride: 1, pad: 0, bias: true },
  { name: 'lenet2 b4', n: 4, c: 6, h: 14, w: 14, o: 16, k: 5, stride: 1, pad: 0, bias: true },
  { name: 'lenet1 b64', n: 64, c: 3, h: 32, w: 32, o: 6, k: 5, stride: 1, pad: 0, bias: true },
  { name: 'lenet2 b64', n: 64, c: 6, h: 14, w: 14, o: 16, k: 5, stride: 1, pad: 0, bias: true },
  { name: 'bench [64,3,32,32]x6@5x5', n: 64, c: 3, h: 32, w: 32, o: 6, k: 5, stride: 1, pad: 0, bias: false },
  { name: 'res 3->16 32x32', n: 128, c: 3, h: 32, w: 32, o: 16, k: 3, stride: 1, pad: 1, bias: false },
  { name: 'res 16->16 32x32', n: 128, c: 16, h: 32, w: 32, o: 16, k: 3, stride: 1, pad: 1, bias: false },
  { name: 'res 16->32 32x32 s2', n: 128, c: 16, h: 32, w: 32, o: 32, k: 3, stride: 2, pad: 1, bias: false },
  { name: 'res 32->32 16x16', n: 128, c: 32, h: 16, w: 16, o: 32, k: 3, stride: 1, pad: 1, bias: false },
  { name: 'res 32->64 16x16 s2', n: 128, c: 32, h: 16, w: 16, o: 64, k: 3, stride: 2, pad: 1, bias: false },
  { name: 'res 64->64 8x8', n: 128, c: 64, h: 8, w: 8, o: 64, k: 3, stride: 1, pad: 1, bias: false },
];

const CONFIGS: Record<string, Record<string, string>> = {
  vugrad: { VUGRAD_CONV_PROVIDER: 'vugrad' },
  onednn: { VUGRAD_CONV_PROVIDER: 'onednn', VUGRAD_ONEDNN_CONV_LAYOUT: 'any' },
  'onednn-nochunk': { VUGRAD_CONV_PROVIDER: 'onednn', VUGRAD_ONEDNN_CONV_LAYOUT: 'any', VUGRAD_ONEDNN_CONV_CHUNK: '0' },
  'onednn-plain': { VUGRAD_CONV_PROVIDER: 'onednn', VUGRAD_ONEDNN_CONV_LAYOUT: 'plain' },
  'onednn-bf16': { VUGRAD_CONV_PROVIDER: 'onednn', VUGRAD_ONEDNN_CONV_LAYOUT: 'any', BENCH_BF16: '1' },
  default: {},
  'default-bf16': { BENCH_BF16: '1' },
};

/** onednn-chunk<N>k: oneDNN with VUGRAD_ONEDNN_CONV_CHUNK = N KiB (the images a primitive call takes at once). */
function configEnv(name: string): Record<string, string> | undefined {
  const m = /^onednn-chunk(\d+)k$/.exec(name);
  if (m) return { VUGRAD_CONV_PROVIDER: 'onednn', VUGRAD_ONEDNN_CONV_CHUNK: String(Number(m[1]) * 1024) };
  return CONFIGS[name];
}

const KERNELS = ['fwd', 'bwdW', 'bwdI'] as const;
type Times = Record<(typeof KERNELS)[number], number>;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function outSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** Median ms of fn over repeated calls: at least 3, until ~40 ms have passed (at most 200). */
function timeMs(fn: () => void): number {
  fn();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < 3 || (performance.now() - start < 40 && t.length < 200)) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** A child: one configuration, fixed for its life; times the shape whose index arrives on each stdin line. */
function child(): void {
  const { native } = backendTables();
  if (!native) throw new Error(`the native addon is not in use: ${backendInfo().reason}`);
  const K: KernelTable = native;
  if (process.env.BENCH_BF16 === '1') setPrecision('bf16');
  if (process.env.BENCH_THREADS) setNumThreads(Number(process.env.BENCH_THREADS));
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const data = SHAPES.map((s) => {
    const oh = outSize(s.h, s.k, s.stride, s.pad), ow = outSize(s.w, s.k, s.stride, s.pad);
    const x = rand(s.n * s.c * s.h * s.w), wt = rand(s.o * s.c * s.k * s.k), b = s.bias ? rand(s.o) : null;
    const g = rand(s.n * s.o * oh * ow);
    return { x, wt, b, g, y: new Float32Array(g.length), gw: new Float32Array(wt.length), gx: new Float32Array(x.length) };
  });
  process.stdout.write(JSON.stringify({ providers: backendInfo().providers?.conv2d }) + '\n');
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const i = Number(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      const s = SHAPES[i], d = data[i];
      const a = [s.n, s.c, s.h, s.w, s.o, s.k, s.k, s.stride, s.pad] as const;
      const times: Times = {
        fwd: timeMs(() => K.conv2d(d.x, d.wt, d.b, ...a, d.y)),
        bwdW: timeMs(() => K.conv2dBackwardWeight(d.x, d.g, ...a, d.gw)),
        bwdI: timeMs(() => K.conv2dBackwardInput(d.g, d.wt, ...a, d.gx)),
      };
      process.stdout.write(JSON.stringify(times) + '\n');
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

/** A running child and a way to ask it for one line. */
function startChild(env: NodeJS.ProcessEnv): { first: Promise<string>; ask: (line: string) => Promise<string>; close: () => void } {
  const proc = spawn(process.execPath, [...process.execArgv, __filename, '--child'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiting: ((line: string) => void)[] = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  proc.on('exit', (code) => {
    if (code !== 0) {
      console.error(`a child exited with ${code}`);
      process.exit(1);
    }
  });
  const first = new Promise<string>((resolve) => waiting.push(resolve));
  return {
    first,
    ask: async (line: string) => {
      await first;
      const p = new Promise<string>((resolve) => waiting.push(resolve));
      proc.stdin.write(line + '\n');
      return p;
    },
    close: () => proc.stdin.end(),
  };
}

async function parent(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : def;
  };
  const rounds = Number(opt('--rounds', '9'));
  const configs = opt('--configs', 'vugrad,onednn').split(',');
  const threads = opt('--threads', '');
  const only = opt('--shapes', '');
  for (const c of configs) if (!configEnv(c)) throw new Error(`unknown configuration ${c} (${Object.keys(CONFIGS).join(', ')})`);
  const kids = configs.map((c) =>
    startChild({ ...process.env, VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_MIN_SIZE: '0', BENCH_THREADS: threads, ...configEnv(c) }),
  );
  // The first line of each child: its conv2d provider.
  for (const [i, c] of configs.entries()) console.log(`${c}: ${await kids[i].first}`);
  const shapes = SHAPES.map((s, i) => ({ s, i })).filter(({ s }) => !only || only.split(',').some((o) => s.name.includes(o)));
  const runs: Record<string, Times[]>[] = shapes.map(() => Object.fromEntries(configs.map((c) => [c, []])));
  for (let r = 0; r < rounds; r++) {
    for (const [j, { i }] of shapes.entries()) {
      const order = (r + j) % 2 ? [...configs.keys()].reverse() : [...configs.keys()];
      for (const k of order) runs[j][configs[k]].push(JSON.parse(await kids[k].ask(String(i))) as Times);
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  for (const k of kids) k.close();
  const base = configs.includes('vugrad') ? 'vugrad' : configs[0];
  console.log(`\nthreads ${threads || 'default'}; median over ${rounds} alternating rounds of each child's median ms (fwd/bwdW/bwdI);`);
  console.log(`ratio = config / ${base} per kernel, then for the sum of the three`);
  const header = ['shape'.padEnd(26), ...configs.map((c) => `${c} ms`.padEnd(22))];
  for (const c of configs) if (c !== base) header.push(`${c}/${base}`.padEnd(24));
  console.log(header.join(' '));
  for (const [j, { s }] of shapes.entries()) {
    const med: Record<string, Times> = {};
    for (const c of configs) {
      med[c] = Object.fromEntries(KERNELS.map((k) => [k, median(runs[j][c].map((t) => t[k]))])) as Times;
    }
    const sum = (t: Times): number => t.fwd + t.bwdW + t.bwdI;
    const row = [s.name.padEnd(26), ...configs.map((c) => KERNELS.map((k) => med[c][k].toFixed(3)).join('/').padEnd(22))];
    for (const c of configs) {
      if (c === base) continue;
      const ratios = KERNELS.map((k) => (med[c][k] / med[base][k]).toFixed(2));
      row.push(`${ratios.join(' ')} ${(sum(med[c]) / sum(med[base])).toFixed(2)}`.padEnd(24));
    }
    console.log(row.join(' '));
  }
}

if (process.argv.includes('--child')) child();
else void parent();
