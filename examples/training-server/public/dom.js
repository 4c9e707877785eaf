// Small DOM helpers shared by the dashboard's views: building elements, the one view on screen, a toast.
// Data from the server is only ever set as text (no innerHTML), so a job's fields cannot inject markup.

export const main = document.getElementById('main');
const toastBox = document.getElementById('toast');
let leaveView = () => undefined;

/** An element: `h('td', {class: 'x', dataset: {label: 'Status'}}, 'text', child)`. Strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A short message at the bottom of the screen, read out by screen readers (the box is a polite live region). */
export function toast(message, kind = 'info') {
  toastBox.textContent = message;
  toastBox.className = `toast show ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (toastBox.className = 'toast'), 5000);
}

/** Replaces the view on screen; the previous view's `onLeave` callback runs first (timers, streams, charts). */
export function show(...nodes) {
  const leave = leaveView;
  leaveView = () => undefined;
  leave();
  main.replaceChildren(...nodes);
}

/** What to stop when the current view is replaced. */
export function onLeave(fn) {
  leaveView = fn;
}

/** Moves focus to the view's heading, so keyboard and screen-reader users start at the new content. */
export function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
}
