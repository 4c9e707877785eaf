/**
 * Checkpoints: the format round-trips, bad files are named, and a run interrupted after any epoch and resumed
 * from its checkpoint ends, in float64, with bit-for-bit the weights of an uninterrupted run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray } from '../../lib/core/ndarray';
import { Random, getRngState, manualSeed, setRngState } from '../../lib/core/random';
import { resolveConfig } from '../../lib/train/config';
import { CheckpointError, loadCheckpoint, parseCheckpoint, saveCheckpoint, serializeCheckpoint, type CheckpointState } from '../../lib/train/checkpoint';
import { trainFromConfig } from '../../lib/train/recipe';
import { loadSafetensors, serializeSafetensors } from '../../lib/io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-ckpt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sample(): CheckpointState {
  return {
    epoch: 1,
    history: [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.75, valLoss: 0.25, valAccuracy: 0.8, seconds: 1, samplesPerSec: 10 }],
    config: resolveConfig({ dataset: 'synth' }),
    model: { 'layers.0.weight': new NDArray(new Float64Array([0.1, -0.2, Math.PI, 1e-300]), [2, 2]), 'layers.0.bias': new NDArray(new Float32Array([1.5, -2]), [2]) },
    optimizer: { state: [{ step: 3, exp_avg: [0.1, 0.2, 0.3, 1 / 3] }, null], options: { lr: 0.01, betas: [0.9, 0.999] } },
    random: { global: new Random(5).getState(), shuffle: { s: [1, 2, 3, 4], spare: 0.123 } },
    extra: { initialLoss: 0.69 },
  };
}

describe('the checkpoint format', () => {
  test('round-trips every part exactly', () => {
    const s = sample();
    const back = parseCheckpoint(serializeCheckpoint(s));
    expect(back.epoch).toBe(1);
    expect(back.history).toEqual(s.history);
    expect(back.config).toEqual(s.config);
    expect(back.optimizer.options).toEqual(s.optimizer.options);
    expect(back.optimizer.state[1]).toBeNull();
    const st = back.optimizer.state[0]!;
    expect(st.step).toBe(3);
    // 1/3 is not a float32: the buffer is kept in float64, exactly.
    expect(st.exp_avg).toBeInstanceOf(Float64Array);
    expect(Array.from(st.exp_avg as Float64Array)).toEqual([0.1, 0.2, 0.3, 1 / 3]);
    expect(back.random).toEqual(s.random);
    expect(back.extra).toEqual(s.extra);
    expect(back.model['layers.0.weight'].dtype).toBe('float64');
    expect(Array.from(back.model['layers.0.weight'].data)).toEqual([0.1, -0.2, Math.PI, 1e-300]);
    expect(back.model['layers.0.bias'].dtype).toBe('float32');
  });

  test('saveCheckpoint writes one file atomically (no temporary file left) and loadCheckpoint reads it', () => {
    const dir = path.join(tmp, 'fmt');
    const file = saveCheckpoint(dir, sample());
    expect(fs.readdirSync(dir)).toEqual(['checkpoint.safetensors']);
    expect(loadCheckpoint(dir).epoch).toBe(1);
    expect(loadCheckpoint(file).epoch).toBe(1);
  });

  test('a truncated, foreign or missing checkpoint is an error naming the file', () => {
    const dir = path.join(tmp, 'bad');
    const file = saveCheckpoint(dir, sample());
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(file);
    fs.writeFileSync(file, serializeSafetensors({ w: new NDArray(new Float32Array(2), [2]) }));
    expect(() => loadCheckpoint(dir)).toThrow(new RegExp(`${file}: not a usable vugrad checkpoint: its metadata says format '\\(none\\)'`));
    const noWhere = path.join(tmp, 'nowhere');
    expect(() => loadCheckpoint(noWhere)).toThrow(`${path.join(noWhere, 'checkpoint.safetensors')}: no checkpoint there`);
  });

  test('history that disagrees with the epoch count is refused', () => {
    const s = { ...sample(), epoch: 2 };
    expect(() => parseCheckpoint(serializeCheckpoint(s), 'x.safetensors')).toThrow(/x.safetensors: .*says 2 epochs were trained but holds 1/);
  });
});

test("a float32 run's optimizer buffers are stored in float32, and stateDictTyped holds what stateDict holds", async () => {
  const dir = path.join(tmp, 'f32');
  const { optimizer } = await trainFromConfig(resolveConfig({ dataset: 'synth', limit: '300', epochs: '1' }), { checkpointDir: dir });
  const { tensors } = loadSafetensors(path.join(dir, 'checkpoint.safetensors'));
  const buffers = Object.keys(tensors).filter((n) => n.startsWith('optimizer.'));
  expect(buffers.length).toBeGreaterThan(0);
  for (const n of buffers) expect(tensors[n].dtype).toBe('float32');
  const plain = optimizer.stateDict();
  const typed = optimizer.stateDictTyped();
  expect(typed.options).toEqual(plain.options);
  typed.state.forEach((st, i) => {
    for (const [k, v] of Object.entries(st ?? {})) expect(typeof v === 'number' ? v : Array.from(v)).toEqual(plain.state[i]![k]);
  });
});

describe('Random state', () => {
  test('getState/setState continue the same stream, the Box-Muller spare included', () => {
    const a = new Random(9);
    a.normal();
    const saved = a.getState();
    const next = [a.normal(), a.uniform(), a.nextUint32()];
    const b = new Random(1);
    b.setState(JSON.parse(JSON.stringify(saved)));
    expect([b.normal(), b.uniform(), b.nextUint32()]).toEqual(next);
    manualSeed(3);
    const g = getRngState();
    const first = new Random(0);
    first.setState(g);
    setRngState({ s: [7, 7, 7, 7], spare: null });
    setRngState(g);
    expect(getRngState()).toEqual(first.getState());
  });

  test('a malformed state is refused with what is wrong', () => {
    expect(() => new Random(1).setState({ s: [1, 2, 3], spare: null })).toThrow(/s must be 4 unsigned 32-bit integers, got \[1,2,3\]/);
    expect(() => new Random(1).setState({ s: [0, 0, 0, 0], spare: null })).toThrow(/all-zero/);
  });
});

describe('resuming a run', () => {
  const flags = { dataset: 'synth', limit: '400', batchSize: '32', hidden: '6,5', optimizer: 'adam', lr: '0.02', seed: '4', dtype: 'float64', epochs: '5' };

  test.each([1, 3])('interrupted after epoch %i and resumed, float64 weights and history equal an uninterrupted run bit for bit', async (k) => {
    const config = resolveConfig({ ...flags, learningRate: '0.02' });
    expect(config.dtype).toBe('float64');
    const full = await trainFromConfig(config, { checkpointDir: path.join(tmp, `full-${k}`) });

    const dir = path.join(tmp, `cut-${k}`);
    const ac = new AbortController();
    await expect(
      trainFromConfig(config, { checkpointDir: dir, signal: ac.signal, onEpoch: (m) => m.epoch === k && ac.abort(new Error('interrupted')) }),
    ).rejects.toThrow('interrupted');
    expect(loadCheckpoint(dir).epoch).toBe(k);
    // Something else uses the global generator in between, as a new process would have a fresh one.
    manualSeed(12345);
    const resumed = await trainFromConfig(config, { checkpointDir: dir, resume: dir });

    const a = full.model.stateDict();
    const b = resumed.model.stateDict();
    for (const name of Object.keys(a)) {
      expect(b[name].dtype).toBe('float64');
      expect(Buffer.from(b[name].data.buffer).equals(Buffer.from(a[name].data.buffer))).toBe(true);
    }
    const strip = (h: typeof full.history) => h.map(({ seconds, samplesPerSec, ...rest }) => rest);
    expect(strip(resumed.history)).toEqual(strip(full.history));
    expect(loadCheckpoint(dir).epoch).toBe(5);
    expect(JSON.stringify(resumed.optimizer.stateDict())).toBe(JSON.stringify(full.optimizer.stateDict()));
  });

  test('with augmentation (random crops and flips), a resumed float64 run equals an uninterrupted one bit for bit', async () => {
    // Tiny CIFAR-shaped images, so that the run augments: the crop/flip stream must be restored from the checkpoint.
    const images = (n: number, seed: number) => {
      const r = new Random(seed);
      const x = NDArray.zeros([n, 3, 16, 16], 'float64');
      for (let i = 0; i < x.size; i++) x.data[i] = r.uniform();
      const y = Int32Array.from({ length: n }, (_, i) => i % 3);
      return { x, y, numClasses: 3, name: `tiny/${seed}` };
    };
    const data = { train: images(48, 1), val: images(12, 2) };
    const config = resolveConfig({ dataset: 'cifar10', model: 'lenet', augment: true, batchSize: '16', epochs: '3', seed: '9', dtype: 'float64', learningRate: '0.01' });
    expect(config.augment).toBe(true);
    const full = await trainFromConfig(config, { data, checkpointDir: path.join(tmp, 'aug-full') });
    const dir = path.join(tmp, 'aug-cut');
    const ac = new AbortController();
    await expect(
      trainFromConfig(config, { data, checkpointDir: dir, signal: ac.signal, onEpoch: (m) => m.epoch === 1 && ac.abort(new Error('interrupted')) }),
    ).rejects.toThrow('interrupted');
    const resumed = await trainFromConfig(config, { data, checkpointDir: dir, resume: dir });
    const a = full.model.stateDict();
    const b = resumed.model.stateDict();
    for (const name of Object.keys(a)) expect(Buffer.from(b[name].data.buffer).equals(Buffer.from(a[name].data.buffer))).toBe(true);
  });

  test('a checkpoint of another architecture is refused naming the file', async () => {
    const dir = path.join(tmp, 'arch');
    await trainFromConfig(resolveConfig({ ...flags, epochs: '1' }), { checkpointDir: dir });
    await expect(trainFromConfig(resolveConfig({ ...flags, hidden: '7' }), { resume: dir })).rejects.toThrow(
      new RegExp(`${path.join(dir, 'checkpoint.safetensors')}: does not fit this run's model`),
    );
  });
});
