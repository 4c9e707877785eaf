/** Line charts: long series (a per-batch curve) and non-finite points (a diverged run) still draw. */
import { lineChart } from '../../lib/report/plot';

test('300,000 points draw (Math.min(...points) overflowed the call stack)', () => {
  const points = Array.from({ length: 300_000 }, (_, i) => [i, Math.sin(i / 1000)] as [number, number]);
  const svg = lineChart({ title: 't', xLabel: 'batch', yLabel: 'loss', series: [{ name: 'loss', points }] });
  expect(svg).toMatch(/^<svg/);
  expect(svg).toContain('<polyline');
  expect(svg).not.toContain('NaN');
});

test('NaN and infinite points are left out, not drawn as NaN coordinates', () => {
  const svg = lineChart({ title: 't', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'loss', points: [[1, 2], [2, NaN], [3, Infinity], [4, 1]] }] });
  expect(svg).not.toMatch(/NaN|Infinity/);
  expect(svg.match(/<circle/g)).toHaveLength(2);
});
