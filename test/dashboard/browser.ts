/**
 * Helpers for the dashboard's browser tests: find Debian's chromium, launch it offline with puppeteer-core,
 * and small waits on the page's own state (never on sleeps).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';

// The functions passed to page.evaluate run in the browser. This project's TypeScript lib has no DOM (and
// adding it would hide DOM use in library code), so those few browser names are declared loosely here.
declare const document: any, window: any, getComputedStyle: any, MutationObserver: any;
type HTMLElement = any;
type HTMLInputElement = any;
type HTMLButtonElement = any;

/** The chromium binary: CHROMIUM_PATH, else Debian's real binary, else the launcher in the PATH; undefined when none. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Where downloads land. */
  downloads: string;
  close(): Promise<void>;
}

/** Launches headless chromium with a fresh profile, nothing reaching out to the network, downloads allowed. */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  // Imported here so that the test file loads (and skips) where puppeteer-core is missing too.
  const puppeteer = (await import('puppeteer-core')).default;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vugrad-chromium-'));
  const downloads = path.join(profile, 'downloads');
  fs.mkdirSync(downloads);
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--headless=new',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(profile, 'profile')}`,
    ],
    defaultViewport: { width: 1280, height: 800 },
    downloadBehavior: { policy: 'allow', downloadPath: downloads },
    protocolTimeout: 60_000,
  });
  return {
    browser,
    downloads,
    async close() {
      await browser.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until `file` exists and its size has stopped at a non-zero value across two checks. */
export async function waitForFile(file: string, timeoutMs = 20_000): Promise<Buffer> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const size = fs.existsSync(file) ? fs.statSync(file).size : -1;
    if (size > 0 && size === last) return fs.readFileSync(file);
    last = size;
    if (Date.now() > until) throw new Error(`${file} did not appear in ${timeoutMs} ms (found ${fs.readdirSync(path.dirname(file)).join(', ') || 'nothing'})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The visible text of the first element matching `selector`. */
export function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (el as HTMLElement).innerText.trim());
}

/** Presses Tab until `selector` has the focus (at most `max` times); fails naming what had the focus. */
export async function tabTo(page: Page, selector: string, max = 40, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    if (key === 'Tab') await page.keyboard.press('Tab');
    else {
      await page.keyboard.down('Shift');
      await page.keyboard.press('Tab');
      await page.keyboard.up('Shift');
    }
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${selector} did not get the focus after ${max} Tab presses (focus on ${at})`);
}
