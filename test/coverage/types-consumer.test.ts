/**
 * The published types, as a TypeScript user sees them: a fresh project whose `node_modules/vugrad` is the
 * built package (package.json + dist/*.d.ts, see helpers/stage.ts), compiled with the repository's `tsc
 * --strict --noEmit` and no skipLibCheck (so vugrad's own .d.ts files are checked too), as CommonJS
 * (`moduleResolution node10`: the `types` field) and as ESM (`node16`: the `exports` map's `types`).
 * A consumer with deliberate type errors must fail, with those errors: proof that the check runs and that
 * the types are precise (not `any`). The README's complete TypeScript examples are compiled the same way.
 * Each tsc run takes seconds, so all files of one module mode are compiled in one run (beforeAll) and each
 * test reads its own file's diagnostics.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, stagePackage, type Stage } from './helpers/stage';

const tsc = require.resolve('typescript/bin/tsc', { paths: [repoRoot] });
const CJS = ['--module', 'commonjs', '--moduleResolution', 'node10'];
const ESM = ['--module', 'node16', '--moduleResolution', 'node16'];

let stage: Stage;
let app: string;
/** tsc's error lines per file, and per run for lines attributed to no file of ours. */
const diagnostics = new Map<string, string[]>();
const exitCodes: Record<string, number> = {};

/** Compiles `files` (name -> source) in one tsc run; records each file's error lines. */
function compile(run: string, files: Record<string, string>, mode: string[]): void {
  for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(app, name), source);
  const args = [tsc, '--strict', '--noEmit', '--pretty', 'false', '--target', 'ES2022', '--types', 'node', ...mode, ...Object.keys(files)];
  const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 280_000 });
  if (r.error) throw r.error;
  exitCodes[run] = r.status ?? -1;
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const mine = (l: string) => Object.keys(files).some((name) => l.startsWith(`${name}(`));
  for (const name of Object.keys(files)) diagnostics.set(name, lines.filter((l) => l.startsWith(`${name}(`)));
  diagnostics.set(run, lines.filter((l) => !mine(l)));
}

/** A consumer touching the main areas of the API, with explicit types where inference could hide `any`. */
const consumer = (importLine: string) => `${importLine}

manualSeed(0);
const a = new TensorNode(NDArray.from([[1, 2], [3, 4]]));
const b = new TensorNode(NDArray.from([[5, 6], [7, 8]]));
const c: TensorNode = a.mul(b).sum();
c.backward();
const g: NDArray = a.grad;
const shape: readonly number[] = g.shape;
const d: TensorNode = c.detach();

class Net extends Module {
  fc1 = new Linear(2, 8);
  fc2 = new Linear(8, 2);
  forward(x: TensorNode): TensorNode {
    return this.fc2.call(this.fc1.call(x).relu());
  }
}
const net = new Net();
const names: string[] = net.namedParameters().map(([n]) => n);
const children: [string, Module][] = net.namedChildren();
const w: NDArray = nn.heNormal([8, 2], { mode: 'fan_out', gain: 1 });
const check: GradcheckResult = gradcheck((x) => x.mul(x).sum(), [NDArray.from([1, 2], 'float64')]);
const ok: boolean = check.ok;

async function train(): Promise<EpochMetrics[]> {
  const { train, val } = loadSynth({ seed: 1, numTrain: 64, numVal: 16 });
  const model = new MLP({ inputSize: 2, hiddenSizes: [8], outputSize: 2, activation: 'relu' });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const controller = new AbortController();
  return fit(model, { train, val }, {
    optimizer,
    epochs: 1,
    batchSize: 16,
    lossReduction: 'mean',
    yieldEveryMs: 5,
    signal: controller.signal,
    loss: (logits, y) => crossEntropyLoss(logits, y),
    onEpoch: (m) => {
      const acc: number | undefined = m.valAccuracy;
      void acc;
    },
  });
}
const info: BackendInfo = backendInfo();
const which: 'js' | 'native' = info.backend;
setNumThreads(1);
const splits: Promise<DatasetSplits> = loadDataset('synth', { limit: 10 });
void [shape, d, names, children, w, ok, train, which, splits];
`;

const namedImports =
  '{ Adam, MLP, Module, Linear, NDArray, TensorNode, backendInfo, crossEntropyLoss, fit, gradcheck, loadDataset, loadSynth, manualSeed, nn, setNumThreads, type BackendInfo, type DatasetSplits, type EpochMetrics, type GradcheckResult }';

const bad = `import { MLP, NDArray, TensorNode, fit } from 'vugrad';
const n: number = new TensorNode(NDArray.from([1]));
const m = new MLP({ inputSize: '784', hiddenSizes: [8], outputSize: 10 });
fit(m, { train: undefined }, { epochs: 1 });
`;

/** The README's complete TypeScript examples: those that import what they use (others continue a block). */
const readmeBlocks = [...fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((src) => /^import .* from 'vugrad';/m.test(src));
const readmeFiles = Object.fromEntries(
  readmeBlocks.map((src, i) => {
    // Examples may use node's fs without importing it; give them the import a real file would have.
    const prelude = /\bfs\./.test(src) && !/import .*\bfs\b/.test(src) ? "import * as fs from 'node:fs';\n" : '';
    return [`readme-${i + 1}.mts`, `${prelude}${src}\nexport {};\n`];
  }),
);

beforeAll(() => {
  stage = stagePackage('types');
  app = path.join(stage.tmp, 'app');
  fs.mkdirSync(path.join(app, 'node_modules', '@types'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  fs.symlinkSync(stage.root, path.join(app, 'node_modules', 'vugrad'), 'dir');
  // A Node.js project has @types/node; vugrad's declarations use Node types (Buffer, worker_threads).
  fs.symlinkSync(path.join(repoRoot, 'node_modules', '@types', 'node'), path.join(app, 'node_modules', '@types', 'node'), 'dir');
  const imports = `import ${namedImports} from 'vugrad';`;
  compile('cjs', { 'consumer.ts': consumer(imports), 'bad.ts': bad }, CJS);
  compile('esm', { 'consumer.mts': consumer(imports), 'bad.mts': bad, ...readmeFiles }, ESM);
}, 600_000);
afterAll(() => stage?.cleanup());

describe('a TypeScript consumer compiled with tsc --strict', () => {
  test.each([['cjs'], ['esm']])('%s: nothing outside the consumers is reported (vugrad\'s own .d.ts check clean)', (run) => {
    expect(diagnostics.get(run)).toEqual([]);
  });

  test.each([
    ['CommonJS (node10: the types field)', 'consumer.ts'],
    ['ESM (node16: the exports map)', 'consumer.mts'],
  ])('%s: the consumer compiles without errors', (_kind, file) => {
    expect(diagnostics.get(file)).toEqual([]);
  });

  test.each([
    ['CommonJS', 'bad.ts', 'cjs'],
    ['ESM', 'bad.mts', 'esm'],
  ])('%s: a consumer with type errors fails, naming each error', (_kind, file, run) => {
    expect(exitCodes[run]).not.toBe(0);
    const errors = diagnostics.get(file) as string[];
    expect(errors.length).toBeGreaterThanOrEqual(3);
    const at = (line: number, code: RegExp) => errors.some((l) => l.startsWith(`${file}(${line},`) && code.test(l));
    expect(at(2, /error TS2322/)).toBe(true); // a TensorNode is not a number
    expect(at(3, /error TS2322/)).toBe(true); // inputSize must be a number
    expect(at(4, /error TS2\d{3}/)).toBe(true); // fit's data and options are checked
    expect(errors.join('\n')).not.toMatch(/TS2307|TS7016/); // the module and its types were found
  });
});

describe("the README's TypeScript examples compile against the published types", () => {
  test('there are complete examples to check', () => {
    expect(readmeBlocks.length).toBeGreaterThan(0);
  });

  test.each(Object.keys(readmeFiles).map((f, i) => [f, readmeBlocks[i].split('\n')[0]]))('%s (%s)', (file) => {
    expect(diagnostics.get(file)).toEqual([]);
  });
});
