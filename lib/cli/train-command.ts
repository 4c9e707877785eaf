/**
 * `vugrad train`: flags to a config (or a checkpoint to resume), the config to the recipe, and the result to
 * the terminal. Kept out of main.ts so that the command's rules sit in one place.
 *
 * @example
 * npx vugrad train -D mnist -e 5 --out runs/a        # checkpoints into runs/a/checkpoint after every epoch
 * npx vugrad train --resume runs/a                   # after an interruption: continues from the last epoch
 * npx vugrad train --resume runs/a -e 8              # or trains a finished run further
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backendInfo } from '../kernels';
import { checkpointFile, hasCheckpoint, loadCheckpoint, type CheckpointState } from '../train/checkpoint';
import { ConfigError, resolveConfig, type RunConfig, type TrainFlags } from '../train/config';
import { prepareOutputDir } from '../train/output-dir';
import { DivergenceError } from '../train/divergence';
import { runTraining } from './run';
import { bf16Unavailable } from '../train/precision';

/** `train`'s flags: the run's settings plus the runtime and resume flags. */
export interface TrainCommandFlags extends TrainFlags {
  backend?: string;
  threads?: string;
  resume?: string;
}

/** The subfolder of `--out` that holds the checkpoint. */
export const CHECKPOINT_SUBDIR = 'checkpoint';

/** Flags that may accompany `--resume`: everything else comes from the saved run. */
const RESUME_FLAGS = new Set(['resume', 'epochs', 'data', 'backend', 'threads']);

const flagName = (key: string): string => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * The run `--resume DIR` continues: DIR is the interrupted run's `--out` directory (or its `checkpoint`
 * subfolder). Its saved configuration is used as is; `-e` may raise the epochs and `--data` point at moved
 * data. Throws a `ConfigError` for other flags, or when the run has nothing left to do.
 */
export function resumeRun(flags: TrainCommandFlags): { config: RunConfig; checkpoint: CheckpointState } {
  const dir = flags.resume as string;
  const extra = Object.keys(flags).filter((k) => (flags as Record<string, unknown>)[k] !== undefined && !RESUME_FLAGS.has(k));
  if (extra.length > 0) {
    throw new ConfigError(
      `--resume: the run continues with its saved settings; drop ${extra.map(flagName).join(', ')} (only -e/--epochs, --data, --backend and --threads may change)`,
    );
  }
  // DIR may be the run's --out directory or the checkpoint folder inside it.
  const inside = path.basename(path.resolve(dir)) === CHECKPOINT_SUBDIR && fs.existsSync(checkpointFile(dir));
  const out = inside ? path.dirname(path.resolve(dir)) : dir;
  const checkpoint = loadCheckpoint(path.join(out, CHECKPOINT_SUBDIR));
  const saved = checkpoint.config;
  if (saved === null || typeof saved !== 'object' || typeof saved.dataset !== 'string') {
    throw new ConfigError(`--resume: ${checkpointFile(path.join(out, CHECKPOINT_SUBDIR))} holds no run configuration`);
  }
  const config: RunConfig = { ...saved, out };
  if (flags.epochs !== undefined) config.epochs = resolveConfig({ dataset: saved.dataset, epochs: flags.epochs }).epochs;
  if (flags.data !== undefined) config.data = flags.data;
  if (checkpoint.epoch >= config.epochs) {
    throw new ConfigError(
      `--resume: the run in ${out} has finished all ${checkpoint.epoch} of its epochs; pass -e N with N > ${checkpoint.epoch} to train it further`,
    );
  }
  return { config, checkpoint };
}

/** Runs `vugrad train` with parsed flags (the runtime flags already applied). */
export async function trainCommand(flags: TrainCommandFlags): Promise<void> {
  const { config, checkpoint } = flags.resume !== undefined ? resumeRun(flags) : { config: resolveConfig(flags), checkpoint: undefined };
  // Before the output directory is made or any data loads: bf16 where it cannot run is one line with the reason.
  if (config.precision === 'bf16') {
    const why = bf16Unavailable();
    if (why !== undefined) {
      throw new ConfigError(
        checkpoint
          ? `--resume: the run in ${config.out} trains with --precision bf16, which is not available here: ${why}`
          : `--precision bf16: not available here: ${why}; leave --precision out to train in fp32`,
      );
    }
  }
  // Before any data is loaded: a run must not train for an hour and then fail to write.
  if (config.out !== undefined) prepareOutputDir(config.out, '--out');
  const info = backendInfo();
  if (checkpoint) console.log(`vugrad: resuming ${config.out} after epoch ${checkpoint.epoch} of ${config.epochs}`);
  console.log(
    `vugrad: training ${config.model} on ${config.dataset} (${config.optimizer}, lr ${config.lr}, batch ${config.batchSize}, ` +
      `${config.epochs} epochs, seed ${config.seed}${config.dtype ? `, ${config.dtype}` : ''}${config.precision ? `, ${config.precision} mixed precision` : ''}) on the ${info.backend} backend`,
  );
  let result;
  try {
    result = await runTraining(config, { resume: checkpoint });
  } catch (e) {
    if (e instanceof DivergenceError) e.message = `${e.message}. ${divergenceAdvice(config)}`;
    throw e;
  }
  const last = result.history[result.history.length - 1];
  if (last.valAccuracy !== undefined) console.log(`final ${result.heldOutName} accuracy: ${(last.valAccuracy * 100).toFixed(2)}%`);
  if (config.out) console.log(`wrote metrics, plots, config and model to ${config.out} (checkpoint in ${path.join(config.out, CHECKPOINT_SUBDIR)})`);
}

/** Learning rates each optimizer commonly trains these networks with (the experiments' settings). */
const TYPICAL_LR: Record<string, number> = { sgd: 0.01, adam: 0.001, adamw: 0.001, adamax: 0.002, adadelta: 1, adagrad: 0.01, rprop: 0.001, asgd: 0.01, rmsprop: 0.001 };

/** What to try after a diverged run, for the settings it had. */
export function divergenceAdvice(config: RunConfig): string {
  const usual = TYPICAL_LR[config.optimizer];
  const tips = [`try a learning rate 10x smaller (-l ${config.lr / 10}; it was ${config.lr}${usual ? `, and ${config.optimizer} usually trains near ${usual}` : ''})`];
  if (config.loss === 'ce' && config.reduction === 'sum') tips.push('or --reduction mean (a summed loss scales the step by the batch size)');
  if (config.raw) tips.push('or drop --raw (pixels in 0..255 need a far smaller rate)');
  if (config.optimizer === 'sgd' && config.momentum > 0) tips.push(`or less momentum (it was ${config.momentum})`);
  const saved = config.out && hasCheckpoint(path.join(config.out, CHECKPOINT_SUBDIR)) ? ` The last good epoch's checkpoint is in ${path.join(config.out, CHECKPOINT_SUBDIR)}.` : '';
  return `Stopped: the rest of the run would be wasted; ${tips.join(', ')}.${saved}`;
}
