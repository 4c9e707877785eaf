/**
 * Option handling shared by the optimizers: PyTorch's names in camelCase, PyTorch's own snake_case spellings
 * accepted as aliases (so options copied from Python work), defaults filled in, and every value checked.
 *
 * @example
 * const o = resolveOptions('Adam', ADAM_SPECS, { lr: 0.01, weight_decay: 1e-4 });
 * // -> { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-4, amsgrad: false, maximize: false }
 */

/** Says what is wrong with a value (a phrase such as "must be >= 0"), or returns null when it is valid. */
export type Check = (value: unknown) => string | null;

export interface OptionSpec {
  /** The value used when the option is not given; `undefined` makes the option required. */
  default?: unknown;
  check: Check;
  /** PyTorch's snake_case spelling, when it differs (`weight_decay` for `weightDecay`). */
  alias?: string;
}

export type OptionSpecs<O> = { readonly [K in keyof O]-?: OptionSpec };

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** A number in `[lo, hi]`; `open` makes either end exclusive. */
export function numberIn(lo: number, hi = Infinity, open: { lo?: boolean; hi?: boolean } = {}): Check {
  const range = `${open.lo ? '(' : '['}${lo}, ${hi}${open.hi || hi === Infinity ? ')' : ']'}`;
  return (v) => {
    if (!isNumber(v)) return `must be a number in ${range}`;
    const okLo = open.lo ? v > lo : v >= lo;
    const okHi = open.hi ? v < hi : v <= hi;
    return okLo && okHi && (hi === Infinity ? Number.isFinite(v) : true) ? null : `must be in ${range}`;
  };
}

/** A non-negative finite number (learning rates, weight decay, eps). */
export const nonNegative: Check = numberIn(0);

export const boolean: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');

/** A pair of numbers `[a, b]`, each checked by `each`, and then by `both` (for "0 < a < 1 < b"). */
export function pair(each: Check, both?: (a: number, b: number) => string | null): Check {
  return (v) => {
    if (!Array.isArray(v) || v.length !== 2) return 'must be a pair [a, b]';
    for (const x of v) {
      const problem = each(x);
      if (problem) return `each entry ${problem}`;
    }
    return both ? both(v[0] as number, v[1] as number) : null;
  };
}

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** Throws an error naming the owner, the option and the offending value. */
export function invalidOption(owner: string, name: string, value: unknown, problem: string): never {
  throw new RangeError(`${owner}: invalid option ${name} = ${show(value)} (${problem})`);
}

/**
 * Fills defaults into `given`, maps snake_case aliases to camelCase, and checks every value; throws on an
 * unknown option, a missing required one, an invalid value, or the same option given under both spellings.
 */
export function resolveOptions<O>(owner: string, specs: OptionSpecs<O>, given: object | undefined): O {
  const byAlias = new Map<string, string>();
  for (const key of Object.keys(specs)) {
    const alias = (specs as Record<string, OptionSpec>)[key].alias;
    if (alias) byAlias.set(alias, key);
  }
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new TypeError(`${owner}: options must be an object, got ${show(given)}`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    const key = name in specs ? name : byAlias.get(name);
    if (key === undefined) {
      throw new RangeError(`${owner}: unknown option '${name}' (known: ${Object.keys(specs).join(', ')})`);
    }
    if (key in values && values[key] !== value) {
      throw new RangeError(`${owner}: option ${key} given twice (as ${key} and ${name}) with different values`);
    }
    values[key] = value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs as Record<string, OptionSpec>)) {
    const value = key in values ? values[key] : spec.default;
    if (value === undefined) throw new RangeError(`${owner}: option ${key} is required`);
    const problem = spec.check(value);
    if (problem) invalidOption(owner, key, value, problem);
    out[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return out as O;
}
