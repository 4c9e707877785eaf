// Sign in with an API token. The token is checked with one API call before it is kept (sessionStorage: this tab
// only, gone when it closes).

import { ApiError, setToken, tryToken } from './api.js';
import { h, show } from './dom.js';

/** Shows the sign-in form; `signedIn()` runs once a token is accepted; `message` explains why (token refused). */
export function renderSignIn(signedIn, message = '') {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help token-error',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' }, message);
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
      signedIn();
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
