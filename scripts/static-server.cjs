// A small static file server for the built app (dist/), bound to 127.0.0.1. Used by the
// README's serve command, the browser tests and the bench harness, so all serve the same way:
// - correct MIME types (application/wasm lets the browser compile while downloading);
// - cross-origin isolation (COOP `same-origin` + COEP `require-corp`, and CORP on every
//   response): the page gets `crossOriginIsolated`, which multi-threaded wasm
//   (SharedArrayBuffer) requires and which gives `performance.now()` its fine resolution;
// - gzip (level 9, compressed once per file version) when the browser accepts it and
//   `gzip` is on, as a real host would send it; the tests turn it off to save time;
// - no caching surprises (`no-cache`: the browser revalidates).
// Usage: node scripts/static-server.cjs DIR [PORT]
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.json', '.svg']);

/** The headers every response carries: cross-origin isolation. */
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

function serve(root, port = 0, { gzip = false } = {}) {
  const base = path.resolve(root);
  const compressed = new Map(); // file -> { mtimeMs, body }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let file = path.normalize(path.join(base, decodeURIComponent(url.pathname)));
    if (!file.startsWith(base)) {
      res.writeHead(403, ISOLATION).end('forbidden');
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { ...ISOLATION, 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const ext = path.extname(file);
      const headers = {
        ...ISOLATION,
        'content-type': TYPES[ext] || 'application/octet-stream',
        'cache-control': 'no-cache',
        vary: 'accept-encoding',
      };
      const wantsGzip = gzip && COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] || '');
      if (!wantsGzip) {
        res.writeHead(200, headers);
        res.end(body);
        return;
      }
      const mtimeMs = fs.statSync(file).mtimeMs;
      const cached = compressed.get(file);
      const send = (gz) => {
        res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
        res.end(gz);
      };
      if (cached && cached.mtimeMs === mtimeMs) {
        send(cached.body);
        return;
      }
      zlib.gzip(body, { level: 9 }, (zerr, gz) => {
        if (zerr) {
          res.writeHead(200, headers);
          res.end(body);
          return;
        }
        compressed.set(file, { mtimeMs, body: gz });
        send(gz);
      });
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

module.exports = { serve, ISOLATION };

if (require.main === module) {
  const dir = process.argv[2] || 'dist';
  const port = Number(process.argv[3] || 8080);
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    console.error(`no built app in ${dir}/ (index.html missing): build it first`);
    process.exit(1);
  }
  serve(dir, port, { gzip: true }).then((server) => {
    console.log(`Pretraining Playground: http://127.0.0.1:${server.address().port}/`);
    console.log('(gzip on; cross-origin isolated: COOP same-origin, COEP require-corp)');
  });
}
