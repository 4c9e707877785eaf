// The dashboard's client for the training server's JSON API. Every call carries the signed-in token as
// `Authorization: Bearer`; the event stream is read with fetch() and a stream reader, because EventSource
// cannot send headers (and a token in the URL would end up in logs and the browser's history).

const TOKEN_KEY = 'vugrad.token';

/** The token of this tab's session (sessionStorage: it goes when the tab closes, and other tabs do not see it). */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx: `status`, and the server's JSON body (`error`, `field`, `issues`, ...) in `body`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `the server answered ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

/** Called when the server refuses the token (401): the app signs out. */
let onUnauthorized = () => undefined;
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

function headers(extra = {}) {
  const h = { accept: 'application/json', ...extra };
  const token = getToken();
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

async function fail(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    body = { error: `${res.status} ${res.statusText}` };
  }
  const error = new ApiError(res.status, body);
  if (res.status === 401) onUnauthorized(error);
  return error;
}

/**
 * One API call; resolves with the parsed JSON body, rejects with an `ApiError` (or a TypeError when the
 * server cannot be reached).
 */
export async function api(method, path, body, options = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }), signal: options.signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (!res.ok) throw await fail(res);
  return res.json();
}

/** Checks a token without keeping it: resolves with `GET /jobs`'s answer, rejects with an `ApiError`. */
export async function tryToken(token) {
  const res = await fetch('/jobs', { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
  if (!res.ok) {
    let body;
    try {
      body = await res.json();
    } catch {
      body = {};
    }
    throw new ApiError(res.status, body);
  }
  return res.json();
}

/** The job's trained model as a Blob (safetensors). */
export async function downloadModel(id) {
  const res = await fetch(`/jobs/${encodeURIComponent(id)}/model`, { headers: headers({ accept: 'application/octet-stream' }) });
  if (!res.ok) throw await fail(res);
  return res.blob();
}

/**
 * Follows `GET /jobs/:id/events` until the server ends the stream or `signal` aborts it. `onEvent(name, data)`
 * sees each event. Resolves when the stream ends (normally after `done` or `interrupted`); rejects with an
 * `ApiError` for a refused request, or with the network's error.
 */
export async function followEvents(id, onEvent, signal) {
  const res = await fetch(`/jobs/${encodeURIComponent(id)}/events`, { headers: headers({ accept: 'text/event-stream' }), signal, cache: 'no-store' });
  if (!res.ok) throw await fail(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // a keep-alive comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length === 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        continue;
      }
      onEvent(event, parsed);
    }
  }
}
