/**
 * Using a job's trained model: rebuild the architecture from its config and data shape, load the
 * safetensors bytes, and classify rows of inputs.
 *
 * @example
 * const net = modelFromJob(job.config, job.info!, job.model!);
 * const { classes, probabilities } = predictRows(net, [[0.1, 0.7]], job.info!.inputShape);
 */
import { buildModel } from '../train/recipe';
import type { RunConfig } from '../train/config';
import { NDArray, shapeSize } from '../core/ndarray';
import { TensorNode } from '../core/tensor-node';
import { parseSafetensors } from '../io';
import type { Module } from '../nn';
import { softmax } from '../ops/functions';
import { predictClasses } from '../train/fit';
import { InputError } from './errors';
import type { JobInfo } from './protocol';

/** A model of the job's architecture holding the trained parameters from `bytes` (safetensors). */
export function modelFromJob(config: RunConfig, info: Pick<JobInfo, 'inputShape' | 'numClasses'>, bytes: Uint8Array): Module {
  // buildModel reads only the sample shape and the class count from the data set: an empty one of that shape.
  const empty = { x: NDArray.zeros([0, ...info.inputShape]), y: new Int32Array(0), numClasses: info.numClasses, name: 'job' };
  const model = buildModel(config, empty);
  model.loadStateDict(parseSafetensors(bytes, 'job model').tensors);
  return model.eval();
}

export interface Predictions {
  /** The most probable class of each row. */
  classes: number[];
  /** Softmax probabilities, one row per input row. */
  probabilities: number[][];
}

/**
 * Classifies `inputs` (one flattened sample per row, `shapeSize(inputShape)` numbers each, in the same
 * preprocessing as the training data). Throws an `InputError` (a RangeError) naming the first row of the wrong
 * length, or the row and column of the first value that is not finite in float32 (NaN, Infinity, or a number
 * beyond float32's range such as 1e308, which would become Infinity and make every probability meaningless).
 */
export function predictRows(model: Module, inputs: readonly (readonly number[])[], inputShape: readonly number[]): Predictions {
  const width = shapeSize(inputShape);
  const x = new Float32Array(inputs.length * width);
  inputs.forEach((row, i) => {
    if (row.length !== width) throw new InputError(`inputs[${i}]`, `inputs[${i}]: expected ${width} numbers (a sample of shape [${inputShape.join(',')}]), got ${row.length}`);
    x.set(row, i * width);
    for (let j = 0; j < width; j++) {
      if (!Number.isFinite(x[i * width + j])) {
        const field = `inputs[${i}][${j}]`;
        throw new InputError(field, `${field}: ${row[j]} is not a finite float32 (the model computes in float32, whose largest value is about 3.4e38)`);
      }
    }
  });
  model.eval();
  const logits = model.forward(TensorNode.constant(new NDArray(x, [inputs.length, ...inputShape])));
  const probs = softmax(logits).value;
  const classes = Array.from(predictClasses(logits.value));
  const k = probs.shape[1];
  const probabilities = classes.map((_, i) => Array.from(probs.data.subarray(i * k, (i + 1) * k)));
  return { classes, probabilities };
}
