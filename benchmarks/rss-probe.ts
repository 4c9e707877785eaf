/**
 * Where the memory workload's RSS goes (issue 20: "RSS flat from epoch 2 to 10 failed, +3.1 MB").
 *
 * Runs the suite's memory workload (benchmarks/suite/vugrad.ts `memory`: MLP 784-300-10, batch 128, SGD with
 * momentum, epochs over 10,000 synthetic samples) and prints, after each epoch, RSS and what V8 and Linux say it
 * is made of: heapUsed / heapTotal (V8's heap; oldSpace and codeSpace used), external / arrayBuffers (memory outside the V8 heap that
 * JS objects hold: typed arrays' stores), the process's [heap] segment (where glibc malloc's main arena lives,
 * from /proc/self/smaps) and its anonymous mappings outside it (thread arenas, mmapped blocks, V8's pages).
 *
 *   node --require tsx/cjs benchmarks/rss-probe.ts [--epochs 20] [--gc] [--trim] [--json]
 *
 * With benchmarks/c/mallinfo_preload.c preloaded (its header says how) and VUGRAD_MALLINFO_OUT set, each reading
 * also has glibc's mallinfo2(): mallocArena (heap bytes malloc holds), mallocMmap (mmapped blocks), mallocInUse,
 * mallocFree (freed but kept: fragmentation and free space) and mallocTopPad (releasable at the heap's top).
 *
 * --gc calls global.gc() before each reading (needs node --expose-gc): V8's garbage left out of RSS.
 * --settle (with --gc) waits --settle-ms (50) and collects again: the stores V8 frees after a collection.
 * --trim calls releaseFreedMemory() (glibc malloc_trim) before each reading: malloc's free memory left out.
 *
 * What it showed (2026-11-30, 2-core EPYC, native backend): raw RSS climbs 1-5 MB over the first 10-20 epochs
 * and then stays in a band; arrayBuffers swings 35 -> 65 MB and back (dead stores awaiting a full GC) and the
 * [heap] segment keeps its high-water mark. With --gc --settle --trim RSS is flat (+0.9 MB from epoch 10 to 100)
 * and mallocInUse stays at 4.5 MB: no leak. See `memory` in benchmarks/suite/vugrad.ts.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { TensorNode } from '../lib/core/tensor-node';
import { backendInfo, releaseFreedMemory } from '../lib/kernels';
import { MLP } from '../lib/nn/models';
import { crossEntropyLoss } from '../lib/nn/losses';
import { SGD } from '../lib/optim/sgd';
import { SIZES } from './suite/common';
import { batches } from './suite/vugrad-data';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const epochs = opt('--epochs', SIZES.memoryEpochs);
const MB = 2 ** 20;

/** MB of the [heap] segment and of the unnamed anonymous mappings (and how many), from /proc/self/smaps. */
function smaps(): { heapRss: number; heapSize: number; anonRss: number; anonMaps: number } {
  const text = fs.readFileSync('/proc/self/smaps', 'utf8');
  let heapRss = 0;
  let heapSize = 0;
  let anonRss = 0;
  let anonMaps = 0;
  let kind: 'heap' | 'anon' | 'other' = 'other';
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (m) {
      const name = m[2].trim();
      kind = name === '[heap]' ? 'heap' : name === '' ? 'anon' : 'other';
      if (kind === 'anon') anonMaps++;
      continue;
    }
    const r = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (!r) continue;
    const kb = Number(r[2]);
    if (kind === 'heap' && r[1] === 'Rss') heapRss += kb;
    if (kind === 'heap' && r[1] === 'Size') heapSize += kb;
    if (kind === 'anon' && r[1] === 'Rss') anonRss += kb;
  }
  return { heapRss: heapRss / 1024, heapSize: heapSize / 1024, anonRss: anonRss / 1024, anonMaps };
}

/** mallinfo2() in MB, through the preloaded wrapper of getrusage (see the header); {} without it. */
function mallinfo(): Record<string, number> {
  const out = process.env.VUGRAD_MALLINFO_OUT;
  if (!out || !(process.env.LD_PRELOAD ?? '').includes('mallinfo')) return {};
  process.resourceUsage();
  const [arena, mmap, inUse, free, top] = fs.readFileSync(out, 'utf8').trim().split(' ').map((v) => Number(v) / MB);
  return { mallocArena: arena, mallocMmap: mmap, mallocInUse: inUse, mallocFree: free, mallocTopPad: top };
}

/** Used MB of V8's old and code spaces (what a slow heapUsed climb is made of). */
function spaces(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sp of v8.getHeapSpaceStatistics()) {
    if (sp.space_name === 'old_space') out.oldSpace = sp.space_used_size / MB;
    if (sp.space_name === 'code_space') out.codeSpace = sp.space_used_size / MB;
  }
  return out;
}

async function reading(e: number): Promise<Record<string, number>> {
  const gc = (global as { gc?: () => void }).gc;
  if (flag('--gc') && gc) gc();
  if (flag('--settle') && gc) {
    // ArrayBuffer stores are freed after the collection, partly on V8's background threads: let them finish.
    await new Promise((r) => setTimeout(r, opt('--settle-ms', 50)));
    gc();
  }
  if (flag('--trim')) releaseFreedMemory();
  const m = process.memoryUsage();
  const s = smaps();
  return {
    epoch: e,
    rss: m.rss / MB,
    heapUsed: m.heapUsed / MB,
    heapTotal: m.heapTotal / MB,
    external: m.external / MB,
    arrayBuffers: m.arrayBuffers / MB,
    mallocHeapRss: s.heapRss,
    mallocHeapSize: s.heapSize,
    anonRss: s.anonRss,
    anonMaps: s.anonMaps,
    ...spaces(),
    ...mallinfo(),
  };
}

const model = new MLP({ inputSize: 784, hiddenSizes: [300], outputSize: 10 });
const optim = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const data = batches(SIZES.memorySamples, 128);

async function main(): Promise<void> {
const rows: Record<string, number>[] = [await reading(0)];
for (let e = 1; e <= epochs; e++) {
  for (const { x, y } of data) {
    const loss = crossEntropyLoss(model.call(TensorNode.constant(x)), y);
    optim.zeroGrad();
    loss.backward();
    optim.step();
    loss.clear();
  }
  rows.push(await reading(e));
}

if (flag('--json')) {
  process.stdout.write(JSON.stringify({ backend: backendInfo().backend, mallocTuned: backendInfo().mallocTuned, rows }) + '\n');
} else {
  const info = backendInfo();
  console.log(`backend ${info.backend}, mallocTuned ${info.mallocTuned}, gc ${flag('--gc')}, trim ${flag('--trim')} (MB)`);
  const cols = Object.keys(rows[0]);
  console.log(cols.join('\t'));
  for (const r of rows) console.log(cols.map((c) => (c === 'epoch' || c === 'anonMaps' ? String(r[c]) : r[c].toFixed(1))).join('\t'));
}
}

void main();
