#!/usr/bin/env node
// Writes dist/index.mjs: an ES-module entry that re-exports the CommonJS build by name, so that
// `import { TensorNode } from 'vugrad'` and `require('vugrad')` load the same single copy of the library.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.resolve(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const lines = [
  "import lib from './index.js';",
  ...names.map((n) => `export const ${n} = lib.${n};`),
  'export default lib;',
  '',
];
fs.writeFileSync(path.join(dist, 'index.mjs'), lines.join('\n'));
console.log(`dist/index.mjs: ${names.length} exports`);
