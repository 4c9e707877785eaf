/**
 * Saving and loading tensors in the safetensors format (https://huggingface.co/docs/safetensors), which
 * PyTorch, JAX, TensorFlow and the Hugging Face tools all read.
 *
 * The format: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON mapping each tensor name
 * to `{dtype, shape, data_offsets: [begin, end]}` (offsets into the data that follows the header), plus an
 * optional `"__metadata__"` object of string values; then the raw little-endian tensor data. Only F32 and F64
 * tensors are written and read here (vugrad's two dtypes).
 *
 * @example
 * saveModel(model, 'mnist.safetensors', { epochs: '3' });
 * const { metadata } = loadModel(sameArchitecture, 'mnist.safetensors');
 * const bytes = serializeSafetensors(model.stateDict());   // a Buffer, e.g. for an HTTP response
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NDArray, shapeSize, type DType } from '../core/ndarray';
import { writeFileAtomic } from './atomic-file';
import type { Module } from '../nn/module';

export interface SafetensorsContents {
  tensors: Record<string, NDArray>;
  metadata: Record<string, string>;
}

const CODES: Record<DType, 'F32' | 'F64'> = { float32: 'F32', float64: 'F64' };
const DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8 };
const BIG_ENDIAN = os.endianness() === 'BE';
// NOTE: a hostile file could claim a huge header; the reference implementation caps it at 100 MB too.
const MAX_HEADER = 100_000_000;

function checkMetadata(metadata: Record<string, string> | undefined): void {
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new TypeError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
}

/** The safetensors bytes of some named tensors (written in the given order) and optional string metadata. */
export function serializeSafetensors(tensors: Record<string, NDArray>, metadata?: Record<string, string>): Buffer {
  checkMetadata(metadata);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new RangeError("safetensors: '__metadata__' cannot be a tensor name");
    if (!(t instanceof NDArray)) throw new TypeError(`safetensors: '${name}' is not an NDArray`);
    const bytes = t.data.byteLength;
    own(header, name, { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so that the data starts 8-byte aligned (as the reference writer does).
  const headerBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + headerBytes) % 8)) % 8);
  const headerLength = Buffer.byteLength(json, 'utf8');
  const out = Buffer.alloc(8 + headerLength + offset);
  out.writeBigUInt64LE(BigInt(headerLength), 0);
  out.write(json, 8, 'utf8');
  let at = 8 + headerLength;
  for (const [, t] of entries) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(out, at);
    if (BIG_ENDIAN) {
      const view = out.subarray(at, at + src.length);
      if (t.dtype === 'float64') view.swap64();
      else view.swap32();
    }
    at += src.length;
  }
  return out;
}

/**
 * Sets an own property. NOTE: `obj[name] = v` with the name `__proto__` (legal in a file's JSON header) would
 * replace the object's prototype instead: the tensor vanished and the object inherited an NDArray's fields.
 */
function own<T>(obj: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads safetensors bytes. Validates the header (length, JSON, dtypes, shapes, offsets that match the shapes
 * and tile the data exactly) and throws a `RangeError` saying what is wrong. `source` names the input in errors.
 */
export function parseSafetensors(bytes: Uint8Array, source = 'buffer'): SafetensorsContents {
  const fail = (why: string): never => {
    throw new RangeError(`safetensors: ${source}: ${why}`);
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8) fail(`file is ${buf.length} bytes, too short for a header`);
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(Math.min(MAX_HEADER, buf.length - 8))) fail(`header length ${n} exceeds the ${buf.length - 8} bytes that follow`);
  const headerLength = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  const tensors: Record<string, NDArray> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
        own(metadata, k, v as string);
      }
      continue;
    }
    if (!isRecord(info)) return fail(`tensor '${name}' has no {dtype, shape, data_offsets} entry`);
    const dtype = DTYPES[info.dtype as string];
    if (dtype === undefined) fail(`tensor '${name}' has dtype ${JSON.stringify(info.dtype)}; only F32 and F64 are supported`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      return fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    const expected = shapeSize(shape as number[]) * BYTES[dtype];
    if (end < begin || end - begin !== expected) {
      fail(`tensor '${name}' of shape [${(shape as number[]).join(',')}] needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLength) fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the ${dataLength} data bytes (truncated file?)`);
    spans.push([begin, end, name]);
    // Copy into a fresh (aligned) buffer: the data in the file need not be aligned for a typed array.
    const copy = Buffer.from(buf.subarray(dataStart + begin, dataStart + end));
    if (BIG_ENDIAN) {
      if (dtype === 'float64') copy.swap64();
      else copy.swap32();
    }
    const ab = copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.byteLength);
    const data = dtype === 'float64' ? new Float64Array(ab) : new Float32Array(ab);
    own(tensors, name, new NDArray(data, shape as number[]));
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) {
      fail(begin < covered ? `tensor '${name}' overlaps another tensor's data` : `${begin - covered} bytes before tensor '${name}' belong to no tensor`);
    }
    covered = end;
  }
  if (covered !== dataLength) fail(`${dataLength - covered} bytes after the last tensor belong to no tensor`);
  return { tensors, metadata };
}

/**
 * Writes tensors to a safetensors file atomically: a temporary file in the same directory, flushed to disk,
 * then renamed into place, so that a crash or a full disk never leaves a half-written model where a good one
 * was. An error names the file and the system's reason; the temporary file is removed.
 */
export function saveSafetensors(file: string, tensors: Record<string, NDArray>, metadata?: Record<string, string>): void {
  const bytes = serializeSafetensors(tensors, metadata);
  try {
    writeFileAtomic(file, bytes);
  } catch (e) {
    throw new Error(`safetensors: ${(e as Error).message}`);
  }
}

/** Reads a safetensors file. A file that cannot be read, or is not valid safetensors, gives an error naming its path. */
export function loadSafetensors(file: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`safetensors: cannot read ${file} (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, file);
}

/**
 * Parses a metadata value that holds JSON (vugrad keeps a run's configuration as `config`). Returns undefined
 * when the key is absent; throws a `RangeError` naming the file, the key and the JSON error when the value is
 * not valid JSON, or not a JSON object when `object` is set. `hint` says how to recover.
 *
 * @example
 * const { metadata } = loadSafetensors(file);
 * const config = metadataJson(metadata, 'config', file, { object: true }) as RunConfig | undefined;
 */
export function metadataJson(
  metadata: Record<string, string>,
  key: string,
  file: string,
  options: { object?: boolean; hint?: string } = {},
): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  const hint =
    options.hint ??
    'The file was edited or damaged after it was written: write it again (vugrad train --out), or restore a good copy';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RangeError(`safetensors: ${file}: metadata '${key}' is not valid JSON (${(e as Error).message}). ${hint}`);
  }
  if (options.object && !isRecord(value)) {
    throw new RangeError(`safetensors: ${file}: metadata '${key}' is not a JSON object (it is ${JSON.stringify(value)?.slice(0, 40)}). ${hint}`);
  }
  return value;
}

/** Saves a model's parameters (its `stateDict()`, by parameter name) to a safetensors file. */
export function saveModel(model: Module, file: string, metadata?: Record<string, string>): void {
  saveSafetensors(file, model.stateDict(), metadata);
}

/**
 * Loads parameters saved by `saveModel` (or any safetensors file with the same names and shapes, such as one
 * written from a PyTorch `state_dict`) into a model of the same architecture. Missing or extra names and shape
 * mismatches throw an error naming the tensor and the file. Returns the file's metadata.
 */
export function loadModel(model: Module, file: string): { metadata: Record<string, string> } {
  const { tensors, metadata } = loadSafetensors(file);
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    (e as Error).message = `${(e as Error).message} (loading ${file})`;
    throw e;
  }
  return { metadata };
}
