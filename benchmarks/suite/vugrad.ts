/**
 * The suite's vugrad runner (a child of benchmarks/bench.ts). The kernel backend is chosen when vugrad loads,
 * so the JS fallback is this same file started with VUGRAD_BACKEND=js.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { NDArray } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import { backendInfo, getNumThreads, kernels, releaseFreedMemory, setNumThreads, setPrecision, getPrecision, type Precision } from '../../lib/kernels';
import { LeNet, MLP } from '../../lib/nn/models';
import { crossEntropyLoss } from '../../lib/nn/losses';
import { Conv2dOp } from '../../lib/ops/conv';
import { SGD } from '../../lib/optim/sgd';
import { batches } from './vugrad-data';
import { emit, labels, medianCall, medianOfCalls, now, parseConfig, rate, rssMB, runAll, SIZES, synthetic, type Cell } from './common';

/** A full collection on demand: bench.ts starts runners without --expose-gc. undefined where V8 refuses. */
function exposeGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version = (require('../../package.json') as { version: string }).version;

async function main(): Promise<void> {
  const config = parseConfig();
  if (config.threads > 0) setNumThreads(config.threads);
  // vugrad-bf16: throws (and the column says why) where bf16 cannot run.
  if (process.env.VUGRAD_BENCH_PRECISION) setPrecision(process.env.VUGRAD_BENCH_PRECISION as Precision);
  const info = backendInfo();
  const seconds = config.seconds;

  /** samples/s of SGD (momentum 0.9) training steps on one fixed batch. */
  async function train(model: MLP | LeNet, shape: number[]): Promise<Cell> {
    const batch = shape[0];
    const x = new NDArray(synthetic(shape.reduce((a, b) => a * b)), shape);
    const y = labels(batch);
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const steps = await rate(() => {
      const loss = crossEntropyLoss(model.call(TensorNode.constant(x)), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      loss.clear();
    }, seconds);
    return { value: steps * batch };
  }

  const mlp = (): MLP => new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10 });

  const cells = await runAll(config, {
    gemm1024: async () => {
      const n = 1024;
      const a = synthetic(n * n);
      const b = synthetic(n * n, 7);
      const c = new Float32Array(n * n);
      const t = await medianCall(() => kernels.gemm(false, false, n, n, n, 1, a, b, 0, c), seconds);
      return { value: (2 * n ** 3) / t / 1e9 };
    },
    conv: async () => {
      const x = new TensorNode(new NDArray(synthetic(64 * 3 * 32 * 32), [64, 3, 32, 32]));
      const w = new TensorNode(new NDArray(synthetic(6 * 3 * 5 * 5, 3), [6, 3, 5, 5]));
      const b = new TensorNode(new NDArray(synthetic(6, 5), [6]));
      const g = NDArray.ones([64, 6, 28, 28]);
      const calls = await rate(() => {
        const y = Conv2dOp.doForward(x, w, b, {});
        x.zeroGrad();
        y.backward(g);
      }, seconds);
      return { value: 1000 / calls };
    },
    mlp128: () => train(mlp(), [128, 784]),
    mlp16: () => train(mlp(), [16, 784]),
    lenet4: () => train(new LeNet(), [4, 3, 32, 32]),
    lenet64: () => train(new LeNet(), [64, 3, 32, 32]),
    mnistEpoch: () => {
      // The course's MNIST network: 784-3136-10, sigmoid, plain SGD, batch 128, one epoch of 60,000 samples.
      const model = new MLP({ inputSize: 784, hiddenSizes: [3136], outputSize: 10, activation: 'sigmoid' });
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      const data = batches(SIZES.mnistTrain, 128);
      const stepOn = ({ x, y }: { x: NDArray; y: Int32Array }): void => {
        const loss = crossEntropyLoss(model.call(TensorNode.constant(x)), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        loss.clear();
      };
      // The same epoch's matrix multiplies alone (full batches of 128, same shapes, same dispatch):
      // Y1 = X W1^T, Y2 = H W2^T; dH = G2 W2, dW2 = G2^T H, dW1 = G1^T X (the input needs no gradient).
      const h = 3136;
      const X = synthetic(128 * 784);
      const W1 = synthetic(h * 784, 1);
      const H = new Float32Array(128 * h);
      const W2 = synthetic(10 * h, 2);
      const Y2 = new Float32Array(128 * 10);
      const dW1 = new Float32Array(h * 784);
      const dW2 = new Float32Array(10 * h);
      const gemms = (): void => {
        kernels.gemm(false, true, 128, h, 784, 1, X, W1, 0, H);
        kernels.gemm(false, true, 128, 10, h, 1, H, W2, 0, Y2);
        kernels.gemm(false, false, 128, h, 10, 1, Y2, W2, 0, H);
        kernels.gemm(true, false, 10, h, 128, 1, Y2, H, 0, dW2);
        kernels.gemm(true, false, h, 784, 128, 1, H, X, 0, dW1);
      };
      const n = 1024;
      const A = synthetic(n * n);
      const B = synthetic(n * n, 7);
      const C = new Float32Array(n * n);
      const gemm1024 = (): void => kernels.gemm(false, false, n, n, n, 1, A, B, 0, C);
      const macsPerSample = 784 * h + h * 10 + h * 10 + h * 10 + h * 784;
      stepOn(data[0]); // warm-up
      gemms();
      gemm1024();
      // NOTE: interleaved. After every chunk of training steps, the same steps' gemms alone and the 1024^3 gemm
      // are timed, and each chunk is compared with what was measured next to it: a slow phase of a shared
      // machine (here the same gemms took 3.8 s in one run and 7.6 s in the next) slows both sides alike.
      const chunk = 24;
      let trained = 0; // seconds in training steps
      let gemmOnly = 0; // seconds the same samples' gemms take alone
      let atRate = 0; // seconds the same samples' FLOP take at the 1024^3 rate
      let done = 0;
      while (done < data.length && trained < config.epochCap) {
        const first = done;
        const t0 = now();
        for (const end = Math.min(done + chunk, data.length); done < end; ) stepOn(data[done++]);
        trained += now() - t0;
        let samples = 0;
        for (let i = first; i < done; i++) samples += data[i].y.length;
        gemmOnly += (medianOfCalls(gemms, 5) * samples) / 128;
        atRate += (2 * macsPerSample * samples) / ((2 * n ** 3) / medianOfCalls(gemm1024, 3));
      }
      const scale = data.length / done; // extrapolated to the whole epoch when capped
      return {
        value: trained * scale,
        extra: {
          extrapolated: done < data.length,
          batchesTimed: done,
          gemmOnlySeconds: gemmOnly * scale,
          atGemm1024RateSeconds: atRate * scale,
          gflopPerEpoch: (2 * macsPerSample * SIZES.mnistTrain) / 1e9,
        },
      };
    },
    memory: async () => {
      // MLP 784-300-10, batch 128, 10 epochs over 10,000 samples: RSS after each epoch and the peak, read as
      // they come (as the other frameworks' runners read them).
      //
      // Whether training keeps memory is not judged on those readings (issue 20: "+3.1 MB from epoch 2 to 10";
      // benchmarks/rss-probe.ts). Each step's activations and gradients are new Float32Arrays whose stores
      // glibc malloc holds; those that outlive a scavenge wait for V8's next full collection, so the dead stores
      // still held swing 35 -> 65 MB and back every 5-7 epochs, and malloc's heap keeps its high-water mark.
      // Raw RSS so climbs 1-5 MB over the first 10-20 epochs, then stays in a band (100 epochs: medians of each
      // 10 within 133-137 MB), and one reading can sit several MB off its neighbours. Epoch 10 - epoch 2 was
      // -0.4 to +3.1 MB in 45 of 47 runs, +11.5 and +14.9 in two whose epoch-2 reading fell just after a full
      // collection. Collected and trimmed after every epoch, RSS rose 0.9 MB from epoch 10 to 100, malloc's
      // bytes in use 4.53 -> 4.58 MB (mallinfo2), V8's heap + external flat: no leak.
      //
      // So after the raw epochs (the peak is taken first), 8 more epochs run between two settled readings: a
      // full collection, a pause for the stores V8 frees behind it, another collection, and malloc_trim
      // (releaseFreedMemory). Their RSS (settledRss) and V8's heap + external (retainedHeapExternal) are what
      // training kept: -0.2 to +1.0 MB and -0.1 to 0.0 MB over 12 runs. Settling inside the raw epochs instead
      // moved the raw readings after it (the trimmed heap growing back: +10 MB from epoch 2 to 3 in one run).
      const model = mlp();
      const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const data = batches(SIZES.memorySamples, 128);
      const epoch = (): void => {
        for (const { x, y } of data) {
          const loss = crossEntropyLoss(model.call(TensorNode.constant(x)), y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
          loss.clear();
        }
      };
      const perEpoch: number[] = [];
      const t0 = now();
      for (let e = 0; e < SIZES.memoryEpochs && now() - t0 < config.memoryCap; e++) {
        epoch();
        perEpoch.push(Number(rssMB().rss.toFixed(1)));
      }
      const extra: Cell['extra'] = { rssPerEpoch: perEpoch };
      const peak = rssMB().peak;
      const gc = exposeGc();
      if (gc && perEpoch.length === SIZES.memoryEpochs) {
        const settledRss: number[] = [];
        const retainedHeapExternal: number[] = [];
        const settle = async (): Promise<void> => {
          gc();
          await new Promise((r) => setTimeout(r, 50));
          gc();
          releaseFreedMemory();
          const m = process.memoryUsage();
          settledRss.push(Number((m.rss / 2 ** 20).toFixed(1)));
          retainedHeapExternal.push(Number(((m.heapUsed + m.external) / 2 ** 20).toFixed(1)));
        };
        await settle();
        let more = 0;
        for (; more < SIZES.memoryEpochs - 2 && now() - t0 < config.memoryCap; more++) epoch();
        await settle();
        if (more === SIZES.memoryEpochs - 2) Object.assign(extra, { settledRss, retainedHeapExternal });
      }
      return { value: peak, extra };
    },
  });
  emit({
    framework: info.backend === 'native' ? 'vugrad-native' : 'vugrad-js',
    version: `${version} (${info.backend}${info.blasCore ? ', OpenBLAS ' + info.blasCore : ''}${info.providers ? `, gemm: ${info.providers.gemm.provider}` : ''}${getPrecision() === 'bf16' ? ', bf16' : ''})`,
    threads: getNumThreads(),
    cells,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
