// The admin port with real clients and a real redis: the connections report, token and redaction, metrics,
// readiness across a redis stop and start, the charts' series, the dashboard in headless Chromium, and the guard
// against other web pages (Host, Origin, JSON-only writes) on every route family.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { Redis, Server, connect, until, sleep } from './lib/harness.mjs';
import { uploadPastLimit } from './lib/upload.mjs';

const require = createRequire(import.meta.url);
let redis, server, admin;

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis: subscribed to notifications/);
  admin = `http://127.0.0.1:${server.adminPort}`;
});
after(async () => { await server?.stop(); await redis?.stop(); });

const report = async (base = admin, headers = {}) => {
  const res = await fetch(`${base}/`, { headers });
  assert.equal(res.status, 200);
  return (await res.json()).connections;
};
const metric = async (name, labels = '') => {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line ? Number(line.split(' ').pop()) : undefined;
};

test('binds 127.0.0.1 by default', () => {
  assert.match(server.log, /listening on 127\.0\.0\.1:\d+ for admin requests/);
});

test('the report: no session, session without user, session with user; header names lower-case; redacted', async () => {
  await redis.command('SET', 'session-store-with-user', 'u-admin');
  await redis.command('SET', 'session-store-without-user', '');
  const t0 = Date.now();
  const none = await connect(4, server.url, { transports: ['websocket'], query: { app: 'web', n: 3 } });
  const nouser = await connect(2, server.url, { transports: ['polling'] }, 'without-user');
  const user = await connect(4, server.url, { transports: ['websocket'], extraHeaders: { Cookie: 'sessionid=secret', 'X-Custom': 'Yes' } }, 'with-user');
  try {
    await server.waitMembership('with-user', 'u-admin');
    await server.waitMembership('without-user', null);
    const all = await report();
    const byId = Object.fromEntries(all.map((c) => [c.connectionId, c]));
    const a = byId[none.id], b = byId[nouser.id], c = byId[user.id];
    assert.ok(a && b && c, `all three are reported: ${JSON.stringify(all.map((x) => x.connectionId))}`);
    assert.deepEqual(Object.keys(a), ['connectionId', 'sessionId', 'userId', 'handshake']);
    assert.deepEqual([a.sessionId, a.userId], ['__nosession__', '__nouser__']);
    assert.deepEqual([b.sessionId, b.userId], ['without-user', '__nouser__']);
    assert.deepEqual([c.sessionId, c.userId], ['with-user', 'u-admin']);
    assert.deepEqual(Object.keys(a.handshake), ['headers', 'time', 'address', 'xdomain', 'secure', 'issued', 'url', 'query']);
    assert.equal(a.handshake.address, '127.0.0.1');
    assert.equal(a.handshake.xdomain, false);
    assert.equal(a.handshake.secure, false);
    assert.ok(a.handshake.issued >= t0 - 1000 && a.handshake.issued <= Date.now());
    assert.match(a.handshake.time, /^\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)$/);
    assert.match(a.handshake.url, /^\/socket\.io\/\?.*EIO=4/);
    assert.deepEqual([a.handshake.query.app, a.handshake.query.n, a.handshake.query.EIO], ['web', '3', '4']);
    for (const name of Object.keys(c.handshake.headers)) assert.equal(name, name.toLowerCase());
    assert.equal(c.handshake.headers['x-custom'], 'Yes');
    assert.equal(c.handshake.headers.cookie, '[redacted]');
    // Every query parameter, Engine.IO's own included, as the original's report listed them.
    assert.match(b.handshake.query.EIO, /^[34]$/);
    assert.equal(b.handshake.query.transport, 'polling');
    assert.match(b.handshake.query.t, /./);

    // A closed connection leaves the report at once.
    none.close();
    await until(async () => !(await report()).some((x) => x.connectionId === a.connectionId), 'the closed connection to leave', 2000);
  } finally { none.close(); nouser.close(); user.close(); }
});

test('metrics move as clients connect and notifications flow', async () => {
  const received = (await metric('yunity_notifications_received_total')) ?? 0;
  await redis.command('SET', 'session-store-metrics', 'metrics-user');
  const c = await connect(4, server.url, { transports: ['websocket'] }, 'metrics');
  try {
    await server.waitMembership('metrics', 'metrics-user');
    assert.ok((await metric('yunity_connections')) >= 1);
    assert.ok((await metric('yunity_authenticated_connections')) >= 1);
    await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['metrics-user'], data: 1 }));
    await redis.command('PUBLISH', 'notifications', 'garbage');
    await until(() => c.messages.length === 1, 'the message');
    await until(async () => (await metric('yunity_notifications_received_total')) === received + 2, 'both counted');
    assert.ok((await metric('yunity_notifications_rejected_total', 'reason="not JSON"')) >= 1);
    assert.ok((await metric('yunity_socketio_deliveries_total')) >= 1);
    assert.ok((await metric('process_resident_memory_bytes')) > 1e6);
    assert.equal(await metric('yunity_redis_connected', 'link="pubsub"'), 1);
  } finally { c.close(); }
});

test('readiness follows a redis stop and start; liveness stays', async () => {
  const own = await Redis.start();
  const srv = await Server.start({ redis: own });
  const base = `http://127.0.0.1:${srv.adminPort}`;
  try {
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 'ready', 5000);
    await own.stop();
    await until(async () => (await fetch(`${base}/readyz`)).status === 503, 'not ready', 5000);
    const body = await (await fetch(`${base}/readyz`)).json();
    assert.equal(body.ready, false);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    await own.launch();
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 'ready again', 15000);
  } finally { await srv.stop(); await own.stop(); }
});

test('a token guards every endpoint; unknown paths are 404, wrong methods 405', async () => {
  const srv = await Server.start({ redis, env: { YUNITY_ADMIN_TOKEN: 's3cret' } });
  const base = `http://127.0.0.1:${srv.adminPort}`;
  try {
    for (const path of ['/', '/metrics', '/readyz', '/healthz', '/series'])
      assert.equal((await fetch(base + path)).status, 401, path);
    assert.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
    const auth = { authorization: 'Bearer s3cret' };
    const nf = await fetch(`${base}/nope`, { headers: auth });
    assert.equal(nf.status, 404);
    assert.match(nf.headers.get('content-type'), /json/);
    assert.equal((await fetch(`${base}/metrics`, { method: 'DELETE', headers: auth })).status, 405);
  } finally { await srv.stop(); }
});

test('a body over max_body_bytes gets 413, read by a client still uploading (lingering close)', async () => {
  const { reply, failed } = await uploadPastLimit(server.adminPort, '/publish', 2 * 1024 * 1024);
  assert.equal(failed, null, `the upload failed: ${failed?.code}`);
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /payload too large/);
  // The server goes on serving the admin port.
  assert.equal((await fetch(`${admin}/healthz`)).status, 200);
});

// One request with exactly these headers (fetch would not send a Host of our choosing).
function request(port, method, path, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false,
      headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('Host, Origin and JSON-only writes are enforced over the real port, on every route family', async () => {
  // No redis: sessions in memory (PUT /sessions/<id>) and notifications by POST /publish are the write routes.
  const srv = await Server.start({ plugins: ['socketio', 'admin-http', 'memory-session', 'http-publish'] });
  const port = srv.adminPort;
  const own = `http://127.0.0.1:${port}`;
  const json = { 'content-type': 'application/json' };
  const routes = [
    { method: 'GET', path: '/stats', ok: 200 },
    { method: 'GET', path: '/metrics', ok: 200 },
    { method: 'GET', path: '/ui', ok: 200 },
    { method: 'GET', path: '/', ok: 200 },
    { method: 'PUT', path: '/sessions/guarded', body: '"alice"', headers: json, ok: 204 },
    { method: 'POST', path: '/publish', body: JSON.stringify({ users: ['alice'], data: 1 }), headers: json, ok: 202 },
  ];
  try {
    for (const { method, path, body, headers = {}, ok } of routes) {
      const call = (extra) => request(port, method, path, { ...headers, ...extra }, body);
      const what = `${method} ${path}`;
      // DNS rebinding: a foreign name resolving to 127.0.0.1 carries its own Host.
      for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example'])
        assert.equal((await call({ host })).status, 403, `${what} with Host ${host}`);
      // Cross-site requests: another origin, an opaque one, or the browser saying another site made it.
      for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `http://localhost:${port}`])
        assert.equal((await call({ origin })).status, 403, `${what} from Origin ${origin}`);
      assert.equal((await call({ 'sec-fetch-site': 'cross-site' })).status, 403, `${what} made by another site`);
      // The page's own requests, and those of clients that are not browsers, go through.
      const refusal = await call({ host: 'evil.example' });
      assert.match(refusal.text, /Host not allowed/);
      assert.equal((await call({ origin: own })).status, ok, `${what} from its own page`);
      assert.equal((await call({ origin: own, 'sec-fetch-site': 'same-origin' })).status, ok, `${what} same-origin`);
      assert.equal((await call({ host: `localhost:${port}`, origin: `http://localhost:${port}` })).status, ok,
        `${what} through localhost`);
      assert.equal((await call({})).status, ok, `${what} from a client that is not a browser`);
      if (method === 'GET') continue;
      // Writes take JSON only: a form (or a "simple" text body) from another site needs no CORS preflight.
      for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
        const res = await call({ 'content-type': type });
        assert.equal(res.status, 415, `${what} as ${type}`);
        assert.match(res.text, /application\/json/);
      }
      const untyped = await request(port, method, path, {}, body);
      assert.equal(untyped.status, 415, `${what} without a Content-Type`);
      assert.equal((await call({ 'content-type': 'application/json; charset=utf-8' })).status, ok, `${what} as JSON`);
    }
    // Nothing refused reached a handler: only the accepted PUTs logged the session in.
    assert.equal((await request(port, 'GET', '/sessions')).text, '{"guarded":"alice"}');
  } finally { await srv.stop(); }

  // With a token, the guard answers first: a rebinding page learns nothing, not even that a token is asked for.
  const tokened = await Server.start({ plugins: ['socketio', 'admin-http'], env: { YUNITY_ADMIN_TOKEN: 's3cret' } });
  try {
    const p = tokened.adminPort;
    assert.equal((await request(p, 'GET', '/stats', { host: 'evil.example' })).status, 403);
    assert.equal((await request(p, 'GET', '/stats', { origin: 'http://evil.example' })).status, 403);
    assert.equal((await request(p, 'GET', '/stats')).status, 401);
    assert.equal((await request(p, 'GET', '/stats', { authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await request(p, 'GET', '/ui', { host: 'evil.example' })).status, 403);
    assert.equal((await request(p, 'GET', '/ui')).status, 200);  // public: the page asks for the token itself
  } finally { await tokened.stop(); }
});

test('PUT /sessions with a body nested past 64 levels gets a 400 naming it; the server goes on', async () => {
  // A megabyte of brackets: RapidJSON's recursive parser, which read these bodies before, overflowed its stack.
  const srv = await Server.start({ plugins: ['socketio', 'admin-http', 'memory-session'],
    config: { 'admin-http': { max_body_bytes: 4 * 1024 * 1024 } } });
  const port = srv.adminPort;
  const put = (body) => request(port, 'PUT', '/sessions/deep', { 'content-type': 'application/json' }, body);
  try {
    for (const body of ['['.repeat(1000000), `${'['.repeat(1000000)}"alice"${']'.repeat(1000000)}`,
      '{"a":'.repeat(200000), `${'['.repeat(65)}"alice"${']'.repeat(65)}`]) {
      const res = await put(body);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { error: 'not JSON: nested deeper than 64 levels' });
    }
    const shallow = await put(`${'['.repeat(64)}"alice"${']'.repeat(64)}`);
    assert.equal(shallow.status, 400);
    assert.match(shallow.text, /must be a string or an integer/);
    assert.equal(srv.proc.exitCode, null);
    assert.equal((await put('"alice"')).status, 204);
    assert.equal((await request(port, 'GET', '/sessions')).text, '{"deep":"alice"}');
  } finally { await srv.stop(); }
});

test('the dashboard in headless Chromium shows a live connection', async () => {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  await redis.command('SET', 'session-store-dashboard', 'dashboard-user');
  const c = await connect(4, server.url, { transports: ['websocket'] }, 'dashboard');
  try {
    const page = await browser.newPage();
    await page.goto(`${admin}/ui`);
    await page.waitForFunction((id) => document.getElementById('rows').textContent.includes(id), c.id, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.getElementById('connections').textContent) >= 1, null, { timeout: 5000 });
    await page.fill('#search', 'dashboard-user');
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1, null, { timeout: 5000 });
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/dashboard.png` });
  } finally { c.close(); await browser.close(); }
});

test('/series: a sample a second, one array per chart, deliveries counted as rates', async () => {
  const series = async () => {
    const res = await fetch(`${admin}/series`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /json/);
    return res.json();
  };
  const first = await series();
  assert.equal(first.interval_ms, 1000);
  assert.equal(first.capacity, 900);
  for (const key of ['connections', 'deliveries_per_second', 'notifications_per_second', 'rejected_per_second'])
    assert.equal(first[key].length, first.time.length, key);
  await until(async () => (await series()).time.length >= first.time.length + 2, 'two more samples', 4000);
  const { time } = await series();
  for (let i = 1; i < time.length; ++i) assert.ok(time[i] > time[i - 1], 'samples in order');
  assert.ok(Math.abs(time[time.length - 1] - Date.now()) < 5000, 'stamped with the wall clock');
});

test('the dashboard\'s charts in headless Chromium: connections and deliveries/s over the last minutes, nothing fetched elsewhere', async () => {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  await redis.command('SET', 'session-store-charts', 'charts-user');
  const clients = [];
  let publishing = true;
  try {
    for (let i = 0; i < 3; ++i) clients.push(await connect(4, server.url, { transports: ['websocket'] }, 'charts'));
    for (const c of clients) await server.waitMembership('charts', 'charts-user', c);
    // Ten notifications a second for the three connections of one user, and a message that is none.
    const publisher = (async () => {
      for (let n = 0; publishing; ++n) {
        await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['charts-user'], data: n }));
        if (n % 10 === 0) await redis.command('PUBLISH', 'notifications', 'not a notification');
        await sleep(100);
      }
    })();
    await until(() => clients.every((c) => c.messages.length >= 30), 'three seconds of notifications', 10000);

    const page = await browser.newPage();
    const requested = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${admin}/ui`);
    const chart = (key) => page.evaluate((k) => {
      const fig = document.getElementById('chart-' + k);
      if (!fig) return null;
      return {
        caption: fig.querySelector('figcaption').textContent,
        points: Number(fig.dataset.points || 0), max: Number(fig.dataset.max || 0), last: Number(fig.dataset.last || 0),
        labels: [...fig.querySelectorAll('svg text')].map((t) => t.textContent),
        line: fig.querySelector('svg path.line')?.getAttribute('d') || '',
      };
    }, key);
    await page.waitForFunction(() => {
      const n = (k, a) => Number(document.getElementById('chart-' + k)?.dataset[a] || 0);
      return n('connections', 'last') >= 3 && n('deliveries_per_second', 'max') > 0 && n('notifications_per_second', 'max') > 0;
    }, null, { timeout: 10000 });
    publishing = false;
    await publisher;

    const connections = await chart('connections');
    assert.ok(connections.last >= 3, `the connection count: ${connections.last}`);
    assert.ok(connections.points >= 2);
    assert.match(connections.caption, /^connections/);
    const deliveries = await chart('deliveries_per_second');
    const notifications = await chart('notifications_per_second');
    const rejected = await chart('rejected_per_second');
    assert.match(deliveries.caption, /^deliveries\/s/);
    assert.match(notifications.caption, /^notifications\/s/);
    assert.match(rejected.caption, /^rejected\/s/);
    // Each notification went to the user's three connections.
    assert.ok(deliveries.max > notifications.max, `deliveries/s ${deliveries.max}, notifications/s ${notifications.max}`);
    assert.ok(notifications.max >= 3 && notifications.max <= 30, `about ten a second: ${notifications.max}`);
    assert.ok(rejected.max > 0, 'the message that was none was counted');
    for (const c of [connections, deliveries, notifications, rejected]) {
      assert.match(c.line, /^M[\d.]+ [\d.]+(?:[ML][\d.]+ [\d.]+)+$/, 'a drawn line');
      for (const label of ['-15 min', '-10 min', '-5 min', 'now', '0']) assert.ok(c.labels.includes(label), `axis label ${label}: ${c.labels}`);
    }
    // Offline: the page, its script and its data all come from the admin port.
    assert.ok(requested.some((u) => u.endsWith('/series')), 'the charts were fetched');
    for (const u of requested) assert.ok(u.startsWith(`${admin}/`), `a request to another origin: ${u}`);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/charts.png`, fullPage: true });
  } finally {
    publishing = false;
    for (const c of clients) c.close();
    await browser.close();
  }
});

test('15,000 connections: the report streams out while the loop keeps serving', async () => {
  // Engine.IO 3 polling handshakes each open a Socket.IO connection at once and need no socket held open,
  // so 15k connections cost this test few file descriptors.
  // 15,000 connections from one address: the per-address limits (hardening.test.mjs) are off here.
  const srv = await Server.start({ plugins: ['socketio', 'admin-http'], config: { socketio: { ping_interval_ms: 600000,
    max_connections_per_address: 1000000, max_pending_per_address: 1000000 } } });
  const base = `http://127.0.0.1:${srv.adminPort}`;
  try {
    const total = 15000;
    let made = 0;
    const worker = async () => {
      while (made < total) {
        made++;
        const res = await fetch(`${srv.url}/socket.io/?EIO=3&transport=polling&b64=1`);
        await res.text();
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const t0 = Date.now();
    const [res, health] = await Promise.all([
      fetch(`${base}/`).then(async (r) => ({ status: r.status, chunked: r.headers.get('transfer-encoding'), body: await r.json() })),
      sleep(5).then(async () => { const h0 = Date.now(); const r = await fetch(`${base}/healthz`); return { status: r.status, ms: Date.now() - h0 }; }),
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.chunked, 'chunked');
    assert.ok(res.body.connections.length >= total, `${res.body.connections.length} reported`);
    assert.equal(health.status, 200);
    assert.ok(health.ms < 1000, `healthz took ${health.ms} ms during the report`);
    assert.ok(Date.now() - t0 < 10000);
  } finally { await srv.stop(); }
});
