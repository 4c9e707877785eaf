#!/usr/bin/env node
'use strict';
// --backend and --threads are applied by the CLI itself (useBackend/setNumThreads), not here.
const argv = process.argv;
require('../dist/cli/main.js')
  .main(argv)
  .then((code) => {
    process.exitCode = code;
  });
