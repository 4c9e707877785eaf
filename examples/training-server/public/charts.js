// Loss and accuracy curves with uPlot (served by the training server from node_modules: no CDN). One chart per
// quantity; x is the epoch. Batch losses arrive between epochs and are drawn at fractional epochs (epoch 2,
// batch 5 of 10 is x = 1.5), so the curve moves while an epoch runs; epoch means are drawn as points.

let uPlotModule;
async function loadUPlot() {
  if (uPlotModule === undefined) {
    uPlotModule = import('/vendor/uplot/uPlot.esm.js').then(
      (m) => m.default,
      () => null,
    );
  }
  return uPlotModule;
}

const COLORS = { batch: '#94a3b8', train: '#2563eb', val: '#d97706' };

/**
 * A chart in `container`: `series` is a list of `{key, label, color, points?}`; `update(rows)` takes rows of
 * `{x, [key]: value}` (undefined or null for a gap), sorted by x.
 */
export class Curve {
  constructor(container, { title, series, percent = false }) {
    this.container = container;
    this.title = title;
    this.series = series;
    this.percent = percent;
    this.rows = [];
    this.plot = undefined;
    this.ready = this.init();
  }

  async init() {
    const uPlot = await loadUPlot();
    if (!uPlot) {
      this.container.textContent = 'Charts need the uplot package (npm install uplot) on the server.';
      return;
    }
    const fmt = (v) => (v == null ? '-' : this.percent ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));
    const opts = {
      title: this.title,
      width: this.width(),
      height: 220,
      scales: { x: { time: false } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { label: 'epoch', size: 40, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
        { size: 56, values: (u, ticks) => ticks.map((t) => (this.percent ? `${Math.round(t * 100)}%` : String(+t.toPrecision(3)))) },
      ],
      series: [
        { label: 'epoch', value: (u, v) => (v == null ? '-' : (+v.toFixed(2)).toString()) },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: COLORS[s.color] ?? s.color,
          width: s.color === 'batch' ? 1 : 2,
          spanGaps: true,
          points: { show: s.points !== false, size: 6 },
          value: (u, v) => fmt(v),
        })),
      ],
    };
    this.container.textContent = '';
    this.plot = new uPlot(opts, this.data(), this.container);
    this.resizer = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: 220 }));
    this.resizer.observe(this.container);
  }

  width() {
    return Math.max(200, Math.floor(this.container.getBoundingClientRect().width || 300));
  }

  data() {
    return [this.rows.map((r) => r.x), ...this.series.map((s) => this.rows.map((r) => (r[s.key] ?? null)))];
  }

  /** Replaces the chart's data. */
  update(rows) {
    this.rows = rows;
    this.container.dataset.points = String(rows.length);
    this.plot?.setData(this.data());
  }

  destroy() {
    this.resizer?.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}

/**
 * The rows of the loss and accuracy charts from a job's epoch history and the batch progress seen so far
 * (`batches`: `[{x, loss, accuracy}]`, in arrival order). Batch points at or before the last finished epoch
 * are kept too: they show how noisy each epoch was.
 */
export function chartRows(history, batches) {
  const byX = new Map();
  const at = (x) => {
    const key = Math.round(x * 1e6) / 1e6;
    let row = byX.get(key);
    if (!row) byX.set(key, (row = { x: key }));
    return row;
  };
  for (const b of batches) {
    const row = at(b.x);
    row.batchLoss = b.loss;
    row.batchAccuracy = b.accuracy;
  }
  for (const m of history) {
    const row = at(m.epoch);
    row.trainLoss = m.trainLoss;
    row.trainAccuracy = m.trainAccuracy;
    row.valLoss = m.valLoss;
    row.valAccuracy = m.valAccuracy;
  }
  return [...byX.values()].sort((a, b) => a.x - b.x);
}
