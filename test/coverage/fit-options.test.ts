/**
 * `fit`'s options that a server relies on: `signal` (cancel: fit rejects with an AbortError and does no more
 * work), `yieldEveryMs` (the event loop gets turns during an epoch, or not), and `lossReduction: 'sum'`
 * (the course's summed loss: reported metrics are per sample, i.e. divided by the batch's size).
 * Behaviour only, no wall-clock assertions: event-loop turns are counted with a setImmediate ticker.
 */
import { MLP, Random, SGD, TensorNode, crossEntropy, fit, loadSynth, type BatchMetrics, type Dataset, type EpochMetrics } from '../../lib';

const synth = loadSynth({ seed: 3, numTrain: 80, numVal: 24, dtype: 'float64' });
const train = synth.train;
const val = synth.val as Dataset;

function model(seed = 1): MLP {
  return new MLP({ inputSize: 2, hiddenSizes: [8], outputSize: 2, dtype: 'float64', random: new Random(seed) });
}

const meanLoss = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y);
const sumLoss = (logits: TensorNode, y: Int32Array) => crossEntropy(logits, y, { reduction: 'sum' });

function snapshot(m: MLP): number[] {
  return m.parameters().flatMap((p) => Array.from(p.value.data));
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected fit to reject, it resolved');
}

/** Counts event-loop turns: a setImmediate that re-arms itself. */
function ticker(): { count: () => number; stop: () => void } {
  let n = 0;
  let handle: NodeJS.Immediate;
  const tick = () => {
    n++;
    handle = setImmediate(tick);
  };
  handle = setImmediate(tick);
  return { count: () => n, stop: () => clearImmediate(handle) };
}

describe('signal', () => {
  test('aborting in the middle of an epoch rejects with an AbortError and no further step is taken', async () => {
    const m = model();
    const controller = new AbortController();
    const batches: BatchMetrics[] = [];
    const epochs: EpochMetrics[] = [];
    let atAbort: number[] = [];
    const err = await rejection(
      fit(m, { train, val }, {
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        loss: meanLoss,
        epochs: 3,
        batchSize: 16, // 5 batches per epoch
        signal: controller.signal,
        onBatch: (b) => {
          batches.push(b);
          if (b.batch === 2) {
            atAbort = snapshot(m);
            controller.abort();
          }
        },
        onEpoch: (e) => epochs.push(e),
      }),
    );
    expect(err.name).toBe('AbortError');
    expect(batches.map((b) => b.batch)).toEqual([1, 2]);
    expect(epochs).toHaveLength(0);
    expect(snapshot(m)).toEqual(atAbort);
  });

  test('an abort from outside (a timer) stops a running fit between batches', async () => {
    const m = model();
    const controller = new AbortController();
    let seen = 0;
    const p = fit(m, { train }, {
      optimizer: new SGD(m.parameters(), { lr: 0.1 }),
      loss: meanLoss,
      epochs: 50,
      batchSize: 8,
      yieldEveryMs: 0, // yield after every batch, so the timer can run
      signal: controller.signal,
      onBatch: () => seen++,
    });
    setImmediate(() => controller.abort());
    const err = await rejection(p);
    expect(err.name).toBe('AbortError');
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(50 * 10);
    const after = seen;
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toBe(after); // nothing runs after the rejection
  });

  test('an already-aborted signal rejects before the first batch, leaving the parameters untouched', async () => {
    const m = model();
    const before = snapshot(m);
    let batches = 0;
    const err = await rejection(
      fit(m, { train, val }, {
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        loss: meanLoss,
        epochs: 1,
        batchSize: 16,
        signal: AbortSignal.abort(),
        onBatch: () => batches++,
      }),
    );
    expect(err.name).toBe('AbortError');
    expect(batches).toBe(0);
    expect(snapshot(m)).toEqual(before);
  });

  test('aborting at the last batch stops before the epoch is evaluated and reported', async () => {
    const m = model();
    const controller = new AbortController();
    const epochs: EpochMetrics[] = [];
    const err = await rejection(
      fit(m, { train, val }, {
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        loss: meanLoss,
        epochs: 2,
        batchSize: 16,
        signal: controller.signal,
        onBatch: (b) => {
          if (b.batch === b.batches) controller.abort();
        },
        onEpoch: (e) => epochs.push(e),
      }),
    );
    expect(err.name).toBe('AbortError');
    expect(epochs).toHaveLength(0);
  });
});

describe('yieldEveryMs', () => {
  async function ticksPerBatch(yieldEveryMs: number): Promise<number[]> {
    const m = model();
    const t = ticker();
    const counts: number[] = [];
    try {
      // No validation set: the epoch loop is the only place fit could yield.
      await fit(m, { train }, {
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        loss: meanLoss,
        epochs: 1,
        batchSize: 8, // 10 batches
        yieldEveryMs,
        onBatch: () => counts.push(t.count()),
      });
    } finally {
      t.stop();
    }
    return counts;
  }

  test('0: the event loop gets a turn between every two batches', async () => {
    const counts = await ticksPerBatch(0);
    expect(counts).toHaveLength(10);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
  });

  test('a huge value: a short epoch runs without giving the event loop a single turn', async () => {
    const counts = await ticksPerBatch(1e9);
    expect(counts).toHaveLength(10);
    expect(new Set(counts).size).toBe(1);
  });
});

describe("lossReduction: 'sum'", () => {
  // 80 samples in batches of 16: all batches full, so sum = 16 x mean exactly and SGD with lr / 16 on the
  // summed loss takes the same steps as lr on the mean loss.
  async function run(loss: typeof meanLoss, lr: number, lossReduction?: 'mean' | 'sum') {
    const m = model(7);
    const batches: number[] = [];
    const history = await fit(m, { train, val }, {
      optimizer: new SGD(m.parameters(), { lr }),
      loss,
      lossReduction,
      epochs: 2,
      batchSize: 16,
      seed: 5,
      onBatch: (b) => batches.push(b.loss),
    });
    return { history, batches, params: snapshot(m) };
  }

  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

  test('a summed loss with lossReduction sum reports the same per-sample metrics as the mean loss', async () => {
    const mean = await run(meanLoss, 0.5);
    const sum = await run(sumLoss, 0.5 / 16, 'sum');
    expect(sum.params.every((v, i) => close(v, mean.params[i]))).toBe(true); // same training
    expect(sum.batches).toHaveLength(mean.batches.length);
    expect(sum.batches.every((v, i) => close(v, mean.batches[i]))).toBe(true);
    sum.history.forEach((h, i) => {
      const ref = mean.history[i];
      expect(close(h.trainLoss, ref.trainLoss)).toBe(true);
      expect(close(h.valLoss as number, ref.valLoss as number)).toBe(true);
      expect(h.trainAccuracy).toBe(ref.trainAccuracy);
      expect(h.valAccuracy).toBe(ref.valAccuracy);
    });
  });

  test("without lossReduction: 'sum' the same summed loss reports batch-size times larger losses (the option is what divides)", async () => {
    const mean = await run(meanLoss, 0.5);
    const undivided = await run(sumLoss, 0.5 / 16);
    expect(undivided.batches.every((v, i) => close(v, 16 * mean.batches[i]))).toBe(true);
    expect(close(undivided.history[1].trainLoss, 16 * mean.history[1].trainLoss)).toBe(true);
    // Validation runs in one batch of all 24 samples.
    expect(close(undivided.history[1].valLoss as number, 24 * (mean.history[1].valLoss as number))).toBe(true);
  });

  test('a partial last batch is divided by its own size: with a frozen model, metrics equal the mean cross-entropy', async () => {
    const m = model(9);
    const frozen = { step() {}, zeroGrad() {} }; // no updates: every batch sees the same model
    const sizes: number[] = [];
    const history = await fit(m, { train, val }, {
      optimizer: frozen,
      loss: sumLoss,
      lossReduction: 'sum',
      epochs: 1,
      batchSize: 24, // 80 = 3 x 24 + 8
      onBatch: (b) => sizes.push(b.samples),
    });
    expect(sizes).toEqual([24, 48, 72, 80]);
    const direct = (d: Dataset) => crossEntropy(m.forward(TensorNode.constant(d.x)), d.y).item();
    expect(close(history[0].trainLoss, direct(train))).toBe(true);
    expect(close(history[0].valLoss as number, direct(val))).toBe(true);
    // Cross-check of the reference itself: the mean equals the sum over samples / N.
    const summed = crossEntropy(m.forward(TensorNode.constant(train.x)), train.y, { reduction: 'sum' }).item();
    expect(close(summed / 80, direct(train))).toBe(true);
  });
});
