// The embeddable widgets: a lecturer's own slide page — plain HTML, no build step, nothing of
// the app — imports the ES module of pkg/ (scripts/pkg.sh) and mounts the mask matrices of an
// objective and the comparison scatter of an exported results file (the seven presets' race
// at the lecture budget, tests/fixtures/race-fast-500k.json).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openApp, screenshot, assertClean } = require('./helpers.cjs');

const ROOT = path.join(__dirname, '..', '..');
const PKG = process.env.PP_PKG || path.join(ROOT, 'pkg');

const SLIDES = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Lecture 7: pre-training objectives</title>
<style>body { font: 18px Georgia, serif; margin: 24px; max-width: 1200px; }</style></head>
<body>
<h1>What each objective lets a token see</h1>
<div id="masks"></div>
<h2>Our class's race</h2>
<div id="scatter" style="width: 720px"></div>
<div id="typo"></div>
<script type="module">
import init, { mountMasks, mountScatter, scatterSvg, version } from './pkg/pretrain_playground.js';
window.results = {};
try {
  await init();
  const file = await (await fetch('class.json')).text();
  window.results.scatter = mountScatter(document.getElementById('scatter'), file,
    { generation: 'compliance', pair: 'probe', negatives: 'hard' });
  window.results.perplexity = scatterSvg(JSON.parse(file), { generation: 'perplexity' });
  window.results.masks = await mountMasks(document.getElementById('masks'), { mix: 't5', seed: 2 });
  try {
    await mountMasks(document.getElementById('typo'), { mix: 'gtp' });
  } catch (e) {
    window.results.typo = e.message;
  }
  try {
    mountScatter(document.getElementById('typo'), file, { negatives: 'easy' });
  } catch (e) {
    window.results.badOption = e.message;
  }
  window.results.version = version();
} catch (e) {
  window.results.failed = String(e && e.stack || e);
}
window.done = true;
</script>
</body></html>
`;

test('an embedded widget renders in a plain HTML page that imports pkg/', { timeout: 180_000 }, async () => {
  assert.ok(fs.existsSync(path.join(PKG, 'pretrain_playground.js')), `the widgets are not built in ${PKG} (scripts/pkg.sh)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-slides-'));
  fs.cpSync(PKG, path.join(dir, 'pkg'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'tests', 'fixtures', 'race-fast-500k.json'), path.join(dir, 'class.json'));
  fs.writeFileSync(path.join(dir, 'slides.html'), SLIDES);
  const { page, problems, close } = await openApp([], 'slides.html', async () => {}, {}, { root: dir });
  try {
    await page.waitForFunction(() => window.done === true, null, { timeout: 150_000 });
    const results = await page.evaluate(() => window.results);
    assert.equal(results.failed, undefined, results.failed);

    // The scatter: one point per preset of the race, the same as the panel draws.
    assert.equal(results.scatter.points.length, 7);
    assert.equal(await page.locator('#scatter .pp-scatter svg').count(), 1);
    assert.equal(await page.locator('#scatter .pp-scatter').getAttribute('data-points'), '7');
    const labels = results.scatter.points.map((p) => p.mix.split(' ')[0]).sort();
    assert.deepEqual(labels, ['albert', 'bart', 'bert', 'gpt', 'roberta', 't5', 'xlnet']);
    for (const p of results.scatter.points) {
      assert.ok(p.y > 0 && p.y <= 1, `${p.mix}: probe accuracy ${p.y}`);
    }
    // On the perplexity axis the masked LMs are left out, and say so.
    assert.match(results.perplexity, /^<svg/);
    assert.match(results.perplexity, /Not shown: roberta \(mlm\): no conditional perplexity/);

    // The masks: T5's three attentions, each cell drawn once, the decoder causal.
    const titles = results.masks.figures.map((f) => f.title);
    for (const t of ['encoder self-attention', 'decoder self-attention', 'cross-attention (decoder reads encoder)']) {
      assert.ok(titles.includes(t), `${t} in ${titles}`);
    }
    assert.equal(results.masks.mix, 't5 (span)');
    const drawn = await page.evaluate(() => [...document.querySelectorAll('#masks svg[data-stream]')].map((svg) => {
      const rows = +svg.dataset.rows; const cols = +svg.dataset.cols;
      const cells = Array(rows * cols).fill(null);
      let twice = 0;
      for (const r of svg.querySelectorAll('rect[data-state]')) {
        const row = +r.dataset.r; const col = +r.dataset.c; const len = +r.dataset.len;
        for (let k = 0; k < len; k++) {
          if (cells[row * cols + col + k] !== null) twice++;
          cells[row * cols + col + k] = r.dataset.state === 'allowed';
        }
      }
      return { stream: svg.dataset.stream, rows, cols, blocked: +svg.dataset.blocked, cells, twice };
    }));
    assert.equal(drawn.length, results.masks.figures.length);
    for (const [i, m] of drawn.entries()) {
      assert.equal(m.twice, 0, `${m.stream}: a cell drawn twice`);
      assert.ok(m.cells.every((c) => c !== null), `${m.stream}: every cell drawn`);
      assert.equal(m.cells.filter((c) => !c).length, m.blocked, `${m.stream}: blocked cells as stated`);
      assert.equal(m.blocked, results.masks.figures[i].blocked_cells);
    }
    const decoder = drawn.find((m) => m.stream === 'DecoderSelf');
    for (let r = 0; r < decoder.rows; r++) {
      for (let c = r + 1; c < decoder.cols; c++) {
        assert.equal(decoder.cells[r * decoder.cols + c], false, `decoder row ${r} may not read the later key ${c}`);
      }
    }
    assert.match(await page.locator('#masks .pp-legend').innerText(), /hatched/);

    // A typo in a slide is named, in place and in the rejected promise.
    assert.match(results.typo, /gtp/);
    assert.match(results.badOption, /easy/);
    assert.match(await page.locator('#typo [role=alert]').innerText(), /easy/);
    assert.match(results.version, /^\d+\.\d+\.\d+$/);
    await screenshot(page, 'embed.png');
    assertClean(problems);
  } finally {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
