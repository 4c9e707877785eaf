/**
 * The dashboard's file serving without a browser: the page, its modules and uPlot are served with their types
 * and a strict content policy; `..`, encoded slashes, symbolic links out of the folder, unknown file types and
 * other methods are not; the form's choices are the library's own lists.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATASET_NAMES, MODELS, OPTIMIZER_NAMES } from '../../lib';
import { confined, serveStatic } from '../../examples/training-server/static';

let server: http.Server;
let port: number;

/** A request whose path is sent as written (no URL parser folds `..` on the way). */
function get(pathname: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  // The server's own order: decode the path's segments, offer them to serveStatic, else the API (here: 418).
  server = http.createServer((req, res) => {
    const parts = new URL(req.url ?? '/', 'http://localhost').pathname.split('/').filter(Boolean).map(decodeURIComponent);
    void serveStatic(req, res, parts).then((served) => {
      if (!served) res.writeHead(418).end('api');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the page, its modules, styles and uPlot, with their types and a strict content policy', async () => {
  const page = await get('/');
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  expect(page.headers['x-content-type-options']).toBe('nosniff');
  expect(page.body).toContain('/app/app.js');
  // Every module the page imports is served as JavaScript.
  for (const file of fs.readdirSync(path.resolve(__dirname, '../../examples/training-server/public'))) {
    const r = await get(`/app/${file}`);
    expect([file, r.status]).toEqual([file, 200]);
  }
  expect((await get('/app/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect((await get('/app/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  const uplot = await get('/vendor/uplot/uPlot.esm.js');
  expect(uplot.status).toBe(200);
  expect(uplot.body).toContain('export');
  expect((await get('/vendor/uplot/uPlot.min.css')).status).toBe(200);
  const head = await get('/app/app.js', 'HEAD');
  expect(head.status).toBe(200);
  expect(head.body).toBe('');
});

test('the form offers exactly the library\u2019s choices', async () => {
  const c = JSON.parse((await get('/app/choices.json')).body);
  expect(c.dataset).toEqual([...DATASET_NAMES]);
  expect(c.model).toEqual([...MODELS]);
  expect(c.optimizer).toEqual([...OPTIMIZER_NAMES]);
});

test('nothing outside the two folders, of an unknown type, or for another method', async () => {
  for (const p of ['/app/..%2fstatic.ts', '/app/..%2f..%2f..%2fpackage.json', '/vendor/uplot/..%2fpackage.json', '/vendor/uplot/..%2f..%2f..%2fpackage.json', '/app/%2fetc%2fpasswd', '/app/nope.js', '/app/a%00.js']) {
    const r = await get(p);
    expect([p, r.status]).toEqual([p, 404]);
    expect(r.body).not.toMatch(/"name"|root:/);
  }
  // Not the dashboard's: left to the API.
  expect((await get('/jobs')).status).toBe(418);
  expect((await get('/', 'POST')).status).toBe(418);
  expect((await get('/vendor/other/x.js')).status).toBe(418);
  expect((await get('/vendor/uplot/')).status).toBe(418);
});

test('confined() refuses symbolic links that leave the folder, and folders', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-static-'));
  try {
    const root = path.join(dir, 'public');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'ok.js'), 'ok');
    fs.writeFileSync(path.join(dir, 'secret.js'), 'secret');
    fs.symlinkSync(path.join(dir, 'secret.js'), path.join(root, 'out.js'));
    fs.symlinkSync(path.join(root, 'ok.js'), path.join(root, 'in.js'));
    expect(await confined(root, 'ok.js')).toBe(fs.realpathSync(path.join(root, 'ok.js')));
    expect(await confined(root, 'in.js')).toBe(fs.realpathSync(path.join(root, 'ok.js')));
    expect(await confined(root, 'out.js')).toBeUndefined();
    expect(await confined(root, '../secret.js')).toBeUndefined();
    expect(await confined(root, path.join(dir, 'secret.js'))).toBeUndefined();
    expect(await confined(root, 'sub')).toBeUndefined();
    expect(await confined(root, '')).toBeUndefined();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
