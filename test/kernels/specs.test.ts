/**
 * The kernel declarations (lib/kernels/specs.ts) and everything that names kernels agree: KERNEL_NAMES, the JS
 * table (names and arities), the addon's exports (its source, and the loaded binding when there is one), the
 * op codes of native/include/vugrad/kernels.h; and the aliasing contract derived from the declarations is the
 * one names.ts stated by hand before it was derived.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { jsKernels, KERNEL_NAMES } from '../../lib/kernels';
import { KERNEL_ALIASING } from '../../lib/kernels/names';
import { loadNative } from '../../lib/kernels/native';
import { BINARY_OPS, KERNEL_SPECS, UNARY_OPS } from '../../lib/kernels/specs';
import { INDEXED_KERNELS } from '../../lib/kernels/validate';

const ROOT = path.resolve(__dirname, '..', '..');
const specNames = Object.keys(KERNEL_SPECS);

test('KERNEL_NAMES, the JS table and KERNEL_SPECS name the same kernels, in one order', () => {
  expect([...KERNEL_NAMES]).toEqual(specNames);
  expect(Object.keys(jsKernels)).toEqual(specNames);
});

test('each JS kernel takes as many arguments as its declaration lists', () => {
  const arity = Object.fromEntries(specNames.map((k) => [k, (jsKernels as unknown as Record<string, (...a: unknown[]) => unknown>)[k].length]));
  expect(arity).toEqual(Object.fromEntries(specNames.map((k) => [k, KERNEL_SPECS[k as keyof typeof KERNEL_SPECS].args.length])));
});

test("the addon's source exports a handler for every declared kernel", () => {
  // addon.cc's InstanceMethod lines, and the elementwise family's table (one export per entry).
  const addon = fs.readFileSync(path.join(ROOT, 'native/src/addon.cc'), 'utf8');
  const elementwise = fs.readFileSync(path.join(ROOT, 'native/src/elementwise.cc'), 'utf8');
  const exported = new Set([
    ...[...addon.matchAll(/InstanceMethod\("(\w+)"/g)].map((m) => m[1]),
    ...[...elementwise.matchAll(/\bentry\("(\w+)"/g)].map((m) => m[1]),
  ]);
  expect(specNames.filter((k) => !exported.has(k))).toEqual([]);
});

test('a loaded addon has every declared kernel', () => {
  const { binding } = loadNative();
  if (!binding) return; // no addon here: the source test above still holds
  const b = binding as unknown as Record<string, unknown>;
  expect(specNames.filter((k) => typeof b[k] !== 'function')).toEqual([]);
});

test("op codes (each op's index in UNARY_OPS / BINARY_OPS) are vg::UnaryOp / vg::BinaryOp's order", () => {
  const header = fs.readFileSync(path.join(ROOT, 'native/include/vugrad/kernels.h'), 'utf8');
  const members = (e: string) =>
    new RegExp(`enum class ${e}[^{]*\\{([^}]*)\\}`).exec(header)![1].split(',').map((s) => s.replace(/=.*/, '').trim().toLowerCase()).filter((s) => s && s !== 'count');
  expect(members('UnaryOp')).toEqual([...UNARY_OPS]);
  expect(members('BinaryOp')).toEqual([...BINARY_OPS]);
});

test('the aliasing contract derived from the declarations is the one names.ts stated by hand', () => {
  const stated = {
    gemm: { writes: ['c'], reads: ['a', 'b'] },
    unary: { writes: ['out'], reads: ['x'], inPlace: [['out', 'x']] },
    unaryBackward: { writes: ['out'], reads: ['x', 'y', 'g'], inPlace: [['out', 'x'], ['out', 'y'], ['out', 'g']] },
    binary: { writes: ['out'], reads: ['a', 'b'], inPlace: [['out', 'a'], ['out', 'b']] },
    binaryScalar: { writes: ['out'], reads: ['a'], inPlace: [['out', 'a']] },
    axpy: { writes: ['y'], reads: ['x'], inPlace: [['y', 'x']] },
    axpby: { writes: ['out'], reads: ['x', 'y'], inPlace: [['out', 'x'], ['out', 'y']] },
    sgdMomentum: { writes: ['param', 'buf'], reads: ['grad'] },
    adam: { writes: ['param', 'm', 'v', 'vmax'], reads: ['grad'] },
    rmsprop: { writes: ['param', 'sq', 'gAvg', 'buf'], reads: ['grad'] },
    adagrad: { writes: ['param', 'sum'], reads: ['grad'] },
    adamax: { writes: ['param', 'm', 'u'], reads: ['grad'] },
    adadelta: { writes: ['param', 'sq', 'acc'], reads: ['grad'] },
    rprop: { writes: ['param', 'prev', 'stepSize'], reads: ['grad'] },
    asgd: { writes: ['param', 'ax'], reads: ['grad'] },
    fill: { writes: ['out'], reads: [] },
    sumAll: { writes: [], reads: ['x'] },
    dot: { writes: [], reads: ['a', 'b'] },
    sumAxis: { writes: ['out'], reads: ['x'] },
    maxAxis: { writes: ['out', 'argmax'], reads: ['x'] },
    broadcastAxis: { writes: ['out'], reads: ['x'] },
    scatterAxis: { writes: ['out'], reads: ['g', 'idx'] },
    gather: { writes: ['out'], reads: ['x', 'idx'] },
    transpose: { writes: ['out'], reads: ['x'] },
    softmax: { writes: ['out'], reads: ['x'] },
    softmaxBackward: { writes: ['out'], reads: ['y', 'g'] },
    logSoftmax: { writes: ['out'], reads: ['x'] },
    logSoftmaxBackward: { writes: ['out'], reads: ['y', 'g'] },
    crossEntropy: { writes: ['losses', 'probs'], reads: ['x', 'targets'] },
    crossEntropyBackward: { writes: ['out'], reads: ['probs', 'targets', 'scale'] },
    im2col: { writes: ['out'], reads: ['x'] },
    col2im: { writes: ['out'], reads: ['cols'] },
    conv2d: { writes: ['out'], reads: ['x', 'weight', 'bias'] },
    conv2dBackwardWeight: { writes: ['gw'], reads: ['x', 'g'] },
    conv2dBackwardInput: { writes: ['gx'], reads: ['g', 'weight'] },
    maxPool2d: { writes: ['out', 'argmax'], reads: ['x'] },
    maxPool2dBackward: { writes: ['out'], reads: ['g', 'argmax'] },
  };
  for (const k of Object.keys(stated) as (keyof typeof stated)[]) {
    const got = KERNEL_ALIASING[k];
    expect({ ...got, writes: [...got.writes].sort(), reads: [...got.reads].sort() }).toEqual({
      ...stated[k],
      writes: [...stated[k].writes].sort(),
      reads: [...stated[k].reads].sort(),
    });
  }
  expect(INDEXED_KERNELS).toEqual(['scatterAxis', 'gather', 'crossEntropy', 'crossEntropyBackward', 'maxPool2dBackward']);
});

test('where code generation is forbidden, the checks and the adapter are closures with the same messages', () => {
  const script = `
    const k = require('./lib/kernels');
    k.useBackend('auto');
    const out = [];
    const o = new Float32Array(300); k.kernels.fill(o, 2); out.push(o[299]);
    const t = (f) => { try { f(); out.push('ok'); } catch (e) { out.push(e.message); } };
    t(() => k.kernels.gemm(false, false, 2, 3, 2, 1, new Float32Array(4), new Float32Array(6), 0, new Float32Array(5)));
    t(() => k.kernels.sumAxis(new Float32Array(6), 2, 3, 1, new Float32Array(3)));
    const a = new Float32Array(8);
    t(() => k.kernels.binary('add', a.subarray(0, 4), a.subarray(0, 4), a.subarray(1, 5)));
    t(() => k.kernels.gather(new Float32Array(6), 2, 3, new Int32Array([0, 3]), new Float32Array(2)));
    t(() => k.kernels.adam(new Float32Array(2), new Float32Array(2), new Float32Array(3), new Float32Array(2), null, 0.9, 0.999, 1e-3, 1, 1e-8));
    out.push(k.kernels.dot(new Float32Array(200).fill(1), new Float32Array(200).fill(2)));
    console.log(JSON.stringify(out));
  `;
  const run = (flags: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [...flags, '--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env } }).trim().split('\n').pop()!,
    ) as unknown[];
  const forbidden = run(['--disallow-code-generation-from-strings']);
  expect(forbidden).toEqual(run([]));
  expect(forbidden).toEqual([
    2,
    "gemm: 'c' has length 5, expected m*n (m=2, n=3) = 6",
    "sumAxis: 'out' has length 3, expected outer*inner (outer=2, inner=1) = 2",
    "binary: 'out' partly overlaps 'a' (one buffer, bytes [4, 20) and bytes [0, 16)); 'out' may be 'a' itself or a separate array, not a shifted view of it",
    expect.stringMatching(/gather: idx\[1\] = 3 is out of range \[0, 3\)/),
    "adam: 'm' has length 3, expected param.length = 2",
    400,
  ]);
});
