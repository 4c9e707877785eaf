/**
 * The package as a user gets it: build the sources and `npm pack` them (in a staging copy, so that the
 * working tree's dist/ is left alone), install the tarball into a fresh project offline from the npm cache,
 * then `require('vugrad')` and `import ... from 'vugrad'` there, train a few steps both ways, run a job in a
 * worker thread from the compiled package (dist/jobs/training-worker.js), and check the types are shipped.
 * The backend there must be native when the installed package has a binary for this platform (a prebuild, or
 * one its install script built), JS otherwise.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
let tmp: string;
let app: string;
let installed: string;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  if (res.error) throw res.error;
  return res;
}

function ok(res: SpawnSyncReturns<string>, what: string): string {
  if (res.status !== 0) throw new Error(`${what} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

/** Runs a script in the fresh project with the default backend choice; returns its last line as JSON. */
function runInApp(file: string, source: string): any {
  fs.writeFileSync(path.join(app, file), source);
  const env = { VUGRAD_BACKEND: '', VUGRAD_NATIVE_PATH: '' };
  const out = ok(run(process.execPath, [file], app, env), file).trim().split('\n');
  return JSON.parse(out[out.length - 1]);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-pack-'));
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const entry of ['package.json', ...(pkg.files as string[])]) {
    if (entry === 'dist') continue;
    const from = path.join(root, entry);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(stage, entry), { recursive: true });
  }
  const tsc = require.resolve('typescript/bin/tsc');
  ok(run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')], root), 'tsc');
  fs.mkdirSync(path.join(stage, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts', 'write-esm-entry.js'), path.join(stage, 'scripts', 'write-esm-entry.js'));
  // It loads dist/index.js to list the names, so it needs the dependencies for a moment.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  ok(run(process.execPath, [path.join(stage, 'scripts', 'write-esm-entry.js')], stage), 'write-esm-entry');
  fs.rmSync(path.join(stage, 'node_modules'));

  // Built above: skip a prepack build script (the staging copy has no tsconfig).
  const packed = ok(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], stage), 'npm pack');
  const tarball = path.join(tmp, JSON.parse(packed)[0].filename);

  app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'vugrad-install-test', version: '1.0.0', private: true }));
  const args = ['install', '--no-audit', '--no-fund', '--no-save', tarball];
  let res = run('npm', ['--offline', ...args], app);
  // The cache may lack a package that this machine's own install never needed: allow the registry then.
  if (res.status !== 0) res = run('npm', ['--prefer-offline', ...args], app);
  ok(res, 'npm install of the tarball');
  installed = path.join(app, 'node_modules', 'vugrad');
}, 420_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Whether the installed package has a binary for this platform: a prebuild or its own build. */
function hasBinary(): boolean {
  const prebuilds = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`);
  const prebuilt = fs.existsSync(prebuilds) && fs.readdirSync(prebuilds).some((f) => f.endsWith('.node'));
  return prebuilt || fs.existsSync(path.join(installed, 'build', 'Release', 'vugrad.node'));
}

describe('the packed tarball installed into a fresh project', () => {
  test('ships dist (CommonJS, ESM entry, types, the compiled worker) and no sources or tests', () => {
    for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/jobs/training-worker.js', 'dist/jobs/index.d.ts', 'package.json']) {
      expect(fs.existsSync(path.join(installed, f))).toBe(true);
    }
    for (const f of ['lib', 'test', 'examples', 'node_modules/.bin/jest']) expect(fs.existsSync(path.join(installed, f))).toBe(false);
  });

  test('require: trains a few steps, runs a job in a worker thread, and reports the expected backend', () => {
    const out = runInApp(
      'check.cjs',
      `
const v = require('vugrad');
(async () => {
  const { train } = v.loadSynth({ seed: 1, numTrain: 256, numVal: 64 });
  const net = new v.MLP({ inputSize: 2, hiddenSizes: [8], outputSize: 2 });
  const opt = v.createOptimizer('adam', net.parameters(), { lr: 0.05 });
  const losses = [];
  for (let step = 0; step < 20; step++) {
    const loss = v.crossEntropy(net.forward(v.TensorNode.constant(train.x)), train.y);
    opt.zeroGrad(); loss.backward(); opt.step();
    losses.push(loss.item());
  }
  const job = await v.trainInWorker({ dataset: 'synth', epochs: 1, limit: 500 });
  console.log(JSON.stringify({ info: v.backendInfo(), first: losses[0], last: losses[losses.length - 1],
    jobEpochs: job.history.length, jobBackend: job.info.backend, modelBytes: job.model.length }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    expect(out.last).toBeLessThan(out.first);
    expect(out.jobEpochs).toBe(1);
    expect(out.modelBytes).toBeGreaterThan(8);
    const expected = hasBinary() ? 'native' : 'js';
    expect(out.info.backend).toBe(expected);
    expect(out.jobBackend).toBe(expected);
    if (expected === 'native') expect(fs.realpathSync(out.info.addonPath).startsWith(fs.realpathSync(installed))).toBe(true);
  });

  test('import: the ESM entry exposes the same names and trains', () => {
    const out = runInApp(
      'check.mjs',
      `
import { TensorNode, NDArray, MLP, SGD, crossEntropy, backendInfo, JobQueue } from 'vugrad';
import lib from 'vugrad';
const x = TensorNode.constant(NDArray.from([[0, 1], [1, 0], [1, 1], [0, 0]]));
const y = Int32Array.from([1, 1, 0, 0]);
const net = new MLP({ inputSize: 2, hiddenSizes: [8], outputSize: 2 });
const opt = new SGD(net.parameters(), { lr: 0.5 });
const losses = [];
for (let step = 0; step < 30; step++) {
  const loss = crossEntropy(net.forward(x), y);
  opt.zeroGrad(); loss.backward(); opt.step();
  losses.push(loss.item());
}
console.log(JSON.stringify({ backend: backendInfo().backend, same: lib.TensorNode === TensorNode, queue: typeof JobQueue,
  first: losses[0], last: losses[losses.length - 1] }));
`,
    );
    expect(out.same).toBe(true);
    expect(out.queue).toBe('function');
    expect(out.last).toBeLessThan(out.first);
    expect(out.backend).toBe(hasBinary() ? 'native' : 'js');
  });
});
