/**
 * Child process for test/kernels/shared-memory.test.ts: index arrays that live in a SharedArrayBuffer are
 * rewritten by a worker_thread in a tight loop (valid index <-> far out of range) while this thread calls the
 * public API (crossEntropyLoss, select, maxPool2d and their backward passes), the dispatched kernels and, on the
 * native backend, the raw addon, over and over. The process must survive: every call either returns or throws
 * an Error that names what was called. Prints one JSON line with the counts; exit code 0 means it got to the end.
 *
 * Run: node --require tsx/cjs test/kernels/fuzz/race-child.ts   (VUGRAD_BACKEND picks the backend;
 * VUGRAD_RACE_MS bounds each section's time).
 */
import { Worker } from 'node:worker_threads';
import { crossEntropyLoss, NDArray, TensorNode, backendInfo, kernels } from '../../../lib';
import { loadNative } from '../../../lib/kernels/native';

const ROWS = 2048;
const COLS = 10;
const MS = Number(process.env.VUGRAD_RACE_MS ?? 1500);
/** Far out of range both ways: an unchecked read at x + 2^30 elements (or 2^30 before it) is unmapped memory. */
const BAD = [1 << 30, -(1 << 30)];

// Index storage in shared memory, and a stop flag after it.
const sab = new SharedArrayBuffer(ROWS * 4 + 4);
const targets = new Int32Array(sab, 0, ROWS);
const stop = new Int32Array(sab, ROWS * 4, 1);
for (let r = 0; r < ROWS; r++) targets[r] = r % COLS;

// The worker flips every 97th index between a bad value and a good one. Atomics.store so that the JIT can
// neither drop nor merge the stores; the reader (the kernel) uses plain loads, as it would in practice.
const worker = new Worker(
  `
  const { workerData } = require('node:worker_threads');
  const t = new Int32Array(workerData.sab, 0, workerData.rows);
  const stop = new Int32Array(workerData.sab, workerData.rows * 4, 1);
  const bad = workerData.bad;
  let round = 0;
  while (Atomics.load(stop, 0) === 0) {
    round++;
    const b = bad[round & 1];
    for (let j = 5; j < t.length; j += 97) Atomics.store(t, j, b);
    for (let j = 5; j < t.length; j += 97) Atomics.store(t, j, j % ${COLS});
  }
  `,
  { eval: true, workerData: { sab, rows: ROWS, bad: BAD } },
);

interface Tally {
  calls: number;
  errors: number;
  unnamed: string[];
}
const tally: Record<string, Tally> = {};

/** Runs `call` repeatedly for MS milliseconds; an error must name one of `names`. */
function hammer(label: string, names: RegExp, call: () => void): void {
  const t: Tally = (tally[label] = { calls: 0, errors: 0, unnamed: [] });
  const end = Date.now() + MS;
  while (Date.now() < end) {
    t.calls++;
    try {
      call();
    } catch (e) {
      t.errors++;
      const msg = e instanceof Error ? e.message : String(e);
      if (!(e instanceof Error) || !names.test(msg)) {
        if (t.unnamed.length < 5) t.unnamed.push(msg);
      }
    }
  }
}

const logits = new Float32Array(ROWS * COLS).map((_, i) => Math.sin(i));
const probs = new Float32Array(ROWS * COLS);
const losses = new Float32Array(ROWS);
const scale = new Float32Array(ROWS).fill(1);
const grad = new Float32Array(ROWS * COLS);
const picked = new Float32Array(ROWS);

async function main(): Promise<void> {
  // Let the worker start spinning first.
  await new Promise((r) => setTimeout(r, 200));

  hammer('api crossEntropyLoss', /cross_?entropy/i, () => {
    const x = new TensorNode(new NDArray(logits.slice(), [ROWS, COLS]), { requiresGrad: true });
    const loss = crossEntropyLoss(x, targets);
    loss.backward();
  });
  hammer('api select', /select|gather|scatterAxis/i, () => {
    const x = new TensorNode(new NDArray(logits.slice(), [ROWS, COLS]), { requiresGrad: true });
    const s = (x as unknown as { select(i: ArrayLike<number>): TensorNode }).select(targets);
    s.sum().backward();
  });
  hammer('kernels crossEntropy', /crossEntropy/, () => kernels.crossEntropy(logits, ROWS, COLS, targets, losses, probs));
  hammer('kernels crossEntropyBackward', /crossEntropyBackward/, () =>
    kernels.crossEntropyBackward(probs, targets, scale, ROWS, COLS, grad),
  );
  hammer('kernels gather', /gather/, () => kernels.gather(logits, ROWS, COLS, targets, picked));
  hammer('kernels scatterAxis', /scatterAxis/, () => kernels.scatterAxis(picked, targets, ROWS, COLS, 1, grad));
  // maxPool2dBackward: the shared indices as argmax over ROWS planes of one 1x1 window each (h*w = COLS).
  hammer('kernels maxPool2dBackward', /maxPool2dBackward/, () =>
    kernels.maxPool2dBackward(picked, targets, ROWS, 1, COLS, 1, 1, grad),
  );

  const info = backendInfo();
  if (info.backend === 'native') {
    const b = loadNative().binding;
    if (!b) throw new Error('native backend reported but the addon did not load here');
    hammer('raw crossEntropy', /crossEntropy/, () => b.crossEntropy(logits, ROWS, COLS, targets, losses, probs));
    hammer('raw crossEntropyBackward', /crossEntropyBackward/, () =>
      b.crossEntropyBackward(probs, targets, scale, ROWS, COLS, grad),
    );
    hammer('raw gather', /gather/, () => b.gather(logits, ROWS, COLS, targets, picked));
    hammer('raw scatterAxis', /scatterAxis/, () => b.scatterAxis(picked, targets, ROWS, COLS, 1, grad));
    hammer('raw maxPool2dBackward', /maxPool2dBackward/, () =>
      b.maxPool2dBackward(picked, targets, ROWS, 1, COLS, 1, 1, grad),
    );
  }

  Atomics.store(stop, 0, 1);
  await worker.terminate();
  console.log(JSON.stringify({ backend: info.backend, tally }));
}

main().catch((e) => {
  console.error(e);
  process.exit(3);
});
