/**
 * Load-time code generation for the kernel checks and the native adapter (validate.ts, native.ts): each is
 * compiled from its declaration in specs.ts into the straight-line function one would write by hand.
 *
 * NOTE: a process may forbid it (`node --disallow-code-generation-from-strings`, or an embedder's policy): then
 * `generated` returns null and the caller builds the same function as a closure that reads the declaration on
 * each call (the same checks, messages and results; slower per call). `VUGRAD_KERNEL_CODEGEN=0` takes that path
 * on purpose, to test it (test/kernels/specs.test.ts runs a child with the flag).
 * Known limit of that path: one closure's code serves every kernel, and Node 20's optimized code then reads a
 * detached view's length stale more often (see validate.ts, attached()): the fuzz suite run with
 * VUGRAD_KERNEL_CODEGEN=0 sees a detached array reach a JS kernel in a few cases (NaN, never a crash; the addon
 * still refuses it), where the generated per-kernel checks refuse every one.
 */
let allowed: boolean | undefined;

/** `new Function(...params, body)(...args)`, or null where this process forbids code generation. */
export function generated(params: readonly string[], body: string, args: readonly unknown[]): unknown {
  if (allowed === false || process.env.VUGRAD_KERNEL_CODEGEN === '0') return null;
  let factory: (...a: unknown[]) => unknown;
  try {
    factory = new Function(...params, body) as (...a: unknown[]) => unknown;
  } catch (err) {
    if (!(err instanceof EvalError)) throw err;
    allowed = false;
    return null;
  }
  allowed = true;
  return factory(...args);
}
