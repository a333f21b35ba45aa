// The README's server under bad requests: malformed and traversing paths are refused with a
// status, and the server keeps serving.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { serve } = require('../../scripts/static-server.cjs');

function get(port, rawPath) {
  return new Promise((resolve, reject) => {
    // A raw request line: `http.get` would refuse or rewrite some of these paths itself.
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: rawPath }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server refuses malformed and traversing paths and stays up', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-server-'));
  const dist = path.join(root, 'dist');
  const sibling = path.join(root, 'dist-old');
  fs.mkdirSync(dist);
  fs.mkdirSync(sibling);
  fs.writeFileSync(path.join(dist, 'index.html'), '<p>app</p>');
  fs.writeFileSync(path.join(sibling, 'secret.txt'), 'secret');
  const server = await serve(dist, 0);
  const port = server.address().port;
  try {
    for (const [bad, status] of [
      ['/%', 400],
      ['/%00', 400],
      ['/%E0%A4%A', 400],
      ['/..%2fdist-old%2fsecret.txt', 403],
      ['/%2e%2e/dist-old/secret.txt', 404], // the URL parser resolves %2e%2e itself
      ['/../../etc/passwd', 404],
    ]) {
      const res = await get(port, bad);
      assert.equal(res.status, status, `${bad}: ${res.status}`);
      assert.ok(!res.body.includes('secret'), `${bad} read beside the served folder`);
    }
    const ok = await get(port, '/');
    assert.equal(ok.status, 200, 'still serving');
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    assert.equal(ok.headers['cross-origin-embedder-policy'], 'require-corp');
  } finally {
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
