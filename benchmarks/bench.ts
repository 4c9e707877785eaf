/**
 * The benchmark suite (`npm run bench`): every workload on every framework available here, in alternating
 * rounds, medians with min-max, ratios against vugrad native measured in the same run.
 *
 * Frameworks: vugrad native, vugrad's JS fallback (VUGRAD_BACKEND=js: the backend is chosen at load, so each
 * framework runs in its own child process), @tensorflow/tfjs-node, @tensorflow/tfjs-backend-wasm,
 * @tensorflow/tfjs (cpu), PyTorch through python3 (1 thread, the thread count everyone gets, and, on the
 * throughput workloads, 1 thread with OPENBLAS_NUM_THREADS=1 so that its gemms too run on one core; the table's
 * "pytorch-best" is the best of these per workload) and, for gemm only, the same OpenBLAS called from C. The TensorFlow.js
 * peers are benchmarks/package.json's, installed into benchmarks/node_modules on first use (never
 * dependencies of vugrad); tfjs-node by benchmarks/install-tfjs-node.sh (offline, from the pip mirror's
 * TensorFlow wheel). The efficiency table divides each throughput workload's effective GFLOP/s by the fp32 FMA
 * peak that benchmarks/c/fma_peak.c measures in the same run.
 *
 * Options: --quick (one short round: a sanity run), --rounds N, --seconds S (per throughput measurement),
 * --only a,b (frameworks), --no-install, --out DIR (default benchmarks/results).
 * Writes DIR/latest.json, latest.md and latest.svg.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunnerConfig, RunnerResult, WorkloadId } from './suite/common';
import { advantage, barChart, cellText, checkTargets, effectiveGflops, FLOPS, fmt, summarize, WORKLOADS, type FmaPeak } from './suite/report';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const rounds = Number(option('--rounds') ?? (quick ? 1 : 5));
const seconds = Number(option('--seconds') ?? (quick ? 0.3 : 1.5));
const outDir = path.resolve(option('--out') ?? path.join(__dirname, 'results'));
const only = option('--only')?.split(',');
const root = path.resolve(__dirname, '..');
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
// Everyone gets the same thread count: the cores (what vugrad uses by default), unless OPENBLAS_NUM_THREADS says.
const threads = Number(process.env.OPENBLAS_NUM_THREADS || process.env.OMP_NUM_THREADS || cores);

const THROUGHPUT: WorkloadId[] = ['gemm1024', 'conv', 'mlp128', 'mlp16', 'lenet4', 'lenet64'];

// ---- peers ---------------------------------------------------------------------------------------------------
if (!flag('--no-install') && !fs.existsSync(path.join(__dirname, 'node_modules', '@tensorflow', 'tfjs'))) {
  console.log('installing the TensorFlow.js peers into benchmarks/node_modules (benchmarks/package.json) ...');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', __dirname], { stdio: 'inherit' });
  if (r.status !== 0) console.log('  (install failed: the tfjs columns will say so)');
}
// tfjs-node does not install offline by npm alone (its install script downloads libtensorflow): this script
// builds it from the local pip mirror's TensorFlow wheel (about 900 MB). It does nothing when already installed
// and prints why it skipped otherwise (the tfjs-node column then says the package did not load).
if (!flag('--no-install') && (!only || only.includes('tfjs-node'))) {
  spawnSync('bash', [path.join(__dirname, 'install-tfjs-node.sh')], { stdio: 'inherit' });
}

function findTorchPython(): { python: string | null; why: string; defaultThreads: string } {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__, torch.get_num_threads())'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: r.stdout.trim().split(' ')[0], defaultThreads: r.stdout.trim().split(' ')[1] };
  }
  return { python: null, why: 'python3 cannot import torch (apt-get install python3-torch)', defaultThreads: '-' };
}
const torch = findTorchPython();

function buildCGemm(): string | null {
  try {
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-')), 'gemm');
    const pc = (arg: string): string[] => execFileSync('pkg-config', [arg, 'openblas'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    execFileSync('gcc', ['-O2', ...pc('--cflags'), path.join(__dirname, 'c', 'gemm.c'), '-o', bin, ...pc('--libs')]);
    return bin;
  } catch {
    return null;
  }
}
const cGemm = buildCGemm();

// The machine's fp32 FMA peak, measured in this run (benchmarks/c/fma_peak.c, built for this CPU): the
// denominator of the efficiency table. Probed before and after the throughput rounds; the best reading counts.
function buildFmaPeak(): string | null {
  try {
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-bench-')), 'fma_peak');
    execFileSync('gcc', ['-O2', '-march=native', '-pthread', path.join(__dirname, 'c', 'fma_peak.c'), '-o', bin]);
    return bin;
  } catch {
    return null;
  }
}
const fmaPeakBin = buildFmaPeak();
let fmaPeak: FmaPeak | null = null;
const fmaReadings: string[] = [];
function probeFmaPeak(): void {
  if (!fmaPeakBin) return;
  try {
    const [isa, , one, all, n] = execFileSync(fmaPeakBin, [String(threads), '0.25', '3'], { encoding: 'utf8' }).trim().split(' ');
    fmaReadings.push(`${one}/${all}`);
    fmaPeak = { isa, one: Math.max(Number(one), fmaPeak?.one ?? 0), all: Math.max(Number(all), fmaPeak?.all ?? 0), threads: Number(n) };
  } catch {
    /* reported as missing below */
  }
}

interface Framework {
  name: string;
  /** Slow peers run fewer rounds (at least 1, at most 3). */
  slow?: boolean;
  run(config: RunnerConfig): RunnerResult;
}

const tsxRunner = (file: string, env: Record<string, string>) => (config: RunnerConfig): RunnerResult =>
  child(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'suite', file), JSON.stringify(config)], env);

function child(cmd: string, args: string[], env: Record<string, string>): RunnerResult {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${cmd} ${path.basename(args[args.length - 2] ?? '')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line.slice(7)) as RunnerResult;
}

function failed(name: string, config: RunnerConfig, why: string): RunnerResult {
  return { framework: name, version: '-', threads: 0, cells: Object.fromEntries(config.workloads.map((w) => [w, { error: why }])) };
}

const allFrameworks: Framework[] = [
  { name: 'vugrad-native', run: tsxRunner('vugrad.ts', { VUGRAD_BACKEND: 'native' }) },
  { name: 'vugrad-js', slow: true, run: tsxRunner('vugrad.ts', { VUGRAD_BACKEND: 'js' }) },
  // bf16 mixed precision (opt-in for users): the same runner with setPrecision('bf16'); it says why when the
  // CPU or the build cannot.
  { name: 'vugrad-bf16', run: (c) => ({ ...tsxRunner('vugrad.ts', { VUGRAD_BACKEND: 'native', VUGRAD_BENCH_PRECISION: 'bf16' })(c), framework: 'vugrad-bf16' }) },
  // The provider arrangement without oneDNN: every gemm on OpenBLAS (what oneDNN buys, in the same run).
  { name: 'vugrad-openblas', run: (c) => ({ ...tsxRunner('vugrad.ts', { VUGRAD_BACKEND: 'native', VUGRAD_ONEDNN: '0' })(c), framework: 'vugrad-openblas' }) },
  { name: 'tfjs-node', run: (c) => tsxRunner('tfjs.ts', {})({ ...c, backend: 'tensorflow' }) },
  { name: 'tfjs-wasm', run: (c) => tsxRunner('tfjs.ts', {})({ ...c, backend: 'wasm' }) },
  { name: 'tfjs-cpu', slow: true, run: (c) => tsxRunner('tfjs.ts', {})({ ...c, backend: 'cpu' }) },
  {
    name: 'pytorch-1t',
    run: (c) => (torch.python ? child(torch.python, [path.join(__dirname, 'suite', 'torch_runner.py'), JSON.stringify({ ...c, threads: 1 })], {}) : failed('pytorch-1t', c, torch.why)),
  },
  {
    // PyTorch confined to one core: torch.set_num_threads(1) does not reach the OpenBLAS its gemms call, so
    // pytorch-1t still multiplies on OpenBLAS's own threads. This column is what "1 thread" reads as literally.
    // Throughput workloads only (the epoch and memory phases are long, and it is not a candidate there).
    name: 'pytorch-1core',
    run: (c) => {
      if (!c.workloads.some((w) => THROUGHPUT.includes(w))) return { framework: 'pytorch-1core', version: torch.python ? torch.why : '-', threads: 1, cells: {} };
      if (!torch.python) return failed('pytorch-1core', c, torch.why);
      const oneCore = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
      const r = child(torch.python, [path.join(__dirname, 'suite', 'torch_runner.py'), JSON.stringify({ ...c, threads: 1 })], oneCore);
      return { ...r, framework: 'pytorch-1core' };
    },
  },
  {
    name: `pytorch-${threads}t`,
    run: (c) => (torch.python ? child(torch.python, [path.join(__dirname, 'suite', 'torch_runner.py'), JSON.stringify({ ...c, threads })], {}) : failed(`pytorch-${threads}t`, c, torch.why)),
  },
  {
    name: 'openblas-c',
    run: (c) => {
      if (!c.workloads.includes('gemm1024')) return { framework: 'openblas-c', version: '-', threads: c.threads, cells: {} };
      if (!cGemm) return failed('openblas-c', { ...c, workloads: ['gemm1024'] }, 'could not compile benchmarks/c/gemm.c (gcc, pkg-config openblas)');
      const reps = Math.max(3, Math.round(c.seconds * 20));
      const out = execFileSync(cGemm, ['1024', String(reps), String(c.threads)], { encoding: 'utf8' }).trim().split(' ');
      return { framework: 'openblas-c', version: 'OpenBLAS via cblas_sgemm', threads: c.threads, cells: { gemm1024: { value: Number(out[2]) } } };
    },
  },
];
const frameworks = allFrameworks.filter((f) => !only || only.includes(f.name));

// ---- rounds --------------------------------------------------------------------------------------------------
const phases: { workloads: WorkloadId[]; rounds: number }[] = [
  { workloads: THROUGHPUT, rounds },
  { workloads: ['mnistEpoch'], rounds: quick ? 1 : 3 },
  { workloads: ['memory'], rounds: quick ? 1 : 2 },
];
const base: Omit<RunnerConfig, 'workloads'> = { seconds, epochCap: quick ? 3 : 25, memoryCap: quick ? 5 : 30, threads };
const runs: RunnerResult[] = [];
const started = Date.now();
console.log(`vugrad benchmark suite${quick ? ' (--quick)' : ''}: ${rounds} round(s), ${threads} thread(s) for everyone, ` +
  `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}, ${os.cpus()[0]?.model ?? '?'} (${cores} cores)`);
probeFmaPeak();
for (const phase of phases) {
  for (let r = 0; r < phase.rounds; r++) {
    // Rotate the order each round so that no framework always runs first (or right after a heavy one).
    const order = frameworks.map((_, i) => frameworks[(i + r) % frameworks.length]);
    for (const fw of order) {
      if (fw.slow && r >= Math.min(3, phase.rounds)) continue;
      const config: RunnerConfig = { ...base, workloads: phase.workloads };
      let result: RunnerResult;
      try {
        result = fw.run(config);
      } catch (err) {
        result = failed(fw.name, config, (err as Error).message.slice(0, 200));
      }
      runs.push(result);
      process.stdout.write(`  ${phase.workloads.length > 1 ? 'round' : phase.workloads[0]} ${r + 1}/${phase.rounds} ${fw.name} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
  }
  if (phase.workloads === THROUGHPUT) probeFmaPeak();
}

// ---- report --------------------------------------------------------------------------------------------------
const { table, threads: fwThreads, versions } = summarize(runs);
const columns = ['vugrad-native', 'vugrad-bf16', 'vugrad-openblas', 'vugrad-js', 'pytorch-best', 'pytorch-1t', 'pytorch-1core', `pytorch-${threads}t`, 'tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'openblas-c'].filter((f) => table[f]);
const env = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? '?',
  cores,
  threads,
  openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
  rounds,
  seconds,
  quick,
  torch: torch.python ? `${torch.why} (${torch.python})` : torch.why,
  fmaPeak,
  fmaReadings,
};
const lines: string[] = [];
lines.push(`Measured ${env.date.slice(0, 10)} on ${env.cpu}, ${cores} cores, node ${env.node}; ${threads} threads for every framework ` +
  `(PyTorch: 1 and ${threads}, and 1 with OPENBLAS_NUM_THREADS=1 as pytorch-1core; its own default here: ${torch.defaultThreads}); OPENBLAS_CORETYPE=${env.openblasCoretype ?? '(unset)'}; ${rounds} alternating round(s) ` +
  `(slow peers: up to 3), ${seconds} s per measurement${quick ? ' (--quick: a sanity run, not a measurement)' : ''}.`);
lines.push('');
lines.push('Medians; in brackets: vugrad native\'s advantage (how many times faster, or leaner for RSS).');
lines.push('');
lines.push(`| workload | unit | ${columns.join(' | ')} |`);
lines.push(`| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
for (const w of WORKLOADS) {
  const cells = columns.map((fw) => {
    const s = table[fw]?.[w.id];
    if (!s) return '';
    if (s.median === undefined) return s.error ?? 'no result';
    const adv = advantage(table, fw, w);
    return fw === 'vugrad-native' || !Number.isFinite(adv) ? cellText(s, false) : `${cellText(s, false)} [${adv >= 10 ? adv.toFixed(0) : adv.toFixed(2)}x]`;
  });
  lines.push(`| ${w.label} | ${w.unit} | ${cells.join(' | ')} |`);
}
lines.push(`| threads | | ${columns.map((fw) => (fw === 'pytorch-best' ? 'best' : fwThreads[fw] ?? '-')).join(' | ')} |`);
lines.push('');
lines.push('Min-max over the rounds:');
lines.push('');
lines.push(`| workload | ${columns.join(' | ')} |`);
lines.push(`| --- | ${columns.map(() => '---').join(' | ')} |`);
for (const w of WORKLOADS) {
  lines.push(`| ${w.id} | ${columns.map((fw) => { const s = table[fw]?.[w.id]; return s && s.median !== undefined ? `${cellText(s)}${s.runs > 1 ? '' : ' (1 run)'}` : ''; }).join(' | ')} |`);
}
lines.push('');
const mem = (fw: string): string => {
  const per = table[fw]?.memory?.extra?.rssPerEpoch as number[] | undefined;
  return per ? `${fw}: ${per.join(', ')}` : '';
};
lines.push('RSS after each epoch of the memory run (MB): ' + columns.filter((c) => c !== 'pytorch-best').map(mem).filter(Boolean).join('; '));
lines.push('');
// ---- efficiency: effective GFLOP/s of each throughput workload and its share of the measured FMA peak --------
const peak = fmaPeak as FmaPeak | null;
lines.push(
  peak
    ? `Efficiency: effective GFLOP/s (FLOPs counted from the shapes, a training step = forward + weight gradients + input gradients but the first layer's, gemm/conv only; see FLOPS in ` +
        `benchmarks/suite/report.ts) and, in brackets, its share of the fp32 FMA peak measured in this run by benchmarks/c/fma_peak.c ` +
        `(${peak.isa}, best of ${fmaReadings.length} probes: ${fmt(peak.one)} GFLOP/s on 1 thread, ${fmt(peak.all)} on ${peak.threads}; ` +
        `pytorch-1core is compared with the 1-thread peak, every other column with the ${peak.threads}-thread peak).`
    : 'Efficiency: effective GFLOP/s (no FMA peak: benchmarks/c/fma_peak.c did not compile or run, gcc -march=native).',
);
lines.push('');
lines.push(`| workload | FLOPs per unit | ${columns.join(' | ')} |`);
lines.push(`| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
for (const w of WORKLOADS) {
  if (w.id !== 'gemm1024' && FLOPS[w.id] === undefined) continue;
  const per = w.id === 'gemm1024' ? '2 x 1024^3 per call' : `${fmt(FLOPS[w.id]! / (w.unit === 's' ? 1e9 : 1e6))} ${w.unit === 's' ? 'GFLOP per epoch' : w.unit === 'ms' ? 'MFLOP per call' : 'MFLOP per sample'}`;
  const cells = columns.map((fw) => {
    const g = effectiveGflops(w.id, table[fw]?.[w.id]?.median);
    if (g === undefined) return '';
    const denom = peak ? (fw === 'pytorch-1core' ? peak.one : peak.all) : undefined;
    return denom ? `${fmt(g)} (${((100 * g) / denom).toFixed(0)}%)` : fmt(g);
  });
  lines.push(`| ${w.id} | ${per} | ${cells.join(' | ')} |`);
}
lines.push('');
lines.push('Targets (issues 7 and 20), this run:');
lines.push('');
lines.push('| target | measured | met |');
lines.push('| --- | --- | --- |');
for (const t of checkTargets(table, peak)) lines.push(`| ${t.target} | ${t.measured} | ${t.reading ? '(reading)' : t.met === null ? 'n/a' : t.met ? 'yes' : 'NO'} |`);
lines.push('');
lines.push('Versions: ' + Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; '));
const markdown = lines.join('\n') + '\n';

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ env, versions, threads: fwThreads, table, targets: checkTargets(table, peak), runs }, null, 1));
fs.writeFileSync(path.join(outDir, 'latest.md'), markdown);
fs.writeFileSync(
  path.join(outDir, 'latest.svg'),
  barChart(table, columns.filter((c) => !c.startsWith('pytorch-') || c === 'pytorch-best'), `vugrad benchmarks, ${env.date.slice(0, 10)}, ${threads} threads, ${env.cpu}`),
);
console.log('\n' + markdown);
console.log(`wrote ${path.relative(root, outDir)}/latest.{json,md,svg} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
