/**
 * bf16 mixed precision in jobs (issue 20): a job spec's `precision` is checked like every other field, and it
 * reaches the training worker thread through the run config. Where bf16 can run here the job trains in it;
 * elsewhere the job fails with the kernels' reason (never silently in fp32).
 */
import { SpecError, TrainingError, resolveTrainingSpec, trainInWorker, type TrainingSpec } from '../../lib/jobs';
import { bf16Support } from '../../lib/kernels';

const support = bf16Support();

describe('a job spec with precision', () => {
  test('accepts fp32 and bf16; the config carries bf16 (fp32 is the absent default)', () => {
    expect(resolveTrainingSpec({ dataset: 'mnist', precision: 'bf16' })).toMatchObject({ dataset: 'mnist', precision: 'bf16' });
    expect(resolveTrainingSpec({ dataset: 'mnist', precision: 'fp32' }).precision).toBeUndefined();
    expect(resolveTrainingSpec({ dataset: 'mnist' }).precision).toBeUndefined();
  });

  test('refuses other values, naming the field and the allowed values', () => {
    const refused = (spec: unknown): SpecError => {
      try {
        resolveTrainingSpec(spec);
      } catch (e) {
        return e as SpecError;
      }
      throw new Error(`accepted ${JSON.stringify(spec)}`);
    };
    for (const [value, message] of [
      ['fp16', "precision: 'fp16' is not one of fp32, bf16"],
      ['BF16', "precision: 'BF16' is not one of fp32, bf16"],
      [16, 'precision: expected a string, got 16'],
      [true, 'precision: expected a string, got true'],
    ] as const) {
      const e = refused({ dataset: 'synth', precision: value });
      expect(e).toBeInstanceOf(SpecError);
      expect(e).toMatchObject({ code: 'INVALID_SPEC', field: 'precision' });
      expect(e.message).toBe(message);
    }
    const e = refused({ dataset: 'mnist', precision: 'bf16', dtype: 'float64' });
    expect(e).toMatchObject({ field: 'precision' });
    expect(e.message).toMatch(/^precision bf16: .*float64/);
  });
});

const SPEC: TrainingSpec = { dataset: 'mnist', hidden: [32], epochs: 2, limit: 1000, seed: 3, precision: 'bf16' };

if (support.supported) {
  test(`a bf16 job trains in its worker thread (${support.reason})`, async () => {
    const r = await trainInWorker(SPEC);
    expect(r.config.precision).toBe('bf16');
    expect(r.history).toHaveLength(2);
    expect(r.history[1].trainLoss).toBeLessThan(r.history[0].trainLoss);
    // The same job in fp32 trains to different weights: the setting reached the worker's kernels.
    const fp32 = await trainInWorker({ ...SPEC, precision: 'fp32' });
    const first = Object.keys(r.stateDict)[0];
    expect(Array.from(r.stateDict[first].data)).not.toEqual(Array.from(fp32.stateDict[first].data));
  });
} else {
  test(`a bf16 job fails with the reason where bf16 cannot run (${support.reason})`, async () => {
    const run = trainInWorker(SPEC);
    await expect(run).rejects.toBeInstanceOf(TrainingError);
    await expect(run).rejects.toThrow(`precision 'bf16' is not available here: ${support.reason}`);
  });
}
