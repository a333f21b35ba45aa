// A run trained natively and saved with `train --save DIR` loads into the page: the student
// picks the four files, the worker rebuilds the network on its device, the page shows the
// recorded curve, the results and a fresh sample, and Reset returns to a run of its own.
// Files that are not a saved run are refused with a message and the current run stays.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  openApp, text, waitForTrainEnabled, screenshot, assertClean, SAVED_FILES: FILES, savedRun,
} = require('./helpers.cjs');

let dir;
let saved;

before(() => {
  ({ dir, record: saved } = savedRun());
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a natively trained run loads into the page and shows what it learned', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&mix=bert');
  try {
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'mlm+nsp');
    await page.getByTestId('load-run').setInputFiles(FILES.map((f) => path.join(dir, 'run', f)));
    await page.waitForFunction(
      () => document.querySelector('[data-testid="run-mix"]')?.innerText === 'clm'
        && document.querySelector('[data-testid="run-results"]') !== null,
      null,
      { timeout: 60_000 },
    );
    assert.match(await text(page, 'run-loaded'), /CPU \(burn flex\)/);
    // The recorded run, as it ended natively.
    assert.equal(await text(page, 'step-count'), `${saved.steps} of ~${saved.steps}`);
    assert.match(await text(page, 'result-val-loss'), new RegExp(`→ ${saved.final_val_loss.toFixed(3)} nats`));
    assert.match(await text(page, 'result-trained'), new RegExp(`^${saved.tokens} tokens in ${saved.steps} steps`));
    assert.match(await text(page, 'outcome'), /^Finished/);
    // A loaded run is looked at, not trained further.
    assert.equal(await page.getByTestId('train').isDisabled(), true);
    // The loaded decoder writes: a sample of the prompt, drawn on the page's device.
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="sample"] .continuation')?.innerText ?? '').trim().length > 0,
      null,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator('[data-testid="sample"] .prompt').innerText(), 'Hi, I ordered the');
    // The summary downloads as the same record the CLI wrote (a Blob, not a size-capped data: URL).
    const href = await page.getByTestId('download-summary').getAttribute('href');
    assert.match(href, /^blob:/);
    const downloaded = JSON.parse(await page.evaluate(async (h) => (await fetch(h)).text(), href));
    assert.deepEqual(downloaded, saved);
    // The picker shows the loaded run's objective, not the choice made before it loaded.
    assert.equal(await page.getByTestId('mix-preset').inputValue(), '');
    assert.equal(await page.getByTestId('mix-primary').inputValue(), 'clm');
    assert.equal(await page.getByTestId('mix-aux').inputValue(), '');
    await screenshot(page, 'saved-run-loaded.png');

    // Reset leaves the saved run for a fresh run of its set-up, which the page now shows.
    await page.getByTestId('reset').click();
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'clm');
    assert.equal(await page.getByTestId('run-loaded').count(), 0);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('files that are not a whole saved run are refused and the run stays', { timeout: 300_000 }, async () => {
  const damaged = path.join(dir, 'damaged');
  fs.mkdirSync(damaged, { recursive: true });
  for (const f of FILES) fs.copyFileSync(path.join(dir, 'run', f), path.join(damaged, f));
  const model = fs.readFileSync(path.join(damaged, 'model.bpk'));
  fs.writeFileSync(path.join(damaged, 'model.bpk'), model.subarray(0, model.length >> 1));
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&mix=t5');
  try {
    await waitForTrainEnabled(page, 120_000);
    // Only two of the four files.
    await page.getByTestId('load-run').setInputFiles([path.join(dir, 'run', 'model.bpk'), path.join(dir, 'run', 'run.json')]);
    await page.waitForFunction(() => /missing: tokenizer\.json, config\.json/.test(document.querySelector('[data-testid="load-message"]')?.innerText ?? ''), null, { timeout: 10_000 });
    // All four, with a damaged record: the worker refuses it.
    await page.getByTestId('load-run').setInputFiles(FILES.map((f) => path.join(damaged, f)));
    await page.waitForFunction(() => /model\.bpk cannot be read/.test(document.querySelector('[data-testid="load-message"]')?.innerText ?? ''), null, { timeout: 60_000 });
    // The page's own run is untouched and still trains.
    assert.equal(await text(page, 'run-mix'), 'span');
    assert.equal(await page.getByTestId('run-loaded').count(), 0);
    await waitForTrainEnabled(page, 10_000);
    await screenshot(page, 'saved-run-refused.png');
    assertClean(problems);
  } finally {
    await close();
  }
});
