// The submit form. The browser checks nothing (novalidate, text inputs for numbers): the API validates every
// field, and its 400 answer is shown at the field it names (`hidden[0]` is the hidden-layers field), so the
// page never disagrees with the server.

import { api, ApiError } from './api.js';
import { h, toast } from './dom.js';

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

export function submitForm() {
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
