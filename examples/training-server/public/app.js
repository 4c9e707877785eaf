// The training dashboard: sign in with an API token, see your jobs, follow one live, submit new ones. Plain DOM,
// no build step, and no innerHTML with data from the server: everything the API returns is set as text.
// Views are chosen by the URL's hash (#/ the jobs, #/jobs/<id> one job), so the browser's back button and
// links work, and every control is a real link or button (keyboard and screen readers get them for free).

import { getToken, setToken, whenUnauthorized } from './api.js';
import { main } from './dom.js';
import { renderJob } from './job-view.js';
import { renderJobs } from './jobs-view.js';
import { renderSignIn } from './sign-in.js';

let signInMessage = '';

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

function route() {
  delete main.dataset.loaded;
  delete main.dataset.jobStatus;
  if (!getToken()) {
    const message = signInMessage;
    signInMessage = '';
    return renderSignIn(() => {
      updateHeader();
      route();
    }, message);
  }
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
