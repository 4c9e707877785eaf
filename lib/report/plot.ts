/**
 * Line charts of training curves, as SVG (and PNG through resvg), like the course report's figures.
 *
 * NOTE: the SVG is written here rather than with a plotting library: the charts are a few axes and
 * polylines, and the plotting libraries for Node either need a browser (Vega's renderer, Plotly) or a
 * native canvas. PNG conversion uses resvg (a maintained SVG renderer shipped as an npm binary).
 *
 * @example
 * const svg = lineChart({ title: 'loss', xLabel: 'epoch', yLabel: 'loss',
 *   series: [{ name: 'sigmoid', points: [[1, 0.5], [2, 0.3]] }] });
 * fs.writeFileSync('loss.svg', svg);
 * fs.writeFileSync('loss.png', svgToPng(svg));
 */

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * Smallest and largest coordinate `k` of the points. NOTE: a loop, not `Math.min(...values)`: spreading more
 * than about 100,000 arguments overflows the call stack (a per-batch loss curve of a long run has that many).
 */
function extent(points: readonly [number, number][], k: 0 | 1): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    if (p[k] < lo) lo = p[k];
    if (p[k] > hi) hi = p[k];
  }
  return [lo, hi];
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** One chart as an SVG string: axes, ticks, one polyline per series and a legend. */
export function lineChart(options: ChartOptions, offset: [number, number] = [0, 0], standalone = true): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const m = { left: 70, right: 150, top: 40, bottom: 50 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = options.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  let [x0, x1] = all.length ? extent(all, 0) : [0, 1];
  let [y0, y1] = all.length ? extent(all, 1) : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number): number => offset[0] + m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => offset[1] + m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  const left = offset[0] + m.left;
  const top = offset[1] + m.top;
  parts.push(`<rect x="${offset[0]}" y="${offset[1]}" width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${left + pw / 2}" y="${top - 15}" text-anchor="middle" font-size="16">${escapeXml(options.title)}</text>`);
  for (const t of ticks(y0, y1)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${fmt(t)}</text>`);
  }
  const integerX = all.every(([x]) => Number.isInteger(x));
  for (const t of ticks(x0, x1).filter((v) => !integerX || Number.isInteger(v))) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}" stroke="black"/>`);
    parts.push(`<text x="${x}" y="${top + ph + 18}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>`);
  parts.push(`<text x="${left + pw / 2}" y="${top + ph + 40}" text-anchor="middle" font-size="13">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text x="${left - 52}" y="${top + ph / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 ${left - 52} ${top + ph / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 1) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = top + 10 + i * 20;
    parts.push(`<line x1="${left + pw + 12}" x2="${left + pw + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${left + pw + 38}" y="${ly}" dominant-baseline="middle" font-size="12">${escapeXml(s.name)}</text>`);
  });
  const body = parts.join('\n');
  return standalone ? wrapSvg(body, width, height) : body;
}

function wrapSvg(body: string, width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">\n${body}\n</svg>\n`;
}

/** Several charts side by side in one SVG (loss and accuracy, say). */
export function chartRow(charts: ChartOptions[]): string {
  const width = 640;
  const height = 400;
  const body = charts.map((c, i) => lineChart({ ...c, width, height }, [i * width, 0], false)).join('\n');
  return wrapSvg(body, width * charts.length, height);
}

/** Renders an SVG string to PNG bytes. */
export function svgToPng(svg: string): Buffer {
  // Loaded lazily: a user who never asks for a PNG never loads the renderer's binary.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const r = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' });
  return r.render().asPng();
}
