// The Django example site (examples/django) as its one command, examples/django/run, starts it: a real redis-server,
// the real yunity-sockets with examples/django/yunity-sockets.json (reading Django's HttpOnly session cookie) and
// the site run by Debian's python3-django, all on private ports. In a real browser (Debian's chromium, headless,
// driven by playwright-core): log in through the form, see a notification sent from Django, log out in another
// tab, and see nothing more on the page that stayed open. And run refuses to start the site when yunity-sockets
// cannot come up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BIN, Redis, TIME_FACTOR, freePort, httpGet, sleep, until } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RUN = path.resolve(import.meta.dirname, '../../examples/django/run');

let redis, site, browser, siteUrl, adminPort;

// examples/django/run on free ports, against `redis`, with the build's yunity-sockets (YUNITY_BIN: nothing is
// set up or built). In its own process group, so that stopping it stops what it started whatever happens.
async function startRun(ports = {}) {
  // Three different ports: freePort() may well give the same one twice in a row.
  const taken = new Set([redis.port, ...Object.values(ports)]);
  const another = async () => { for (;;) { const p = await freePort(); if (!taken.has(p)) { taken.add(p); return p; } } };
  const env = { ...process.env, YUNITY_BIN: BIN, REDIS_PORT: String(redis.port),
    SITE_PORT: String(ports.site ?? await another()), SOCKETS_PORT: String(ports.sockets ?? await another()),
    ADMIN_PORT: String(ports.admin ?? await another()),
    STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ys-django-')) };
  const proc = spawn(RUN, [], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { proc, env, output: '', exit: new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal }))) };
  proc.stdout.on('data', (d) => { run.output += d; });
  proc.stderr.on('data', (d) => { run.output += d; });
  return run;
}

// A timer that does not keep the test process alive once everything else is done.
const timeout = (ms, value) => new Promise((r) => setTimeout(() => r(value), ms).unref());

async function stopRun(run) {
  if (!run || run.proc.exitCode !== null || run.proc.signalCode !== null) return;
  try { process.kill(-run.proc.pid, 'SIGTERM'); } catch {}
  await Promise.race([run.exit, timeout(5000)]);
  try { process.kill(-run.proc.pid, 'SIGKILL'); } catch {}
}

before(async () => {
  redis = await Redis.start();
  site = await startRun();
  siteUrl = `http://127.0.0.1:${site.env.SITE_PORT}`;
  adminPort = site.env.ADMIN_PORT;
  await until(async () => {
    if (site.proc.exitCode !== null) throw new Error(`examples/django/run exited:\n${site.output}`);
    try { return (await httpGet(`${siteUrl}/login/`)).status === 200; } catch { return false; }
  }, 'the Django site to answer', 30000 * TIME_FACTOR, 100);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await stopRun(site);
  await redis?.stop();
  if (process.exitCode) console.log(site?.output);
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
  const report = JSON.parse((await httpGet(`http://127.0.0.1:${adminPort}/`)).text);
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

test('run stops with an error, and starts no site, when yunity-sockets cannot come up', async () => {
  const taken = net.createServer();  // the socket.io port, taken
  await new Promise((r) => taken.listen(0, '127.0.0.1', r));
  const run = await startRun({ sockets: taken.address().port });
  try {
    const { code } = await Promise.race([run.exit, timeout(30000 * TIME_FACTOR, { code: 'still running' })]);
    assert.equal(code, 1, run.output);
    assert.match(run.output, /yunity-sockets did not come up on ports \d+ and \d+/);
    assert.match(run.output, /address already in use|Address already in use/i);  // the log's tail, shown
    assert.doesNotMatch(run.output, /open http:/);
    await assert.rejects(httpGet(`http://127.0.0.1:${run.env.SITE_PORT}/login/`));
  } finally {
    await stopRun(run);
    taken.close();
  }
});
