/**
 * The training dashboard in a real browser: Debian's chromium driven by puppeteer-core, against the example
 * server started as a child process (its own port, state directory and two tokens). Sign in, a field error
 * from the API's validation, a job submitted through the form whose curves grow epoch by epoch, a model
 * download that is a safetensors file, a cancelled job, a keyboard-only submit, phone width without
 * horizontal overflow, and another token's jobs kept out of sight. Every wait is on the page's own state.
 *
 * Skips (saying why) where chromium is not installed (`apt-get install -y chromium`), unless
 * VUGRAD_REQUIRE_CHROMIUM=1, which makes a missing browser a failure. Screenshots in
 * docs/images/ are rewritten only with UPDATE_SCREENSHOTS=1, so a test run never modifies the repository.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'puppeteer-core';
import { request, startServer, stopServer, waitForStatus, type ServerProcess } from '../server/helpers';
import { findChromium, launchChromium, tabTo, textOf, waitForFile, type LaunchedBrowser } from './browser';

// The functions passed to page.evaluate run in the browser. This project's TypeScript lib has no DOM (and
// adding it would hide DOM use in library code), so those few browser names are declared loosely here.
declare const document: any, window: any, getComputedStyle: any, MutationObserver: any;
type HTMLElement = any;
type HTMLInputElement = any;
type HTMLButtonElement = any;

const ALICE = 'alice-dashboard-token-0001';
const BOB = 'bob-dashboard-token-00002';
const ROOT = 'root-dashboard-token-0003';
const TOKENS = `${ALICE}:alice,${BOB}:bob,${ROOT}:root:admin`;
const IMAGES = path.resolve(__dirname, '../../docs/images');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const WAIT = { timeout: 45_000 };

const chromium = findChromium();
const maybe = chromium ? describe : describe.skip;
if (!chromium && process.env.VUGRAD_REQUIRE_CHROMIUM === '1') {
  // CI sets this once it has installed chromium: the browser tests must then run, not skip.
  test('chromium is installed (VUGRAD_REQUIRE_CHROMIUM=1)', () => {
    throw new Error('chromium not found at CHROMIUM_PATH, /usr/lib/chromium/chromium or /usr/bin/chromium; apt-get install -y chromium');
  });
} else if (!chromium) {
  console.warn('test/dashboard: skipped: chromium is not installed (apt-get install -y chromium, or set CHROMIUM_PATH)');
}

let dir: string;
let server: ServerProcess | undefined;
let base: string;
let chrome: LaunchedBrowser | undefined;
let page: Page;
const pageErrors: string[] = [];
const foreignRequests: string[] = [];
let aliceJob: string;

async function screenshot(name: string): Promise<void> {
  if (!UPDATE_SCREENSHOTS) return;
  fs.mkdirSync(IMAGES, { recursive: true });
  await page.evaluate(() => document.getElementById('toast')?.classList.remove('show'));
  await page.waitForFunction(() => getComputedStyle(document.getElementById('toast')).opacity === '0');
  await page.screenshot({ path: path.join(IMAGES, name) as `${string}.png` });
}

/** A raw GET whose path is sent exactly as written (no `..` folding by a URL parser). */
function rawGet(pathname: string): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathname, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function signIn(token: string): Promise<void> {
  await page.waitForSelector('#token', WAIT);
  await page.$eval('#token', (el) => ((el as HTMLInputElement).value = ''));
  await page.type('#token', token);
  await page.click('#sign-in button[type=submit]');
}

async function openJobs(): Promise<void> {
  await page.goto(`${base}/#/`);
  await page.waitForSelector('main[data-loaded=jobs]', WAIT);
  await page.waitForSelector('#submit-form[data-ready=true]', WAIT);
}

/** Sets a text field of the submit form (clearing what was there). */
async function fill(name: string, value: string): Promise<void> {
  const sel = `#f-${name}`;
  await page.$eval(sel, (el) => ((el as HTMLInputElement).value = ''));
  await page.type(sel, value);
}

/** No element is wider than the viewport: the page does not scroll sideways. */
function horizontalOverflow(): Promise<{ scroll: number; width: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits = ([...document.querySelectorAll('body *')] as HTMLElement[])
      .filter((el) => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null && !el.closest('.visually-hidden'))
      // Inside a box that scrolls or clips sideways (the epoch log on a phone) is not the page overflowing.
      .filter((el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= width + 1) return false;
        }
        return true;
      })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
    return { scroll: document.documentElement.scrollWidth, width, culprits };
  });
}

/** Parses a safetensors file: 8-byte little-endian header length, a JSON header, then the tensors' bytes. */
function parseSafetensors(bytes: Buffer): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  expect(bytes.length).toBeGreaterThan(8);
  const n = Number(bytes.readBigUInt64LE(0));
  expect(8 + n).toBeLessThanOrEqual(bytes.length);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  let end = 0;
  for (const [name, t] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    expect(t.dtype).toMatch(/^F(32|64)$/);
    end = Math.max(end, t.data_offsets[1]);
  }
  expect(8 + n + end).toBe(bytes.length);
  return { header };
}

maybe('training dashboard in chromium', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-dashboard-'));
    [server, chrome] = await Promise.all([
      startServer({ STATE_DIR: path.join(dir, 'state'), CONCURRENCY: '1', API_TOKENS: TOKENS }),
      launchChromium(chromium!),
    ]);
    base = server.url;
    page = await chrome.browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      // A refused request is logged by chromium as an error; those are expected here (a wrong token, a 400).
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
  }, 90_000);

  afterAll(async () => {
    await chrome?.close();
    await stopServer(server);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the page, its script and uPlot come from the server, with a strict content policy; paths stay confined', async () => {
    const home = await request(base, 'GET', '/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toMatch(/^text\/html/);
    expect(home.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    expect((await request(base, 'GET', '/vendor/uplot/uPlot.esm.js')).status).toBe(200);
    expect((await request(base, 'GET', '/app/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
    for (const p of ['/app/%2e%2e/static.ts', '/app/..%2fstatic.ts', '/vendor/uplot/..%2f..%2fpackage.json', '/app/%2e%2e%2f%2e%2e%2fpackage.json', '/app/nope.txt']) {
      // 404 from the file server, or 401 when the URL parser folded `%2e%2e` and the path became an API one.
      expect([p, [401, 404].includes(await rawGet(p))]).toEqual([p, true]);
    }
    // The API still needs a token.
    expect((await request(base, 'GET', '/jobs')).status).toBe(401);
  });

  test('sign in: a wrong token is refused at its field, the right one shows the jobs', async () => {
    await page.goto(`${base}/`);
    await signIn('not-a-token-of-this-server');
    await page.waitForFunction(() => (document.querySelector('#token-error')?.textContent ?? '') !== '', WAIT);
    expect(await textOf(page, '#token-error')).toMatch(/does not know this token/);
    expect(await page.$eval('#token', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    await signIn(ALICE);
    await page.waitForSelector('main[data-loaded=jobs]', WAIT);
    expect(await textOf(page, '.empty')).toMatch(/No jobs yet/);
    expect(await textOf(page, '#who-name')).toMatch(/0001$/);
    // Every form field has a label.
    const unlabelled = await page.$$eval('#submit-form input, #submit-form select', (els) =>
      els.filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
  });

  test('a bad learning rate: the API refuses it and the page says so at the field', async () => {
    await page.waitForSelector('#submit-form[data-ready=true]', WAIT);
    await page.select('#f-dataset', 'synth');
    await fill('lr', '-0.5');
    await page.click('#submit-job');
    await page.waitForFunction(() => (document.querySelector('#f-lr-error')?.textContent ?? '') !== '', WAIT);
    expect(await textOf(page, '#f-lr-error')).toMatch(/^lr: .*(>0|positive|too small)/i);
    expect(await page.$eval('#f-lr', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-lr');
    // Another field's message lands at that field: hidden layers that are not numbers.
    await fill('lr', '0.01');
    await fill('hidden', '64,abc');
    await page.click('#submit-job');
    await page.waitForFunction(() => (document.querySelector('#f-hidden-error')?.textContent ?? '') !== '', WAIT);
    expect(await textOf(page, '#f-hidden-error')).toMatch(/^hidden/);
    expect(await textOf(page, '#f-lr-error')).toBe('');
    expect((await request(base, 'GET', '/jobs', { token: ALICE })).json.jobs).toHaveLength(0);
  });

  test('a job submitted through the form: its curves and epoch log grow as epochs end', async () => {
    await fill('hidden', '32');
    await fill('lr', '0.01');
    await fill('epochs', '6');
    await fill('batchSize', '64');
    await fill('limit', '24000');
    // Record the epoch log's length at each change of the page, from before the job exists to its end.
    await page.evaluate(() => {
      const w = window as unknown as { epochCounts: number[] };
      w.epochCounts = [];
      new MutationObserver(() => {
        const n = document.querySelectorAll('#epoch-log tbody tr').length;
        if (w.epochCounts[w.epochCounts.length - 1] !== n) w.epochCounts.push(n);
      }).observe(document.getElementById('main')!, { childList: true, subtree: true });
    });
    await page.click('#submit-job');
    await page.waitForSelector('#job-title', WAIT);
    aliceJob = decodeURIComponent(page.url().split('#/jobs/')[1]);
    await page.waitForSelector('main[data-job-status=succeeded]', { timeout: 60_000 });
    const counts = await page.evaluate(() => (window as unknown as { epochCounts: number[] }).epochCounts);
    // The log grew one epoch at a time (at least three distinct lengths on the way), never shrank, ended at 6.
    expect(counts[counts.length - 1]).toBe(6);
    expect(new Set(counts.filter((n) => n > 0)).size).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
    // The charts drew every epoch (and the batches between them).
    expect(await page.$eval('#loss-chart', (el) => (el as HTMLElement).dataset.epochs)).toBe('6');
    expect(Number(await page.$eval('#loss-chart', (el) => (el as HTMLElement).dataset.points))).toBeGreaterThanOrEqual(6);
    expect(await page.$$eval('#loss-chart canvas, #accuracy-chart canvas', (c) => c.length)).toBe(2);
    expect(await textOf(page, '#settings')).toMatch(/hidden\s+32/);
    expect(await textOf(page, '#settings')).toMatch(/owner\s+alice/);
    const rows = await page.$$eval('#epoch-log tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
    expect(rows).toHaveLength(6);
    expect(await page.$eval('#cancel-job', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
  }, 90_000);

  test('download model: the button saves the job\u2019s safetensors file', async () => {
    await page.waitForFunction(() => !(document.querySelector('#download-model') as HTMLButtonElement).disabled, WAIT);
    await page.click('#download-model');
    const bytes = await waitForFile(path.join(chrome!.downloads, `${aliceJob}.safetensors`));
    const { header } = parseSafetensors(bytes);
    expect(Object.keys(header).filter((k) => k !== '__metadata__').length).toBeGreaterThanOrEqual(4); // 2 layers x (weight, bias)
    const fromApi = await request(base, 'GET', `/jobs/${aliceJob}/model`, { token: ALICE });
    expect(bytes.equals(fromApi.body)).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot('dashboard-job.png');
  });

  test('cancel another job from its page', async () => {
    const long = await request(base, 'POST', '/jobs', { token: ALICE, body: { dataset: 'synth', epochs: 60, limit: 50_000, hidden: [128] } });
    expect(long.status).toBe(201);
    await page.goto(`${base}/#/jobs/${long.json.id}`);
    await page.waitForSelector('main[data-job-status=running]', WAIT);
    await page.waitForFunction(() => !(document.querySelector('#cancel-job') as HTMLButtonElement).disabled, WAIT);
    await page.click('#cancel-job');
    await page.waitForSelector('main[data-job-status=cancelled]', WAIT);
    expect(await textOf(page, '#job-status')).toBe('cancelled');
    expect(await page.$eval('#download-model', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect((await waitForStatus(base, long.json.id, ['cancelled'], ALICE)).status).toBe('cancelled');
  });

  test('a server restart mid-job: the page says so, reconnects by itself and follows the resumed job to its end', async () => {
    const job = await request(base, 'POST', '/jobs', { token: ALICE, body: { dataset: 'synth', epochs: 20, limit: 30_000, hidden: [32] } });
    expect(job.status).toBe(201);
    await page.goto(`${base}/#/jobs/${job.json.id}`);
    await page.waitForFunction(() => document.querySelectorAll('#epoch-log tbody tr').length >= 2, WAIT);
    const port = new URL(base).port;
    expect(await stopServer(server, 'SIGTERM')).toBe(0);
    await page.waitForFunction(() => /restarting|reconnecting/i.test(document.querySelector('#live')?.textContent ?? ''), WAIT);
    server = await startServer({ STATE_DIR: path.join(dir, 'state'), CONCURRENCY: '1', API_TOKENS: TOKENS, PORT: port });
    expect(server.url).toBe(base);
    await page.waitForSelector('main[data-job-status=succeeded]', { timeout: 60_000 });
    const epochs = await page.$$eval('#epoch-log tbody tr td:first-child', (tds) => tds.map((td) => Number((td as HTMLElement).innerText)));
    expect(epochs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await textOf(page, '#settings')).toMatch(/resumed\s+1 time/);
  }, 90_000);

  test('keyboard only: fill in and submit the form, then open a job from the table', async () => {
    await openJobs();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await tabTo(page, '#f-dataset');
    // The focused control shows a visible focus ring.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.type('synth');
    await tabTo(page, '#f-hidden');
    await page.keyboard.type('16');
    await tabTo(page, '#f-lr');
    await page.keyboard.type('0.05');
    await tabTo(page, '#f-epochs');
    await page.keyboard.type('2');
    await tabTo(page, '#f-limit');
    await page.keyboard.type('2000');
    await tabTo(page, '#submit-job');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#job-title', WAIT);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]);
    // The settings render after the job's record arrives, which can be after its title on a busy machine.
    await page.waitForFunction(() => /hidden\s+16/.test((document.querySelector('#settings') as HTMLElement | null)?.innerText ?? ''), WAIT);
    expect(await textOf(page, '#settings')).toMatch(/hidden\s+16/);
    expect(await textOf(page, '#settings')).toMatch(/epochs\s+2/);
    await page.waitForSelector('main[data-job-status=succeeded]', { timeout: 60_000 });
    // Back to the list and into the first job, by keyboard.
    await tabTo(page, '.back a', 10, 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-loaded=jobs]', WAIT);
    await tabTo(page, `tr[data-id="${id}"] a`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`main[data-job-status=succeeded]`, WAIT);
    expect(await textOf(page, '#job-title')).toContain(id);
  }, 90_000);

  test('the jobs table lists status, dataset, model, owner, progress, accuracy and duration', async () => {
    await openJobs();
    await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 4, WAIT);
    const row = await page.$eval(`tr[data-id="${aliceJob}"]`, (tr) =>
      Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [(td as HTMLElement).dataset.label, (td as HTMLElement).innerText.trim()])),
    );
    expect(row).toMatchObject({ Status: 'succeeded', Dataset: 'synth', Model: 'MLP 32', Owner: 'alice', Progress: '6/6 epochs' });
    expect(row.Accuracy).toMatch(/^\d+\.\d%/);
    expect(row.Duration).toMatch(/\d s$/);
    // The table refreshes every 2 s: wait until no job is still on its way (a previous test's may be finishing).
    await page.waitForFunction(
      () => [...document.querySelectorAll('#jobs tbody tr .col-status')].every((td) => !/queued|running/.test((td as HTMLElement).innerText)),
      WAIT,
    );
    const statuses = await page.$$eval('#jobs tbody tr .col-status', (tds) => tds.map((td) => (td as HTMLElement).innerText.trim()).sort());
    expect(statuses).toEqual(['cancelled', 'succeeded', 'succeeded', 'succeeded']);
    expect((await horizontalOverflow()).scroll).toBeLessThanOrEqual(1280);
    await screenshot('dashboard-jobs.png');
  });

  test('phone width (375px): no sideways scrolling, the table becomes cards, the form fits', async () => {
    await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await openJobs();
    const jobs = await horizontalOverflow();
    expect(jobs).toEqual({ scroll: jobs.width, width: jobs.width, culprits: [] });
    expect(await page.$eval('#jobs thead', (el) => el.getBoundingClientRect().height)).toBeLessThanOrEqual(1);
    await screenshot('dashboard-phone.png');
    await page.goto(`${base}/#/jobs/${aliceJob}`);
    await page.waitForSelector('main[data-job-status=succeeded]', WAIT);
    await page.waitForSelector('#loss-chart canvas', WAIT);
    const job = await horizontalOverflow();
    expect(job).toEqual({ scroll: job.width, width: job.width, culprits: [] });
    await page.setViewport({ width: 1280, height: 800 });
  });

  test('another token sees none of these jobs, and not one by its address; an admin sees all', async () => {
    await page.click('#sign-out');
    await signIn(BOB);
    await page.waitForSelector('main[data-loaded=jobs]', WAIT);
    expect(await page.$$eval('#jobs tbody tr', (trs) => trs.length)).toBe(0);
    expect(await textOf(page, '.empty')).toMatch(/No jobs yet/);
    expect(await page.content()).not.toContain(aliceJob);
    const mine = await request(base, 'POST', '/jobs', { token: BOB, body: { dataset: 'synth', epochs: 1, limit: 500, hidden: [4] } });
    await page.waitForSelector(`tr[data-id="${mine.json.id}"]`, WAIT);
    expect(await page.$$eval('#jobs tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.id))).toEqual([mine.json.id]);
    await page.goto(`${base}/#/jobs/${aliceJob}`);
    await page.waitForSelector('#job-missing', WAIT);
    expect(await textOf(page, '#job-missing')).toMatch(/no job/);
    await waitForStatus(base, mine.json.id, ['succeeded'], BOB);
    // An admin token sees everyone's, with their owners.
    await page.goto(`${base}/#/`);
    await page.click('#sign-out');
    await signIn(ROOT);
    await page.waitForSelector(`tr[data-id="${aliceJob}"]`, WAIT);
    const owners = await page.$$eval('#jobs tbody tr .col-owner', (tds) => tds.map((td) => (td as HTMLElement).innerText.trim()));
    expect(owners.sort()).toEqual(['alice', 'alice', 'alice', 'alice', 'bob']);
  });

  test('the page logged no errors and asked nothing of another origin', () => {
    expect(pageErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
