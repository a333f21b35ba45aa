// The comparison panel as a lecture uses it: a race of mixes on one small budget fills the
// table and the scatter, survives a reload and a worker crash, and exports; a class sweep's
// link hands three browser profiles a cell each, and their result files — with the race's
// export, a natively trained run.json and a file from another corpus — merge in a fresh
// profile into one table with error bars, the mismatches flagged.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  openApp, text, waitForTrainEnabled, waitForSteps, screenshot, assertClean, savedRun,
} = require('./helpers.cjs');

const BUDGET = 3000;
const SETUP = `size=fast&backend=cpu&budget=${BUDGET}`;
const files = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-compare-'));
after(() => fs.rmSync(files, { recursive: true, force: true }));

/** The run rows of the table: mix, flagged, the whole row's text and its figures. */
async function runRows(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid="compare-row"][data-role="run"]')].map((r) => ({
    mix: r.dataset.mix, flagged: r.dataset.flagged === 'true', text: r.innerText,
    cells: [...r.querySelectorAll('td')].map((td) => td.innerText),
  })));
}

/** The race's rows as the first test left them, to compare with their import elsewhere. */
let raced = null;

async function waitForRunRows(page, n, timeout) {
  await page.waitForFunction(
    (k) => document.querySelectorAll('[data-testid="compare-row"][data-role="run"]').length >= k,
    n,
    { timeout, polling: 250 },
  );
}

async function exportRuns(page, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export').click()]);
  assert.equal(download.suggestedFilename(), 'pretrain-playground-results.json');
  const to = path.join(files, name);
  await download.saveAs(to);
  return to;
}

test('a race fills the table and the scatter, survives a reload and a worker crash, and exports', { timeout: 600_000 }, async () => {
  const { page, problems, close } = await openApp([], `?${SETUP}&view=compare`);
  try {
    await waitForTrainEnabled(page, 120_000);
    // The models are kept too, not only the figures.
    await page.getByTestId('compare-keep-models').check();
    const started = Date.now();
    await page.getByTestId('race-mixes').fill('gpt,t5,bert');
    await page.getByTestId('race-start').click();
    await page.waitForFunction(() => /^Race: 0 of 3 done, now gpt/.test(document.querySelector('[data-testid="race-status"]')?.innerText ?? ''), null, { timeout: 30_000 });
    await waitForRunRows(page, 2, 300_000);
    console.log(`race: two runs trained and evaluated at fast, ${BUDGET} tokens each, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    let rows = await runRows(page);
    assert.deepEqual(rows.map((r) => [r.mix, r.flagged]), [['gpt', false], ['t5', false]]);
    const points = await page.locator('[data-testid="compare-point"]').evaluateAll((ps) => ps.map((p) => p.dataset.mix));
    assert.deepEqual(points, ['gpt (clm)', 't5 (span)'], 'a scatter point per mix');
    // Each finished run's model was kept, though the next run started at once.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="compare-model"]')].filter((m) => m.dataset.kept === 'true').length === 2, null, { timeout: 60_000 });
    // The third run dies with its worker: a failed row, the finished rows kept, the race over.
    await page.waitForFunction(() => document.querySelector('[data-testid="run-mix"]')?.innerText === 'mlm+nsp', null, { timeout: 60_000 });
    await waitForSteps(page, 1, 120_000);
    const worker = page.workers().at(-1);
    await worker.evaluate(() => setTimeout(() => { throw new Error('test: the worker died mid-race'); }));
    await waitForRunRows(page, 3, 60_000);
    rows = await runRows(page);
    assert.deepEqual(rows.map((r) => [r.mix, r.flagged]), [['gpt', false], ['t5', false], ['bert', true]]);
    assert.match(rows[2].text, /failed: the training worker crashed/);
    await page.waitForFunction(() => /^Race over/.test(document.querySelector('[data-testid="race-status"]')?.innerText ?? ''), null, { timeout: 30_000 });
    await page.getByTestId('compare').scrollIntoViewIfNeeded();
    await screenshot(page, 'compare-race.png');

    // A reload restores every row from the browser's storage.
    const before = await runRows(page);
    await page.reload();
    await waitForRunRows(page, 3, 60_000);
    assert.deepEqual((await runRows(page)).map((r) => r.text), before.map((r) => r.text));
    // A kept model loads back from the browser's storage and writes in the page again; its row
    // is the one already there.
    await waitForTrainEnabled(page, 120_000);
    const gpt = page.locator('[data-testid="compare-row"][data-role="run"][data-mix="gpt"]');
    assert.match(await gpt.innerText(), /model kept \(\d+\.\d MB\)/);
    await gpt.getByTestId('compare-load-model').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-mix"]')?.innerText === 'clm', null, { timeout: 60_000 });
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="sample"] .continuation')?.innerText ?? '').trim().length > 0,
      null,
      { timeout: 60_000 },
    );
    assert.equal((await runRows(page)).length, 3, 'no second row for the loaded model');
    // Sorting by a column reorders whole mixes; the best value of a column is marked.
    await page.getByTestId('compare-sort-probe_acc_random').click();
    const marked = await page.locator('[data-testid="compare-row"] td[data-best="true"]').count();
    assert.ok(marked > 0, 'a best value is marked');
    const exported = await exportRuns(page, 'race.json');
    assert.ok(JSON.parse(fs.readFileSync(exported, 'utf8')).runs.every((r) => !('model' in r)), 'an export names no kept model');
    raced = await runRows(page);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-csv').click()]);
    assert.equal(csv.suggestedFilename(), 'pretrain-playground-results.csv');
    const lines = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.ok(lines.length >= 4 && lines[0].startsWith('role,label,mix,seed'), lines[0]);
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-scatter-png').click()]);
    assert.ok(fs.statSync(await png.path()).size > 2000);
    // The crash is the test's own doing; nothing else went wrong.
    problems.pageErrors = problems.pageErrors.filter((e) => !/died mid-race/.test(e));
    problems.consoleErrors = problems.consoleErrors.filter((e) => !/died mid-race|crashed/.test(e));
    assertClean(problems);
  } finally {
    await close();
  }
});

test('a class sweep: three profiles train a cell each, and every file merges in a fresh profile, mismatches flagged', { timeout: 600_000 }, async () => {
  const sweepFiles = [];
  for (const student of [0, 1, 2]) {
    const { page, close } = await openApp([], `?mixes=gpt&seeds=3&${SETUP}`);
    try {
      await page.getByTestId('sweep-number').fill(String(student));
      await page.getByTestId('sweep-take').click();
      await page.waitForFunction((s) => new URL(location.href).searchParams.get('student') === String(s), student, { timeout: 10_000 });
      assert.match(await text(page, 'sweep-cell'), new RegExp(`gpt, seed ${student}\\.`));
      await waitForTrainEnabled(page, 120_000);
      await page.getByTestId('train').click();
      await waitForRunRows(page, 1, 240_000);
      sweepFiles.push(await exportRuns(page, `student-${student}.json`));
    } finally {
      await close();
    }
  }
  // A file from another corpus: the same kind of record with another fingerprint.
  const other = JSON.parse(fs.readFileSync(sweepFiles[1], 'utf8'));
  other.runs[0].summary.corpus_fingerprint = 'f'.repeat(64);
  other.runs[0].seed = other.runs[0].summary.seed = 9;
  const otherPath = path.join(files, 'other-corpus.json');
  fs.writeFileSync(otherPath, JSON.stringify(other));
  const native = savedRun();
  const { page, problems, close } = await openApp([], `?${SETUP}`);
  try {
    // The race's export alone, in a fresh profile: the same table.
    await page.getByTestId('compare-import').setInputFiles([path.join(files, 'race.json')]);
    await waitForRunRows(page, 3, 30_000);
    await page.getByTestId('compare-sort-probe_acc_random').click();
    const imported = await runRows(page);
    assert.deepEqual(imported.map((r) => [r.mix, r.flagged, r.cells]), raced.map((r) => [r.mix, r.flagged, r.cells]));
    await page.getByTestId('compare-clear').click();
    await page.getByTestId('compare-import').setInputFiles([path.join(files, 'race.json'), ...sweepFiles, otherPath, path.join(native.run, 'run.json')]);
    await page.waitForFunction(() => /^Added 8/.test(document.querySelector('[data-testid="compare-message"]')?.innerText ?? ''), null, { timeout: 30_000 });
    assert.equal((await runRows(page)).length, 8, await text(page, 'compare-message'));
    assert.match(await text(page, 'compare-message'), /^Added 8 runs\./);
    const rows = await runRows(page);
    const flagged = (mix, pattern) => rows.filter((r) => r.mix === mix && r.flagged && pattern.test(r.text)).length;
    // gpt seed 0 came twice (the race, student 0): counted once.
    assert.equal(flagged('gpt', /the same mix, seed and set-up as row 1/), 1);
    assert.equal(flagged('gpt', /corpus differs: ffffffffffff/), 1);
    assert.equal(flagged('gpt', /budget differs: 6000 tokens/), 1, 'the native run trained on another budget');
    // gpt pools seeds 0, 1 and 2 into a mean with error bars.
    const mean = page.locator('[data-testid="compare-row"][data-role="mean"][data-mix="gpt"]');
    assert.match(await mean.innerText(), /gpt \(clm\) · mean ± sd of 3 seeds/);
    assert.equal(await page.locator('[data-testid="compare-point"][data-mix="gpt (clm)"]').getAttribute('data-n'), '3');
    await page.getByTestId('compare').scrollIntoViewIfNeeded();
    await screenshot(page, 'compare-class.png');
    await page.getByTestId('compare-scatter').scrollIntoViewIfNeeded();
    await screenshot(page, 'compare-scatter.png');
    // A file that is not one is refused with its reason, and the rows stay.
    const bad = path.join(files, 'notes.json');
    fs.writeFileSync(bad, '{"hello": 1}');
    await page.getByTestId('compare-import').setInputFiles([bad]);
    await page.waitForFunction(() => /notes\.json was not added: it is neither/.test(document.querySelector('[data-testid="compare-message"]')?.innerText ?? ''), null, { timeout: 10_000 });
    assert.equal((await runRows(page)).length, 8);
    assertClean(problems);
  } finally {
    await close();
    fs.rmSync(native.dir, { recursive: true, force: true });
  }
});

test('a hand-made link gives exactly that set-up, and a broken one the defaults with a note', { timeout: 120_000 }, async () => {
  const { page, problems, close } = await openApp([], '?mix=mlm+sop@0.5&seed=3&size=fast&backend=cpu&budget=4000&mask_rate=0.2&view=compare');
  try {
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'mlm+sop@0.5');
    assert.match(await page.locator('.controls-panel .facts').innerText(), /4000 tokens[\s\S]*seed 3/);
    assert.equal(await page.getByTestId('url-note').count(), 0);
    await page.goto(page.url().replace(/\?.*/, '?mix=mlm%2Bsop%400.5&seeds=2&student=x'));
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'mlm+sop@0.5', '%2B reads as +');
    const note = await text(page, 'url-note');
    assert.match(note, /seeds/);
    assert.match(note, /student/);
    assertClean(problems);
  } finally {
    await close();
  }
});

test('where the browser keeps no models (plain HTTP on a LAN) a kept model is refused in words, the row stays', { timeout: 300_000 }, async () => {
  // Outside a secure context `window.caches` is missing; emulate that on 127.0.0.1.
  const hide = (page) => page.addInitScript(() => {
    Object.defineProperty(window, 'caches', { value: undefined, configurable: true });
  });
  const { page, problems, close } = await openApp([], `?size=fast&backend=cpu&budget=2000&mix=gpt&view=compare`, hide);
  try {
    await waitForTrainEnabled(page, 120_000);
    await page.getByTestId('compare-keep-models').check();
    await page.getByTestId('train').click();
    await waitForRunRows(page, 1, 240_000);
    await page.waitForFunction(() => /was not kept: this browser keeps no models/.test(document.querySelector('[data-testid="compare-message"]')?.innerText ?? ''), null, { timeout: 60_000 });
    assert.equal(await page.locator('[data-testid="compare-model"][data-kept="pending"]').count(), 0);
    assert.equal((await runRows(page)).length, 1, 'the run is a row, with its figures');
    // Clearing the panel does not trip over the missing storage either.
    await page.getByTestId('compare-clear').click();
    assert.equal((await runRows(page)).length, 0);
    assertClean(problems);
  } finally {
    await close();
  }
});
