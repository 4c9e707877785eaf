/**
 * The same seed gives the same trained weights on the native kernels and on the pure-JS kernels, to float32
 * tolerance: a few SGD steps of a small conv net on each, switched with useBackend (in both test passes).
 */
import { NDArray, Random, TensorNode, backendInfo, kernels, manualSeed, useBackend } from '../../lib';
import { backendTables } from '../../lib/kernels';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, crossEntropyLoss } from '../../lib/nn';

function trainedWeights(): NDArray[] {
  manualSeed(21);
  const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1, stride: 2 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 5));
  const r = new Random(3);
  const x = NDArray.zeros([6, 3, 16, 16]);
  for (let i = 0; i < x.size; i++) x.data[i] = r.normal();
  const t = Int32Array.from([0, 1, 2, 3, 4, 0]);
  for (let step = 0; step < 20; step++) {
    net.zeroGrad();
    crossEntropyLoss(net.call(TensorNode.constant(x)), t).backward();
    for (const p of net.parameters()) kernels.axpy(-0.1, p.grad.data, p.value.data);
  }
  return net.parameters().map((p) => p.value.copy());
}

/** Whether the addon can load in this process (it is built in CI; elsewhere the comparison skips, saying so). */
function nativeAvailable(): boolean {
  const before = backendInfo().requested;
  try {
    useBackend('native');
    return true;
  } catch {
    return false;
  } finally {
    useBackend(before);
  }
}

const haveNative = nativeAvailable();
if (!haveNative) console.warn('backends.test: the native addon does not load here; native-vs-JS comparison skipped');

(haveNative ? test : test.skip)('seeded training agrees between the native kernels and the JS kernels', () => {
  const before = backendInfo().requested;
  let a: NDArray[];
  let b: NDArray[];
  try {
    expect(useBackend('native').backend).toBe('native');
    a = trainedWeights();
    expect(useBackend('js').backend).toBe('js');
    b = trainedWeights();
  } finally {
    useBackend(before);
  }
  expect(a).toHaveLength(b.length);
  let worst = 0;
  let identical = true;
  a.forEach((w, i) => {
    expect([...w.shape]).toEqual([...b[i].shape]);
    for (let j = 0; j < w.size; j++) {
      worst = Math.max(worst, Math.abs(w.data[j] - b[i].data[j]) / (Math.abs(b[i].data[j]) + 1));
      if (w.data[j] !== b[i].data[j]) identical = false;
    }
  });
  expect(worst).toBeLessThan(1e-4);
  // Two different implementations ran: float32 sums in another order cannot agree to the last bit everywhere.
  expect(identical).toBe(false);
  // The weights moved: the comparison is of trained values, not of the initialisation.
  manualSeed(21);
  expect(new Conv2d(3, 4, 3).weight.value.data[0]).not.toBe(a[0].data[0]);
});

describe('useBackend', () => {
  const before = backendInfo().requested;
  afterEach(() => useBackend(before));

  it('switches every kernel of the table ops use, and backendInfo says so', () => {
    const info = useBackend('js');
    expect(info.backend).toBe('js');
    expect(info.reason).toBe("useBackend('js')");
    expect(kernels.gemm).toBe(backendTables().js.gemm);
    if (haveNative) {
      const n = useBackend('native');
      expect(n.backend).toBe('native');
      expect(kernels.gemm).toBe(backendTables().native?.gemm);
      expect(n.nativeKernels.length).toBeGreaterThan(0);
    }
  });

  it('keeps the argument checks in front of the table it switches to', () => {
    useBackend('js');
    expect(() => kernels.axpy(1, new Float32Array(3), new Float32Array(4))).toThrow(/axpy/);
    if (haveNative) {
      useBackend('native');
      expect(() => kernels.axpy(1, new Float32Array(3), new Float32Array(4))).toThrow(/axpy/);
    }
  });

  it('rejects a name that is not a backend', () => {
    expect(() => useBackend('gpu' as never)).toThrow(/'auto', 'js' or 'native'.*"gpu"/);
  });
});
