// The data-parallel CPU fallback, clicked through as a student would: a run shared over two
// workers (the training worker and one helper) follows the one-worker loss curve within the
// stated tolerance and repeats bit for bit; a helper that dies mid-run pauses the run with the
// reason, nothing finished is lost, and Train goes on.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { openApp, text, leadingNumber, waitForTrainEnabled, waitForSteps, screenshot, assertClean } = require('./helpers.cjs');

// A short `fast` run: about 20 steps, then the quick evaluation that makes it a row.
const RUN = '?size=fast&backend=cpu&mix=clm&budget=5000&eval=quick&seed=4';

/** Trains the run of `query` to its end and returns its curve's training losses, read from
 * the comparison panel's stored rows (full precision, as the run's record holds them). */
async function trainedCurve(query, expectWorkers) {
  const { page, problems, close } = await openApp([], query);
  try {
    await waitForTrainEnabled(page, 180_000);
    const shown = await page.locator('[data-testid="workers"]').count();
    if (expectWorkers > 1) {
      assert.equal(await page.getByTestId('workers').getAttribute('data-workers'), String(expectWorkers));
    } else {
      assert.equal(shown, 0, 'one worker: nothing to say');
    }
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="compare-row"][data-role="run"]').length >= 1,
      null,
      { timeout: 240_000, polling: 250 },
    );
    const stored = await page.evaluate(() => localStorage.getItem('pretrain-playground/runs'));
    const curve = findCurve(JSON.parse(stored));
    assert.ok(curve && curve.length >= 10, 'the stored run has its curve');
    assertClean(problems);
    return curve.map((p) => p.train_loss);
  } finally {
    await close();
  }
}

function findCurve(value) {
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = findCurve(v);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    if (Array.isArray(value.curve) && value.curve.length && 'train_loss' in value.curve[0]) return value.curve;
    for (const v of Object.values(value)) {
      const found = findCurve(v);
      if (found) return found;
    }
  }
  return null;
}

test('two workers follow the one-worker curve and repeat bit for bit', { timeout: 600_000 }, async () => {
  const one = await trainedCurve(`${RUN}&workers=1`, 1);
  const two = await trainedCurve(`${RUN}&workers=2`, 2);
  const again = await trainedCurve(`${RUN}&workers=2`, 2);
  assert.deepEqual(again, two, 'the same seed and worker count: bit-identical');
  assert.equal(two.length, one.length);
  let worst = 0;
  one.forEach((a, i) => {
    worst = Math.max(worst, Math.abs(a - two[i]) / Math.abs(a));
  });
  console.log(`two workers vs one over ${one.length} steps: largest relative difference in the training loss ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-3, `within 1e-3 of the one-worker curve (worst ${worst})`);
});

test('a helper worker dying mid-run pauses the run with the reason and loses nothing', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&mix=clm&workers=2&seed=4');
  try {
    await waitForTrainEnabled(page, 180_000);
    await page.getByTestId('train').click();
    await waitForSteps(page, 5, 120_000);
    // The browser fires `error` on a worker whose code threw: the helper's `Worker` object in
    // the training worker gets that event.
    const [worker] = page.workers();
    await worker.evaluate(() => self.__ppHelpers[0].dispatchEvent(new ErrorEvent('error', { message: 'test: the helper died mid-step' })));
    await waitForTrainEnabled(page, 60_000);
    const status = await text(page, 'status');
    assert.match(status, /Paused after step \d+: helper worker 1 stopped \(test: the helper died mid-step\)/);
    assert.match(status, /nothing is lost/);
    const pausedAt = await leadingNumber(page, 'step-count');
    assert.ok(pausedAt >= 5, 'the steps already taken are kept');
    await screenshot(page, 'parallel-helper-lost.png');
    // Train goes on, the training worker now computing both shards.
    await page.getByTestId('train').click();
    await waitForSteps(page, pausedAt + 5, 120_000);
    problems.consoleErrors = problems.consoleErrors.filter((e) => !/helper died/.test(e));
    assertClean(problems);
  } finally {
    await close();
  }
});
