// Pretraining Playground's service worker: after the first visit the page opens and trains
// with the network gone (a lecture hall's Wi-Fi fails). Network first, so a redeployed copy is
// picked up at once; the cache answers when the network does not (an error, or no response
// headers within a few seconds). What it keeps: the page, its stylesheet and the UI (fetched
// on install), the files of the training worker the page runs (on its word), and whatever
// else the page fetches from its own origin while it is in charge.
'use strict';
const CACHE = 'pretrain-playground-v1';
// The page and its UI. The training worker's files are kept once the page says which build
// it runs (a message `{ keep: [...] }`), so a WebGPU machine never downloads the CPU build for
// nothing, nor the other way round.
const SHELL = ['./', 'index.html', 'style.css', 'app.js', 'app_bg.wasm'];
const HEADERS_WITHIN_MS = 5000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One file that fails (a host that renamed it) must not stop the others.
    await Promise.all(SHELL.map((f) => cache.add(f).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // The models a student kept (src/shell/models.rs) are theirs, not this worker's.
      if (name !== CACHE && name !== 'pretrain-playground-models') await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), HEADERS_WITHIN_MS)),
    ]);
    if (response.ok && response.type === 'basic') cache.put(request, response.clone()).catch(() => {});
    return response;
  } catch (err) {
    // A page's query is its set-up, not another file; every other URL is matched exactly.
    const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
    if (cached) return cached;
    throw err;
  }
}

// The loader picks the build by its query, and a worker's location is its response's URL:
// each form is kept under its own URL.
self.addEventListener('message', (event) => {
  const files = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  const wanted = files.filter((f) => typeof f === 'string' && /^[\w.?=-]+$/.test(f));
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(wanted.map(async (f) => {
      if (!(await cache.match(f))) await cache.add(f).catch(() => {});
    }));
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(request));
});
