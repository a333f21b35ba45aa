// The evaluation in the page: a finished run is judged at once — generation (perplexity or
// pseudo-perplexity of held-out replies, compliance of the replies it writes) and pair
// judgement (a linear probe per negative kind beside its untrained twin, the pair head's and
// the likelihood's zero-shot readings) — on the CPU fallback; an evaluation can be cancelled.
// On WebGPU (SwiftShader) a paused BART run is evaluated in objectives.test.cjs, which already
// has a WebGPU page open.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  openApp, text, waitForTrainEnabled, screenshot, assertClean,
} = require('./helpers.cjs');

/** Waits until the evaluation panel shows a result; returns the seconds it took. */
async function waitForEvaluation(page, timeout) {
  const started = Date.now();
  await page.getByTestId('eval-results').waitFor({ state: 'visible', timeout });
  return (Date.now() - started) / 1000;
}

/** The run summary the page offers as run.json, parsed. */
async function downloadedSummary(page) {
  const href = await page.getByTestId('download-summary').getAttribute('href');
  return page.evaluate(async (url) => (await fetch(url)).json(), href);
}

test('a finished BERT run is evaluated on the CPU fallback, and an evaluation can be cancelled', { timeout: 420_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&mix=bert&budget=4000');
  try {
    await waitForTrainEnabled(page, 120_000);
    await page.getByTestId('train').click();
    await page.getByTestId('run-results').waitFor({ state: 'visible', timeout: 120_000 });
    const seconds = await waitForEvaluation(page, 240_000);
    console.log(`evaluation on the CPU fallback at fast (bert): ${seconds.toFixed(1)} s after the run ended`);
    assert.match(await text(page, 'eval-when'), /after the run/);
    // Masked LM: a pseudo-perplexity, never a conditional perplexity.
    assert.match(await text(page, 'eval-gen-pppl'), /^\d+\.\d\d ± \d+\.\d\d on \d+ tokens of \d+ held-out replies/);
    assert.equal(await page.getByTestId('eval-gen-ppl').count(), 0);
    assert.match(await text(page, 'eval-compliance'), /^\d+\.\d% ± \d+\.\d of \d+ greedy replies/);
    // The same replies at the bound every writer shares, so compliance compares across mixes.
    assert.match(await text(page, 'eval-compliance-common'), /^\d+\.\d% ± \d+\.\d$/);
    for (const kind of ['random', 'hard', 'swapped']) {
      assert.match(await text(page, `eval-probe-${kind}`), /^\d+\.\d% ± \d+\.\d \(AUC 0\.\d\d\)/);
      assert.match(await text(page, `eval-twin-${kind}`), /%/);
      assert.match(await text(page, `eval-zeroshot-${kind}`), /%/);
      assert.match(await text(page, `eval-likelihood-${kind}`), /%/);
      // What words alone reach on the same pairs, beside the model's figures.
      assert.match(await text(page, `eval-judge-bow-ordered-${kind}`), /^\d+\.\d% ± \d+\.\d \(AUC 0\.\d\d\)/);
    }
    const summary = await downloadedSummary(page);
    assert.equal(summary.schema_version, 3);
    assert.ok(summary.gen_pppl > 1, `gen_pppl ${summary.gen_pppl}`);
    assert.equal(summary.gen_ppl, undefined);
    assert.equal(summary.probe_pooling, 'cls‖mean');
    assert.ok(summary.probe_acc.hard >= 0 && summary.probe_acc.hard <= 1);
    assert.equal(summary.zeroshot_method, 'pair head (argmax)');
    assert.match(summary.zeroshot_likelihood_method, /pseudo-log-likelihood/);
    assert.equal(summary.compliance_common_cap, 16);
    assert.ok(summary.probe_vs_twin.hard.n > 0, 'the probe and its twin compared pair by pair');
    assert.deepEqual(summary.pair_baselines.map((b) => b.name), ['bow', 'bow-ordered', 'surface']);
    await screenshot(page, 'evaluation-bert.png');

    // On request, and cancelled: the panel says so and keeps the last result.
    await page.getByTestId('eval-run').click();
    await page.getByTestId('eval-cancel').click();
    await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="eval-message"]')?.innerText ?? ''), null, { timeout: 60_000 });
    assert.equal(await page.getByTestId('eval-progress').count(), 0);
    assert.match(await text(page, 'eval-when'), /after the run/);
    assertClean(problems);
  } finally {
    await close();
  }
});
