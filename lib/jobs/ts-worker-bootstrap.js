// Starts a training worker from the TypeScript sources (under ts-jest or tsx, where there is no compiled
// training-worker.js next to job.ts): register tsx's CommonJS hook, then load the .ts entry.
// The compiled package never uses this file (dist/jobs/training-worker.js runs directly).
'use strict';
const { workerData } = require('node:worker_threads');
require('tsx/cjs');
require(workerData.entry);
