// The Django example site (examples/django) in a real browser (Debian's chromium, headless, driven by
// playwright-core), with a real redis-server, the real yunity-sockets reading Django's HttpOnly session cookie,
// and the site run by Debian's python3-django: log in through the form, see a notification sent from Django,
// log out in another tab, and see nothing more on the page that stayed open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Redis, Server, TIME_FACTOR, freePort, httpGet, sleep, until } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const site = path.resolve(import.meta.dirname, '../../examples/django');

let redis, server, django, browser, siteUrl, djangoLog = '';

before(async () => {
  redis = await Redis.start();
  const port = await freePort();
  siteUrl = `http://127.0.0.1:${port}`;
  // As examples/django/yunity-sockets.json: the session cookie, and only the site's own pages may connect.
  server = await Server.start({ redis, config: { 'redis-session': { cookie: 'sessionid' },
    socketio: { allowed_origins: [siteUrl] } } });
  await server.waitLog(/redis: subscribed to notifications/);
  await server.waitLog(/redis link up/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-django-'));
  const env = { ...process.env, EXAMPLE_DB: path.join(dir, 'db.sqlite3'), REDIS_URL: redis.url,
    SOCKETS_URL: `http://127.0.0.1:${server.port}` };
  for (const command of [['migrate', '--verbosity', '0'], ['demo_users']]) {
    const r = spawnSync(PYTHON, ['manage.py', ...command], { cwd: site, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `manage.py ${command[0]}: ${r.stdout}${r.stderr}`);
  }
  django = spawn(PYTHON, ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'], { cwd: site, env });
  django.stdout.on('data', (d) => { djangoLog += d; });
  django.stderr.on('data', (d) => { djangoLog += d; });
  await until(async () => { try { return (await httpGet(`${siteUrl}/login/`)).status === 200; } catch { return false; } },
    'the Django site to answer', 15000, 100);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  django?.kill();
  await server?.stop();
  await redis?.stop();
  if (process.exitCode) console.log(djangoLog);
});

async function logIn(context, username) {
  const page = await context.newPage();
  await page.goto(`${siteUrl}/`);  // redirected to the login form
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', 'demo');
  await Promise.all([page.waitForURL(`${siteUrl}/`), page.click('#login')]);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'connected', null,
    { timeout: 10000 * TIME_FACTOR });
  return page;
}

async function send(page, to, text) {
  await page.fill('input[name=to]', to);
  await page.fill('input[name=text]', text);
  await page.click('#send button');
  await page.waitForFunction((t) => document.getElementById('sent').textContent === t, `sent to ${to.split(',').join(', ')}`,
    { timeout: 5000 * TIME_FACTOR });
}

const shown = (page) => page.$$eval('#messages li', (items) => items.map((li) => li.textContent));

// The users the server holds for the open connections (the admin port's report).
async function connectedUsers() {
  const report = JSON.parse((await httpGet(`http://127.0.0.1:${server.adminPort}/`)).text);
  return report.connections.map((c) => c.userId);
}

test('log in, receive a notification sent from Django, log out, receive nothing more', async () => {
  const alice = await browser.newContext(), bob = await browser.newContext();
  try {
    const page = await logIn(alice, 'alice');
    // The session cookie is HttpOnly: the page could not have read it, the server took it from the handshake.
    const cookie = (await alice.cookies()).find((c) => c.name === 'sessionid');
    assert.equal(cookie.httpOnly, true);
    assert.equal(await page.evaluate(() => document.cookie.includes('sessionid')), false);

    await send(page, 'alice', 'hello alice');
    await until(async () => (await shown(page)).length === 1, 'the notification on the page', 5000 * TIME_FACTOR);
    assert.deepEqual(await shown(page), ['alice: hello alice']);

    // Log out in a second tab; the first stays open and connected.
    const other = await alice.newPage();
    await other.goto(`${siteUrl}/`);
    await Promise.all([other.waitForURL(`${siteUrl}/login/`), other.click('#logout')]);
    await until(async () => (await connectedUsers()).every((u) => u === '__nouser__'),
      'the server to drop the user from alice\'s connections', 5000 * TIME_FACTOR);
    assert.equal(await page.textContent('#status'), 'connected');

    // bob sends to both: bob's page shows it, so it was sent; alice's page, logged out, shows nothing more.
    const bobPage = await logIn(bob, 'bob');
    await send(bobPage, 'alice,bob', 'after logout');
    await until(async () => (await shown(bobPage)).length === 1, 'the notification on bob\'s page', 5000 * TIME_FACTOR);
    assert.deepEqual(await shown(bobPage), ['bob: after logout']);
    await sleep(500);
    assert.deepEqual(await shown(page), ['alice: hello alice']);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'django-alice.png') });
  } finally {
    await alice.close();
    await bob.close();
  }
});
