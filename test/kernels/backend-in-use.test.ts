/**
 * The pass asserts the backend it claims to test: scripts/run-tests.js sets VUGRAD_EXPECT_BACKEND for each pass,
 * so a "native" pass that silently fell back to the JS kernels fails here instead of testing JS twice.
 */
import { backendInfo } from '../../lib';

const expected = process.env.VUGRAD_EXPECT_BACKEND;

describe('the backend this pass runs on', () => {
  (expected ? it : it.skip)(`is ${expected ?? '(not asserted outside scripts/run-tests.js)'}`, () => {
    const info = backendInfo();
    expect({ backend: info.backend, reason: info.reason }).toEqual({ backend: expected, reason: expect.any(String) });
    if (expected === 'native') expect(info.nativeKernels.length).toBe(info.nativeKernels.length + info.jsKernels.length);
  });
});
