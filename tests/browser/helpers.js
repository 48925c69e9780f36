// Shared set-up for the browser tests: Debian's Chromium through playwright-core, the page
// served on loopback by scripts/test-browser, and the edgeidp command line.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');
export const SCREENSHOTS = join(REPO, 'test-output', 'browser');

/** The served page, for example http://127.0.0.1:8765/ (set by scripts/test-browser). */
export const PAGE_URL = requiredEnv('EDGEIDP_WEB_URL');
/** The edgeidp command line built with the `cli` feature. */
export const CLI = process.env.EDGEIDP_BIN ?? join(REPO, 'target', 'release', 'edgeidp');

export const FIXED_TIME = '2026-01-02T03:04:05Z';
export const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set; run the browser tests with scripts/test-browser`);
  }
  return value;
}

/**
 * Starts Chromium with a fresh profile directory and returns `{ context, page, requests,
 * requestDetails, consoleMessages, errors, close }`: `requests` collects the URL of every
 * request the page makes, `requestDetails` its URL, headers and body, `consoleMessages` the
 * text of every console message, and `errors` the message of every uncaught exception.
 */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'edgeidp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  const requestDetails = [];
  const consoleMessages = [];
  const errors = [];
  page.on('request', (request) => {
    requests.push(request.url());
    requestDetails.push({ url: request.url(), headers: request.headers(), body: request.postData() ?? '' });
  });
  page.on('console', (message) => consoleMessages.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, requests, requestDetails, consoleMessages, errors, close };
}

/** Loads the page and waits for its first preview, made with a key generated in the page. */
export async function loadPage(page) {
  await page.goto(PAGE_URL);
  await waitForPreview(page, 0);
}

/** Returns how many previews the page has finished. */
export async function previewGeneration(page) {
  return page.evaluate(() => Number(document.getElementById('preview').dataset.generation ?? 0));
}

/**
 * Waits until a preview later than `generation` has finished, and returns its state:
 * `ready` or `error`.
 */
export async function waitForPreview(page, generation) {
  await page.waitForFunction(
    (after) => {
      const section = document.getElementById('preview');
      return Number(section.dataset.generation ?? 0) > after && section.dataset.state !== 'pending';
    },
    generation,
    { timeout: 60_000 },
  );
  return page.evaluate(() => document.getElementById('preview').dataset.state);
}

/** Runs `action`, then waits for the preview it causes. */
export async function afterPreview(page, action) {
  const generation = await previewGeneration(page);
  await action();
  return waitForPreview(page, generation);
}

/** Saves a full-page screenshot named after the test. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Returns the attribute table the page shows as the SP reads it: [name, format, values]. */
export async function spAttributes(page) {
  return page.$$eval('#sp-attributes tbody tr', (rows) =>
    rows.map((row) => Array.from(row.cells, (cell) => cell.textContent)),
  );
}

/** Runs `program` with `args` and returns its standard output. */
export async function runProgram(program, args) {
  const { stdout } = await promisify(execFile)(program, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Runs the edgeidp command line and returns its standard output. */
export async function runCli(args) {
  return runProgram(CLI, args);
}

/** Creates a temporary directory removed by the returned `remove` function. */
export function temporaryDirectory() {
  const path = mkdtempSync(join(tmpdir(), 'edgeidp-browser-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `value` as JSON to `directory/name` and returns the path. */
export function writeJson(directory, name, value) {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}
