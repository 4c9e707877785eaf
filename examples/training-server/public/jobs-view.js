// The jobs the token may see, refreshed every 2 s while on screen, beside the form that submits a new one.

import { api, ApiError } from './api.js';
import { focusHeading, h, main, onLeave, show } from './dom.js';
import { duration, lastAccuracy, modelName, progressOf, statusBadge } from './format.js';
import { submitForm } from './submit-form.js';

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
  if (!id.firstChild) {
    // A damaged record (listed for admins) has no page: its id is shown, not linked.
    if (job.status === 'damaged') id.append(h('code', { title: job.id }, job.id.slice(0, 8)));
    else id.append(h('a', { href: `#/jobs/${encodeURIComponent(job.id)}`, 'aria-label': `Job ${job.id}`, title: job.id }, job.id.slice(0, 8)));
  }
  const status = cell('status');
  if (status.textContent !== job.status) status.replaceChildren(statusBadge(job.status));
  if (job.status === 'damaged') {
    for (const key of ['dataset', 'owner', 'progress', 'accuracy', 'duration']) cell(key).textContent = '\u2013';
    cell('model').textContent = job.error ?? '';
    return;
  }
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

export function renderJobs() {
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
      const answer = await api('GET', '/jobs');
      if (!alive) return;
      const { queue } = answer;
      // An admin also gets the records the store could not read (`damaged`): listed, never run.
      const damaged = (answer.damaged ?? []).map((d) => ({ id: d.id, status: 'damaged', error: d.error, createdAt: d.modifiedAt ?? '' }));
      const jobs = [...answer.jobs, ...damaged];
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
  onLeave(() => {
    alive = false;
    clearTimeout(timer);
  });
}
