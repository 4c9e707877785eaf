/**
 * Training checkpoints: everything needed to continue a run exactly where it stopped, in one safetensors file.
 *
 * A checkpoint holds the model's parameters, the optimizer's state, the number of finished epochs, their
 * metrics, the random generators' states and the run's configuration. It is one file, `checkpoint.safetensors`,
 * so that replacing it is one atomic rename (a crash leaves the previous epoch's checkpoint, never a mix of
 * two) and so that a job store can keep it as one blob (`serializeCheckpoint`/`parseCheckpoint`):
 *
 * - tensors `model.<parameter name>`: the parameters, in their dtype;
 * - tensors `optimizer.<i>.<key>`: the i-th parameter's optimizer buffers (moment estimates...), in float32
 *   when every value is a float32 (a float32 run's), else float64: either way exactly the values saved;
 * - metadata `format` = `vugrad-checkpoint`, `version` = `1`, and `checkpoint`: JSON with `epoch`, `history`,
 *   `config`, `optimizer` (`options`, and per parameter its numbers and the names of its buffers), `random`
 *   (`global`: the library-wide generator; `shuffle`: the generator that shuffles the training data) and
 *   `extra` (whatever else a trainer keeps, such as the divergence rule's reference loss).
 *
 * In float64, a run resumed from a checkpoint ends with bit-for-bit the weights of an uninterrupted one
 * (tested in test/train/checkpoint.test.ts).
 *
 * @example
 * saveCheckpoint('runs/a/checkpoint', { epoch: 3, history, config, model: model.stateDict(),
 *   optimizer: optimizer.stateDictTyped(), random: { global: getRngState(), shuffle: shuffler.getState() } });
 * const ck = loadCheckpoint('runs/a/checkpoint');   // ck.epoch === 3
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NDArray, type FloatArray } from '../core/ndarray';
import type { RandomState } from '../core/random';
import { parseSafetensors, serializeSafetensors } from '../io';
import type { OptimizerStateDict, OptimizerTypedStateDict } from '../optim';
import { writeFileAtomic } from '../io/atomic-file';
import type { RunConfig } from './config';
import type { EpochMetrics } from './fit';

/** The file a checkpoint directory holds. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'vugrad-checkpoint';
const VERSION = 1;

/** Everything a trainer needs to continue a run after its `epoch`-th epoch. */
export interface CheckpointState<Config = RunConfig> {
  /** Epochs finished (1 after the first). */
  epoch: number;
  /** Their metrics, one per epoch, in order. */
  history: EpochMetrics[];
  /** The run's configuration (any JSON value; the recipe stores its `RunConfig`). */
  config: Config;
  /** The model's parameters by name (`Module.stateDict()`). */
  model: Record<string, NDArray>;
  /**
   * `Optimizer.stateDictTyped()` (or `stateDict()`, whose plain arrays cost far more to make). A parsed
   * checkpoint gives buffers as typed arrays; `Optimizer.loadStateDict` takes either.
   */
  optimizer: OptimizerStateDict | OptimizerTypedStateDict;
  /** The generators' states (`getRngState()`, and the training data's shuffler's `getState()`). */
  random: { global: RandomState; shuffle?: RandomState };
  /** Anything else to carry over (plain JSON). */
  extra?: Record<string, unknown>;
}

/** A checkpoint that cannot be read: the message names the file and what is wrong with it. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

interface SavedOptimizerEntry {
  numbers: Record<string, number>;
  buffers: string[];
}

interface SavedJson {
  epoch: number;
  history: EpochMetrics[];
  config: unknown;
  optimizer: { options: Record<string, unknown>; state: (SavedOptimizerEntry | null)[] };
  random: CheckpointState['random'];
  extra?: Record<string, unknown>;
}

/** True when float32 holds every value exactly (a float32 parameter's optimizer state does). */
function allFloat32(values: readonly number[]): boolean {
  for (let i = 0; i < values.length; i++) if (Math.fround(values[i]) !== values[i] && !Number.isNaN(values[i])) return false;
  return true;
}

/** The checkpoint as the bytes of one safetensors file (see the module notes for the layout). */
export function serializeCheckpoint<Config>(state: CheckpointState<Config>): Buffer {
  if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new RangeError(`serializeCheckpoint: epoch must be a non-negative integer, got ${state.epoch}`);
  const tensors: Record<string, NDArray> = {};
  for (const [name, t] of Object.entries(state.model)) tensors[`model.${name}`] = t;
  const entries = state.optimizer.state.map((st, i) => {
    if (st === null) return null;
    const entry: SavedOptimizerEntry = { numbers: {}, buffers: [] };
    for (const [key, v] of Object.entries(st)) {
      if (typeof v === 'number') entry.numbers[key] = v;
      else {
        entry.buffers.push(key);
        const data = v instanceof Float32Array || v instanceof Float64Array ? v : allFloat32(v) ? Float32Array.from(v) : Float64Array.from(v);
        tensors[`optimizer.${i}.${key}`] = new NDArray(data, [v.length]);
      }
    }
    return entry;
  });
  const json: SavedJson = {
    epoch: state.epoch,
    history: state.history,
    config: state.config,
    optimizer: { options: state.optimizer.options, state: entries },
    random: state.random,
    extra: state.extra,
  };
  return serializeSafetensors(tensors, { format: FORMAT, version: String(VERSION), checkpoint: JSON.stringify(json) });
}

/**
 * Reads checkpoint bytes; `source` (a file name) is named in every error. Throws a `CheckpointError` for bytes
 * that are not a vugrad checkpoint or whose parts do not fit together.
 */
export function parseCheckpoint<Config = RunConfig>(bytes: Uint8Array, source = 'checkpoint'): CheckpointState<Config> {
  const fail = (why: string): never => {
    throw new CheckpointError(source, `${source}: not a usable vugrad checkpoint: ${why}. Delete it to start the run afresh.`);
  };
  let contents;
  try {
    contents = parseSafetensors(bytes, source);
  } catch (e) {
    return fail((e as Error).message);
  }
  const { tensors, metadata } = contents;
  if (metadata.format !== FORMAT) fail(`its metadata says format '${metadata.format ?? '(none)'}', expected '${FORMAT}'`);
  if (metadata.version !== String(VERSION)) fail(`version ${metadata.version} is not one this vugrad reads (${VERSION})`);
  let json: SavedJson;
  try {
    json = JSON.parse(metadata.checkpoint ?? '') as SavedJson;
  } catch (e) {
    return fail(`its 'checkpoint' metadata is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object') return fail("its 'checkpoint' metadata is not a JSON object");
  if (!Number.isInteger(json.epoch) || json.epoch < 0) fail(`epoch must be a non-negative integer, got ${JSON.stringify(json.epoch)}`);
  if (!Array.isArray(json.history) || json.history.length !== json.epoch) {
    fail(`it says ${json.epoch} epochs were trained but holds ${Array.isArray(json.history) ? json.history.length : 'no'} epochs of metrics`);
  }
  if (!json.optimizer || !Array.isArray(json.optimizer.state) || typeof json.optimizer.options !== 'object') fail('the optimizer state is missing');
  if (!json.random || typeof json.random.global !== 'object') fail('the random generator state is missing');
  const model: Record<string, NDArray> = {};
  const used = new Set<string>();
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('model.')) {
      model[name.slice('model.'.length)] = t;
      used.add(name);
    }
  }
  if (Object.keys(model).length === 0) fail('it holds no model parameters');
  const state = json.optimizer.state.map((entry, i) => {
    if (entry === null) return null;
    const st: Record<string, number | FloatArray> = { ...entry.numbers };
    for (const key of entry.buffers) {
      const t = tensors[`optimizer.${i}.${key}`];
      if (!t) return fail(`the optimizer buffer 'optimizer.${i}.${key}' is missing`);
      used.add(`optimizer.${i}.${key}`);
      st[key] = t.data;
    }
    return st;
  });
  const stray = Object.keys(tensors).filter((n) => !used.has(n));
  if (stray.length > 0) fail(`it holds tensors that belong to nothing: ${stray.slice(0, 5).join(', ')}`);
  return {
    epoch: json.epoch,
    history: json.history,
    config: json.config as Config,
    model,
    optimizer: { options: json.optimizer.options, state },
    random: json.random,
    extra: json.extra,
  };
}

/** `dir`'s checkpoint file (`dir` may also name the file itself). */
export function checkpointFile(dir: string): string {
  return path.basename(dir) === CHECKPOINT_FILE ? dir : path.join(dir, CHECKPOINT_FILE);
}

/** True when `dir` holds a checkpoint file. */
export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(checkpointFile(dir));
}

/**
 * Writes `state` to `dir/checkpoint.safetensors` atomically (temporary file, fsync, rename), replacing the
 * previous epoch's. Creates `dir` when needed. Returns the file's path.
 */
export function saveCheckpoint<Config>(dir: string, state: CheckpointState<Config>): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = checkpointFile(dir);
  writeFileAtomic(file, serializeCheckpoint(state));
  return file;
}

/** Reads `dir/checkpoint.safetensors` (or the file `dir` names). Errors name the file. */
export function loadCheckpoint<Config = RunConfig>(dir: string): CheckpointState<Config> {
  const file = checkpointFile(dir);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      file,
      code === 'ENOENT' ? `${file}: no checkpoint there (a run writes one after each epoch into <out>/checkpoint)` : `${file}: cannot read the checkpoint: ${(e as Error).message}`,
    );
  }
  return parseCheckpoint<Config>(bytes, file);
}
