/**
 * The outside runtimes the interop tests compare against, found or reported missing (the tests then skip
 * with the reason): onnxruntime-node from test/peers (installed by .ci/run with
 * `ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix test/peers`), and a Python with PyTorch.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');

/** The part of onnxruntime-node's API the tests use. */
export interface Ort {
  InferenceSession: {
    create(model: string | Uint8Array): Promise<{
      inputNames: readonly string[];
      outputNames: readonly string[];
      run(feeds: Record<string, unknown>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>>;
    }>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

let ort: { runtime: Ort | null; why: string } | undefined;

/** onnxruntime-node from test/peers, or null and why not. */
export function onnxRuntime(): { runtime: Ort | null; why: string } {
  if (ort === undefined) {
    const dir = path.join(root, 'test', 'peers', 'node_modules', 'onnxruntime-node');
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort = { runtime: require(dir) as Ort, why: '' };
    } catch (e) {
      ort = {
        runtime: null,
        why: `onnxruntime-node is not installed in test/peers (ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix test/peers): ${(e as Error).message.split('\n')[0]}`,
      };
    }
  }
  return ort;
}

let python: { exe: string | null; why: string } | undefined;

/**
 * A Python that can `import torch`: $VUGRAD_PYTHON when set (and only it), else `python3`, else
 * `/usr/bin/python3` (Debian's python3-torch installs there, which a pyenv `python3` on the PATH does not see).
 */
export function torchPython(): { exe: string | null; why: string } {
  if (python === undefined) {
    const candidates = process.env.VUGRAD_PYTHON ? [process.env.VUGRAD_PYTHON] : ['python3', '/usr/bin/python3'];
    python = { exe: null, why: `no Python with PyTorch (tried ${candidates.join(', ')}; apt-get install python3-torch)` };
    for (const exe of candidates) {
      const r = spawnSync(exe, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
      if (r.status === 0) {
        python = { exe, why: '' };
        break;
      }
    }
  }
  return python;
}

/** Largest absolute difference of two equally long arrays (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
