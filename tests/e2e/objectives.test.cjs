// Choosing what the model learns, in the page: every preset trains a few steps on the CPU
// fallback, an encoder-decoder and XLNet train on WebGPU (SwiftShader), and a pairing the lab
// cannot train is refused without touching the run.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  openApp, text, leadingNumber, waitForTrainEnabled, waitForSteps, screenshot, assertClean,
} = require('./helpers.cjs');

const PRESETS = {
  bert: 'mlm+nsp', roberta: 'mlm', albert: 'mlm+sop', gpt: 'clm', t5: 'span', bart: 'infill', xlnet: 'plm',
};

/** Picks a preset, applies it and trains `steps` steps. */
async function trainPreset(page, preset, steps, timeout) {
  await page.getByTestId('mix-preset').selectOption(preset);
  await page.getByTestId('mix-apply').click();
  await page.waitForFunction(
    (mix) => document.querySelector('[data-testid="run-mix"]')?.innerText === mix,
    PRESETS[preset],
    { timeout },
  );
  await waitForTrainEnabled(page, timeout);
  assert.equal(await text(page, 'mix-message'), '');
  assert.ok(page.url().includes(`mix=${preset}`), `the URL records the preset: ${page.url()}`);
  await page.getByTestId('train').click();
  await waitForSteps(page, steps, timeout);
  const loss = await leadingNumber(page, 'loss');
  assert.ok(Number.isFinite(loss) && loss > 0, `${preset}: loss ${loss}`);
  await page.getByTestId('pause').click();
  return text(page, 'run-plan');
}

test('every preset trains a few steps on the CPU fallback', { timeout: 600_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu');
  try {
    await waitForTrainEnabled(page, 120_000);
    const networks = {};
    for (const preset of Object.keys(PRESETS)) {
      networks[preset] = await trainPreset(page, preset, 3, 120_000);
    }
    assert.match(networks.bert, /^encoder: /);
    assert.match(networks.gpt, /^decoder: /);
    assert.match(networks.t5, /^encoder-decoder: /);
    assert.match(networks.xlnet, /^two-stream: /);
    await screenshot(page, 'presets-xlnet.png');
    assertClean(problems);
  } finally {
    await close();
  }
});

test('a pairing the lab cannot train is refused and the run stays', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await openApp([], '?size=fast&backend=cpu&mix=albert');
  try {
    await waitForTrainEnabled(page, 120_000);
    assert.equal(await text(page, 'run-mix'), 'mlm+sop');
    await page.getByTestId('mix-primary').selectOption('clm');
    await page.getByTestId('mix-aux').selectOption('span');
    await page.getByTestId('mix-apply').click();
    await page.waitForFunction(() => /cannot be trained/.test(document.querySelector('[data-testid="mix-message"]')?.innerText ?? ''), null, { timeout: 10_000 });
    assert.equal(await text(page, 'run-mix'), 'mlm+sop', 'the run is untouched');
    // A knob outside its range is refused the same way.
    await page.getByTestId('mix-preset').selectOption('t5');
    await page.getByTestId('knob-noise-density').fill('1.5');
    await page.getByTestId('knob-noise-density').dispatchEvent('change');
    await page.getByTestId('mix-apply').click();
    await page.waitForFunction(() => /noise_density/.test(document.querySelector('[data-testid="mix-message"]')?.innerText ?? ''), null, { timeout: 10_000 });
    assert.equal(await text(page, 'run-mix'), 'mlm+sop');
    await waitForTrainEnabled(page, 10_000);
    await screenshot(page, 'pairing-refused.png');
    assertClean(problems);
  } finally {
    await close();
  }
});

test('an encoder-decoder and XLNet train on WebGPU (SwiftShader), and the paused BART run is evaluated there', { timeout: 1_200_000 }, async () => {
  // A software adapter is slow: the evaluation's quick sets (said on screen) keep it short.
  const { page, problems, close } = await openApp(['--enable-unsafe-webgpu'], '?size=fast&mix=bart&eval=quick');
  try {
    await waitForTrainEnabled(page, 300_000);
    assert.match(await text(page, 'backend'), /^WebGPU: /);
    assert.equal(await text(page, 'run-mix'), 'infill');
    await page.getByTestId('train').click();
    await waitForSteps(page, 2, 300_000);
    assert.ok(Number.isFinite(await leadingNumber(page, 'loss')));
    await page.getByTestId('pause').click();
    await waitForTrainEnabled(page, 120_000);

    // Evaluated on WebGPU, every read-back async: BART's conditional perplexity, its replies,
    // the probe and the likelihood reading.
    const started = Date.now();
    await page.getByTestId('eval-run').click();
    // Each stage's time, from the progress line, so the slow stage on a software adapter is
    // named in the log rather than guessed.
    const stages = [];
    const results = page.getByTestId('eval-results');
    while (!(await results.isVisible()) && Date.now() - started < 600_000) {
      const line = await page.getByTestId('eval-progress').textContent({ timeout: 1_000 }).catch(() => null);
      if (line && (stages.length === 0 || stages[stages.length - 1].line !== line)) {
        stages.push({ line, at: Date.now() });
      }
      await page.waitForTimeout(250);
    }
    await results.waitFor({ state: 'visible', timeout: 1_000 });
    const ended = Date.now();
    console.log(`evaluation on WebGPU (SwiftShader) at fast (bart, quick sets): ${((ended - started) / 1000).toFixed(1)} s`);
    stages.forEach((s, i) => {
      const next = i + 1 < stages.length ? stages[i + 1].at : ended;
      console.log(`  ${((next - s.at) / 1000).toFixed(1)} s  ${s.line.trim()}`);
    });
    assert.match(await text(page, 'eval-when'), /mid-run, at step \d+/);
    assert.match(await text(page, 'eval-gen-ppl'), /^\d+\.\d\d ± \d+\.\d\d on \d+ tokens/);
    assert.match(await text(page, 'eval-compliance'), /greedy replies/);
    assert.match(await text(page, 'eval-probe-swapped'), /%/);
    assert.match(await text(page, 'eval-likelihood-hard'), /%/);
    assert.match(await text(page, 'eval-sizes'), /first 16 held-out tickets/);
    assert.match(await text(page, 'backend'), /^WebGPU: /, 'still on WebGPU');
    await screenshot(page, 'evaluation-bart-webgpu.png');
    await trainPreset(page, 'xlnet', 2, 300_000);
    assert.match(await text(page, 'backend'), /^WebGPU: /);
    assertClean(problems);
  } finally {
    await close();
  }
});
