/**
 * A call's arguments as a plan: buffers (plain, resizable, shared, growable shared, detached) and the views of
 * them that the kernel gets, so that two structurally identical copies can be made (one for the backend under
 * test, one for the JS reference), aliasing and detached buffers included.
 */
import type { CallSpec, FloatCtor } from './specs';
import { rng } from '../reference';

export type ViewCtor = FloatCtor | Int32ArrayConstructor | Uint8ArrayConstructor;
export type BufKind = 'plain' | 'resizable' | 'shared' | 'growable';

export interface BufPlan {
  kind: BufKind;
  bytes: Uint8Array;
  detach: boolean;
}
export type ArgPlan =
  | { t: 'view'; buf: number; ctor: ViewCtor; byteOffset: number; length: number; tracking: boolean }
  | { t: 'value'; value: unknown };

export interface Plan {
  kernel: string;
  names: string[];
  args: ArgPlan[];
  bufs: BufPlan[];
}

/** A small deterministic PRNG (the conformance suite's mulberry32), so a fast-check counterexample replays exactly. */
export const prng = rng;

// NOTE: no tiny magnitudes such as 1e-30: a float32 product of two underflows to 0 in the addon (and in
// PyTorch) but not in the JS kernels, which compute in double and round once; that is a rounding difference,
// not a bug, and the comparison could not tell it from one.
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e4];

/** The plan of a valid call: each array in its own plain buffer, values from `seed`. */
export function basePlan(spec: CallSpec, C: FloatCtor, seed: number, specialRate: number): Plan {
  const r = prng(seed);
  const plan: Plan = { kernel: spec.kernel, names: [], args: [], bufs: [] };
  for (const a of spec.args) {
    plan.names.push(a.name);
    if (a.kind === 'value') {
      plan.args.push({ t: 'value', value: a.value });
      continue;
    }
    if (a.kind === 'float') {
      const arr = new C(a.length);
      for (let i = 0; i < arr.length; i++) {
        let x = r() < specialRate ? SPECIAL[Math.floor(r() * SPECIAL.length)] : (r() * 2 - 1) * 3;
        if (a.role === 'positive') x = Math.abs(x);
        else if (a.role === 'atLeastHalf') x = Math.abs(x) + 0.5;
        else if (a.role === 'small') x /= 10;
        arr[i] = x;
      }
      plan.bufs.push({ kind: 'plain', bytes: new Uint8Array(arr.buffer), detach: false });
      plan.args.push({ t: 'view', buf: plan.bufs.length - 1, ctor: C, byteOffset: 0, length: a.length, tracking: false });
    } else {
      const arr = new Int32Array(a.length);
      for (let i = 0; i < arr.length; i++) arr[i] = Math.floor(r() * a.bound);
      plan.bufs.push({ kind: 'plain', bytes: new Uint8Array(arr.buffer), detach: false });
      plan.args.push({ t: 'view', buf: plan.bufs.length - 1, ctor: Int32Array, byteOffset: 0, length: a.length, tracking: false });
    }
  }
  return plan;
}

// NOTE: resizable ArrayBuffers and growable SharedArrayBuffers are ES2024; the TypeScript lib in use may not
// declare their constructor options.
const AB = ArrayBuffer as unknown as new (n: number, o?: { maxByteLength: number }) => ArrayBuffer;
const SAB = SharedArrayBuffer as unknown as new (n: number, o?: { maxByteLength: number }) => SharedArrayBuffer;

function makeBuffer(b: BufPlan): ArrayBuffer | SharedArrayBuffer {
  const n = b.bytes.length;
  const buf =
    b.kind === 'plain' ? new ArrayBuffer(n)
    : b.kind === 'resizable' ? new AB(n, { maxByteLength: 2 * n + 16 })
    : b.kind === 'shared' ? new SharedArrayBuffer(n)
    : new SAB(n, { maxByteLength: 2 * n + 16 });
  new Uint8Array(buf).set(b.bytes);
  return buf;
}

/** Fresh arguments for one call, built from the plan (views share buffers exactly as planned). */
export function materialize(plan: Plan): unknown[] {
  const bufs = plan.bufs.map(makeBuffer);
  const args = plan.args.map((a) => {
    // A typed array passed as a plain value (a wrong-type case) is copied too: each call gets its own.
    if (a.t === 'value') return ArrayBuffer.isView(a.value) && !(a.value instanceof DataView) ? (a.value as Uint8Array).slice() : a.value;
    const buf = bufs[a.buf];
    const b = buf as ArrayBuffer; // typed-array constructors take shared buffers too
    return a.tracking ? new a.ctor(b, a.byteOffset) : new a.ctor(b, a.byteOffset, a.length);
  });
  plan.bufs.forEach((b, i) => {
    // Detach after the views exist: they stay, with length 0 and no data.
    if (b.detach) structuredClone(bufs[i], { transfer: [bufs[i] as ArrayBuffer] });
  });
  return args;
}

/** A deep copy of a plan (mutations edit the copy). */
export function clonePlan(p: Plan): Plan {
  return {
    kernel: p.kernel,
    names: [...p.names],
    args: p.args.map((a) => ({ ...a })),
    bufs: p.bufs.map((b) => ({ ...b, bytes: b.bytes.slice() })),
  };
}
