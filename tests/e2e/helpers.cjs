// Shared helpers of the end-to-end tests: serve dist/, open it in Debian's headless Chromium
// through playwright-core (never a downloaded browser), record console errors and off-origin
// requests, wait for the page's states, take screenshots.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { serve } = require('../../scripts/static-server.cjs');
const { CHROMIUM, BASE_FLAGS } = require('../../scripts/chromium.cjs');

const DIST = process.env.PP_DIST || path.join(__dirname, '..', '..', 'dist');
const ARTIFACTS = path.join(__dirname, 'artifacts');

/** Opens the app (or `serveOptions.root`) in a fresh browser and records console errors and
 * off-origin requests. */
async function openApp(extraFlags, query, prepare = async () => {}, contextOptions = {}, serveOptions = {}) {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}`);
  // `serveOptions.root`: serve another folder than the app (a lecturer's slide page).
  const root = serveOptions.root || DIST;
  assert.ok(serveOptions.root || fs.existsSync(path.join(DIST, 'index.html')), `the app is not built in ${DIST}`);
  const server = await serve(root, 0, serveOptions);
  const origin = `http://127.0.0.1:${server.address().port}`;
  // Playwright gives each launch a fresh, empty profile directory of its own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...extraFlags] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...contextOptions });
  const page = await context.newPage();
  // `requested`: the paths fetched from the page's origin (which worker build was loaded).
  const problems = { consoleErrors: [], offOrigin: [], pageErrors: [], requested: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  context.on('request', (req) => {
    const url = req.url();
    if (url.startsWith(origin)) problems.requested.push(new URL(url).pathname);
    else if (!url.startsWith('data:') && !url.startsWith('blob:')) problems.offOrigin.push(url);
  });
  await prepare(page);
  await page.goto(`${origin}/${query}`);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { page, problems, close, server, context };
}

const text = (page, id) => page.getByTestId(id).innerText();
const leadingNumber = async (page, id) => parseFloat((await text(page, id)).trim());

/** Waits until the app is mounted and the Train button is enabled (a run is ready). */
async function waitForTrainEnabled(page, timeout) {
  await page.waitForFunction(() => document.querySelector('[data-testid="train"]')?.disabled === false, null, { timeout });
}

async function waitForSteps(page, steps, timeout) {
  await page.waitForFunction(
    (n) => parseInt(document.querySelector('[data-testid="step-count"]')?.innerText ?? '0', 10) >= n,
    steps,
    { timeout, polling: 100 },
  );
}

function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

function assertClean(problems) {
  assert.deepEqual(problems.pageErrors, [], 'uncaught errors in the page');
  assert.deepEqual(problems.consoleErrors, [], 'console errors');
  assert.deepEqual(problems.offOrigin, [], 'requests off the page origin');
}

/** A student's own text the lab accepts: forty-odd sentences in several scripts, in
 * paragraphs. */
function studentText() {
  const lines = [];
  for (let i = 0; i < 14; i++) {
    lines.push(`The lighthouse keeper counted ${i + 3} ships before dawn. She wrote each name in the log.`);
    lines.push('Der Wind drehte nach Norden, und das Meer wurde still. 🌊 Sie trank ihren Tee.');
    lines.push('灯台守は朝まで船を数えた。海は静かだった。');
    if (i % 3 === 2) lines.push('');
  }
  return lines.join('\n');
}

/** The four files of a saved run. */
const SAVED_FILES = ['model.bpk', 'tokenizer.json', 'config.json', 'run.json'];

/** Trains a small `gpt` run natively with the CLI (`train --save`) into a new temporary folder:
 * `{ dir, run, files, record }` (`run` holds the saved run, `record` is its run.json). */
function savedRun() {
  // Where scripts/setup.sh puts cargo's build output.
  const target = process.env.CARGO_TARGET_DIR
    || path.join(process.env.PP_CACHE || path.join(os.homedir(), '.cache', 'pretrain-playground'), 'target');
  const cli = path.join(target, 'debug', 'pretrain-playground');
  assert.ok(fs.existsSync(cli), `the native CLI is not built at ${cli} (cargo build --bins)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-saved-'));
  execFileSync(cli, [
    'train', '--preset', 'gpt', '--size', 'fast', '--budget-tokens', '6000', '--quiet',
    '--out', path.join(dir, 'summary.json'), '--save', path.join(dir, 'run'),
  ], { stdio: 'pipe' });
  const run = path.join(dir, 'run');
  return {
    dir,
    run,
    files: SAVED_FILES.map((f) => path.join(run, f)),
    record: JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')),
  };
}

module.exports = {
  DIST, ARTIFACTS, CHROMIUM, BASE_FLAGS, openApp, text, leadingNumber, waitForTrainEnabled, waitForSteps,
  screenshot, assertClean, studentText, SAVED_FILES, savedRun,
};
