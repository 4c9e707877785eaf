/** releaseFreedMemory: a no-op without the addon, glibc's malloc_trim through it. */
import { backendInfo, releaseFreedMemory } from '../../lib';

test('releaseFreedMemory answers on either backend and never throws', () => {
  const big: Float32Array[] = [];
  for (let i = 0; i < 8; i++) big.push(new Float32Array(1 << 20));
  big.length = 0;
  const released = releaseFreedMemory();
  if (backendInfo().backend === 'js') expect(released).toBe(false);
  else expect(typeof released).toBe('boolean');
});
