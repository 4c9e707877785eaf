/**
 * How many training samples to hold out for validation. `valSize` is either a fraction of the training file
 * (a number strictly between 0 and 1: `0.1` holds out 10%) or a count (an integer: `5000`, or `0` for no
 * validation set). Each data set has a default fraction that gives the course's split on the full data
 * (CIFAR-10: 5,000 of 50,000; MNIST: 5,000 of 60,000), so a smaller copy of the data gets a split in
 * proportion instead of an error.
 *
 * @example
 * resolveValSize('cifar10', 50000, undefined, 0.1); // 5000
 * resolveValSize('cifar10', 500, undefined, 0.1);   // 50
 * resolveValSize('mnist', 60000, 0.2, 1 / 12);      // 12000
 * resolveValSize('mnist', 60000, 1000, 1 / 12);     // 1000
 */

/**
 * The number of validation samples to hold out of `nTrain` training samples. A fraction rounds to the
 * nearest count but holds out at least one sample (and leaves at least one for training); a count must leave
 * at least one training sample. Throws a `RangeError` naming `where`, the value and the valid range.
 */
export function resolveValSize(where: string, nTrain: number, valSize: number | undefined, defaultFraction: number): number {
  const v = valSize ?? defaultFraction;
  const valid = (Number.isInteger(v) && v >= 0) || (v > 0 && v < 1);
  if (typeof v !== 'number' || !valid) {
    throw new RangeError(
      `${where}: valSize must be a fraction between 0 and 1 (such as 0.1) or a count of samples (an integer >= 0), got ${String(v)}`,
    );
  }
  if (Number.isInteger(v)) {
    if (v > 0 && v >= nTrain) {
      throw new RangeError(
        `${where}: a validation set of ${v} samples leaves nothing to train on: there are ${nTrain} training samples. ` +
          `Hold out fewer (valSize, --val-size), or a fraction such as 0.1`,
      );
    }
    return v;
  }
  if (nTrain === 0) return 0;
  if (nTrain === 1) {
    throw new RangeError(`${where}: there is 1 training sample, too few to hold out a validation set; use valSize 0 (--val-size 0) or final (--final)`);
  }
  return Math.min(nTrain - 1, Math.max(1, Math.round(v * nTrain)));
}

/**
 * Checks a loader's `limit` (at most this many samples per split): a positive integer, or Infinity for all.
 * Returns it (Infinity when absent). NOTE: a NaN or negative limit used to slice silently wrong ranges.
 */
export function checkLimit(where: string, limit: number | undefined): number {
  if (limit === undefined || limit === Infinity) return Infinity;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`${where}: limit must be a positive integer (samples per split), got ${String(limit)}`);
  }
  return limit;
}
