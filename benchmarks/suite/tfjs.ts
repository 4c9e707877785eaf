/**
 * The suite's TensorFlow.js runner (a child of benchmarks/bench.ts): `backend` 'cpu' (@tensorflow/tfjs),
 * 'wasm' (@tensorflow/tfjs-backend-wasm) or 'tensorflow' (@tensorflow/tfjs-node). The peers live in
 * benchmarks/node_modules (benchmarks/package.json), never in vugrad's dependencies, so they are loaded
 * untyped. Same workloads, data and models as vugrad.ts, in tfjs's NHWC layout.
 */
import { emit, labels, medianCall, now, parseConfig, rate, rssMB, runAll, SIZES, synthetic, type Cell, type WorkloadId } from './common';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
type Tf = any;

async function main(): Promise<void> {
  const config = parseConfig();
  const backend = config.backend ?? 'cpu';
  const framework = backend === 'tensorflow' ? 'tfjs-node' : `tfjs-${backend}`;
  let tf: Tf;
  let threads = 1;
  try {
    if (backend === 'tensorflow') {
      tf = require('@tensorflow/tfjs-node');
    } else {
      tf = require('@tensorflow/tfjs');
      if (backend === 'wasm') {
        const wasm = require('@tensorflow/tfjs-backend-wasm');
        if (config.threads > 0 && typeof wasm.setThreadsCount === 'function') wasm.setThreadsCount(config.threads);
        await tf.setBackend('wasm');
        threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : 1;
      } else {
        await tf.setBackend('cpu');
      }
    }
    await tf.ready();
  } catch (err) {
    const why =
      backend === 'tensorflow'
        ? `does not load (install it offline: bash benchmarks/install-tfjs-node.sh): ${(err as Error).message.split('\n')[0].slice(0, 120)}`
        : `does not load: ${(err as Error).message.split('\n')[0]}`;
    const cells: Partial<Record<WorkloadId, Cell>> = {};
    for (const w of config.workloads) cells[w] = { error: why };
    emit({ framework, version: '-', threads: 0, cells });
    return;
  }
  const seconds = config.seconds;

  function dense(inF: number, outF: number): { w: Tf; b: Tf } {
    const bound = 1 / Math.sqrt(inF);
    return { w: tf.variable(tf.randomUniform([inF, outF], -bound, bound)), b: tf.variable(tf.randomUniform([outF], -bound, bound)) };
  }
  function convParam(c: number, o: number): { w: Tf; b: Tf } {
    const bound = 1 / Math.sqrt(c * 25);
    return { w: tf.variable(tf.randomUniform([5, 5, c, o], -bound, bound)), b: tf.variable(tf.randomUniform([o], -bound, bound)) };
  }
  type Model = { forward: (x: Tf) => Tf; vars: Tf[] };
  const mlp = (hidden = 300, act = 'relu'): Model => {
    const l1 = dense(784, hidden);
    const l2 = dense(hidden, 10);
    return {
      forward: (x) => {
        const h = tf.add(tf.matMul(x, l1.w), l1.b);
        return tf.add(tf.matMul(act === 'relu' ? tf.relu(h) : tf.sigmoid(h), l2.w), l2.b);
      },
      vars: [l1.w, l1.b, l2.w, l2.b],
    };
  };
  const lenet = (): Model => {
    const c1 = convParam(3, 6);
    const c2 = convParam(6, 16);
    const f1 = dense(400, 120);
    const f2 = dense(120, 84);
    const f3 = dense(84, 10);
    return {
      forward: (x) => {
        let y = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1.w, 1, 'valid'), c1.b)), 2, 2, 'valid');
        y = tf.maxPool(tf.relu(tf.add(tf.conv2d(y, c2.w, 1, 'valid'), c2.b)), 2, 2, 'valid');
        y = tf.reshape(y, [-1, 400]);
        y = tf.relu(tf.add(tf.matMul(y, f1.w), f1.b));
        y = tf.relu(tf.add(tf.matMul(y, f2.w), f2.b));
        return tf.add(tf.matMul(y, f3.w), f3.b);
      },
      vars: [c1.w, c1.b, c2.w, c2.b, f1.w, f1.b, f2.w, f2.b, f3.w, f3.b],
    };
  };
  const oneHot = (y: Int32Array): Tf => tf.oneHot(tf.tensor1d(y, 'int32'), 10);
  function makeStep(model: Model, optimizer: Tf): (x: Tf, y: Tf) => void {
    return (x, y) => {
      tf.tidy(() => {
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), false, model.vars);
      });
    };
  }
  async function train(model: Model, shape: number[]): Promise<Cell> {
    const x = tf.tensor(synthetic(shape.reduce((a, b) => a * b)), shape);
    const y = oneHot(labels(shape[0]));
    const step = makeStep(model, tf.train.momentum(0.01, 0.9));
    const steps = await rate(() => step(x, y), seconds);
    return { value: steps * shape[0] };
  }
  function batches(n: number, batch: number): { x: Tf; y: Tf }[] {
    const xs = synthetic(n * 784);
    const ys = labels(n);
    const out: { x: Tf; y: Tf }[] = [];
    for (let i = 0; i < n; i += batch) {
      const b = Math.min(batch, n - i);
      out.push({ x: tf.tensor2d(xs.subarray(i * 784, (i + b) * 784), [b, 784]), y: oneHot(ys.subarray(i, i + b)) });
    }
    return out;
  }

  const cells = await runAll(
    config,
    {
      gemm1024: async () => {
        const n = 1024;
        const a = tf.tensor2d(synthetic(n * n), [n, n]);
        const b = tf.tensor2d(synthetic(n * n, 7), [n, n]);
        const t = await medianCall(() => {
          const c = tf.matMul(a, b);
          c.dataSync();
          c.dispose();
        }, seconds);
        return { value: (2 * n ** 3) / t / 1e9 };
      },
      conv: async () => {
        const x = tf.tensor4d(synthetic(64 * 3 * 32 * 32), [64, 32, 32, 3]);
        const w = tf.tensor4d(synthetic(450, 3), [5, 5, 3, 6]);
        const b = tf.tensor1d(synthetic(6, 5));
        const dy = tf.ones([64, 28, 28, 6]);
        const grads = tf.grads((xx: Tf, ww: Tf, bb: Tf) => tf.add(tf.conv2d(xx, ww, 1, 'valid'), bb));
        const calls = await rate(() => {
          tf.tidy(() => {
            const gs = grads([x, w, b], dy);
            for (const g of gs) g.dataSync();
          });
        }, seconds);
        return { value: 1000 / calls };
      },
      mlp128: () => train(mlp(), [128, 784]),
      mlp16: () => train(mlp(), [16, 784]),
      lenet4: () => train(lenet(), [4, 32, 32, 3]),
      lenet64: () => train(lenet(), [64, 32, 32, 3]),
      mnistEpoch: () => {
        const model = mlp(3136, 'sigmoid');
        const step = makeStep(model, tf.train.sgd(0.1));
        const data = batches(SIZES.mnistTrain, 128);
        step(data[0].x, data[0].y);
        const t0 = now();
        let done = 0;
        while (done < data.length && now() - t0 < config.epochCap) {
          step(data[done].x, data[done].y);
          done++;
        }
        return { value: ((now() - t0) * data.length) / done, extra: { extrapolated: done < data.length, batchesTimed: done } };
      },
      memory: () => {
        const model = mlp();
        const step = makeStep(model, tf.train.momentum(0.01, 0.9));
        const data = batches(SIZES.memorySamples, 128);
        const perEpoch: number[] = [];
        const t0 = now();
        for (let e = 0; e < SIZES.memoryEpochs && now() - t0 < config.memoryCap; e++) {
          for (const { x, y } of data) step(x, y);
          perEpoch.push(Number(rssMB().rss.toFixed(1)));
        }
        return { value: rssMB().peak, extra: { rssPerEpoch: perEpoch } };
      },
    },
    backend === 'wasm'
      ? {
          conv: 'no conv filter gradient (Conv2DBackpropFilter) in tfjs-wasm',
          lenet4: 'cannot train conv nets (no Conv2DBackpropFilter in tfjs-wasm)',
          lenet64: 'cannot train conv nets (no Conv2DBackpropFilter in tfjs-wasm)',
        }
      : {},
  );
  emit({ framework, version: `${tf.version?.tfjs ?? tf.version_core ?? '?'} (${tf.getBackend()})`, threads, cells });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
