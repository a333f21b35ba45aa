// End-to-end tests in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded). They open the built app the way a student
// would, click Train and read what the page shows. They fail — never skip — when the browser
// or the build is missing. Screenshots land in tests/e2e/artifacts/.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');

const {
  openApp, text, leadingNumber, waitForTrainEnabled, waitForSteps, screenshot, assertClean, studentText,
  savedRun,
} = require('./helpers.cjs');

test('without WebGPU the app falls back to the CPU and the loss falls', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast');
  try {
    const train = page.getByTestId('train');
    await train.waitFor({ state: 'visible' });
    await waitForTrainEnabled(page, 120_000);
    const label = await text(page, 'backend');
    assert.match(label, /^CPU \(WebGPU unavailable: .+\)/, `backend label: ${label}`);
    // The server sends COOP/COEP, so the page is cross-origin isolated (what threads need).
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'cross-origin isolated');
    await train.click();
    await waitForSteps(page, 1, 60_000);
    assert.match(await text(page, 'memory'), /^\d+ MB$/, 'the worker reports its memory');
    // Without an adapter the page loads the CPU-only worker, never the WebGPU build.
    assert.ok(problems.requested.includes('/worker_cpu_bg.wasm'), `fetched: ${problems.requested}`);
    assert.ok(!problems.requested.includes('/worker_bg.wasm'), `fetched: ${problems.requested}`);
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

    // The worker dies mid-step (its code throws, as a panic's trap does): the page restarts it
    // with the same set-up and says so; it was on the CPU all along, so no WebGPU story.
    await train.click();
    await waitForSteps(page, 2, 60_000);
    const [worker] = page.workers();
    assert.ok(worker, 'the training worker is running');
    await worker.evaluate(() => setTimeout(() => { throw new Error('test: the worker died mid-step'); }));
    await page.waitForFunction(() => /crashed/.test(document.querySelector('[data-testid="crash"]')?.innerText ?? ''), null, { timeout: 10_000 });
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await leadingNumber(page, 'step-count'), 0);
    assert.equal(await text(page, 'run-mix'), 'clm');
    assert.equal(await text(page, 'backend'), label, 'the same device and the same story');
    await train.click();
    await waitForSteps(page, 2, 60_000);
    assert.deepEqual(problems.pageErrors, []);
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
    assert.ok(problems.requested.includes('/worker_bg.wasm'), `fetched: ${problems.requested}`);
    assert.ok(!problems.requested.includes('/worker_cpu_bg.wasm'), `fetched: ${problems.requested}`);
    await train.click();
    await waitForSteps(page, 3, 300_000);
    const loss = await leadingNumber(page, 'loss');
    assert.ok(Number.isFinite(loss) && loss > 0, `a finite loss was read back: ${loss}`);
    const sample = await page.locator('[data-testid="sample"] .continuation').innerText();
    assert.ok(sample.trim().length > 0, 'a sample was read back from the GPU');
    await page.getByTestId('pause').click();
    await screenshot(page, 'webgpu.png');
    assertClean(problems);

    // Reset while a step's read-back is awaited: the old run's step is never drawn on the new.
    await waitForTrainEnabled(page, 120_000);
    const pausedAt = await leadingNumber(page, 'step-count');
    await train.click();
    await waitForSteps(page, pausedAt + 1, 300_000);
    await page.getByTestId('reset').click();
    await waitForTrainEnabled(page, 120_000);
    await page.waitForTimeout(6_000); // longer than a step in flight takes to come back
    assert.equal(await leadingNumber(page, 'step-count'), 0);
    assert.equal(await text(page, 'loss'), '–');
    assert.equal(await text(page, 'error'), '');

    // Own text offered while a step's read-back is awaited: the new run on it starts clean.
    await train.click();
    await waitForSteps(page, 1, 300_000);
    await page.getByTestId('corpus-text').fill(studentText());
    await page.getByTestId('corpus-use').click();
    await page.waitForFunction(() => /pasted text/.test(document.querySelector('[data-testid="run-corpus"]')?.innerText ?? ''), null, { timeout: 180_000 });
    await waitForTrainEnabled(page, 180_000);
    await page.waitForTimeout(6_000);
    assert.equal(await leadingNumber(page, 'step-count'), 0);
    assert.equal(await text(page, 'loss'), '–');
    assert.equal(await text(page, 'error'), '');
    assert.match(await text(page, 'backend'), /^WebGPU: /);

    // A saved run loaded while a step's read-back is awaited: it shows as it was recorded.
    const saved = savedRun();
    try {
      await train.click();
      await waitForSteps(page, 1, 300_000);
      await page.getByTestId('load-run').setInputFiles(saved.files);
      await page.waitForFunction(() => document.querySelector('[data-testid="run-loaded"]') !== null, null, { timeout: 180_000 });
      await page.waitForTimeout(6_000);
      assert.equal(await text(page, 'run-mix'), 'clm');
      assert.match(await text(page, 'run-loaded'), /^a saved run/);
      assert.match(await text(page, 'backend'), /^WebGPU: /);
      assert.equal(await text(page, 'step-count'), `${saved.record.steps} of ~${saved.record.steps}`);
      assert.equal(await text(page, 'error'), '');
    } finally {
      fs.rmSync(saved.dir, { recursive: true, force: true });
    }

    // The GPU goes away (test hook: destroy the device the worker was given): the page says so
    // — the loss itself, or the read-back it broke, whichever the worker hears first — and
    // carries on, on the CPU, with the same set-up.
    const [worker] = page.workers();
    await worker.evaluate(() => self.__ppGpuDevice.destroy());
    await page.waitForFunction(() => /WebGPU unavailable: (the WebGPU device was lost|could not read results back)/.test(document.querySelector('[data-testid="backend"]')?.innerText ?? ''), null, { timeout: 180_000 });
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'clm');
    await screenshot(page, 'gpu-lost.png');
    assert.deepEqual(problems.pageErrors, []);
  } finally {
    await close();
  }
});

test('without navigator.gpu the label says why and the CPU trains', { timeout: 180_000 }, async () => {
  // Chromium has no switch that hides navigator.gpu from workers, so the worker's loader is
  // served with a first line that does, as in a browser without WebGPU.
  const hideWebGpu = (page) =>
    page.context().route(/\/worker_loader\.js(\?|$)/, async (route) => {
      const original = await route.fetch();
      const body = `Object.defineProperty(WorkerNavigator.prototype, 'gpu', { get: () => undefined });\n${await original.text()}`;
      await route.fulfill({ response: original, body });
    });
  // The page's service worker would fetch the loader itself, past the route: it stays off.
  const { page, problems, close } = await openApp([], '?size=fast', hideWebGpu, { serviceWorkers: 'block' });
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
  // Both builds of the worker (the page picks the CPU-only one here: no adapter).
  const block = (page) => page.context().route(/\/worker(_cpu)?_bg\.wasm$/, (route) => route.abort());
  const { page, problems, close } = await openApp([], '?size=fast', block, { serviceWorkers: 'block' });
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
