/**
 * The dashboard's files: `GET /` (the app's page), `GET /app/*` (its script, styles and the form's choices)
 * and `GET /vendor/uplot/*` (the chart library, from node_modules: the page never loads anything from another
 * origin). No token is needed for these: they hold no data; the app asks the API for data with the user's
 * token. Paths are confined to their folder after resolving `..` and symbolic links, and only known file types
 * are served.
 *
 * @example
 * // in the request handler, before authentication:
 * if (await serveStatic(req, res)) return;
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { ACTIVATIONS, DATASET_NAMES, DTYPES, INITS, LOSSES, MODELS, OPTIMIZER_NAMES } from '../../lib';

const PUBLIC = path.join(__dirname, 'public');

/** Where uPlot's built files are; undefined when the package is not installed (the charts then say so). */
function uplotDir(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page may load and call only this origin; no inline scripts, no frames. uPlot sizes its elements with
 * `element.style`, which CSP's style-src does not govern, so styles need no 'unsafe-inline' either.
 */
const SECURITY_HEADERS: http.OutgoingHttpHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The form's choices, from the library's own lists (so the page never offers what the API refuses). */
function choices(): string {
  return JSON.stringify({
    dataset: DATASET_NAMES,
    model: MODELS,
    activation: ACTIVATIONS,
    init: INITS,
    optimizer: OPTIMIZER_NAMES,
    loss: LOSSES,
    reduction: ['mean', 'sum'],
    dtype: DTYPES,
  });
}

/**
 * The real path of `relative` inside `root`, or undefined when it would leave `root` (by `..`, an absolute
 * path or a symbolic link pointing out) or is not a regular file.
 */
export async function confined(root: string, relative: string): Promise<string | undefined> {
  if (relative.includes('\0')) return undefined;
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(root);
  } catch {
    return undefined;
  }
  const wanted = path.resolve(realRoot, relative);
  if (!inside(realRoot, wanted)) return undefined;
  try {
    const real = await fs.promises.realpath(wanted);
    if (!inside(realRoot, real)) return undefined;
    const stat = await fs.promises.stat(real);
    return stat.isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: Buffer | string, cache: string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': bytes.length, 'cache-control': cache });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, root: string | undefined, relative: string): Promise<boolean> {
  const type = TYPES[path.extname(relative).toLowerCase()];
  const file = root && type ? await confined(root, relative) : undefined;
  if (!file) {
    send(req, res, 404, 'text/plain; charset=utf-8', `not found: ${relative}\n`, 'no-store');
    return true;
  }
  // no-cache: the browser revalidates, so a changed app is picked up at the next load.
  send(req, res, 200, type, await fs.promises.readFile(file), 'no-cache');
  return true;
}

/**
 * Answers `GET`/`HEAD` of the dashboard's paths (`/`, `/index.html`, `/app/*`, `/vendor/uplot/*`) and returns
 * true; returns false for every other request, which the API then handles. `parts` are the URL's decoded path
 * segments.
 */
export async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, parts: string[]): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'index.html')) return sendFile(req, res, PUBLIC, 'index.html');
  if (parts[0] === 'app' && parts.length === 2 && parts[1] === 'choices.json') {
    send(req, res, 200, 'application/json; charset=utf-8', choices(), 'no-cache');
    return true;
  }
  if (parts[0] === 'app' && parts.length > 1) return sendFile(req, res, PUBLIC, parts.slice(1).join('/'));
  if (parts[0] === 'vendor' && parts[1] === 'uplot' && parts.length > 2) return sendFile(req, res, uplotDir(), parts.slice(2).join('/'));
  if (parts.length === 1 && parts[0] === 'favicon.ico') {
    res.writeHead(204, SECURITY_HEADERS);
    res.end();
    return true;
  }
  return false;
}
