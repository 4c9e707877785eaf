// One job: live loss and accuracy curves from its event stream, its settings and epoch log, cancel and
// model-download buttons. The stream is read with fetch() (EventSource cannot send the bearer token); when it
// breaks (a server restart) the page reconnects by itself and starts again from the job's stored state.

import { api, ApiError, downloadModel, followEvents } from './api.js';
import { chartRows, Curve } from './charts.js';
import { focusHeading, h, main, onLeave, show, toast } from './dom.js';
import { duration, num, pct, progressOf, statusBadge } from './format.js';


const SETTINGS = ['dataset', 'model', 'hidden', 'activation', 'init', 'optimizer', 'lr', 'momentum', 'batchSize', 'epochs', 'loss', 'reduction', 'seed', 'limit', 'valSize', 'final', 'raw', 'normalize', 'dtype', 'data'];

export function renderJob(id) {
  const title = h('h1', {}, 'Job ', h('code', {}, id));
  const badge = h('span', { id: 'job-status' });
  const cancel = h('button', { type: 'button', id: 'cancel-job', class: 'danger', disabled: true }, 'Cancel job');
  const download = h('button', { type: 'button', id: 'download-model', disabled: true }, 'Download model');
  const liveText = h('p', { id: 'live', class: 'live', 'aria-live': 'polite' });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress' });
  const errorBox = h('p', { class: 'job-error', role: 'alert', hidden: true });
  const lossBox = h('div', { class: 'chart', id: 'loss-chart' });
  const accBox = h('div', { class: 'chart', id: 'accuracy-chart' });
  const settings = h('dl', { class: 'settings', id: 'settings' });
  const logBody = h('tbody');
  const log = h(
    'table',
    { class: 'log', id: 'epoch-log' },
    h('caption', { class: 'visually-hidden' }, 'Metrics of each finished epoch'),
    h('thead', {}, h('tr', {}, ['Epoch', 'Train loss', 'Train acc.', 'Held-out loss', 'Held-out acc.', 'Seconds', 'Samples/s'].map((t) => h('th', { scope: 'col' }, t)))),
    logBody,
  );
  show(
    h('p', { class: 'back' }, h('a', { href: '#/' }, '\u2190 All jobs')),
    h(
      'section',
      { class: 'panel job', 'aria-labelledby': 'job-title' },
      h('div', { class: 'job-head' }, Object.assign(title, { id: 'job-title' }), badge),
      h('div', { class: 'actions' }, cancel, download),
      bar,
      liveText,
      errorBox,
      h('div', { class: 'charts' }, h('figure', {}, lossBox), h('figure', {}, accBox)),
      h('div', { class: 'details' }, h('section', { 'aria-labelledby': 'settings-title' }, h('h2', { id: 'settings-title' }, 'Settings'), settings), h('section', { 'aria-labelledby': 'log-title', class: 'log-section' }, h('h2', { id: 'log-title' }, 'Epoch log'), h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'log-title' }, log))),
    ),
  );
  focusHeading();

  const lossChart = new Curve(lossBox, {
    title: 'Loss',
    series: [
      { key: 'batchLoss', label: 'batch', color: 'batch', points: false },
      { key: 'trainLoss', label: 'train', color: 'train' },
      { key: 'valLoss', label: 'held-out', color: 'val' },
    ],
  });
  const accChart = new Curve(accBox, {
    title: 'Accuracy',
    percent: true,
    series: [
      { key: 'batchAccuracy', label: 'batch', color: 'batch', points: false },
      { key: 'trainAccuracy', label: 'train', color: 'train' },
      { key: 'valAccuracy', label: 'held-out', color: 'val' },
    ],
  });

  let job;
  /** Why the page is not live just now (the server restarting, the connection lost); '' while it is. */
  let connectionNote = '';
  const batches = [];
  const controller = new AbortController();
  let alive = true;
  let retryTimer;
  let tick;

  function drawCharts() {
    const rows = chartRows(job?.history ?? [], batches);
    lossChart.update(rows);
    accChart.update(rows);
    lossBox.dataset.epochs = accBox.dataset.epochs = String(job?.history?.length ?? 0);
  }

  function drawLog() {
    const history = job.history ?? [];
    while (logBody.children.length > history.length) logBody.lastChild.remove();
    history.forEach((m, i) => {
      const cells = [m.epoch, num(m.trainLoss), pct(m.trainAccuracy), num(m.valLoss), pct(m.valAccuracy), num(m.seconds, 3), Math.round(m.samplesPerSec ?? 0).toLocaleString('en-US')];
      let tr = logBody.children[i];
      if (!tr) logBody.append((tr = h('tr', {}, cells.map(() => h('td')))));
      const labels = ['Epoch', 'Train loss', 'Train acc.', 'Held-out loss', 'Held-out acc.', 'Seconds', 'Samples/s'];
      cells.forEach((c, j) => {
        tr.children[j].textContent = String(c);
        tr.children[j].dataset.label = labels[j];
      });
    });
  }

  function drawSettings() {
    const entries = [['owner', job.owner]];
    for (const k of SETTINGS) if (job.config?.[k] !== undefined) entries.push([k, Array.isArray(job.config[k]) ? job.config[k].join(', ') : job.config[k]]);
    if (job.info) {
      entries.push(['training samples', job.info.trainSize?.toLocaleString('en-US')]);
      entries.push([`${job.info.heldOutName ?? 'held-out'} samples`, job.info.heldOutSize?.toLocaleString('en-US')]);
      entries.push(['kernels', `${job.info.backend}, ${job.info.blasThreads} BLAS thread(s)`]);
    }
    entries.push(['created', new Date(job.createdAt).toLocaleString()]);
    if (job.startedAt) entries.push(['started', new Date(job.startedAt).toLocaleString()]);
    if (job.finishedAt) entries.push(['finished', new Date(job.finishedAt).toLocaleString()]);
    if (job.resumed) entries.push(['resumed', `${job.resumed} time(s)`]);
    settings.replaceChildren(...entries.filter(([, v]) => v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
  }

  function drawStatus() {
    if (badge.textContent !== job.status) badge.replaceChildren(statusBadge(job.status));
    const active = job.status === 'queued' || job.status === 'running';
    cancel.disabled = !active;
    download.disabled = !(job.status === 'succeeded' && job.hasModel);
    download.title = job.status === 'succeeded' && !job.hasModel ? 'The server no longer keeps this model' : '';
    const p = progressOf(job);
    bar.value = p.value;
    const bits = [p.text];
    if (job.status === 'running' && job.progress) {
      const q = job.progress;
      bits.push(`batch ${q.batch}/${q.batches} of epoch ${q.epoch}`, `loss ${num(q.loss)}`, `${Math.round(q.samplesPerSec).toLocaleString('en-US')} samples/s`);
    }
    const d = duration(job);
    if (d) bits.push(d);
    liveText.textContent = connectionNote || bits.join(' \u00b7 ');
    errorBox.hidden = !job.error;
    errorBox.textContent = job.error ?? '';
    main.dataset.jobStatus = job.status;
  }

  function drawAll() {
    drawStatus();
    drawSettings();
    drawLog();
    drawCharts();
  }

  function onEvent(name, data) {
    if (!alive) return;
    if (name === 'status') {
      connectionNote = ''; // (re)connected: the stream starts with the job's stored state
      job = data;
      drawAll();
    } else if (name === 'start') {
      job.info = data;
      job.status = 'running';
      job.startedAt ??= new Date().toISOString();
      drawStatus();
      drawSettings();
    } else if (name === 'batch') {
      job.progress = data;
      job.status = 'running';
      batches.push({ x: data.epoch - 1 + data.batch / data.batches, loss: data.loss, accuracy: data.accuracy });
      drawStatus();
      drawCharts();
    } else if (name === 'epoch') {
      // Delivery may repeat an epoch after a resume: an epoch replaces its earlier record, never adds a second.
      job.history = (job.history ?? []).filter((m) => m.epoch < data.epoch).concat([data]);
      drawStatus();
      drawLog();
      drawCharts();
    } else if (name === 'done') {
      job.status = data.status;
      job.error = data.error;
      if (data.history) job.history = data.history;
      drawAll();
      // The stream's last word has no model flag or finish time: read the job once more.
      api('GET', `/jobs/${encodeURIComponent(id)}`).then((j) => {
        if (!alive) return;
        job = j;
        drawAll();
      }, () => undefined);
    } else if (name === 'interrupted') {
      connectionNote = 'The server is restarting; the job resumes from its last checkpoint. Reconnecting\u2026';
      drawStatus();
    }
  }

  async function follow(attempt = 0) {
    let ended = false;
    let received = false;
    try {
      await followEvents(id, (name, data) => {
        received = true;
        if (name === 'done') ended = true;
        onEvent(name, data);
      }, controller.signal);
    } catch (err) {
      if (!alive) return;
      if (err instanceof ApiError && err.status === 401) return; // signed out already
      if (err instanceof ApiError && err.status === 404) {
        main.dataset.jobStatus = 'missing';
        show(
          h('p', { class: 'back' }, h('a', { href: '#/' }, '\u2190 All jobs')),
          h('section', { class: 'panel', id: 'job-missing' }, h('h1', {}, 'Job not found'), h('p', { role: 'alert' }, err.message)),
        );
        focusHeading();
        return;
      }
      // Anything else (the server restarting: 503 or no answer; a rate limit: 429) is retried below.
      if (alive && !connectionNote) {
        connectionNote = `Connection lost (${err.message}); reconnecting\u2026`;
        if (job) drawStatus();
        else liveText.textContent = connectionNote;
      }
    }
    if (!alive || ended) return;
    // The connection broke or the server restarted: try again, more slowly each time (at most every 10 s).
    // A stream that delivered events starts the count again.
    const wait = Math.min(10000, 500 * 2 ** attempt);
    retryTimer = setTimeout(() => follow(received ? 0 : attempt + 1), wait);
  }
  follow();
  tick = setInterval(() => job && job.status === 'running' && drawStatus(), 1000);

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      job = await api('DELETE', `/jobs/${encodeURIComponent(id)}`);
      drawAll();
      toast(`Job ${id} cancelled.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      toast(err.message, 'error');
      cancel.disabled = false;
    }
  });

  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      const blob = await downloadModel(id);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${id}.safetensors`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      toast(`Downloading ${id}.safetensors (${blob.size.toLocaleString('en-US')} bytes).`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) toast(err.message, 'error');
    } finally {
      download.disabled = !(job?.status === 'succeeded' && job?.hasModel);
    }
  });

  onLeave(() => {
    alive = false;
    controller.abort();
    clearTimeout(retryTimer);
    clearInterval(tick);
    lossChart.destroy();
    accChart.destroy();
  });
}
