// A jest environment for tests that call onnxruntime-node. jest runs each test file in its own realm, whose
// Float32Array differs from the one native addons create their results with; onnxruntime's Tensor checks
// `data instanceof Float32Array` and then refuses its own outputs. Here the test realm gets the outer realm's
// typed arrays, so both sides agree (Buffer, which jest already shares, becomes an instance of Uint8Array too).
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
