// The browser half of `pretrain-playground bench`: opens the built app (dist/) in Debian's
// headless Chromium, served the way the README's serve command serves it (gzip, cross-origin
// isolation), and measures what a student's browser does:
//   - load: bytes fetched until Train is enabled with the worker ready (raw, and on the wire
//     gzipped), and the time from navigation to that moment, over fresh profiles;
//   - steps: the training step timed inside a worker of the app's own wasm (the same
//     `time_training_step` the native bench runs), on the CPU fallback and on WebGPU;
//   - training: the real page training `default` on the CPU with its views animating, for a
//     while: steps/s, the worker's peak wasm memory, and main-thread tasks over 50 ms.
// It prints nothing but progress on stderr and writes one JSON report (--json FILE).
// Usage: node scripts/bench_browser.cjs --dist DIR --json FILE [--quick] [--steps N]
//          [--sizes fast,default] [--webgpu-sizes fast] [--no-webgpu] [--loads N]
//          [--train-seconds S]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');
const { serve } = require('./static-server.cjs');
const { CHROMIUM, BASE_FLAGS, WEBGPU_FLAGS } = require('./chromium.cjs');

function parseArgs(argv) {
  const o = {
    dist: path.join(__dirname, '..', 'dist'), json: null, quick: false, steps: 10, warmup: 3,
    sizes: ['fast', 'default'], webgpuSizes: ['fast'], webgpu: true, loads: 3, trainSeconds: 30,
    repeats: 1,
  };
  const list = (v) => v.split(',').filter(Boolean);
  for (let i = 2; i < argv.length; i++) {
    const flag = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--dist': o.dist = next(); break;
      case '--json': o.json = next(); break;
      case '--quick': o.quick = true; break;
      case '--steps': o.steps = Number(next()); break;
      case '--warmup': o.warmup = Number(next()); break;
      case '--sizes': o.sizes = list(next()); break;
      case '--webgpu-sizes': o.webgpuSizes = list(next()); break;
      case '--no-webgpu': o.webgpu = false; break;
      case '--loads': o.loads = Number(next()); break;
      case '--train-seconds': o.trainSeconds = Number(next()); break;
      case '--repeats': o.repeats = Math.max(1, Number(next())); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (o.quick) Object.assign(o, { steps: 2, warmup: 1, sizes: ['fast'], loads: 1, trainSeconds: 4, webgpuSizes: ['fast'], repeats: 1 });
  if (!o.json) throw new Error('--json FILE is required');
  if (!fs.existsSync(path.join(o.dist, 'index.html'))) throw new Error(`no built app in ${o.dist}`);
  return o;
}

const log = (...a) => console.error('[bench page]', ...a);

/** Installed before the page's own scripts: records long tasks and when Train is enabled. */
function instrument() {
  window.__ppBench = { longTasks: [], readyAt: null, phases: [] };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__ppBench.longTasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (_) { /* no Long Tasks API: the count stays empty and the report says so */ }
  const check = () => {
    // textContent, not innerText: innerText forces a synchronous layout inside whatever task
    // mutated the page, and the bench would then count its own layout as the page's.
    const status = document.querySelector('[data-testid="status"]')?.textContent;
    const phases = window.__ppBench.phases;
    if (status && (phases.length === 0 || phases[phases.length - 1].text !== status)) {
      phases.push({ ms: performance.now(), text: status });
    }
    const train = document.querySelector('[data-testid="train"]');
    if (window.__ppBench.readyAt === null && train && !train.disabled) window.__ppBench.readyAt = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function launch(webgpu) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])] });
}

/** Size on disk and gzip -9 size of a served file (what the ≤ 4 MB target counts). */
const gzipSizes = new Map();
function fileSizes(dist, pathname) {
  let file = path.join(dist, decodeURIComponent(pathname));
  if (pathname.endsWith('/')) file = path.join(file, 'index.html');
  if (!gzipSizes.has(file)) {
    const body = fs.readFileSync(file);
    gzipSizes.set(file, { raw: body.length, gzip: zlib.gzipSync(body, { level: 9 }).length });
  }
  return gzipSizes.get(file);
}

/** One cold load in a fresh profile: bytes and time until Train is enabled. Requests made
 *  by the worker are seen too; their sizes are taken from the served files. */
async function load(browser, origin, query, dist) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const responses = [];
  context.on('requestfinished', (request) => responses.push(request));
  const page = await context.newPage();
  await page.addInitScript(instrument);
  await page.goto(`${origin}/${query}`);
  await page.waitForFunction(() => window.__ppBench.readyAt !== null, null, { timeout: 600_000, polling: 50 });
  const readyAt = await page.evaluate(() => window.__ppBench.readyAt);
  const files = [];
  const seen = new Set();
  // Playwright may never answer for a request of a nested worker (the CPU fallback's helper
  // workers): give up on one after 5 s rather than hang.
  const within = (promise) => Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), 5000))]);
  for (const request of responses) {
    if (!request.url().startsWith(origin)) continue;
    // The page's service worker fetches what the page asks for (network first), and helper
    // workers fetch the worker build again: one file, several requests. Count each once.
    const pathname = new URL(request.url()).pathname;
    if (seen.has(pathname)) continue;
    const response = await within(request.response());
    if (!response) continue;
    seen.add(pathname);
    const sizes = (await within(request.sizes())) || { responseBodySize: 0 };
    files.push({
      file: pathname,
      ...fileSizes(dist, pathname),
      // What the network layer reported; 0 where Chromium does not report a worker's body.
      wire: sizes.responseBodySize,
      encoding: response.headers()['content-encoding'] || 'identity',
    });
  }
  const extra = await page.evaluate(() => ({
    phases: window.__ppBench.phases,
    corpusTiming: document.querySelector('[data-testid="corpus-timing"]')?.innerText ?? '',
    longTasks: window.__ppBench.longTasks,
    isolated: self.crossOriginIsolated,
    backend: document.querySelector('[data-testid="backend"]')?.innerText ?? '',
    userAgent: navigator.userAgent,
  }));
  return { context, page, readyAt, files, ...extra };
}

/** Times the step in a worker of the app's own wasm (not the page's worker, which stays idle):
 *  the CPU-only build for the CPU, the WebGPU build for WebGPU, as the page would pick. */
async function stepTimings(page, requests, build, repeats = 1) {
  return page.evaluate(async ({ requests, repeats, url }) => {
    const worker = new Worker(url);
    const next = (types) => new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        const m = e.data;
        if (types.includes(m.type)) resolve(m);
        else if (m.type === 'error') reject(new Error(m.message));
      };
      worker.onerror = (e) => reject(new Error(e.message || 'worker error'));
    });
    await next(['loaded']);
    const out = [];
    // Every request once per repeat, in turn (interleaved, so a slow spell of a shared
    // machine falls on all of them alike).
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const r of requests) {
        const done = next(['bench_result']);
        worker.postMessage({ type: 'bench', ...r });
        const m = await done;
        out.push({ request: r, timing: m.timing, backend: m.backend, wasm_bytes: m.wasm_bytes, repeat });
      }
    }
    worker.terminate();
    return out;
  }, { requests, repeats, url: build === 'cpu' ? './worker_loader.js?build=cpu' : './worker_loader.js' });
}

/** The page training `default` on the CPU with its views live. */
async function trainInPage(browser, origin, seconds, dist) {
  const { context, page } = await load(browser, origin, '?size=default&backend=cpu', dist);
  const number = (id) => page.evaluate((id) => parseFloat(document.querySelector(`[data-testid="${id}"]`)?.innerText ?? 'NaN'), id);
  const t0 = await page.evaluate(() => performance.now());
  await page.getByTestId('train').click();
  await page.waitForFunction(() => parseInt(document.querySelector('[data-testid="step-count"]')?.innerText ?? '0', 10) >= 1, null, { timeout: 300_000 });
  const firstStepAt = await page.evaluate(() => performance.now());
  const firstStep = await number('step-count');
  await page.waitForTimeout(seconds * 1000);
  const end = await page.evaluate(() => performance.now());
  const lastStep = await number('step-count');
  const result = await page.evaluate((t0) => ({
    longTasks: window.__ppBench.longTasks.filter((t) => t.start >= t0),
    memory: document.querySelector('[data-testid="memory"]')?.innerText ?? '',
    speed: document.querySelector('[data-testid="speed"]')?.innerText ?? '',
  }), t0);
  await page.getByTestId('pause').click().catch(() => {});
  await context.close();
  const steps = lastStep - firstStep;
  const memoryMb = parseFloat(result.memory);
  return {
    size: 'default',
    backend: 'cpu',
    seconds: (end - firstStepAt) / 1000,
    steps,
    steps_per_s: steps / ((end - firstStepAt) / 1000),
    tokens_per_s_shown: parseFloat(result.speed),
    worker_memory_mb: Number.isFinite(memoryMb) ? memoryMb : null,
    long_tasks: result.longTasks.length,
    long_task_max_ms: result.longTasks.reduce((m, t) => Math.max(m, t.ms), 0),
    long_task_total_ms: result.longTasks.reduce((s, t) => s + t.ms, 0),
  };
}

/** The classroom network the issue names: 20 Mbit/s shared, 40 ms before each response. */
const CLASSROOM = { mbit: 20, latencyMs: 40 };

/** A cold load over the emulated classroom network (a server of its own shapes every
 *  response), Train pressed as soon as it is enabled, until the first step is reported. */
async function firstStep(browser, dist, pathName, query) {
  const server = await serve(dist, 0, { gzip: true, link: CLASSROOM });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="train"]')?.disabled === false, null, { timeout: 300_000, polling: 20 });
    const ready = Date.now() - t0;
    await page.getByTestId('train').click();
    await page.waitForFunction(() => parseInt(document.querySelector('[data-testid="step-count"]')?.innerText ?? '0', 10) >= 1, null, { timeout: 300_000, polling: 20 });
    const stepped = Date.now() - t0;
    return { path: pathName, query, mbit: CLASSROOM.mbit, latency_ms: CLASSROOM.latencyMs, ready_ms: ready, first_step_ms: stepped };
  } finally {
    await context.close();
    server.close();
  }
}

/** A load as the report records it: the first load's files and phases, every load's time. */
function summarize(query, l, readyMs) {
  return {
    query,
    backend: l.backend,
    ready_ms: readyMs,
    median_ready_ms: median(readyMs),
    files: l.files,
    raw_bytes: l.files.reduce((s, f) => s + f.raw, 0),
    gzip_bytes: l.files.reduce((s, f) => s + f.gzip, 0),
    long_tasks_before_ready: l.longTasks.filter((t) => t.start < l.readyAt).length,
    phases: l.phases,
    corpus_timing: l.corpusTiming,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
}

async function main() {
  const o = parseArgs(process.argv);
  const server = await serve(o.dist, 0, { gzip: true });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const report = { dist: path.resolve(o.dist), loads: [], steps: [], training: null, first_steps: [] };
  try {
    // CPU path: Chromium without WebGPU (requestAdapter() returns null).
    const cpu = await launch(false);
    try {
      report.chromium = cpu.version();
      // Warm the server's gzip cache first, so no load is timed with compression in it.
      for (const name of fs.readdirSync(o.dist)) {
        await fetch(`${origin}/${name}`, { headers: { 'accept-encoding': 'gzip' } }).then((r) => r.arrayBuffer());
      }
      const readyMs = [];
      let first = null;
      for (let i = 0; i < o.loads; i++) {
        log(`cold load ${i + 1}/${o.loads} (default, CPU)…`);
        const l = await load(cpu, origin, '?size=default&backend=cpu', o.dist);
        readyMs.push(l.readyAt);
        if (first === null) first = l;
        else await l.context.close();
      }
      report.cross_origin_isolated = first.isolated;
      report.user_agent = first.userAgent;
      report.loads.push(summarize('?size=default&backend=cpu', first, readyMs));
      // Each size on the training worker alone, then shared over as many workers as the
      // machine has cores (the data-parallel fallback the page uses at `default`).
      const cores = await first.page.evaluate(() => navigator.hardwareConcurrency || 1);
      const requests = [];
      for (const size of o.sizes) {
        requests.push({ backend: 'cpu', size, warmup: o.warmup, steps: o.steps, capture: false, workers: 1 });
        if (cores > 1) {
          requests.push({ backend: 'cpu', size, warmup: o.warmup, steps: o.steps, capture: false, workers: Math.min(cores, 8) });
        }
      }
      log(`timing the step in a worker (CPU): ${o.sizes.join(', ')}…`);
      report.steps.push(...await stepTimings(first.page, requests, 'cpu', o.repeats));
      await first.context.close();
      log('the first training step over an emulated classroom network (CPU)…');
      report.first_steps.push(await firstStep(cpu, o.dist, 'CPU fallback', '?size=default&backend=cpu'));
      if (o.trainSeconds > 0) {
        log(`training default in the page for ${o.trainSeconds} s…`);
        report.training = await trainInPage(cpu, origin, o.trainSeconds, o.dist);
      }
    } finally {
      await cpu.close();
    }
    if (o.webgpu && o.webgpuSizes.length) {
      const gpu = await launch(true);
      try {
        log('cold load (fast, WebGPU)…');
        const l = await load(gpu, origin, '?size=fast', o.dist);
        report.loads.push(summarize('?size=fast', l, [l.readyAt]));
        // Software WebGPU is ~40× slower than the CPU here: a warm-up step (shader
        // compilation) and a few timed ones.
        const requests = o.webgpuSizes.map((size) => ({
          backend: 'auto', size, warmup: 1, steps: Math.min(o.steps, 3), capture: false,
        }));
        log('the first training step over an emulated classroom network (WebGPU)…');
        report.first_steps.push(await firstStep(gpu, o.dist, 'WebGPU', '?size=fast'));
        log(`timing the step in a worker (WebGPU): ${o.webgpuSizes.join(', ')}…`);
        report.steps.push(...await stepTimings(l.page, requests, 'webgpu'));
        await l.context.close();
      } finally {
        await gpu.close();
      }
    }
  } finally {
    server.close();
  }
  fs.writeFileSync(o.json, JSON.stringify(report, null, 1));
}

main().catch((err) => {
  console.error(`bench page: ${err.message || err}`);
  process.exit(1);
});
