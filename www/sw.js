// Pretraining Playground's service worker: after the first visit the page opens and trains
// with the network gone (a lecture hall's Wi-Fi fails). Network first, so a redeployed copy is
// picked up at once; the cache answers when the network does not (an error, or no response
// headers within a few seconds). What it keeps: the page, its stylesheet, the UI and the
// CPU-only worker (fetched on install), and whatever else the page fetched from its own
// origin (the WebGPU worker, on a machine that uses it).
'use strict';
const CACHE = 'pretrain-playground-v1';
const SHELL = [
  './', 'index.html', 'style.css', 'app.js', 'app_bg.wasm',
  // The loader picks the build by its query, and a worker's location is its response's URL:
  // each form is kept under its own URL.
  'worker_loader.js', 'worker_loader.js?build=cpu', 'worker_cpu.js', 'worker_cpu_bg.wasm',
];
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
      if (name !== CACHE) await caches.delete(name);
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

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(request));
});
