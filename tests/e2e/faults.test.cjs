// Nothing lost, nothing hangs: the page under links it cannot use. (A crashed worker and a lost
// or replaced WebGPU run are in app.test.cjs, own text kept across a set-up change in
// corpus.test.cjs: they reuse those tests' runs rather than start new ones.)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  openApp, text, waitForTrainEnabled, screenshot, assertClean,
} = require('./helpers.cjs');

const urlNote = (page) => page.getByTestId('url-note').innerText();

test('a link the page cannot use opens defaults and names every key it ignored, until dismissed', { timeout: 240_000 }, async () => {
  // An unsupported pairing, a budget out of range, an out-of-range weight, an unknown size and
  // a broken escape, beside good keys that must all be kept.
  const query = '?backend=cpu&mix=nsp%2Bsop&budget=0&size=huge&seed=7&corpus_seed=3&mean_span=%ZZ';
  const { page, problems, close } = await openApp([], query);
  try {
    await waitForTrainEnabled(page, 120_000);
    const note = await urlNote(page);
    for (const key of ['mix=nsp+sop', 'budget=0', 'size=huge', 'mean_span=%ZZ']) {
      assert.ok(note.includes(key), `the note names ${key}: ${note}`);
    }
    assert.equal(await text(page, 'run-mix'), 'clm');
    assert.match(await page.locator('.facts').first().innerText(), /seed 7 · corpus 3/);
    // The note outlives the run becoming ready, and goes when dismissed.
    await page.waitForTimeout(500);
    assert.ok((await urlNote(page)).includes('budget=0'));
    await screenshot(page, 'bad-link-note.png');
    await page.getByTestId('url-note-dismiss').click();
    assert.equal(await page.getByTestId('url-note').count(), 0);
    assertClean(problems);
  } finally {
    await close();
  }
});
