// How the dashboard writes numbers, times and jobs.

import { h } from './dom.js';

export const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '');
export const num = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? String(+v.toPrecision(digits)) : '');

export function duration(job, now = Date.now()) {
  if (!job.startedAt) return '';
  const start = Date.parse(job.startedAt);
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const s = Math.max(0, (end - start) / 1000);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function modelName(config) {
  if (!config) return '';
  return config.model === 'lenet' ? 'LeNet' : `MLP ${(config.hidden ?? []).join('-')}`;
}

/** The accuracy a job is judged by: the last epoch's held-out accuracy, or its training accuracy. */
export function lastAccuracy(job) {
  const last = job.history?.[job.history.length - 1];
  if (!last) return '';
  return last.valAccuracy !== undefined ? pct(last.valAccuracy) : `${pct(last.trainAccuracy)} (train)`;
}

/** Finished epochs of `epochs`, as a fraction (batches of the running epoch count too). */
export function progressOf(job) {
  const epochs = job.config?.epochs ?? 1;
  if (job.status === 'succeeded') return { value: 1, text: `${epochs}/${epochs} epochs` };
  const done = job.history?.length ?? 0;
  const p = job.progress;
  const partial = p && p.epoch === done + 1 && p.batches ? p.batch / p.batches : 0;
  return { value: Math.min(1, (done + partial) / epochs), text: `${done}/${epochs} epochs` };
}

export function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, status);
}
