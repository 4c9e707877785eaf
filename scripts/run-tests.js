#!/usr/bin/env node
// Runs the jest suite and prints the one line CI reads: "N passed, N failed".
// Extra arguments go to jest (e.g. `npm test -- test/core`).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, '.test-results');
fs.mkdirSync(outDir, { recursive: true });

function runPass(label, env) {
  const outFile = path.join(outDir, `jest-${label}.json`);
  fs.rmSync(outFile, { force: true });
  const jestBin = require.resolve('jest/bin/jest');
  const res = spawnSync(process.execPath, [jestBin, '--json', `--outputFile=${outFile}`, ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (!fs.existsSync(outFile)) {
    console.error(`[${label}] jest wrote no results (exit ${res.status})`);
    return { passed: 0, failed: 1 };
  }
  const r = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  // A test file that fails to load counts as a failure even though it has no test results.
  const brokenSuites = r.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
  const passed = r.numPassedTests;
  const failed = r.numFailedTests + brokenSuites;
  console.log(`[${label}] ${passed} passed, ${failed} failed, ${r.numPendingTests} skipped`);
  return { passed, failed };
}

// The whole suite runs once per kernel backend: always with the JS kernels, and again with the native addon
// when it loads here (built in build/Release or prebuilt in prebuilds/). A VUGRAD_BACKEND set by the caller
// picks that one pass only.
function nativeLoads() {
  const probe = spawnSync(
    process.execPath,
    ['-e', "require('node-gyp-build')(process.argv[1]).blasConfig()", root],
    { cwd: root, encoding: 'utf8' },
  );
  return { ok: probe.status === 0, why: (probe.stderr || '').trim().split('\n')[0] };
}

const passes = [];
const forced = (process.env.VUGRAD_BACKEND || '').trim().toLowerCase();
if (forced === 'js' || forced === 'native') {
  passes.push([forced, { VUGRAD_BACKEND: forced }]);
} else {
  passes.push(['js', { VUGRAD_BACKEND: 'js' }]);
  const probe = nativeLoads();
  if (probe.ok) passes.push(['native', { VUGRAD_BACKEND: 'native' }]);
  else console.log(`[native] pass not run: the addon does not load here (${probe.why || 'not built'}); npm run build:native builds it`);
}
let passed = 0;
let failed = 0;
for (const [label, env] of passes) {
  const r = runPass(label, env);
  passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
