#!/usr/bin/env node
'use strict';
// The backend is chosen when the kernels load, so `--backend` must reach the environment before that.
const argv = process.argv;
const i = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
if (i >= 0) {
  const value = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  if (value === 'js' || value === 'native') process.env.VUGRAD_BACKEND = value;
}
require('../dist/cli/main.js')
  .main(argv)
  .then((code) => {
    process.exitCode = code;
  });
