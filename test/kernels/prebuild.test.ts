/**
 * The prebuilt binary (npm run prebuildify -> prebuilds/<platform>-<arch>/*.node) carries OpenBLAS inside it:
 * `ldd` shows no libopenblas, and a fresh process loads it from a folder that holds nothing but prebuilds/.
 * Skipped, with a message, where no prebuild has been made.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runChild } from './child';

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const prebuilt = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')).map((f) => path.join(dir, f)) : [];

if (prebuilt.length === 0) {
  // eslint-disable-next-line no-console
  console.log(`prebuild tests skipped: no ${dir}/*.node (run npm run prebuildify)`);
}

(prebuilt.length > 0 ? describe : describe.skip)('prebuilt addon', () => {
  test('links OpenBLAS statically: ldd shows no libopenblas (nor libgfortran)', () => {
    for (const file of prebuilt) {
      const res = spawnSync('ldd', [file], { encoding: 'utf8' });
      expect(res.status).toBe(0);
      expect(res.stdout).not.toMatch(/openblas|libblas|gfortran/i);
      // oneDNN is never linked either: the addon loads it at run time where it is installed.
      expect(res.stdout).not.toMatch(/dnnl|gomp/i);
      expect(res.stdout).not.toMatch(/not found/);
    }
  });

  test('a fresh process loads it from prebuilds/ alone, with VUGRAD_BACKEND=native, and computes', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-prebuild-'));
    try {
      // A folder with only prebuilds/ in it: node-gyp-build finds no build/Release there.
      fs.cpSync(path.join(root, 'prebuilds'), path.join(tmp, 'prebuilds'), { recursive: true });
      const out = runChild(
        `const k = require('./lib/kernels');
         const a = new Float32Array(100 * 100).fill(1), c = new Float32Array(100 * 100);
         k.kernels.gemm(false, false, 100, 100, 100, 2, a, a, 0, c);
         console.log(JSON.stringify({ info: k.backendInfo(), c0: c[0] }));`,
        { VUGRAD_BACKEND: 'native', VUGRAD_NATIVE_PATH: tmp },
      );
      expect(out.info.backend).toBe('native');
      expect(out.info.addonPath).toContain(path.join(tmp, 'prebuilds'));
      expect(out.info.blas).toMatch(/OpenBLAS/);
      expect(out.c0).toBe(200);
      // The same prebuilt binary takes oneDNN where it is installed (CI installs it and says so).
      if (process.env.VUGRAD_REQUIRE_ONEDNN === '1') expect(out.info.providers.gemm.provider).toBe('onednn');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
