// A small static file server for the built app (dist/), bound to 127.0.0.1. Used by the
// README's serve command and by the browser tests, so both serve exactly the same way:
// correct MIME types (application/wasm lets the browser compile while downloading) and no
// caching surprises. Usage: node scripts/static-server.cjs DIR [PORT]
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

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

function serve(root, port = 0) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let file = path.normalize(path.join(base, decodeURIComponent(url.pathname)));
    if (!file.startsWith(base)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

module.exports = { serve };

if (require.main === module) {
  const dir = process.argv[2] || 'dist';
  const port = Number(process.argv[3] || 8080);
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    console.error(`no built app in ${dir}/ (index.html missing): build it first`);
    process.exit(1);
  }
  serve(dir, port).then((server) => {
    console.log(`Pretraining Playground: http://127.0.0.1:${server.address().port}/`);
  });
}
