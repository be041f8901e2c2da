// Bad input and hostile clients against the socketio transport, with raw HTTP, raw TCP and raw websockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { Redis, Server, connect, messageCount, until, sleep, TIME_FACTOR } from './lib/harness.mjs';
import { uploadPastLimit } from './lib/upload.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

let redis, server, base;
before(async () => {
  redis = await Redis.start();
  server = await Server.start({
    redis,
    config: { socketio: { request_timeout_ms: 1000, websocket_handshake_timeout_ms: 1000, max_queue_bytes: 262144,
      ping_interval_ms: 1000, ping_timeout_ms: 1000, connect_timeout_ms: 1000, jsonp: true } },
  });
  await server.waitLog(/redis: subscribed to notifications/);
  base = `${server.url}/socket.io/`;
});
after(async () => { await server?.stop(); await redis?.stop(); });

async function get(query, init = {}) {
  const res = await fetch(`${base}?${query}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}
async function handshake(eio = 4) {
  const r = await get(`EIO=${eio}&transport=polling`);
  assert.equal(r.status, 200);
  const json = eio === 4 ? r.body.slice(1) : r.body.slice(r.body.indexOf(':') + 2);
  return JSON.parse(json).sid;
}
const errorOf = (r) => JSON.parse(r.body);

test('Engine.IO errors: 400 with the code and message engine.io sends', async () => {
  let r = await get('EIO=4&transport=carrier-pigeon');
  assert.equal(r.status, 400);
  assert.deepEqual(errorOf(r), { code: 0, message: 'Transport unknown' });
  assert.match(r.headers.get('content-type'), /application\/json/);
  r = await get('EIO=4&transport=polling&sid=nope');
  assert.deepEqual([r.status, errorOf(r)], [400, { code: 1, message: 'Session ID unknown' }]);
  r = await get('EIO=4&transport=polling', { method: 'POST', body: '4x' });
  assert.deepEqual([r.status, errorOf(r)], [400, { code: 2, message: 'Bad handshake method' }]);
  for (const q of ['EIO=5&transport=polling', 'transport=polling', 'EIO=abc&transport=polling']) {
    r = await get(q);
    assert.deepEqual([r.status, errorOf(r)], [400, { code: 5, message: 'Unsupported protocol version' }], q);
  }
  r = await fetch(`${server.url}/elsewhere/?EIO=4&transport=polling`);
  assert.equal(r.status, 404);
});

test('large request heads are served up to the header limit, refused beyond it', async () => {
  let r = await get('EIO=4&transport=polling', { headers: { cookie: 'c=' + 'x'.repeat(3000) } });
  assert.equal(r.status, 200);
  assert.match(r.body, /^0\{"sid"/);
  r = await get('EIO=4&transport=polling', { headers: { cookie: 'c=' + 'x'.repeat(9000) } });
  assert.equal(r.status, 431);
});

test('CORS: the origin is echoed with credentials, preflight answered, and errors carry the headers too', async () => {
  const origin = 'https://app.example.org';
  let r = await get('EIO=4&transport=polling', { headers: { origin } });
  assert.equal(r.headers.get('access-control-allow-origin'), origin);
  assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
  r = await get('EIO=4&transport=nope', { headers: { origin } });
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('access-control-allow-origin'), origin);
  r = await get('EIO=4&transport=polling', { method: 'OPTIONS', headers: { origin } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('access-control-allow-headers'), /content-type/i);
  r = await get('EIO=4&transport=polling');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.equal(r.headers.get('cache-control'), 'no-store');
});

test('allowed origins: others are forbidden with 403 and code 4', async () => {
  const srv = await Server.start({ plugins: ['socketio'], config: { socketio: { allowed_origins: ['https://good.example'], cookie: true } } });
  try {
    let res = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: 4, message: 'Forbidden' });
    res = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://good.example' } });
    assert.equal(res.status, 200);
    // The optional `io` cookie for sticky load balancers carries the sid.
    const sid = JSON.parse((await res.text()).slice(1)).sid;
    assert.match(res.headers.get('set-cookie'), new RegExp(`^io=${sid}; Path=/; HttpOnly`));
  } finally { await srv.stop(); }
});

test('a body over maxPayload gets 413; a malformed packet closes the session', async () => {
  // On a live session: connected to "/", its CONNECT answered.
  let sid = await handshake();
  let r = await get(`EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '40' });  // CONNECT
  assert.equal(r.body, 'ok');
  r = await get(`EIO=4&transport=polling&sid=${sid}`);
  assert.match(r.body, /^40\{"sid":"[^"]+","pid":"[^"]+"\}$/);  // recovery on: a pid beside the sid
  r = await get(`EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '4' + 'x'.repeat(1000001) });
  assert.equal(r.status, 413);
  assert.equal(errorOf(r).code, 3);  // Engine.IO's "Bad request", with the 413
  // The session outlives a refused body: a client whose POST was too large may send a smaller one.
  r = await get(`EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '42["x"]' });
  assert.equal(r.body, 'ok');
  for (const bad of ['4abc', '42{}', '42abc["x"]']) {
    const s = await handshake();
    await get(`EIO=4&transport=polling&sid=${s}`, { method: 'POST', body: '40' });
    r = await get(`EIO=4&transport=polling&sid=${s}`, { method: 'POST', body: bad });
    r = await get(`EIO=4&transport=polling&sid=${s}`);
    assert.equal(r.status, 400, `${bad} should have closed the session`);
    assert.equal(errorOf(r).code, 1);
  }
});

test('a refused body: the client may go on uploading and still reads the 413 (lingering close)', async () => {
  // The server answers after 1 MB; the client has 3 MB more to send. Without a lingering close the server
  // closes with unread input, the kernel resets the connection and the rest of the upload fails (EPIPE or
  // ECONNRESET) before the client has read the answer.
  const sid = await handshake();
  const { reply, failed } = await uploadPastLimit(server.port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`,
    4 * 1024 * 1024);
  assert.equal(failed, null, `the upload failed: ${failed?.code}`);
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /"code":3/);
});

test('two polling GETs at once for one sid: the second gets 400 and the session is closed', async () => {
  const sid = await handshake();
  const first = get(`EIO=4&transport=polling&sid=${sid}`);
  await sleep(100);
  const second = await get(`EIO=4&transport=polling&sid=${sid}`);
  assert.equal(second.status, 400);
  assert.equal(errorOf(second).code, 3);
  const r = await first;
  assert.equal(r.body, '1');  // the waiting poll learns of the close
});

test('version 3: lengths in UTF-16 units, several packets in one response, ping answered with pong', async () => {
  const r0 = await get('EIO=3&transport=polling&b64=1');
  assert.match(r0.body, /^\d+:0\{"sid":"[^"]+","upgrades":\["websocket"\],"pingInterval":1000,"pingTimeout":1000\}$/);
  const sid = JSON.parse(r0.body.slice(r0.body.indexOf(':') + 2)).sid;
  let r = await get(`EIO=3&transport=polling&sid=${sid}`);
  assert.equal(r.body, '2:40');
  r = await get(`EIO=3&transport=polling&sid=${sid}`, { method: 'POST', body: '1:2' });
  assert.equal(r.body, 'ok');
  r = await get(`EIO=3&transport=polling&sid=${sid}`);
  assert.equal(r.body, '1:3');
  // JSONP (turned on for this server: it is off by default)
  const j = await get(`EIO=3&transport=polling&j=0`);
  assert.match(j.body, /^___eio\[0\]\("\d+:0\{\\"sid\\":/);
});

test('a client sending its headers slowly is cut off; an idle connection is closed', async () => {
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
  const closed = new Promise((r) => sock.once('close', r));
  const t0 = Date.now();
  const iv = setInterval(() => sock.write('X-Slow: 1\r\n'), 200);
  await Promise.race([closed, sleep(4000)]);
  clearInterval(iv);
  assert.ok(sock.destroyed || sock.readableEnded, 'the slow client should have been cut off');
  assert.ok(Date.now() - t0 < 3000);
});

test('a websocket handshake that never completes times out; the server goes on', async () => {
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
  const closed = await Promise.race([new Promise((r) => sock.once('close', () => r(true))), sleep(4000).then(() => false)]);
  assert.ok(closed);
  const c = await connect(4, server.url, { transports: ['websocket'] });
  c.close();
});

test('a second websocket for one sid is accepted, then closed; a poll after the upgrade gets 400', async () => {
  const sid = await handshake();
  const url = `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`;
  const ws1 = new WebSocket(url);
  await new Promise((r, j) => { ws1.once('open', r); ws1.once('error', j); });
  ws1.send('2probe');
  const probe = await new Promise((r) => ws1.once('message', (d) => r(String(d))));
  assert.equal(probe, '3probe');
  ws1.send('5');
  const ws2 = new WebSocket(url);
  const opened = await new Promise((r) => { ws2.once('open', () => r(true)); ws2.once('error', () => r(false)); });
  assert.ok(opened, 'the second websocket is accepted');
  await new Promise((r) => ws2.once('close', r));
  await sleep(50);
  const r = await get(`EIO=4&transport=polling&sid=${sid}`);
  assert.equal(r.status, 400);
  const post = await get(`EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '42["authenticate",{"sessionId":"x"}]' });
  assert.deepEqual([post.status, errorOf(post).code], [400, 3]);
  ws1.close();
});

test('heartbeat: a silent version 4 session is gone at pingInterval + pingTimeout', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  ws.on('message', (d) => frames.push(String(d)));
  await new Promise((r) => ws.once('open', r));
  // Joined to "/", so that the connectTimeout (1000 ms here too) is out of the way: only the heartbeat ends it.
  ws.send('40');
  const t0 = Date.now();
  await new Promise((r) => ws.once('close', r));
  const elapsed = Date.now() - t0;
  assert.ok(frames.some((f) => f.startsWith('40{"sid":')), 'the CONNECT was answered');
  assert.ok(frames.includes('2'), 'the server pinged');
  assert.ok(elapsed >= 1900 && elapsed < 2600, `closed after ${elapsed} ms`);
});

test('a stalled reader that floods pings is cut off at its queue limit while another client keeps receiving', async () => {
  // Default heartbeats here, so that only the queue limit can cut the silent reader off.
  const srv = await Server.start({ redis, config: { socketio: { max_queue_bytes: 262144 } } });
  await srv.waitLog(/redis: subscribed to notifications/);
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]);
  const rssBefore = rss();
  const user = 'stall-user', session = 'stall-session';
  await redis.command('SET', `session-store-${session}`, user);
  // A raw websocket client that authenticates, then never reads again.
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.on('error', () => {});  // the server cuts it: writes after that fail
  const sockClosed = new Promise((r) => sock.once('close', r));
  await new Promise((r) => sock.once('connect', r));
  const key = Buffer.from('0123456789abcdef').toString('base64');
  sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await sleep(200);
  const frame = (text) => {
    const payload = Buffer.from(text); const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
  };
  const from = srv.log.length;
  sock.write(frame('40'));
  sock.write(frame(`42["authenticate",{"sessionId":"${session}"}]`));
  await srv.waitMembership(session, user);
  sock.pause();  // stop reading: the kernel buffers fill, then the server's queue
  // And it floods websocket PINGs meanwhile: their pongs count in the same bound as the notifications.
  const pings = Buffer.concat(Array(10000).fill(Buffer.from([0x89, 0x80, 1, 2, 3, 4])));
  let pinging = true, pinged = 0;
  const pinger = (async () => {
    while (pinging) {
      pinged += pings.length;
      if (!sock.write(pings)) await Promise.race([new Promise((r) => sock.once('drain', r)), sockClosed, sleep(200)]);
      else await sleep(1);
    }
  })();
  sockClosed.then(() => { pinging = false; });

  const other = await connect(4, srv.url, { transports: ['websocket'] }, 'other-session');
  // Closed whatever happens: an open client would keep node, and so this whole file, running until ctest's timeout.
  try {
    await redis.command('SET', 'session-store-other-session', 'other-user');
    await srv.waitMembership('other-session', 'other-user');

    const payload = 'y'.repeat(60000);
    const cut = srv.waitLog(/closed: too slow/, 20000, from);
    for (let i = 0; i < 200; i++) {
      await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: [user], data: payload, i }));
      if (/closed: too slow/.test(srv.log.slice(from))) break;
    }
    await cut;
    pinging = false;
    await pinger;
    assert.ok(pinged > 0);
    // The notifications published before the cut are still read and parsed first (redis keeps their order), up
    // to 12 MB of them, as the kernel's socket buffers take that much before the server's queue fills: a first
    // notification waits for that backlog, a second one then shows the other client served at once.
    await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['other-user'], data: 'after the backlog' }));
    await messageCount(other, 1, 10000 * TIME_FACTOR);
    const t0 = Date.now();
    await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['other-user'], data: 'still here' }));
    await messageCount(other, 2, 1000 * TIME_FACTOR);
    assert.ok(Date.now() - t0 < 1000 * TIME_FACTOR);
    // Memory stayed bounded: the stalled client's backlog was dropped with it.
    assert.ok(rss() - rssBefore < 64 * 1024, `RSS grew by ${rss() - rssBefore} kB`);
  } catch (e) {
    // What the server did meanwhile (a redis reconnect in the middle once lost the backlog: the canary's fault).
    console.log(`the server's log since the client authenticated:\n${srv.log.slice(from).slice(-6000)}`);
    throw e;
  } finally {
    pinging = false;
    other.close(); sock.destroy();
    await srv.stop();
  }
});

test('unknown namespaces are refused with the protocol\'s error, for both client versions', async () => {
  const { ioV2, ioV4 } = await import('./lib/harness.mjs');
  const v4 = ioV4(`${server.url}/random`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  const err4 = await new Promise((r) => v4.once('connect_error', r));
  assert.equal(err4.message, 'Invalid namespace');
  v4.close();
  const v2 = ioV2(`${server.url}/random`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  const err2 = await new Promise((r) => v2.once('error', r));
  assert.equal(err2, 'Invalid namespace');
  v2.close();
});

test('a version 5 client that sends no CONNECT is dropped after connectTimeout', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
  await new Promise((r) => ws.once('open', r));
  const t0 = Date.now();
  await new Promise((r) => ws.once('close', r));
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 900 && elapsed < 1600, `closed after ${elapsed} ms`);
});

test('a ping from a version 4 client closes its session', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
  await new Promise((r) => ws.once('open', r));
  ws.send('40');
  ws.send('2');
  await new Promise((r) => ws.once('close', r));
});
