// The lecture around the panel: the tour of the lab's questions in large type, stepped with
// the keyboard, each step setting up its race; and the classroom's hosting — a static host
// that sends no headers, and a hall whose network fails after the first visit.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  openApp, text, waitForTrainEnabled, waitForSteps, screenshot, assertClean,
} = require('./helpers.cjs');

test('lecture mode steps through the questions by keyboard, in large type, and sets up each race', { timeout: 180_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&view=tour');
  try {
    // A link can open the tour; it opens at step 1 with the keyboard on it.
    await page.getByTestId('tour').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('tour').getAttribute('data-step'), '1');
    const titles = [await text(page, 'tour-title')];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('ArrowRight');
      titles.push(await text(page, 'tour-title'));
    }
    assert.equal(new Set(titles).size, 7, 'seven different steps');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByTestId('tour').getAttribute('data-step'), '7', 'the last step stays');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByTestId('tour').getAttribute('data-step'), '4');
    // Readable from the back of a hall: no text in the card under 20 px.
    const smallest = await page.evaluate(() => {
      let min = Infinity;
      for (const el of document.querySelectorAll('[data-testid="tour"] *')) {
        if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        min = Math.min(min, parseFloat(getComputedStyle(el).fontSize));
      }
      return min;
    });
    assert.ok(smallest >= 20, `smallest tour text ${smallest} px`);
    assert.match(await page.getByTestId('tour').innerText(), /BERT \(Devlin et al\. 2019\), Table 5/);
    await screenshot(page, 'tour.png');
    // Step 4 sets up its race: the tour closes and the race box holds the mixes.
    await page.getByTestId('tour-setup').click();
    assert.equal(await page.getByTestId('tour').count(), 0);
    assert.equal(await page.getByTestId('race-mixes').inputValue(), 'gpt,roberta,bert');
    assert.equal(await page.getByTestId('compare-y').inputValue(), 'probe');
    // Reopened, Escape closes it.
    await page.getByTestId('tour-open').click();
    await page.keyboard.press('Escape');
    assert.equal(await page.getByTestId('tour').count(), 0);
    await waitForTrainEnabled(page, 120_000);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('from a static host without headers the app trains, and after one visit it opens and trains offline', { timeout: 300_000 }, async () => {
  const { page, problems, close, server, context } = await openApp([], '?size=fast&backend=cpu', async () => {}, {}, { isolation: false });
  try {
    await waitForTrainEnabled(page, 120_000);
    assert.match(await text(page, 'hosting-isolation'), /without cross-origin isolation headers: nothing is missing/);
    await page.waitForFunction(() => /after this visit the page opens and trains without a network/.test(document.querySelector('[data-testid="hosting-offline"]')?.innerText ?? ''), null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
    await page.getByTestId('train').click();
    await waitForSteps(page, 2, 60_000);
    // The service worker is in charge and holds the page's files.
    await page.waitForFunction(async () => {
      const keys = await caches.keys();
      if (!keys.length) return false;
      const cache = await caches.open(keys[0]);
      const have = await Promise.all(['app_bg.wasm', 'worker_cpu_bg.wasm', 'index.html'].map((f) => cache.match(f)));
      return navigator.serviceWorker.controller !== null && have.every(Boolean);
    }, null, { timeout: 30_000, polling: 500 });
    // The hall's Wi-Fi fails: the server is gone and the browser is offline.
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await context.setOffline(true);
    await page.reload();
    await waitForTrainEnabled(page, 120_000);
    await page.getByTestId('train').click();
    await waitForSteps(page, 2, 60_000);
    await screenshot(page, 'offline.png');
    // Offline, the failed network requests are expected; nothing else may go wrong.
    assert.deepEqual(problems.pageErrors, []);
  } finally {
    await close();
  }
});
