#!/usr/bin/env node
// Runs the jest suite once per kernel backend and prints the line CI reads, always last:
// "N passed, N failed, N skipped", counting distinct tests (a test that runs in both passes counts once: it
// passed if it passed in a pass and failed in none, it is skipped if no pass ran it). Anything jest calls a
// failure fails the run: a failed test, a file that does not load, an error in a hook (afterAll marks the file
// failed while its tests stay passed), a non-zero exit. Extra arguments go to jest (e.g. `npm test -- test/core`).
//
// Environment:
//   VUGRAD_BACKEND=js|native   run that pass only
//   VUGRAD_REQUIRE_NATIVE=1    a native pass that cannot run is a failure (.ci/run sets it where OpenBLAS is
//                              installed, so a broken build cannot go green on the JS pass alone)
//   VUGRAD_TEST_RESULTS_DIR    where jest's JSON results go (default .test-results/)
//   VUGRAD_NATIVE_MIN_SIZE     the native pass's small-input cut-off; default 0 here, so every kernel call of
//                              the native pass reaches the addon (see lib/kernels/native.ts)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = process.env.VUGRAD_TEST_RESULTS_DIR || path.join(root, '.test-results');

/** One pass of jest; returns per-test statuses and the pass's own failures (not tied to one test). */
function runPass(label, env, extraArgs = []) {
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `jest-${label}.json`);
  fs.rmSync(outFile, { force: true });
  const jestBin = require.resolve('jest/bin/jest');
  // NOTE: --forceExit: a child process or socket a failed test left open must not keep CI waiting past its
  // limit after the results are in (jest then warns that it did not exit, and the results still count).
  const res = spawnSync(process.execPath, [jestBin, '--json', '--forceExit', `--outputFile=${outFile}`, ...process.argv.slice(2), ...extraArgs], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const problems = [];
  const tests = new Map();
  if (!fs.existsSync(outFile)) {
    problems.push(`jest wrote no results (exit ${res.status}${res.signal ? `, signal ${res.signal}` : ''})`);
    return { label, tests, problems };
  }
  const r = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  for (const suite of r.testResults) {
    const file = path.relative(root, suite.name);
    for (const t of suite.assertionResults) {
      const status = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
      tests.set(`${file} > ${t.fullName}`, status);
    }
    const failedInFile = suite.assertionResults.some((t) => t.status === 'failed');
    // A file jest failed with no failed test in it: it did not load, or a hook (beforeAll/afterAll) threw.
    if (suite.status === 'failed' && !failedInFile) {
      const why = (suite.message || 'failed outside its tests').split('\n').find((l) => l.trim()) || '';
      problems.push(`${file}: ${why.trim().slice(0, 300)}`);
    }
  }
  const failedFiles = r.testResults.filter((suite) => suite.status === 'failed').map((suite) => suite.name);
  const counted = [...tests.values()].filter((s) => s === 'failed').length + problems.length;
  if (counted === 0 && (res.status !== 0 || r.success === false)) {
    problems.push(`jest reported failure (exit ${res.status}, success ${r.success}) with no failed test`);
  }
  return { label, tests, problems, failedFiles };
}

/**
 * One pass, with the test files that failed run once more (at most MAX_RERUN of them; VUGRAD_TEST_RERUN=0 turns
 * it off). NOTE: this is for the few tests that drive real processes (servers, Redis, a browser) on a loaded
 * 2-core machine; every rerun is printed with the first run's failures, so a flaky test stays visible, and a test
 * that fails twice fails the run.
 */
const MAX_RERUN = 3;
function runPassWithRerun(label, env) {
  const first = runPass(label, env);
  const files = first.failedFiles || [];
  if (process.env.VUGRAD_TEST_RERUN === '0' || files.length === 0 || files.length > MAX_RERUN) return first;
  for (const f of files) {
    const failedHere = [...first.tests].filter(([n, st]) => st === 'failed' && n.startsWith(`${path.relative(root, f)} > `)).map(([n]) => n);
    console.log(`[${label}] RERUN ${path.relative(root, f)} once after a failure: ${failedHere.join('; ') || 'the file failed outside its tests'}`);
  }
  const again = runPass(`${label}-rerun`, env, ['--runTestsByPath', ...files]);
  const tests = new Map(first.tests);
  for (const name of [...tests.keys()]) if (files.some((f) => name.startsWith(`${path.relative(root, f)} > `))) tests.delete(name);
  for (const [name, st] of again.tests) tests.set(name, st);
  const problems = first.problems.filter((p) => !files.some((f) => p.startsWith(`${path.relative(root, f)}:`))).concat(again.problems);
  return { label, tests, problems, failedFiles: again.failedFiles };
}

/** Whether the addon loads in a plain process, and why not. */
function nativeLoads() {
  // Loads the addon as lib/kernels/native.ts does: VUGRAD_NATIVE_PATH (a .node file or a folder), else the package.
  const code = "const p = process.env.VUGRAD_NATIVE_PATH; const b = p && p.endsWith('.node') ? require(require('path').resolve(p)) : require('node-gyp-build')(p || process.argv[1]); b.blasConfig()";
  const probe = spawnSync(process.execPath, ['-e', code, root], {
    cwd: root,
    encoding: 'utf8',
  });
  return { ok: probe.status === 0, why: (probe.stderr || '').trim().split('\n')[0] };
}

function count(statuses) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const s of statuses) c[s]++;
  return c;
}

const results = [];
const problems = [];
try {
  const forced = (process.env.VUGRAD_BACKEND || '').trim().toLowerCase();
  const requireNative = process.env.VUGRAD_REQUIRE_NATIVE === '1';
  const nativeEnv = {
    VUGRAD_BACKEND: 'native',
    VUGRAD_EXPECT_BACKEND: 'native',
    VUGRAD_NATIVE_MIN_SIZE: process.env.VUGRAD_NATIVE_MIN_SIZE ?? '0',
  };
  const jsEnv = { VUGRAD_BACKEND: 'js', VUGRAD_EXPECT_BACKEND: 'js' };
  const passes = [];
  if (forced !== 'native') passes.push(['js', jsEnv]);
  if (forced !== 'js') {
    const probe = nativeLoads();
    if (probe.ok) passes.push(['native', nativeEnv]);
    else {
      const msg = `[native] pass not run: the addon does not load here (${probe.why || 'not built'}); npm run build:native builds it`;
      if (requireNative || forced === 'native') problems.push(`${msg} (and a native pass is required)`);
      else console.log(msg);
    }
  }
  for (const [label, env] of passes) {
    const r = runPassWithRerun(label, env);
    results.push(r);
    const c = count(r.tests.values());
    console.log(`[${label}] ${c.passed} passed, ${c.failed + r.problems.length} failed, ${c.skipped} skipped`);
    for (const p of r.problems) problems.push(`[${label}] ${p}`);
  }
} catch (err) {
  problems.push(`the test runner failed: ${err && err.stack ? err.stack : err}`);
}

if (results.length === 0 && problems.length === 0) problems.push('no test pass ran');

// Distinct tests over all passes.
const merged = new Map();
for (const r of results) {
  for (const [name, s] of r.tests) {
    const prev = merged.get(name);
    if (prev === 'failed' || s === 'failed') merged.set(name, 'failed');
    else if (prev === 'passed' || s === 'passed') merged.set(name, 'passed');
    else merged.set(name, 'skipped');
  }
}
const total = count(merged.values());
const failedNames = [...merged].filter(([, s]) => s === 'failed').map(([n]) => n);
for (const n of failedNames.slice(0, 50)) console.log(`FAILED ${n}`);
for (const p of problems) console.log(`FAILED ${p}`);
const runs = results.map((r) => r.label).join(' + ') || 'no pass';
console.log(`distinct tests over ${runs}: ${merged.size} (${results.reduce((a, r) => a + r.tests.size, 0)} runs)`);
const failed = total.failed + problems.length;
console.log(`${total.passed} passed, ${failed} failed, ${total.skipped} skipped`);
process.exitCode = failed === 0 && results.length > 0 ? 0 : 1;
