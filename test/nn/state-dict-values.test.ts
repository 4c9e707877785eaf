/** loadStateDict refuses weights that are not finite (a diverged run's), naming the tensor and the index. */
import { NDArray } from '../../lib/core/ndarray';
import { Linear } from '../../lib/nn/layers';

test.each([NaN, Infinity, -Infinity])('%s in a weight is refused and nothing is changed', (bad) => {
  const layer = new Linear(2, 2);
  const before = Array.from(layer.weight.value.data);
  const state = layer.stateDict();
  state.bias = NDArray.from([0.5, 0.5]);
  state.weight.data[3] = bad;
  expect(() => layer.loadStateDict(state)).toThrow(new RegExp(`'weight' holds ${bad} at index 3: the weights are not usable`));
  expect(Array.from(layer.weight.value.data)).toEqual(before);
  state.weight.data[3] = 1;
  layer.loadStateDict(state);
  expect(layer.weight.value.data[3]).toBe(1);
});
