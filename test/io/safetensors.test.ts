/** safetensors: byte layout, round trips, model save/load, and errors that name the file or the tensor. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray, TensorNode, manualSeed } from '../../lib';
import { loadModel, loadSafetensors, metadataJson, parseSafetensors, saveModel, saveSafetensors, serializeSafetensors } from '../../lib/io';
import { LeNet, MLP } from '../../lib/nn';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-io-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Builds a file by hand from a header object and data bytes. */
function handMade(header: unknown, data: Buffer = Buffer.alloc(0), claimedLength?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(claimedLength ?? json.length));
  return Buffer.concat([len, json, data]);
}

describe('format', () => {
  test('the bytes follow the spec: u64 LE header length, JSON header, aligned little-endian data', () => {
    const a = NDArray.from([[1, 2], [3, 4.5]]);
    const b = NDArray.from([-1, 0.25], 'float64');
    const bytes = serializeSafetensors({ a, b }, { format: 'pt' });
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.toString('utf8', 8, 8 + n));
    expect(header).toEqual({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      b: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
    });
    expect(bytes.length).toBe(8 + n + 32);
    expect(bytes.readFloatLE(8 + n + 12)).toBe(4.5);
    expect(bytes.readDoubleLE(8 + n + 16 + 8)).toBe(0.25);
  });

  test('parse reads a hand-made file (unaligned data, no metadata) and round trips dtypes, shapes, values', () => {
    const data = Buffer.alloc(12);
    [1.5, -2, 3].forEach((v, i) => data.writeFloatLE(v, i * 4));
    const { tensors, metadata } = parseSafetensors(handMade({ w: { dtype: 'F32', shape: [3, 1], data_offsets: [0, 12] } }, data));
    expect(metadata).toEqual({});
    expect(tensors.w.dtype).toBe('float32');
    expect([...tensors.w.shape]).toEqual([3, 1]);
    expect(Array.from(tensors.w.data)).toEqual([1.5, -2, 3]);

    const scalar = NDArray.scalar(7, 'float64');
    const back = parseSafetensors(serializeSafetensors({ s: scalar, e: NDArray.zeros([0, 3]) }, { k: 'v' }));
    expect(back.tensors.s.dtype).toBe('float64');
    expect([...back.tensors.s.shape]).toEqual([]);
    expect(back.tensors.s.item()).toBe(7);
    expect([...back.tensors.e.shape]).toEqual([0, 3]);
    expect(back.metadata).toEqual({ k: 'v' });
  });
});

describe('files and models', () => {
  test('save -> load -> identical predictions, metadata kept', () => {
    manualSeed(5);
    const a = new LeNet();
    const b = new LeNet();
    const x = TensorNode.constant(NDArray.from(Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i))).reshape([2, 3, 32, 32]));
    const before = Array.from(a.call(x).value.data);
    expect(Array.from(b.call(x).value.data)).not.toEqual(before);
    const file = path.join(dir, 'lenet.safetensors');
    saveModel(a, file, { epochs: '3' });
    const { metadata } = loadModel(b, file);
    expect(metadata).toEqual({ epochs: '3' });
    expect(Array.from(b.call(x).value.data)).toEqual(before);
    expect(Object.keys(loadSafetensors(file).tensors)).toEqual(a.namedParameters().map(([n]) => n));
  });

  test('loading into a wrong architecture fails naming the tensor', () => {
    const file = path.join(dir, 'mlp.safetensors');
    saveModel(new MLP({ inputSize: 4, hiddenSizes: [8], outputSize: 3 }), file);
    expect(() => loadModel(new MLP({ inputSize: 4, hiddenSizes: [9], outputSize: 3 }), file)).toThrow(
      /'layers\.0\.weight' has shape \[8,4\] but the model expects \[9,4\]/,
    );
    expect(() => loadModel(new MLP({ inputSize: 4, hiddenSizes: [8, 8], outputSize: 3 }), file)).toThrow(
      /missing 'layers\.2\.weight', 'layers\.2\.bias'.*mlp\.safetensors/,
    );
    expect(() => loadModel(new LeNet(), file)).toThrow(/unexpected 'layers\.0\.weight'/);
  });

  test('saveSafetensors / loadSafetensors keep float32 and float64 exactly', () => {
    const file = path.join(dir, 't.safetensors');
    const f32 = NDArray.from([Math.PI, 1e-30, -3]);
    const f64 = NDArray.from([Math.PI, 1e-300], 'float64');
    saveSafetensors(file, { f32, f64 });
    const { tensors } = loadSafetensors(file);
    expect(Array.from(tensors.f32.data)).toEqual(Array.from(f32.data));
    expect(Array.from(tensors.f64.data)).toEqual([Math.PI, 1e-300]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('malformed files give errors naming the path and the problem', () => {
  const good = (): Buffer => serializeSafetensors({ w: NDArray.from([1, 2, 3]) });
  const cases: [string, () => Buffer, RegExp][] = [
    ['too short', () => Buffer.from([1, 2, 3]), /too short/],
    ['header length past the end', () => handMade('{}', Buffer.alloc(0), 1000), /header length 1000 exceeds/],
    ['header not JSON', () => handMade('{"w": '), /not valid JSON/],
    ['header not an object', () => handMade('[1, 2]'), /not a JSON object/],
    ['unsupported dtype', () => handMade({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)), /'w' has dtype "I64"/],
    ['bad shape', () => handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /'w' has an invalid shape/],
    ['offsets disagree with the shape', () => handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4)), /needs 8 bytes/],
    ['truncated data', () => good().subarray(0, good().length - 4), /run past/],
    ['trailing bytes', () => Buffer.concat([good(), Buffer.alloc(4)]), /4 bytes after the last tensor/],
    [
      'overlapping tensors',
      () =>
        handMade(
          { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
          Buffer.alloc(12),
        ),
      /overlaps/,
    ],
    ['metadata not strings', () => handMade({ __metadata__: { n: 1 } }), /__metadata__ 'n' is not a string/],
  ];
  test.each(cases)('%s', (_name, bytes, why) => {
    const file = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(file, bytes());
    expect(() => loadSafetensors(file)).toThrow(why);
    expect(() => loadSafetensors(file)).toThrow(file);
  });

  test('a good file passes the same checks; a missing file names its path', () => {
    expect(Array.from(parseSafetensors(good()).tensors.w.data)).toEqual([1, 2, 3]);
    expect(() => loadSafetensors(path.join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors/);
    expect(() => serializeSafetensors({ w: NDArray.from([1]) }, { n: 1 as unknown as string })).toThrow(/metadata 'n' must be a string/);
  });
});

describe('JSON in the metadata (a run configuration)', () => {
  test('bad JSON names the file, the key, the parse error and how to recover', () => {
    const file = path.join(dir, 'bad-config.safetensors');
    saveSafetensors(file, { w: NDArray.from([1]) }, { config: '{"dataset": "mnist",' });
    const { metadata } = loadSafetensors(file);
    expect(() => metadataJson(metadata, 'config', file)).toThrow(
      new RegExp(`safetensors: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: metadata 'config' is not valid JSON \\(.+\\)\\. .*write it again`),
    );
  });

  test('valid JSON, an absent key, and a value that must be an object', () => {
    const metadata = { config: '{"dataset":"mnist","hidden":[4]}', n: '3' };
    expect(metadataJson(metadata, 'config', 'f', { object: true })).toEqual({ dataset: 'mnist', hidden: [4] });
    expect(metadataJson(metadata, 'absent', 'f')).toBeUndefined();
    expect(metadataJson(metadata, 'n', 'f')).toBe(3);
    expect(() => metadataJson(metadata, 'n', 'f', { object: true })).toThrow(/f: metadata 'n' is not a JSON object \(it is 3\)/);
  });
});

describe('files that cannot be read or written', () => {
  test('reading names the file and the reason', () => {
    expect(() => loadSafetensors(path.join(dir, 'nope.safetensors'))).toThrow(/safetensors: cannot read .*nope\.safetensors \(ENOENT/);
    expect(() => loadSafetensors(dir)).toThrow(/safetensors: cannot read .* \(EISDIR/);
  });

  test('writing into a missing directory names the file and leaves nothing behind; an old file stays whole', () => {
    const target = path.join(dir, 'missing-dir', 'm.safetensors');
    expect(() => saveSafetensors(target, { w: NDArray.from([1]) })).toThrow(/safetensors: cannot write .*missing-dir\/m\.safetensors: ENOENT/);
    const sub = path.join(dir, 'keep');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'm.safetensors');
    saveSafetensors(file, { w: NDArray.from([1, 2]) });
    saveSafetensors(file, { w: NDArray.from([3, 4]) });
    expect(fs.readdirSync(sub)).toEqual(['m.safetensors']);
    expect(Array.from(loadSafetensors(file).tensors.w.data)).toEqual([3, 4]);
  });
});

describe('names that are special to JavaScript objects', () => {
  test("a tensor or metadata key named '__proto__' is kept as a name, not taken as the object's prototype", () => {
    const data = Buffer.alloc(4);
    data.writeFloatLE(2.5, 0);
    const bytes = handMade('{"__metadata__":{"__proto__":"m"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', data);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data[0]).toBe(2.5);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    // And it round trips: the header keeps the name, the offsets match the data.
    const again = parseSafetensors(serializeSafetensors(tensors, metadata));
    expect(Object.keys(again.tensors)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(again.metadata, '__proto__')!.value).toBe('m');
  });
});
