/**
 * The `vugrad` command line: `train`, `evaluate`, `graph`, `experiment`, `export` and `predict`.
 *
 * @example
 * npx vugrad train -D mnist -e 5
 * npx vugrad train --preset course -D mnist --out runs/course
 * npx vugrad evaluate runs/course/model.safetensors
 * npx vugrad graph --model mlp -D synth --out graph
 * npx vugrad experiment activation --quick
 * npx vugrad export runs/course/model.safetensors --onnx course.onnx
 * npx vugrad predict runs/course/model.safetensors --input digit.png --json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { heldOut } from '../data/dataset';
import { TensorNode } from '../core/tensor-node';
import { DataLoader } from '../data/loader';
import { loadModel, loadSafetensors, metadataJson } from '../io';
import { evaluate } from '../train/fit';
import { backendInfo, setNumThreads, useBackend } from '../kernels';
import { dotToSvg, graphToDot } from '../report/graph-dot';
import { ACTIVATIONS, ConfigError, INITS, LOSSES, MODELS, resolveConfig, type RunConfig, type TrainFlags } from '../train/config';
import { EXPERIMENTS, runExperiment } from './experiments';
import { buildLoss, buildModel, loadData, lossReduction } from '../train/recipe';
import { trainCommand, type TrainCommandFlags } from './train-command';
import { resolveThreads } from './threads';
import { registerExport } from './export';
import { registerPredict } from './predict';
import { registerWorker } from './worker';
import { writeFileAtomic } from '../io/atomic-file';
import { prepareOutputDir } from '../train/output-dir';
import { OPTIMIZER_NAMES } from '../optim';
import { DATASET_NAMES } from '../data/load-dataset';
import { PRECISIONS, bf16Unavailable, checkPrecision } from '../train/precision';

function addModelFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('-D, --dataset <name>', 'data set').choices([...DATASET_NAMES]))
    .option('--data <dir>', 'directory (or .tar.gz for CIFAR-10) holding the data files')
    .addOption(new Option('--model <name>', 'network').choices([...MODELS]))
    .option('--hidden <sizes>', 'hidden layer sizes, comma-separated (e.g. 300 or 512,256)')
    .option('--layers <n>', 'number of hidden layers (each of the first --hidden size)')
    .addOption(new Option('--activation <name>', 'hidden activation').choices([...ACTIVATIONS]))
    .addOption(new Option('--init <name>', 'weight initialisation').choices([...INITS]))
    .addOption(new Option('--loss <name>', 'loss function').choices([...LOSSES]))
    .addOption(new Option('--reduction <how>', 'reduce the loss over a batch by').choices(['mean', 'sum']))
    .option('--seed <n>', 'random seed (initialisation, shuffling)')
    .option('--final', 'train on all training data and report the test set')
    .option('--raw', 'keep pixels in 0..255 (the course did)')
    .option('--normalize', 'standardise image channels (default for cifar10)')
    .option('--no-normalize', 'keep image channels in [0, 1]')
    .option('--limit <n>', 'use at most n samples per split')
    .option('--val-size <n>', 'validation samples held out of the training data: a count (5000) or a fraction (0.1); default 10% for cifar10, 5,000 of 60,000 for mnist')
    .addOption(new Option('--preset <name>', "'course': the course script's exact settings").choices(['course']));
}

function addRuntimeFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'kernel backend (default: native when built)').choices(['js', 'native']))
    .option('--threads <n>', 'BLAS threads (at most the cores; more are clamped)');
}

function applyRuntime(flags: { backend?: string; threads?: string }): void {
  // --backend wins over VUGRAD_BACKEND; 'native' where the addon cannot load is an error naming why.
  if (flags.backend === 'js' || flags.backend === 'native') useBackend(flags.backend);
  if (flags.threads !== undefined) setNumThreads(resolveThreads(flags.threads, (m) => console.warn(m)));
}

async function trainAction(flags: TrainCommandFlags): Promise<void> {
  applyRuntime(flags);
  await trainCommand(flags);
}

async function evaluateCommand(modelPath: string, flags: { data?: string; final?: boolean; limit?: string; precision?: string }): Promise<void> {
  const { metadata } = loadSafetensors(modelPath);
  if (!metadata?.config) throw new ConfigError(`evaluate: ${modelPath} has no vugrad run configuration in its metadata (was it written by 'vugrad train --out'?)`);
  const saved = metadataJson(metadata, 'config', modelPath, { object: true }) as RunConfig;
  const config: RunConfig = { ...saved, final: flags.final ?? saved.final, data: flags.data ?? saved.data, limit: flags.limit ? Number(flags.limit) : saved.limit };
  // The precision the model was trained (and its accuracy printed) in, unless --precision says otherwise. The
  // weights are float32 either way: a bf16 run's model evaluates in fp32 where bf16 cannot run, and says so.
  let precision = flags.precision === undefined ? undefined : checkPrecision(flags.precision, '--precision');
  let note = '';
  if (precision === undefined && saved.precision === 'bf16') {
    const why = bf16Unavailable();
    precision = why === undefined ? 'bf16' : 'fp32';
    note = why === undefined ? ', in bf16 as trained' : `; in fp32: the model trained in bf16, which is not available here: ${why}`;
  }
  const data = await loadData(config);
  const model = buildModel(config, data.train);
  loadModel(model, modelPath);
  const split = heldOut(data);
  const r = await evaluate(model, split, { loss: buildLoss(config), lossReduction: lossReduction(config), ...(precision ? { precision } : {}) });
  console.log(`${split.name}: accuracy ${(r.accuracy * 100).toFixed(2)}%, loss ${r.loss.toFixed(4)} (${split.y.length} samples${note})`);
}

async function graphCommand(flags: TrainFlags): Promise<void> {
  const config = resolveConfig({ limit: '8', ...flags });
  const out = config.out ?? 'graph';
  prepareOutputDir(out, '--out'); // before the data loads
  const data = await loadData(config);
  const model = buildModel(config, data.train);
  const batch = new DataLoader(data.train, { batchSize: Math.min(4, data.train.y.length) })[Symbol.iterator]().next().value;
  if (!batch) throw new ConfigError(`graph: ${data.train.name} is empty`);
  const input = TensorNode.constant(batch.x, 'input');
  const loss = buildLoss(config)(model.forward(input), batch.y);
  loss.name = 'loss';
  const names = new Map(model.namedParameters().map(([n, p]) => [p, n] as [TensorNode, string]));
  const dot = graphToDot(loss, { names });
  writeFileAtomic(path.join(out, 'graph.dot'), dot);
  writeFileAtomic(path.join(out, 'graph.svg'), await dotToSvg(dot));
  console.log(`wrote ${path.join(out, 'graph.dot')} and ${path.join(out, 'graph.svg')}`);
}

export function buildProgram(): Command {
  const program = new Command('vugrad').description('Train and inspect small neural networks with vugrad').exitOverride().showHelpAfterError('(add --help for the flags)');
  addRuntimeFlags(
    addModelFlags(
      program
        .command('train')
        .description('train a network and report validation (or, with --final, test) accuracy after every epoch')
        .option('-b, --batch-size <n>', 'samples per batch')
        .option('-e, --epochs <n>', 'passes over the training data')
        .option('-l, --learning-rate <lr>', 'learning rate')
        .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZER_NAMES]))
        .option('--momentum <m>', 'SGD momentum')
        .option('--out <dir>', 'write metrics (CSV, JSON lines), plots (SVG, PNG), config, model and a checkpoint per epoch here')
        .option('--resume <dir>', "continue the run whose --out was DIR from its last checkpoint (-e raises its epochs)")
        .addOption(new Option('--dtype <type>', 'float64: exactly reproducible, also across --resume (slower)').choices(['float32', 'float64']))
        .addOption(
          new Option(
            '--precision <p>',
            'bf16: mixed precision, matmul and convolution inputs in bfloat16 with float32 accumulation; weights, optimizer state and loss stay float32 (needs the oneDNN addon and a CPU with AVX512_BF16; refused with the reason elsewhere)',
          ).choices([...PRECISIONS]),
        )
        .addOption(new Option('--schedule <name>', 'per-step learning rate (default for resnet*: onecycle)').choices(['constant', 'onecycle', 'cosine']))
        .option('--warmup <epochs>', 'warm-up epochs (cosine: linear ramp; onecycle: its rising phase, default 30%)')
        .option('--label-smoothing <eps>', "cross-entropy label smoothing in [0, 1) (PyTorch's definition)")
        .option('--weight-decay <d>', 'L2 weight decay (default for resnet*: 5e-4)')
        .option('--nesterov', 'SGD with Nesterov momentum (default for resnet*)')
        .option('--no-nesterov', 'SGD with plain momentum')
        .option('--augment', 'random crop (4-pixel padding) and horizontal flip of training images (default for resnet* on cifar10)')
        .option('--no-augment', 'no augmentation'),
    ),
  ).action(trainAction);
  program
    .command('evaluate <model>')
    .description('reload a model written by `train --out` and report its accuracy')
    .option('--data <dir>', 'data directory')
    .option('--final', 'evaluate on the test set')
    .option('--limit <n>', 'use at most n samples per split')
    .addOption(new Option('--precision <p>', 'matmul and convolution input precision (default: the one the model trained in, where it can run)').choices([...PRECISIONS]))
    .action(evaluateCommand);
  addModelFlags(program.command('graph').description("write the computation graph of a model's loss as DOT and SVG"))
    .option('--out <dir>', 'output directory (default: graph)')
    .action(graphCommand);
  program
    .command('experiment <name>')
    .description(`run one of the course's experiments: ${Object.keys(EXPERIMENTS).join(', ')}`)
    .option('--quick', 'small subsets and few epochs (minutes on 2 cores)')
    .option('--data <dir>', 'data directory (CIFAR-10 experiments need one)')
    .option('--out <dir>', 'output directory (default: runs/experiment-NAME)')
    .option('--limit <n>', 'override: at most n samples per split')
    .option('-e, --epochs <n>', 'override: epochs per run')
    .action(async (name: string, flags: { quick?: boolean; data?: string; out?: string; limit?: string; epochs?: string }) => {
      if (!EXPERIMENTS[name]) throw new ConfigError(`experiment: unknown experiment '${name}'; choose one of ${Object.keys(EXPERIMENTS).join(', ')}`);
      const extra: TrainFlags = {};
      if (flags.limit !== undefined) extra.limit = flags.limit;
      if (flags.epochs !== undefined) extra.epochs = flags.epochs;
      await runExperiment(name, { quick: flags.quick, data: flags.data, extra, outDir: flags.out ?? path.join('runs', `experiment-${name}`) });
    });
  registerExport(program);
  registerPredict(program);
  registerWorker(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander already printed the message
    const e = err as Error;
    // Exit 3: the run diverged (see lib/train/divergence); the message says what to try.
    if (e.name === 'DivergenceError') {
      console.error(`vugrad: ${e.message}`);
      return 3;
    }
    const known = e instanceof ConfigError || e.name === 'PrecisionError' || e.name === 'DataError' || e.name === 'CheckpointError' || e.name === 'OutputDirError' || e instanceof RangeError;
    console.error(`vugrad: ${e.message}`);
    if (!known && process.env.VUGRAD_DEBUG) console.error(e.stack);
    return known ? 2 : 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
