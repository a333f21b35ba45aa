// End-to-end tests in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded). They open the built app the way a student
// would, click Train and read what the page shows. They fail — never skip — when the browser
// or the build is missing. Screenshots land in tests/e2e/artifacts/.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { serve } = require('../../scripts/static-server.cjs');

const DIST = process.env.PP_DIST || path.join(__dirname, '..', '..', 'dist');
const ARTIFACTS = path.join(__dirname, 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const BASE_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-sync',
  '--disable-background-networking', '--disable-component-update', '--disable-quic',
];

/** Opens the app in a fresh browser and records console errors and off-origin requests. */
async function openApp(extraFlags, query, prepare = async () => {}) {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}`);
  assert.ok(fs.existsSync(path.join(DIST, 'index.html')), `the app is not built in ${DIST}`);
  const server = await serve(DIST);
  const origin = `http://127.0.0.1:${server.address().port}`;
  // Playwright gives each launch a fresh, empty profile directory of its own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...extraFlags] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = { consoleErrors: [], offOrigin: [], pageErrors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  context.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) problems.offOrigin.push(url);
  });
  await prepare(page);
  await page.goto(`${origin}/${query}`);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { page, problems, close };
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

test('without WebGPU the app falls back to the CPU and the loss falls', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast');
  try {
    const train = page.getByTestId('train');
    await train.waitFor({ state: 'visible' });
    await waitForTrainEnabled(page, 120_000);
    const label = await text(page, 'backend');
    assert.match(label, /^CPU \(WebGPU unavailable: .+\)/, `backend label: ${label}`);
    await train.click();
    await waitForSteps(page, 1, 60_000);
    const firstLoss = await leadingNumber(page, 'loss');
    assert.ok(Number.isFinite(firstLoss), `first loss ${firstLoss}`);

    await waitForSteps(page, 30, 180_000);
    const laterLoss = await leadingNumber(page, 'loss');
    assert.ok(laterLoss < firstLoss - 0.2, `loss should fall: ${firstLoss} → ${laterLoss}`);
    assert.match(await text(page, 'progress'), /ETA \d+:\d\d/);
    const sample = await page.locator('[data-testid="sample"] .continuation').innerText();
    assert.ok(sample.trim().length > 0, 'a sampled continuation is shown');

    // Pause really stops the worker; Train resumes it.
    await page.getByTestId('pause').click();
    await waitForTrainEnabled(page, 30_000);
    const pausedAt = await leadingNumber(page, 'step-count');
    await page.waitForTimeout(1500);
    assert.equal(await leadingNumber(page, 'step-count'), pausedAt, 'no steps while paused');
    await train.click();
    await waitForSteps(page, pausedAt + 3, 60_000);
    await screenshot(page, 'cpu-fallback.png');

    // Reset starts over from step 0 on the same device.
    await page.getByTestId('reset').click();
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await leadingNumber(page, 'step-count'), 0);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('with a WebGPU adapter (SwiftShader) training runs on WebGPU', { timeout: 480_000 }, async () => {
  const { page, problems, close } = await openApp(['--enable-unsafe-webgpu'], '?size=fast');
  try {
    const train = page.getByTestId('train');
    await waitForTrainEnabled(page, 300_000);
    const label = await text(page, 'backend');
    assert.match(label, /^WebGPU: .+/, `backend label: ${label}`);
    assert.match(label, /\(software\)/, 'SwiftShader is reported as a software adapter');
    await train.click();
    await waitForSteps(page, 3, 300_000);
    const loss = await leadingNumber(page, 'loss');
    assert.ok(Number.isFinite(loss) && loss > 0, `a finite loss was read back: ${loss}`);
    const sample = await page.locator('[data-testid="sample"] .continuation').innerText();
    assert.ok(sample.trim().length > 0, 'a sample was read back from the GPU');
    await page.getByTestId('pause').click();
    await screenshot(page, 'webgpu.png');
    assertClean(problems);
  } finally {
    await close();
  }
});

test('without navigator.gpu the label says why and the CPU trains', { timeout: 180_000 }, async () => {
  // Chromium has no switch that hides navigator.gpu from workers, so the worker's loader is
  // served with a first line that does, as in a browser without WebGPU.
  const hideWebGpu = (page) =>
    page.context().route('**/worker_loader.js', async (route) => {
      const original = await route.fetch();
      const body = `Object.defineProperty(WorkerNavigator.prototype, 'gpu', { get: () => undefined });\n${await original.text()}`;
      await route.fulfill({ response: original, body });
    });
  const { page, problems, close } = await openApp([], '?size=fast', hideWebGpu);
  try {
    await waitForTrainEnabled(page, 120_000);
    assert.match(await text(page, 'backend'), /^CPU \(WebGPU unavailable: .*navigator\.gpu is missing/);
    await page.getByTestId('train').click();
    await waitForSteps(page, 2, 60_000);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('training code that cannot load becomes a visible message, not a blank page', { timeout: 120_000 }, async () => {
  const block = (page) => page.context().route('**/worker_bg.wasm', (route) => route.abort());
  const { page, problems, close } = await openApp([], '?size=fast', block);
  try {
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="error"]')?.innerText ?? '').includes('could not load the training code'),
      null,
      { timeout: 60_000 },
    );
    assert.ok(await page.getByTestId('train').isDisabled(), 'nothing to train without the worker');
    assert.deepEqual(problems.pageErrors, [], 'the page itself keeps working');
    await screenshot(page, 'worker-failed.png');
  } finally {
    await close();
  }
});
