// The training dashboard: sign in with an API token, see your jobs, follow one live, submit new ones. Plain DOM,
// no build step, and no innerHTML with data from the server: everything the API returns is set as text.
// Views are chosen by the URL's hash (#/ the jobs, #/jobs/<id> one job), so the browser's back button and
// links work, and every control is a real link or button (keyboard and screen readers get them for free).

import { api, ApiError, downloadModel, followEvents, getToken, setToken, tryToken, whenUnauthorized } from './api.js';
import { chartRows, Curve } from './charts.js';

const main = document.getElementById('main');
const toastBox = document.getElementById('toast');
let disposeView = () => undefined;
let signInMessage = '';

// ---------------------------------------------------------------------------------------------------------
// small DOM helpers

/** An element: `h('td', {class: 'x', dataset: {label: 'Status'}}, 'text', child)`. Strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function toast(message, kind = 'info') {
  toastBox.textContent = message;
  toastBox.className = `toast show ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (toastBox.className = 'toast'), 5000);
}

function show(...nodes) {
  disposeView();
  disposeView = () => undefined;
  main.replaceChildren(...nodes);
}

/** Moves focus to the view's heading, so keyboard and screen-reader users start at the new content. */
function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
}

const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '');
const num = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? String(+v.toPrecision(digits)) : '');

function duration(job, now = Date.now()) {
  if (!job.startedAt) return '';
  const start = Date.parse(job.startedAt);
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const s = Math.max(0, (end - start) / 1000);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function modelName(config) {
  if (!config) return '';
  return config.model === 'lenet' ? 'LeNet' : `MLP ${(config.hidden ?? []).join('-')}`;
}

/** The accuracy a job is judged by: the last epoch's held-out accuracy, or its training accuracy. */
function lastAccuracy(job) {
  const last = job.history?.[job.history.length - 1];
  if (!last) return '';
  return last.valAccuracy !== undefined ? pct(last.valAccuracy) : `${pct(last.trainAccuracy)} (train)`;
}

/** Finished epochs of `epochs`, as a fraction (batches of the running epoch count too). */
function progressOf(job) {
  const epochs = job.config?.epochs ?? 1;
  if (job.status === 'succeeded') return { value: 1, text: `${epochs}/${epochs} epochs` };
  const done = job.history?.length ?? 0;
  const p = job.progress;
  const partial = p && p.epoch === done + 1 && p.batches ? p.batch / p.batches : 0;
  return { value: Math.min(1, (done + partial) / epochs), text: `${done}/${epochs} epochs` };
}

function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, status);
}

// ---------------------------------------------------------------------------------------------------------
// sign in

function renderSignIn() {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help token-error',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' }, signInMessage);
  signInMessage = '';
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { id: 'sign-in', class: 'panel narrow', novalidate: true },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'A token from the server\u2019s API_TOKENS. It is kept in this tab only and sent as a bearer token.'),
    error,
    button,
  );
  if (error.textContent) input.setAttribute('aria-invalid', 'true');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = 'Enter a token.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    button.disabled = true;
    error.textContent = '';
    try {
      await tryToken(token);
      setToken(token);
      updateHeader();
      route();
    } catch (err) {
      error.textContent = err instanceof ApiError ? (err.status === 401 ? 'The server does not know this token.' : err.message) : `Cannot reach the server (${err.message}).`;
      input.setAttribute('aria-invalid', 'true');
      button.disabled = false;
      input.focus();
    }
  });
  show(form);
  input.focus();
}

function updateHeader() {
  const token = getToken();
  document.getElementById('who').hidden = !token;
  document.getElementById('who-name').textContent = token ? `Signed in \u00b7 token \u2026${token.slice(-4)}` : '';
}

function signOut(message = '') {
  setToken('');
  signInMessage = message;
  updateHeader();
  if (location.hash && location.hash !== '#/') location.hash = '#/';
  else route();
}

// ---------------------------------------------------------------------------------------------------------
// the jobs table and the submit form

const COLUMNS = [
  ['Job', 'id'],
  ['Status', 'status'],
  ['Dataset', 'dataset'],
  ['Model', 'model'],
  ['Owner', 'owner'],
  ['Progress', 'progress'],
  ['Accuracy', 'accuracy'],
  ['Duration', 'duration'],
];

function jobRow(job) {
  const tr = h('tr', { dataset: { id: job.id } });
  for (const [label, key] of COLUMNS) tr.append(h('td', { class: `col-${key}`, dataset: { label } }));
  fillRow(tr, job);
  return tr;
}

function fillRow(tr, job) {
  const cell = (key) => tr.querySelector(`.col-${key}`);
  const id = cell('id');
  // The id's first 8 characters are enough to tell jobs apart on screen; the link's name is the whole id.
  if (!id.firstChild) id.append(h('a', { href: `#/jobs/${encodeURIComponent(job.id)}`, 'aria-label': `Job ${job.id}`, title: job.id }, job.id.slice(0, 8)));
  const status = cell('status');
  if (status.textContent !== job.status) status.replaceChildren(statusBadge(job.status));
  cell('dataset').textContent = job.config?.dataset ?? '';
  cell('model').textContent = modelName(job.config);
  cell('owner').textContent = job.owner ?? '';
  const p = progressOf(job);
  const prog = cell('progress');
  if (!prog.firstChild) prog.append(h('span', { class: 'progress-cell' }, h('progress', { max: 1, 'aria-label': `Progress of ${job.id}` }), h('span', { class: 'progress-text' })));
  prog.querySelector('progress').value = p.value;
  prog.querySelector('.progress-text').textContent = p.text;
  cell('accuracy').textContent = lastAccuracy(job) || '\u2013';
  cell('duration').textContent = duration(job) || '\u2013';
}

function renderJobs() {
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No jobs yet: submit one with the form.');
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const table = h(
    'table',
    { class: 'jobs', id: 'jobs' },
    h('caption', { class: 'visually-hidden' }, 'Your training jobs, newest first'),
    h('thead', {}, h('tr', {}, COLUMNS.map(([label]) => h('th', { scope: 'col' }, label)))),
    tbody,
  );
  const listPanel = h('section', { class: 'panel jobs-panel', 'aria-labelledby': 'jobs-title' }, h('h1', { id: 'jobs-title' }, 'Jobs'), summary, h('div', { class: 'table-wrap' }, table), empty);
  const formPanel = submitForm();
  show(h('div', { class: 'layout' }, listPanel, formPanel));
  focusHeading();

  const rows = new Map();
  let timer;
  let alive = true;
  async function refresh() {
    try {
      const { jobs, queue } = await api('GET', '/jobs');
      if (!alive) return;
      jobs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      const seen = new Set();
      jobs.forEach((job, i) => {
        seen.add(job.id);
        let tr = rows.get(job.id);
        if (tr) fillRow(tr, job);
        else rows.set(job.id, (tr = jobRow(job)));
        // Re-insert only rows out of place: moving the row that holds the focus would lose it.
        if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
      });
      for (const [id, tr] of rows) {
        if (!seen.has(id)) {
          tr.remove();
          rows.delete(id);
        }
      }
      empty.hidden = jobs.length > 0;
      table.hidden = jobs.length === 0;
      const active = jobs.filter((j) => j.status === 'running' || j.status === 'queued').length;
      summary.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'}, ${active} active \u00b7 server: ${queue.running} running, ${queue.queued} queued (${queue.concurrency} at once)`;
      main.dataset.loaded = 'jobs';
    } catch (err) {
      if (!alive || (err instanceof ApiError && err.status === 401)) return;
      summary.textContent = `Could not load the jobs: ${err.message}`;
    }
    if (alive) timer = setTimeout(refresh, document.hidden ? 10000 : 2000);
  }
  refresh();
  disposeView = () => {
    alive = false;
    clearTimeout(timer);
  };
}

/** The fields of the submit form: [name, label, kind, help]. kind: a list name in choices.json, 'int', 'number', 'list', 'bool'. */
const FIELDS = [
  ['dataset', 'Dataset', 'dataset', ''],
  ['model', 'Model', 'model', ''],
  ['hidden', 'Hidden layers', 'list', 'Layer sizes, comma-separated (MLP), e.g. 64,32'],
  ['activation', 'Activation', 'activation', ''],
  ['optimizer', 'Optimizer', 'optimizer', ''],
  ['lr', 'Learning rate', 'number', 'e.g. 0.01'],
  ['epochs', 'Epochs', 'int', ''],
  ['batchSize', 'Batch size', 'int', ''],
  ['limit', 'Samples per split', 'int', 'Empty: the whole data set'],
];
const MORE_FIELDS = [
  ['seed', 'Seed', 'int', ''],
  ['momentum', 'Momentum', 'number', 'SGD only, in [0, 1)'],
  ['init', 'Initialisation', 'init', ''],
  ['loss', 'Loss', 'loss', ''],
  ['reduction', 'Loss reduction', 'reduction', ''],
  ['dtype', 'Precision', 'dtype', ''],
  ['normalize', 'Normalise image channels', 'bool', ''],
  ['raw', 'Raw pixels (no scaling)', 'bool', ''],
  ['final', 'Final run (train on train+val, report test)', 'bool', ''],
];

let choicesPromise;
function choices() {
  choicesPromise ??= fetch('/app/choices.json').then((r) => (r.ok ? r.json() : {}), () => ({}));
  return choicesPromise;
}

function field([name, label, kind, help]) {
  const id = `f-${name}`;
  const describedBy = [help ? `${id}-help` : '', `${id}-error`].filter(Boolean).join(' ');
  const error = h('p', { id: `${id}-error`, class: 'field-error', dataset: { for: name } });
  const helpEl = help ? h('p', { id: `${id}-help`, class: 'help' }, help) : undefined;
  if (kind === 'bool') {
    return h('div', { class: 'field check' }, h('input', { id, name, type: 'checkbox', 'aria-describedby': describedBy }), h('label', { for: id }, label), error);
  }
  let control;
  if (kind === 'int' || kind === 'number' || kind === 'list') {
    // Text inputs, not type=number: the API checks the values and names the field, the same for every client.
    control = h('input', { id, name, type: 'text', inputmode: kind === 'list' ? 'text' : kind === 'int' ? 'numeric' : 'decimal', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': describedBy });
  } else {
    control = h('select', { id, name, 'aria-describedby': describedBy, dataset: { choices: kind } });
    if (name !== 'dataset') control.append(h('option', { value: '' }, '(default)'));
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, helpEl, error);
}

/** The request body from the form; values that do not parse are sent as typed, so that the API names them. */
function specFrom(form) {
  const spec = {};
  for (const [name, , kind] of [...FIELDS, ...MORE_FIELDS]) {
    const el = form.elements[name];
    if (kind === 'bool') {
      if (el.checked) spec[name] = true;
      continue;
    }
    const raw = el.value.trim();
    if (raw === '') continue;
    if (kind === 'int' || kind === 'number') {
      const v = Number(raw);
      spec[name] = Number.isFinite(v) ? v : raw;
    } else if (kind === 'list') {
      const parts = raw.split(/[\s,]+/).filter(Boolean);
      const values = parts.map(Number);
      spec[name] = values.every((v) => Number.isFinite(v)) ? values : raw;
    } else {
      spec[name] = raw;
    }
  }
  return spec;
}

/** The form control an API error is about: `hidden[0]` and `hidden` both mean the hidden-layers field. */
function controlFor(form, fieldName) {
  if (!fieldName) return undefined;
  const root = String(fieldName).split(/[.[]/)[0];
  const el = form.elements[root];
  return el instanceof HTMLElement ? el : undefined;
}

function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function showErrors(form, err, formError) {
  const body = err.body ?? {};
  const issues = Array.isArray(body.issues) && body.issues.length ? body.issues : [{ field: body.field ?? /^([A-Za-z]+):/.exec(err.message)?.[1], message: err.message }];
  let first;
  const unplaced = [];
  for (const issue of issues) {
    const control = controlFor(form, issue.field);
    if (!control) {
      unplaced.push(issue.field && !err.message.startsWith(issue.field) ? `${issue.field}: ${issue.message}` : err.message);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const p = form.querySelector(`#f-${control.name}-error`);
    // The issue's own message; the top-level one already starts with the field's name.
    const text = issues.length === 1 ? err.message : `${issue.field}: ${issue.message}`;
    p.textContent = p.textContent ? `${p.textContent} ${text}` : text;
    if (control.closest('details')) control.closest('details').open = true;
    first ??= control;
  }
  formError.textContent = unplaced.length ? unplaced.join(' ') : first ? 'Please correct the marked field.' : err.message;
  (first ?? formError).focus?.();
}

function submitForm() {
  const formError = h('p', { id: 'form-error', class: 'form-error', role: 'alert', tabindex: '-1' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'submit-job' }, 'Start training');
  const form = h(
    'form',
    { id: 'submit-form', novalidate: true, 'aria-labelledby': 'submit-title' },
    h('div', { class: 'fields' }, FIELDS.map(field)),
    h('details', { class: 'more' }, h('summary', {}, 'More settings'), h('div', { class: 'fields' }, MORE_FIELDS.map(field))),
    formError,
    h('div', { class: 'actions' }, button),
  );
  choices().then((c) => {
    for (const select of form.querySelectorAll('select[data-choices]')) {
      for (const v of c[select.dataset.choices] ?? []) select.append(h('option', { value: v }, v));
    }
    // NOTE: not form.dataset: a form's named controls shadow its properties, and one field is called 'dataset'.
    form.setAttribute('data-ready', 'true');
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    formError.textContent = '';
    button.disabled = true;
    button.textContent = 'Starting\u2026';
    try {
      const job = await api('POST', '/jobs', specFrom(form));
      toast(`Job ${job.id} queued.`);
      location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError) showErrors(form, err, formError);
      else formError.textContent = `Cannot reach the server (${err.message}).`;
    } finally {
      button.disabled = false;
      button.textContent = 'Start training';
    }
  });
  // A changed field no longer carries its old error.
  form.addEventListener('input', (e) => {
    const el = e.target;
    if (el.getAttribute?.('aria-invalid')) {
      el.removeAttribute('aria-invalid');
      const p = form.querySelector(`#f-${el.name}-error`);
      if (p) p.textContent = '';
    }
  });
  return h('section', { class: 'panel form-panel', 'aria-labelledby': 'submit-title' }, h('h2', { id: 'submit-title' }, 'New job'), form);
}

// ---------------------------------------------------------------------------------------------------------
// one job: live curves, settings, epoch log, cancel and download

const SETTINGS = ['dataset', 'model', 'hidden', 'activation', 'init', 'optimizer', 'lr', 'momentum', 'batchSize', 'epochs', 'loss', 'reduction', 'seed', 'limit', 'valSize', 'final', 'raw', 'normalize', 'dtype', 'data'];

function renderJob(id) {
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
      h('div', { class: 'details' }, h('section', { 'aria-labelledby': 'settings-title' }, h('h2', { id: 'settings-title' }, 'Settings'), settings), h('section', { 'aria-labelledby': 'log-title', class: 'log-section' }, h('h2', { id: 'log-title' }, 'Epoch log'), h('div', { class: 'table-wrap' }, log))),
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
    liveText.textContent = bits.join(' \u00b7 ');
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
      liveText.textContent = 'The server is restarting; the job resumes from its last checkpoint. Reconnecting\u2026';
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
      if (alive) liveText.textContent = `Connection lost (${err.message}); reconnecting\u2026`;
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

  disposeView = () => {
    alive = false;
    controller.abort();
    clearTimeout(retryTimer);
    clearInterval(tick);
    lossChart.destroy();
    accChart.destroy();
  };
}

// ---------------------------------------------------------------------------------------------------------
// routing

function route() {
  delete main.dataset.loaded;
  delete main.dataset.jobStatus;
  if (!getToken()) return renderSignIn();
  const m = /^#\/jobs\/([^/]+)$/.exec(location.hash);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = m[1];
    }
    return renderJob(id);
  }
  return renderJobs();
}

whenUnauthorized(() => signOut('The server refused the token (it may have been revoked). Sign in again.'));
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
updateHeader();
route();
document.body.dataset.app = 'ready';
