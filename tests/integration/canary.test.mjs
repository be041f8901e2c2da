// Readiness that proves delivery: each redis source runs a canary (a probe published on the channel, a probe
// key whose keyspace event must come back). A subscription lost without any error on the server's side makes
// /readyz 503, is logged and counted, and is made again; /readyz is 200 once probes come back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Redis, Server, TcpProxy, connect, messageCount, until, sleep, httpGet } from './lib/harness.mjs';

const require = createRequire(import.meta.url);

let redis, proxy, server;
const fast = { canary_interval_ms: 200, canary_timeout_ms: 1000 };

before(async () => {
  redis = await Redis.start();
  proxy = await TcpProxy.start(redis.port);
  server = await Server.start({ redis: proxy, config: { 'redis-pubsub': fast, 'redis-session': fast } });
});
after(async () => { await server?.stop(); await proxy?.stop(); await redis?.stop(); });

const readyz = async () => httpGet(`http://127.0.0.1:${server.adminPort}/readyz`);
const metric = async (name, source) => {
  const text = (await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text;
  const m = new RegExp(`^${name}\\{source="${source}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

test('ready only once probes come back; round trips and no failures are reported', async () => {
  await until(async () => (await readyz()).status === 200, 'ready', 5000);
  for (const source of ['redis-pubsub', 'redis-session']) {
    assert.equal(await metric('yunity_redis_canary_ok', source), 1);
    const rtt = await metric('yunity_redis_canary_round_trip_seconds', source);
    assert.ok(rtt >= 0 && rtt < 1, `round trip ${rtt}`);
    assert.equal(await metric('yunity_redis_canary_failures_total', source), 0);
  }
  // Probes are not notifications: neither counted as received nor rejected.
  const text = (await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text;
  assert.doesNotMatch(text, /yunity_notifications_rejected_total/);
  assert.match(text, /^yunity_notifications_received_total 0$/m);
});

test('subscriptions cut behind the server\'s back (CLIENT KILL TYPE pubsub, the proxy keeps them open): 503, logged, counted, then 200', async () => {
  await until(async () => (await readyz()).status === 200, 'ready', 5000);
  const from = server.log.length;
  proxy.silence();
  const killed = await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
  assert.equal(killed, 2, 'the pubsub and keyspace subscriptions');
  // Nothing tells the links; only the canary can.
  const down = await until(async () => { const r = await readyz(); return r.status === 503 && r; }, '503', 3000, 20);
  const body = JSON.parse(down.text);
  assert.equal(body.ready, false);
  assert.match(body.sources['redis-pubsub'].detail + body.sources['redis-session'].detail, /canary/);
  await server.waitLog(/canary: a probe did not come back within 1000 ms on channel notifications/, 3000, from);
  await server.waitLog(/canary: a probe did not come back within 1000 ms as a keyspace event/, 3000, from);
  for (const source of ['redis-pubsub', 'redis-session'])
    assert.ok(await metric('yunity_redis_canary_failures_total', source) >= 1, source);

  await until(async () => (await readyz()).status === 200, 'ready again', 5000);
  // And delivery works again, logins included.
  await redis.command('SET', 'session-store-canary-s', 'u1');
  const c = await connect(4, server.url, { transports: ['websocket'] }, 'canary-s');
  try {
    await server.waitMembership('canary-s', 'u1');
    await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['u1'], data: 'back' }));
    await messageCount(c, 1);
  } finally { c.close(); }
});

test('without the canary the same cut is not noticed: readiness stays 200 (until the link\'s 15 s health check), which the canary test above guards against', async () => {
  const own = await TcpProxy.start(redis.port);
  const srv = await Server.start({ redis: own, plugins: ['socketio', 'redis-pubsub', 'admin-http'],
    config: { 'redis-pubsub': { canary: false } } });
  const ready = async () => (await httpGet(`http://127.0.0.1:${srv.adminPort}/readyz`)).status;
  try {
    await until(async () => (await ready()) === 200, 'ready', 5000);
    // This server's only link is its subscription, through its own proxy: cut it there, silently.
    own.silence();
    const ports = [...own.pairs].map((p) => p.up.localPort);
    assert.equal(ports.length, 1);
    assert.equal(await redis.command('CLIENT', 'KILL', 'ADDR', `127.0.0.1:${ports[0]}`), 1);
    await sleep(1500);
    assert.equal(await ready(), 200);
    assert.doesNotMatch(srv.log, /canary/);
  } finally { await srv.stop(); await own.stop(); }
});

test('keyspace events switched off behind the server\'s back: 503 until the server sets them again', async () => {
  await until(async () => (await readyz()).status === 200, 'ready', 5000);
  const from = server.log.length;
  await redis.command('CONFIG', 'SET', 'notify-keyspace-events', '');
  const down = await until(async () => { const r = await readyz(); return r.status === 503 && r; }, '503', 3000, 20);
  assert.match(JSON.parse(down.text).sources['redis-session'].detail, /keyspace event/);
  assert.ok(await metric('yunity_redis_canary_failures_total', 'redis-session') >= 1);
  await server.waitLog(/set notify-keyspace-events to/, 5000, from);
  await until(async () => (await readyz()).status === 200, 'ready again', 5000);
  assert.match((await redis.command('CONFIG', 'GET', 'notify-keyspace-events'))[1], /K/);
});

test('the dashboard in headless Chromium shows each redis source, where it reads and its canary', async () => {
  await until(async () => (await readyz()).status === 200, 'ready', 5000);
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.adminPort}/ui`);
    const row = (source) => page.waitForFunction((s) => [...document.querySelectorAll('#source-rows tr')]
      .map((tr) => [...tr.children].map((td) => td.textContent))
      .find((cells) => cells[0] === s && cells[1] === 'yes' && cells[3] === 'ok' && /^\d+\.\d ms$/.test(cells[4])), source,
    { timeout: 10000 });
    for (const source of ['redis-pubsub', 'redis-session']) {
      const cells = await (await row(source)).jsonValue();
      assert.equal(cells[2], `master 127.0.0.1:${proxy.port}`);
      assert.equal(cells[6], '0');
    }
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/sources.png` });
  } finally { await browser.close(); }
});
