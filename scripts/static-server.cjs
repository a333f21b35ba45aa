// A small static file server for the built app (dist/), bound to 127.0.0.1. Used by the
// README's serve command, the browser tests and the bench harness, so all serve the same way:
// - correct MIME types (application/wasm lets the browser compile while downloading);
// - cross-origin isolation (COOP `same-origin` + COEP `require-corp`, and CORP on every
//   response): the page gets `crossOriginIsolated`, which multi-threaded wasm
//   (SharedArrayBuffer) requires and which gives `performance.now()` its fine resolution;
// - gzip (level 9, compressed once per file version) when the browser accepts it and
//   `gzip` is on, as a real host would send it; the tests turn it off to save time;
// - no caching surprises (`no-cache`: the browser revalidates);
// - `X-Content-Type-Options: nosniff`, and a 400 for a path that cannot be decoded or holds a
//   NUL, a 403 for one that leaves DIR: no request can stop the server or read beside DIR;
// - `isolation: false` drops the isolation headers, as a host that cannot set headers would.
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
const ISOLATING = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

/** The file under `base` that `rawPath` names, or an HTTP status saying why there is none. */
function resolvePath(base, rawPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0')) return { status: 400 };
  const file = path.normalize(path.join(base, decoded));
  // `base + sep`: a sibling folder whose name starts like DIR (dist-old) is outside it.
  if (file !== base && !file.startsWith(base + path.sep)) return { status: 403 };
  return { file };
}

/** `isolation: false` serves like a plain static host that cannot set headers (no COOP, COEP
 * or CORP), for the test that the app works from one. */
/** A shared link of `mbit` Mbit/s with `latencyMs` before each response's first byte (an
 * emulated classroom network for the bench): every response's body is written in chunks,
 * each at the time the one shared link is free. `null`: as fast as the machine goes. */
function shapedLink(link) {
  if (!link) return null;
  const bytesPerMs = (link.mbit * 1e6) / 8 / 1000;
  let free = 0;
  return (res, body) => {
    const CHUNK = 16384;
    let offset = 0;
    const next = () => {
      if (offset >= body.length) {
        res.end();
        return;
      }
      const chunk = body.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      const start = Math.max(Date.now(), free);
      free = start + chunk.length / bytesPerMs;
      setTimeout(() => {
        res.write(chunk);
        next();
      }, Math.max(0, free - Date.now()));
    };
    setTimeout(next, link.latencyMs);
  };
}

function serve(root, port = 0, { gzip = false, isolation = true, link = null } = {}) {
  const deliver = shapedLink(link);
  const ISOLATION = isolation ? ISOLATING : { 'x-content-type-options': 'nosniff' };
  const base = path.resolve(root);
  const compressed = new Map(); // file -> { mtimeMs, body }
  const server = http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url, 'http://127.0.0.1');
    } catch {
      res.writeHead(400, { ...ISOLATION, 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const resolved = resolvePath(base, url.pathname);
    if (!resolved.file) {
      const status = resolved.status;
      res.writeHead(status, { ...ISOLATION, 'content-type': 'text/plain' })
        .end(status === 403 ? 'forbidden' : 'bad request');
      return;
    }
    let file = resolved.file;
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    } catch {
      // Not there: readFile below answers 404.
    }
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
        if (deliver) deliver(res, body);
        else res.end(body);
        return;
      }
      let mtimeMs = 0;
      try {
        mtimeMs = fs.statSync(file).mtimeMs;
      } catch {
        // Removed meanwhile: compress what was read, do not cache it.
      }
      const cached = compressed.get(file);
      const send = (gz) => {
        res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
        if (deliver) deliver(res, gz);
        else res.end(gz);
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

module.exports = { serve, ISOLATION: ISOLATING, resolvePath };

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
