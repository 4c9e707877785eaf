/**
 * Seeded randomness. One seed (`manualSeed`, as in PyTorch) makes initialisation, dropout and shuffling
 * reproducible; code that wants its own stream makes a `Random` of its own.
 *
 * The generator is xoshiro128** (small, fast, good statistical quality), seeded through splitmix32.
 *
 * @example
 * manualSeed(42);
 * const r = new Random(7);
 * r.uniform(); r.normal(); r.int(10); r.shuffle([1, 2, 3]);
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A `Random`'s state (`getState`/`setState`): xoshiro128**'s four words and Box-Muller's cached normal. */
export interface RandomState {
  s: number[];
  spare: number | null;
}

export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed: number = Date.now()) {
    this.seed(seed);
  }

  seed(seed: number): void {
    const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    this.spare = null;
  }

  /**
   * The generator's whole state, as plain data (JSON keeps it exactly): save it with a checkpoint and give
   * it to `setState` to continue the same stream (PyTorch's `Generator.get_state`).
   */
  getState(): RandomState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Restores a state from `getState`; throws a RangeError naming what is wrong with a malformed one. */
  setState(state: RandomState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new RangeError(`Random.setState: s must be 4 unsigned 32-bit integers, got ${JSON.stringify(s)}`);
    }
    if (s.every((v) => v === 0)) throw new RangeError('Random.setState: an all-zero state is not a valid xoshiro128** state');
    const spare = state.spare;
    if (!(spare === null || (typeof spare === 'number' && Number.isFinite(spare)))) {
      throw new RangeError(`Random.setState: spare must be null or a finite number, got ${JSON.stringify(spare)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = s;
    this.spare = spare;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    // 53 random bits for a double in [0, 1).
    const x = (this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6);
    return low + (high - low) * (x / 9007199254740992);
  }

  /** Normal with the given mean and standard deviation (Box-Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The library-wide generator, used when no `Random` is passed. Seed it with `manualSeed`. */
export const globalRandom = new Random(0x5eed);

/** Seeds the library-wide generator (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  globalRandom.seed(seed);
}

/** The library-wide generator's state (PyTorch's `torch.get_rng_state`), for checkpoints. */
export function getRngState(): RandomState {
  return globalRandom.getState();
}

/** Restores the library-wide generator from `getRngState` (PyTorch's `torch.set_rng_state`). */
export function setRngState(state: RandomState): void {
  globalRandom.setState(state);
}
