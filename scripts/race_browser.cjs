// Times race mode the way a lecture runs it: the built app (dist/) in Debian's headless
// Chromium on the CPU fallback, the comparison panel's race over the seven presets at one
// size and budget, each run trained and evaluated in the page's worker. Prints each run's
// time and the total (the README's race figure comes from here).
// Usage: node scripts/race_browser.cjs --dist DIR [--size fast] [--budget 500000]
//          [--mixes gpt,roberta,bert,albert,t5,bart,xlnet] [--json FILE] [--screenshot PNG]
//          [--export RESULTS.json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { serve } = require('./static-server.cjs');
const { CHROMIUM, BASE_FLAGS } = require('./chromium.cjs');

function parseArgs(argv) {
  const o = {
    dist: path.join(__dirname, '..', 'dist'), size: 'fast', budget: 500000,
    mixes: 'gpt,roberta,bert,albert,t5,bart,xlnet', json: null, screenshot: null, exportTo: null,
  };
  for (let i = 2; i < argv.length; i++) {
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--dist': o.dist = next(); break;
      case '--size': o.size = next(); break;
      case '--budget': o.budget = Number(next()); break;
      case '--mixes': o.mixes = next(); break;
      case '--json': o.json = next(); break;
      case '--screenshot': o.screenshot = next(); break;
      case '--export': o.exportTo = next(); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv);
  const server = await serve(o.dist);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${origin}/?size=${o.size}&backend=cpu&budget=${o.budget}&view=compare`);
    await page.waitForFunction(() => document.querySelector('[data-testid="train"]')?.disabled === false, null, { timeout: 300_000 });
    await page.getByTestId('race-mixes').fill(o.mixes);
    const started = Date.now();
    await page.getByTestId('race-start').click();
    const total = o.mixes.split(',').length;
    let seen = 0;
    const times = [];
    while (seen < total) {
      await page.waitForFunction(
        (k) => document.querySelectorAll('[data-testid="compare-row"][data-role="run"]').length > k
          || /^Race (over|cancelled)/.test(document.querySelector('[data-testid="race-status"]')?.innerText ?? ''),
        seen,
        { timeout: 1_800_000, polling: 500 },
      );
      const rows = await page.locator('[data-testid="compare-row"][data-role="run"]').count();
      if (rows <= seen) break;
      const t = (Date.now() - started) / 1000;
      const mix = await page.locator('[data-testid="compare-row"][data-role="run"]').nth(rows - 1).getAttribute('data-mix');
      times.push({ mix, done_at_s: t });
      process.stderr.write(`${mix}: done at ${t.toFixed(0)} s\n`);
      seen = rows;
    }
    const status = await page.getByTestId('race-status').innerText();
    if (o.exportTo) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export').click()]);
      await download.saveAs(o.exportTo);
    }
    if (o.screenshot) {
      // The panel as a projector shows it: the table and the scatter.
      // Page coordinates: box positions are read with the page scrolled to its top.
      await page.evaluate(() => window.scrollTo(0, 0));
      const panel = await page.getByTestId('compare').boundingBox();
      const scatter = await page.getByTestId('compare-scatter').boundingBox();
      await page.screenshot({
        path: o.screenshot,
        fullPage: true,
        clip: { x: panel.x, y: panel.y, width: panel.width, height: scatter.y + scatter.height - panel.y + 12 },
      });
    }
    const report = {
      size: o.size, budget_tokens: o.budget, mixes: o.mixes.split(','), runs: times,
      total_s: (Date.now() - started) / 1000, status, cores: require('node:os').cpus().length,
    };
    console.log(JSON.stringify(report, null, 2));
    if (o.json) fs.writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
