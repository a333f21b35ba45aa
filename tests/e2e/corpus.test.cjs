// The data world in the browser: the corpus panel, the tokenizer view, the fingerprint the
// page computes (compared with the constant the native test checks), bringing your own text,
// and bad text refused with the previous corpus kept.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  openApp, text, waitForTrainEnabled, waitForSteps, screenshot, assertClean, studentText,
} = require('./helpers.cjs');

function committedFingerprint() {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'core', 'corpus', 'export.rs'), 'utf8');
  const match = source.match(/FINGERPRINT_SEED_1: &str =\s*"([0-9a-f]{64})"/);
  assert.ok(match, 'FINGERPRINT_SEED_1 not found in src/core/corpus/export.rs');
  return match[1];
}

test('the corpus panel shows the support-desk corpus, its pairs, the tokenizer and the committed fingerprint', { timeout: 300_000 }, async () => {
  // The fingerprint is defined for the `default` vocabulary.
  const { page, problems, close } = await openApp([], '?size=default&backend=cpu');
  try {
    await waitForTrainEnabled(page, 180_000);
    assert.match(await text(page, 'corpus-source'), /support-desk corpus \(corpus seed 1\)/);
    const documents = parseInt(await text(page, 'corpus-documents'), 10);
    const sentences = parseInt(await text(page, 'corpus-sentences'), 10);
    assert.ok(documents > 5000 && sentences > 30000, `${documents} documents, ${sentences} sentences`);
    assert.equal(await text(page, 'corpus-vocabulary'), '2048');
    const timing = await text(page, 'corpus-timing');
    assert.match(timing, /^Built in \d+ ms; tokenizer trained and text tokenized in [\d.]+ s\.$/);
    console.log(`support-desk corpus in the page: ${timing}`);
    const pairs = await text(page, 'corpus-pairs');
    for (const kind of ['random', 'hard', 'swapped']) assert.ok(pairs.toLowerCase().includes(kind), `no ${kind} example`);
    const samples = await text(page, 'corpus-samples');
    assert.ok(samples.includes('[SEP]') && samples.toLowerCase().includes('resolution'), 'a ticket and its resolution are shown');

    const input = page.getByTestId('tokenizer-input');
    await input.fill('Hi Maria, the kettle arrived broken 東京');
    await page.waitForFunction(() => /kettle/.test(document.querySelector('[data-testid="tokenizer-output"]')?.innerText ?? ''), null, { timeout: 30_000 });
    const tokens = await text(page, 'tokenizer-output');
    assert.match(tokens, /^\d+ tokens/);
    assert.ok(tokens.includes('⟨'), 'CJK characters split into bytes are shown as bytes');

    await page.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.querySelector('[data-testid="corpus-fingerprint"]')?.innerText ?? ''), null, { timeout: 120_000 });
    assert.equal(await text(page, 'corpus-fingerprint'), committedFingerprint(), 'the page and the native build disagree on the corpus');
    // The shortcut audit: every labelled set's artifact classifier at chance, surface reported.
    await page.waitForFunction(() => /^Shortcut audit$/.test(document.querySelector('[data-testid="corpus-audit"] summary')?.innerText ?? ''), null, { timeout: 180_000 });
    await page.locator('[data-testid="corpus-audit"] summary').click();
    const rows = await page.locator('[data-testid="audit-table"] tbody tr').allInnerTexts();
    assert.ok(rows.length >= 11, `${rows.length} audit rows: ${rows.join(' | ')}`);
    for (const row of rows) {
      const [split, set, artifact, surface, held] = row.split('\t').map((c) => c.trim());
      assert.ok(parseFloat(artifact) <= 0.55, `artifact above chance: ${row}`);
      assert.ok(parseFloat(surface) >= 0 && parseInt(held, 10) >= 1000, `${split} ${set}: ${row}`);
    }
    await screenshot(page, 'corpus-panel.png');
    assertClean(problems);
  } finally {
    await close();
  }
});

test('a student pastes a short text, sees its stats and trains on it', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu');
  try {
    await waitForTrainEnabled(page, 120_000);
    await page.getByTestId('corpus-text').fill(studentText());
    await page.getByTestId('corpus-use').click();
    await page.waitForFunction(() => /pasted text/.test(document.querySelector('[data-testid="corpus-source"]')?.innerText ?? ''), null, { timeout: 60_000 });
    await waitForTrainEnabled(page, 60_000);
    assert.match(await text(page, 'run-corpus'), /pasted text/);
    const documents = parseInt(await text(page, 'corpus-documents'), 10);
    const sentences = parseInt(await text(page, 'corpus-sentences'), 10);
    assert.ok(documents >= 6 && documents < 60, `${documents} documents`);
    assert.ok(sentences >= 60 && sentences <= 110, `${sentences} sentences`);
    assert.equal(await text(page, 'corpus-message'), '');
    const pairs = await text(page, 'corpus-pairs');
    for (const kind of ['random', 'hard', 'swapped']) assert.ok(pairs.toLowerCase().includes(kind), `no ${kind} example`);
    // How the text was split: the rules, what happened to its line breaks, its first sentences.
    assert.match(await text(page, 'splitting-report'), /line breaks joined inside paragraphs/);
    const first = await page.locator('[data-testid="split-sentences"] li').allInnerTexts();
    assert.ok(first.includes('She wrote each name in the log.'), first.join(' | '));
    await page.getByTestId('train').click();
    await waitForSteps(page, 5, 120_000);
    const loss = parseFloat(await text(page, 'loss'));
    assert.ok(Number.isFinite(loss), `loss ${loss}`);
    await screenshot(page, 'own-text-training.png');
    // Choosing another objective keeps the student's text (it once fell back to the support desk).
    await page.getByTestId('mix-preset').selectOption('roberta');
    await page.getByTestId('mix-apply').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-mix"]')?.innerText === 'mlm', null, { timeout: 60_000 });
    await waitForTrainEnabled(page, 60_000);
    assert.match(await text(page, 'run-corpus'), /pasted text/);
    // And back to the built-in corpus.
    await page.getByTestId('corpus-builtin').click();
    await page.waitForFunction(() => /support-desk/.test(document.querySelector('[data-testid="corpus-source"]')?.innerText ?? ''), null, { timeout: 60_000 });
    await waitForTrainEnabled(page, 60_000);
    assert.match(await text(page, 'step-count'), /^0 of/);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('bad text is refused with a message and the previous corpus stays in place', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu');
  try {
    await waitForTrainEnabled(page, 120_000);
    const before = await text(page, 'corpus-source');
    const documentsBefore = await text(page, 'corpus-documents');

    await page.getByTestId('corpus-text').fill('Only two sentences here. That is not enough!');
    await page.getByTestId('corpus-use').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="corpus-message"]')?.innerText ?? '') !== '', null, { timeout: 30_000 });
    assert.match(await text(page, 'corpus-message'), /2 sentences.*at least 20/s);
    assert.equal(await text(page, 'corpus-source'), before);
    assert.equal(await text(page, 'corpus-documents'), documentsBefore);

    // A binary upload: refused in the page, before anything reaches the worker.
    await page.getByTestId('corpus-file').setInputFiles({
      name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    });
    await page.waitForFunction(() => /NUL byte/.test(document.querySelector('[data-testid="corpus-message"]')?.innerText ?? ''), null, { timeout: 30_000 });
    // Latin-1 text: not UTF-8.
    await page.getByTestId('corpus-file').setInputFiles({
      name: 'latin1.txt', mimeType: 'text/plain', buffer: Buffer.from('Caf\xe9 au lait. Tr\xe8s bien.', 'latin1'),
    });
    await page.waitForFunction(() => /not valid UTF-8/.test(document.querySelector('[data-testid="corpus-message"]')?.innerText ?? ''), null, { timeout: 30_000 });
    await screenshot(page, 'bad-text-refused.png');
    assert.equal(await text(page, 'corpus-source'), before);

    // The run on the previous corpus is intact and trains.
    await waitForTrainEnabled(page, 10_000);
    await page.getByTestId('train').click();
    await waitForSteps(page, 3, 120_000);

    // A good file is accepted, in place of the running corpus.
    await page.getByTestId('corpus-file').setInputFiles({
      name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(studentText(), 'utf8'),
    });
    await page.waitForFunction(() => /notes\.txt/.test(document.querySelector('[data-testid="corpus-source"]')?.innerText ?? ''), null, { timeout: 60_000 });
    await waitForTrainEnabled(page, 60_000);
    assert.equal(await text(page, 'corpus-message'), '');
    assert.match(await text(page, 'step-count'), /^0 of/);
    assertClean(problems);
  } finally {
    await close();
  }
});
