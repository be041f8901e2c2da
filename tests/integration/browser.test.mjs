// A real browser (Debian's chromium, headless, driven by playwright-core) loads a page from another origin
// that uses the socket.io client bundle, connects, authenticates, and shows a message the server pushes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Redis, Server, until } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const modules = path.resolve(import.meta.dirname, '../node_modules');
const bundles = {
  2: path.join(modules, 'socket.io-client-v2/dist/socket.io.js'),
  4: path.join(modules, 'socket.io-client-v4/dist/socket.io.min.js'),
};

let redis, server, browser, pages;

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis: subscribed to notifications/);
  // The web app's own origin, serving the page and a client bundle of the version asked for.
  pages = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/socket.io.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(fs.readFileSync(bundles[url.searchParams.get('v') || '4']));
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    const html = fs.readFileSync(path.join(import.meta.dirname, 'pages/client.html'), 'utf8')
      .replace('/socket.io.js', `/socket.io.js?v=${url.searchParams.get('v') || '4'}`);
    res.end(html);
  });
  await new Promise((r) => pages.listen(0, '127.0.0.1', r));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => { await browser?.close(); pages?.close(); await server?.stop(); await redis?.stop(); });

for (const version of [2, 4]) {
  test(`a web page with socket.io-client ${version}.x shows a pushed message`, async () => {
    const session = `browser-session-${version}`, user = `browser-user-${version}`;
    await redis.command('SET', `session-store-${session}`, user);
    const page = await browser.newPage();
    try {
      const from = server.log.length;
      const origin = `http://127.0.0.1:${pages.address().port}`;
      // "localhost" for the server: another origin than the page's, so CORS is exercised for real.
      await page.goto(`${origin}/?v=${version}&session=${session}&server=${encodeURIComponent(`http://localhost:${server.port}`)}`);
      await page.waitForFunction(() => document.getElementById('status').textContent === 'connected over websocket',
        null, { timeout: 10000 });
      await server.waitMembership(session, user);
      await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: [user], data: { text: 'Hallo Welt €' } }));
      await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1, null, { timeout: 5000 });
      const shown = await page.textContent('#messages li');
      assert.deepEqual(JSON.parse(shown), { data: { text: 'Hallo Welt €' } });
      if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, `browser-v${version}.png`) });
    } finally { await page.close(); }
  });
}
