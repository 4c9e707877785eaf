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

const passes = [['js', { VUGRAD_BACKEND: process.env.VUGRAD_BACKEND || '' }]];
let passed = 0;
let failed = 0;
for (const [label, env] of passes) {
  const r = runPass(label, env);
  passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
