/**
 * A training job's spec: plain JSON (it crosses a thread boundary and arrives over HTTP), resolved into the
 * command line's `RunConfig` by the same `resolveConfig`, so that a job and `vugrad train` with the same
 * settings train the same model.
 *
 * @example
 * const config = resolveTrainingSpec({ dataset: 'mnist', hidden: [128], lr: 0.001, epochs: 2, limit: 5000 });
 */
import { resolveConfig, ConfigError, type RunConfig, type TrainFlags } from '../train/config';
import { SpecError } from './errors';

/** A job's settings: any `RunConfig` field but `out` (jobs return their model instead of writing files). */
export type TrainingSpec = Partial<Omit<RunConfig, 'out'>> & { dataset: RunConfig['dataset'] };

type Kind = 'string' | 'number' | 'boolean' | 'numbers';

/** The spec fields, their JSON types and the CLI flag each becomes. */
const FIELDS: Record<string, [Kind, keyof TrainFlags, string]> = {
  dataset: ['string', 'dataset', '--dataset'],
  model: ['string', 'model', '--model'],
  hidden: ['numbers', 'hidden', '--hidden'],
  activation: ['string', 'activation', '--activation'],
  init: ['string', 'init', '--init'],
  optimizer: ['string', 'optimizer', '--optimizer'],
  momentum: ['number', 'momentum', '--momentum'],
  lr: ['number', 'learningRate', '--learning-rate'],
  batchSize: ['number', 'batchSize', '--batch-size'],
  epochs: ['number', 'epochs', '--epochs'],
  loss: ['string', 'loss', '--loss'],
  reduction: ['string', 'reduction', '--reduction'],
  seed: ['number', 'seed', '--seed'],
  final: ['boolean', 'final', '--final'],
  raw: ['boolean', 'raw', '--raw'],
  normalize: ['boolean', 'normalize', '--normalize'],
  dtype: ['string', 'dtype', '--dtype'],
  data: ['string', 'data', '--data'],
  limit: ['number', 'limit', '--limit'],
  valSize: ['number', 'valSize', '--val-size'],
  preset: ['string', 'preset', '--preset'],
  schedule: ['string', 'schedule', '--schedule'],
  warmup: ['number', 'warmup', '--warmup'],
  labelSmoothing: ['number', 'labelSmoothing', '--label-smoothing'],
  weightDecay: ['number', 'weightDecay', '--weight-decay'],
  nesterov: ['boolean', 'nesterov', '--nesterov'],
  augment: ['boolean', 'augment', '--augment'],
  precision: ['string', 'precision', '--precision'],
};

/** The spec field a `resolveConfig` error is about (`--learning-rate: ...` is about `lr`). */
function fieldOfConfigError(message: string): string {
  const flag = /^--([a-z-]+)/.exec(message)?.[0];
  if (flag === '--layers') return 'hidden';
  for (const [field, [, , f]] of Object.entries(FIELDS)) if (f === flag) return field;
  return 'spec';
}

/**
 * Checks a spec's JSON types and resolves it against the data set's defaults (the CLI's rules). Throws a
 * `SpecError` naming the field: unknown fields, wrong types, unknown values, incompatible combinations.
 */
export function resolveTrainingSpec(spec: unknown): RunConfig {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new SpecError('spec', `a training spec must be a JSON object, got ${Array.isArray(spec) ? 'an array' : String(spec)}`);
  }
  const flags: TrainFlags = {};
  for (const [field, value] of Object.entries(spec as Record<string, unknown>)) {
    const entry = FIELDS[field];
    if (!entry) throw new SpecError(field, `${field}: unknown field; known fields are ${Object.keys(FIELDS).join(', ')}`);
    if (value === undefined) continue;
    const [kind, flag] = entry;
    const ok =
      kind === 'numbers'
        ? Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v))
        : kind === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : typeof value === kind;
    if (!ok) {
      const want = kind === 'numbers' ? 'an array of numbers' : `a ${kind}`;
      throw new SpecError(field, `${field}: expected ${want}, got ${JSON.stringify(value)}`);
    }
    if (kind === 'boolean') (flags[flag] as boolean | undefined) = value as boolean;
    else if (kind === 'numbers') (flags[flag] as string | undefined) = (value as number[]).join(',');
    else (flags[flag] as string | undefined) = String(value);
  }
  if (flags.dataset === undefined) throw new SpecError('dataset', 'dataset: required (one of synth, mnist, fashion-mnist, cifar10)');
  if (flags.hidden === '') throw new SpecError('hidden', 'hidden: expected at least one layer size');
  try {
    return resolveConfig(flags);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = fieldOfConfigError(e.message);
    throw new SpecError(field, e.message.replace(/^--[a-z-]+/, field));
  }
}
