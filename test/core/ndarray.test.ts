/**
 * NDArray's constructors reject what vugrad cannot compute with, where it is handed over: dtypes other than
 * float32/float64, integer typed arrays, and sizes no machine can allocate (named with shape, dtype and bytes).
 */
import * as os from 'os';
import { AllocationError, NDArray, allocate, allocateUninitialized, formatBytes } from '../../lib/core/ndarray';
import { TensorNode } from '../../lib/core/tensor-node';
import '../../lib/ops/tensor-methods';

describe('dtypes', () => {
  test.each(['int8', 'int32', 'float16', 'uint8', '', 'Float32'])("'%s' is rejected by every constructor, naming the supported dtypes", (bad) => {
    const dtype = bad as 'float32';
    const why = new RegExp(`unsupported dtype '${bad}'.*'float32'.*'float64'`);
    expect(() => NDArray.from([1, 2], dtype)).toThrow(why);
    expect(() => NDArray.from(new Float32Array(2), dtype)).toThrow(why);
    expect(() => NDArray.zeros([2], dtype)).toThrow(why);
    expect(() => NDArray.full([2], 1, dtype)).toThrow(why);
    expect(() => NDArray.from([1, 2]).astype(dtype)).toThrow(why);
    expect(() => allocate(dtype, 2)).toThrow(why);
  });

  test('the two dtypes still work', () => {
    expect(NDArray.from([1, 2], 'float64').data).toBeInstanceOf(Float64Array);
    expect(NDArray.zeros([2]).data).toBeInstanceOf(Float32Array);
  });
});

describe('typed arrays', () => {
  const ints = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array];

  test.each(ints.map((C) => [C.name, C] as const))('new NDArray(%s) is rejected, saying how to convert', (name, C) => {
    const data = new C([1, 2, 3, 4]) as unknown as Float32Array;
    expect(() => new NDArray(data, [2, 2])).toThrow(new RegExp(`NDArray: data is an? ${name}.*Float32Array or Float64Array.*NDArray\\.from`));
  });

  test.each(ints.map((C) => [C.name, C] as const))('NDArray.from(%s) converts the values (it copies anyway)', (_name, C) => {
    const a = NDArray.from(new C([1, 2, 3, 100]) as unknown as Float32Array);
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([4]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 100]);
    const b = NDArray.from(new C([7]) as unknown as Float32Array, 'float64');
    expect(b.data).toBeInstanceOf(Float64Array);
  });

  test('BigInt arrays, DataViews, plain objects and strings are rejected by name', () => {
    expect(() => NDArray.from(new BigInt64Array(2) as unknown as Float32Array)).toThrow(/BigInt64Array.*convert/);
    expect(() => new NDArray(new BigInt64Array(2) as unknown as Float32Array, [2])).toThrow(/BigInt64Array/);
    expect(() => new NDArray(new DataView(new ArrayBuffer(8)) as unknown as Float32Array, [2])).toThrow(/DataView/);
    expect(() => new NDArray([1, 2] as unknown as Float32Array, [2])).toThrow(/data is an Array.*NDArray\.from/);
    expect(() => NDArray.from('12' as unknown as number)).toThrow(/NDArray\.from: expected a number, nested arrays of numbers or a typed array, got a string/);
    expect(() => NDArray.from([[1, '2']] as unknown as number[][])).toThrow(/expected a number at depth 2, got a string/);
  });

  test('a TensorNode over an integer array fails when made, not at the first op', () => {
    expect(() => new TensorNode(new NDArray(new Int32Array(4) as unknown as Float32Array, [4]))).toThrow(/Int32Array/);
  });
});

describe('sizes too large to allocate', () => {
  test('formatBytes', () => {
    expect(formatBytes(40e9)).toBe('40 GB');
    expect(formatBytes(1.5e6)).toBe('1.5 MB');
    expect(formatBytes(4.2e12)).toBe('4.2 TB');
    expect(formatBytes(512)).toBe('512 bytes');
  });

  test('zeros of [100000,100000] float32 says the shape, dtype and the 40 GB it needs', () => {
    let err: unknown;
    try {
      NDArray.zeros([100000, 100000]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AllocationError);
    expect(err).toBeInstanceOf(RangeError);
    const e = err as AllocationError;
    expect(e.message).toMatch(/^NDArray\.zeros: \[100000,100000\] float32 needs 40 GB/);
    expect(e.message).not.toMatch(/Invalid typed array length: 10000000000$/);
    expect(e.shape).toEqual([100000, 100000]);
    expect(e.bytes).toBe(4e10);
  });

  test('more than the machine has, though within what a typed array may hold, is refused before allocating', () => {
    const values = Math.ceil((os.totalmem() * 1.1) / 8);
    expect(() => allocate('float64', values, [values])).toThrow(new RegExp(`\\[${values}\\] float64 needs .* more than this machine's .* of memory`));
  });

  test('allocateUninitialized and a bad size', () => {
    expect(() => allocateUninitialized('float64', 2 ** 33, [2 ** 33])).toThrow(/\[8589934592\] float64 needs 68.7 GB/);
    expect(() => allocate('float32', -1)).toThrow(/invalid size -1/);
    expect(() => allocate('float32', 1.5)).toThrow(/invalid size 1\.5/);
    expect(() => NDArray.zeros([1e10, 1e10])).toThrow(/\[10000000000,10000000000\] float32 needs 4e\+20 bytes/);
  });

  test('relabelled for a layer parameter', () => {
    const e = new AllocationError('NDArray', 'float32', 1e10, [100000, 100000], 'too large');
    expect(e.named('Linear(100000 -> 100000).weight').message).toMatch(/^Linear\(100000 -> 100000\)\.weight \[100000,100000\] float32 needs 40 GB, too large/);
  });
});

describe('values', () => {
  test('full and set take numbers only (a string became NaN silently)', () => {
    expect(() => NDArray.full([2], '1' as unknown as number)).toThrow(/NDArray\.full: value must be a number, got a string/);
    const a = NDArray.zeros([2]);
    expect(() => a.set([0], undefined as unknown as number)).toThrow(/set: value must be a number, got an? undefined/);
    a.set([1], 2.5);
    expect(Array.from(a.data)).toEqual([0, 2.5]);
  });
});

test('a shape that is not an array of sizes', () => {
  expect(() => NDArray.zeros(3 as unknown as number[])).toThrow(/NDArray\.zeros: shape must be an array of sizes such as \[2, 3\], got a number/);
  expect(() => new NDArray(new Float32Array(2), '2' as unknown as number[])).toThrow(/NDArray: shape must be an array/);
  expect(() => NDArray.zeros([2, -1])).toThrow(/invalid shape \[2,-1\]/);
});

test('more than the memory available now is refused (the system would kill the process while filling it)', () => {
  // The module object itself (an `import * as` namespace cannot be spied on); ndarray.ts reads through to it.
  const spy = jest.spyOn(require('node:os') as typeof os, 'freemem').mockReturnValue(2e9);
  try {
    expect(() => allocate('float32', 7.5e8, [750000000])).toThrow(
      /^allocate: \[750000000\] float32 needs 3 GB, more than the 2 GB of memory available now \(of .*\)/,
    );
    expect(() => allocateUninitialized('float64', 3e8, [300000000], 'op output')).toThrow(/^op output: \[300000000\] float64 needs 2.4 GB, more than the 2 GB/);
  } finally {
    spy.mockRestore();
  }
});
