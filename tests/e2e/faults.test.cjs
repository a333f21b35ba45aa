// Nothing lost, nothing hangs: the page under links it cannot use, a 5 MB paste while a run
// trains, and two own texts offered before the first is answered. (A crashed worker and a lost
// or replaced WebGPU run are in app.test.cjs, own text kept across a set-up change in
// corpus.test.cjs: they reuse those tests' runs rather than start new ones.)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  openApp, text, waitForTrainEnabled, waitForSteps, screenshot, assertClean, studentText,
} = require('./helpers.cjs');

/** Pastes `body` into the own-text box the way the clipboard does (a cancellable paste event,
 * then the browser's own insertion if the page lets it through). */
async function paste(page, body) {
  await page.evaluate((b) => {
    const box = document.querySelector('[data-testid="corpus-text"]');
    box.focus();
    const data = new DataTransfer();
    data.setData('text/plain', b);
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    box.dispatchEvent(event);
    if (!event.defaultPrevented) {
      box.value = b;
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }, body);
}

/** One probe, timed inside the page: Pause (while training; the run is resumed after) and the
 * tokenizer view (a new word typed, until its tokens show). Milliseconds each, -1 for no answer
 * within `limit`. */
function probe(page, i, limit) {
  return page.evaluate(async ({ i, limit }) => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const until = (ok) => new Promise((done) => {
      const start = performance.now();
      const poll = () => {
        const ms = performance.now() - start;
        if (ok()) done(ms); else if (ms > limit) done(-1); else setTimeout(poll, 5);
      };
      poll();
    });
    const out = {};
    if (!q('pause').disabled) {
      q('pause').click();
      out.pause = Math.round(await until(() => !q('train').disabled));
      q('train').click();
    }
    const before = q('tokenizer-output')?.innerText ?? '';
    const input = q('tokenizer-input');
    input.value = `probe${i} lantern`;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    out.tokenizer = Math.round(await until(() => (q('tokenizer-output')?.innerText ?? '') !== before));
    out.message = q('corpus-message')?.innerText ?? '';
    return out;
  }, { i, limit });
}

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

test('a 5 MB paste while training is held, refused quickly, and Pause and the tokenizer answer throughout', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?backend=cpu&size=fast');
  try {
    await waitForTrainEnabled(page, 120_000);
    await page.getByTestId('train').click();
    await waitForSteps(page, 2, 60_000);
    // Megabytes of two alternating lines: no fair pair of any kind exists (the hang this issue
    // found: tens of thousands of split retries, synchronously in the worker).
    const body = 'Yes.\nNo.\n'.repeat(625_000).slice(0, 4_999_000);
    await paste(page, body);
    const lines = body.split('\n').length - (body.endsWith('\n') ? 1 : 0);
    assert.match(await text(page, 'corpus-held'), new RegExp(`^Holding 5\\.0 MB of pasted text \\(${lines} lines\\)`));
    assert.equal(await page.getByTestId('corpus-text').inputValue(), '', 'the box does not show megabytes');
    const start = Date.now();
    await page.getByTestId('corpus-use').click();
    // Within 1 s the acceptance bound (measured 0.07-0.24 s on this machine, README); 3 s here
    // so a loaded CI machine does not fail it, while a frozen worker or page still does.
    let worstPause = 0;
    let worstTokenizer = 0;
    let answer = '';
    for (let i = 0; !answer && Date.now() - start < 60_000; i++) {
      const r = await probe(page, i, 10_000);
      assert.ok(r.tokenizer >= 0 && (r.pause ?? 0) >= 0, `no answer within 10 s: ${JSON.stringify(r)}`);
      worstPause = Math.max(worstPause, r.pause ?? 0);
      worstTokenizer = Math.max(worstTokenizer, r.tokenizer);
      answer = r.message.trim();
    }
    const answeredS = (Date.now() - start) / 1000;
    console.log(`5 MB of two alternating lines: answered in ${answeredS.toFixed(1)} s; worst Pause ${worstPause} ms, worst tokenizer view ${worstTokenizer} ms`);
    assert.match(answer, /repeats the same sentences/);
    assert.ok(answeredS <= 15, `answered in ${answeredS} s`);
    assert.ok(worstPause <= 3000 && worstTokenizer <= 3000, `Pause ${worstPause} ms, tokenizer ${worstTokenizer} ms`);
    // The run it was training goes on, on the support-desk corpus.
    assert.match(await text(page, 'run-corpus'), /support-desk/);
    const steps = parseInt(await text(page, 'step-count'), 10);
    await waitForSteps(page, steps + 2, 60_000);
    await page.getByTestId('corpus-clear').click();
    assert.equal(await page.getByTestId('corpus-held').count(), 0);

    // Two own texts offered before the first is answered: the page ends on the second.
    const text1 = studentText();
    const text2 = studentText().replaceAll('lighthouse keeper', 'harbour master');
    // Both offered within a few milliseconds (one task apart, for the button to be enabled),
    // long before the worker has built the first: it holds both at once.
    await page.evaluate(async ([a, b]) => {
      const box = document.querySelector('[data-testid="corpus-text"]');
      for (const body of [a, b]) {
        box.value = body;
        box.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((next) => setTimeout(next, 0));
        document.querySelector('[data-testid="corpus-use"]').click();
      }
    }, [text1, text2]);
    const bytes2 = Buffer.byteLength(text2, 'utf8');
    await page.waitForFunction((b) => (document.querySelector('[data-testid="run-corpus"]')?.innerText ?? '').includes(`pasted text (${b} bytes)`), bytes2, { timeout: 120_000 });
    await waitForTrainEnabled(page, 120_000);
    await page.waitForTimeout(1_000);
    assert.match(await text(page, 'run-corpus'), new RegExp(`pasted text \\(${bytes2} bytes\\)`));
    assert.equal((await text(page, 'corpus-message')).trim(), '', 'no stale answer from the first offer');
    await screenshot(page, 'large-paste.png');
    assertClean(problems);
  } finally {
    await close();
  }
});
