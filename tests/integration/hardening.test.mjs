// Hostile clients, each attack run as an attacker ran it against the previous release: ping floods from a client
// that never reads, handshake floods from one address, deeply nested JSON that a plugin sends back, a TLS close
// with a large write in flight, attachments behind a packet that overflows a polling queue; the client port's
// origin rules; and session ids kept out of the log.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { BIN, Redis, Server, connect, until, sleep, TIME_FACTOR } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });
async function start(options) {
  const s = await Server.start(options);
  cleanup.push(() => s.stop());
  return s;
}

const rss = (s) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))[1]) * 1024;

// A client frame (masked, as RFC 6455 requires of clients).
function frame(opcode, payload = Buffer.alloc(0)) {
  payload = Buffer.from(payload);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  let head;
  if (payload.length < 126) head = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
  else { head = Buffer.from([0x80 | opcode, 0x80 | 126, 0, 0]); head.writeUInt16BE(payload.length, 2); }
  return Buffer.concat([head, mask, masked]);
}

// A client frame of any length, FIN set unless `fin` is false (a fragment that more follow).
function bigFrame(opcode, payload, fin = true) {
  payload = Buffer.from(payload);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  const first = (fin ? 0x80 : 0) | opcode;
  let head;
  if (payload.length < 126) head = Buffer.from([first, 0x80 | payload.length]);
  else if (payload.length < 65536) { head = Buffer.from([first, 0x80 | 126, 0, 0]); head.writeUInt16BE(payload.length, 2); }
  else { head = Buffer.alloc(10); head[0] = first; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(payload.length), 2); }
  return Buffer.concat([head, mask, masked]);
}
// `buffer` cut into pieces of `size` bytes.
const pieces = (buffer, size) => Array.from({ length: Math.ceil(buffer.length / size) },
  (_, i) => buffer.subarray(i * size, (i + 1) * size));

// A raw websocket over TCP: the upgrade is written and its 101 read; then the caller decides whether to read.
async function rawWebsocket(port, eio) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  sock.on('error', () => {});
  sock.write(`GET /socket.io/?EIO=${eio}&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n` +
    'Sec-WebSocket-Version: 13\r\n\r\n');
  let got = '';
  await new Promise((resolve) => {
    const on = (d) => { got += d.toString('latin1'); if (got.includes('"sid"')) { sock.off('data', on); resolve(); } };
    sock.on('data', on);
  });
  assert.match(got, /^HTTP\/1\.1 101/);
  sock.ended = new Promise((r) => sock.once('close', r));
  return sock;
}

// Writes `chunk` again and again, as fast as the socket takes it, until `total` bytes went out or the server
// closed the connection; returns the bytes written.
async function flood(sock, chunk, total) {
  let sent = 0, gone = false;
  sock.ended.then(() => { gone = true; });
  while (sent < total && !gone) {
    const more = sock.write(chunk);
    sent += chunk.length;
    if (!more) await Promise.race([new Promise((r) => sock.once('drain', r)), sock.ended]);
  }
  return sent;
}

for (const [name, eio, ping] of [
  ['websocket PING frames', 4, frame(0x9)],
  ['Engine.IO 3 ping packets', 3, frame(0x1, '2')],
]) {
  test(`a client that floods ${name} and never reads is cut off as too slow; memory stays bounded; others are served`, async () => {
    const srv = await start({ plugins: ['socketio', 'echo', 'admin-http'],
      config: { socketio: { max_queue_bytes: 262144 } } });
    const other = await socketio(srv.port);
    const sock = await rawWebsocket(srv.port, eio);
    if (eio === 4) sock.write(frame(0x1, '40'));
    sock.pause();  // never reads again: the replies pile up on the server's side
    const before = rss(srv);
    const from = srv.log.length;
    const chunk = Buffer.concat(Array(10000).fill(ping));
    let flooding = true;
    const flooded = flood(sock, chunk, 200 * 1024 * 1024).finally(() => { flooding = false; });
    // Another client is answered while the flood goes on, and after it.
    const times = [];
    for (let i = 0; flooding || times.length < 3; i++) {
      const t0 = Date.now();
      other.send(`42${i}["echo",${i}]`);
      await until(() => other.received.includes(`43${i}[${i}]`), `echo ${i} during the flood`, 5000 * TIME_FACTOR, 5);
      times.push(Date.now() - t0);
      await sleep(20);
    }
    assert.ok(Math.max(...times) < 1000 * TIME_FACTOR, `echoes took ${times.join(', ')} ms`);
    const sent = await flooded;
    await srv.waitLog(/closed: too slow/, 10000 * TIME_FACTOR, from);
    await Promise.race([sock.ended, sleep(5000)]);
    const grown = rss(srv) - before;
    // Before, every reply was held uncounted: 643 MB after 75 MB of pings. Now the queue's bound holds.
    assert.ok(grown < 24 * 1024 * 1024, `RSS grew by ${grown} bytes after ${sent} bytes of pings`);
    const metrics = await (await fetch(`http://127.0.0.1:${srv.adminPort}/metrics`)).text();
    assert.match(metrics, /yunity_socketio_disconnects_total\{reason="too slow"\} 1/);
    sock.destroy();
    other.close();
  });
}

test('input held partly read counts against max_queue_bytes: a large message sent slowly by a client that never reads', async () => {
  // max_payload stays at its 1,000,000: only the connection's bound, 256 KB here, stops these before they end.
  // Before, each was held whole (up to max_payload apiece, and the attachments beside a message in progress).
  const srv = await start({ plugins: ['socketio', 'admin-http'], config: { socketio: { max_queue_bytes: 262144 } } });
  const size = 16384;
  const shapes = {
    // One message in 40 fragments of 16 KB (655 KB), never finished.
    fragments: () => [bigFrame(0x1, `42["x","${'z'.repeat(size)}`, false),
      ...Array.from({ length: 39 }, () => bigFrame(0x0, 'z'.repeat(size), false))],
    // One frame of 900 KB, 16 KB at a time, 800 KB of it.
    'one frame': () => pieces(bigFrame(0x1, `4${'z'.repeat(900000)}`).subarray(0, 800000), size),
    // A binary event's attachments: the first (200 KB) whole, the second (600 KB) on its way, 16 KB at a time.
    attachments: () => [bigFrame(0x1, '452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'),
      bigFrame(0x2, Buffer.alloc(200000, 1)), ...pieces(bigFrame(0x2, Buffer.alloc(600000, 2)).subarray(0, 500000), size)],
  };
  for (const [name, shape] of Object.entries(shapes)) {
    const sock = await rawWebsocket(srv.port, 4);
    sock.write(frame(0x1, '40'));
    sock.pause();  // never reads
    const from = srv.log.length;
    let sent = 0, gone = false;
    sock.ended.then(() => { gone = true; });
    for (const piece of shape()) {
      if (gone) break;
      sock.write(piece);
      sent += piece.length;
      await sleep(10);
    }
    const cut = await Promise.race([sock.ended.then(() => true), sleep(5000 * TIME_FACTOR).then(() => false)]);
    assert.ok(cut, `${name}: the connection was not cut (${sent} bytes sent)`);
    assert.ok(sent < 600000, `${name}: cut only after ${sent} bytes`);
    await srv.waitLog(/closed: too slow \(over 262144 bytes queued or partly read\)/, 2000, from);
    sock.destroy();
  }
  const metrics = await (await fetch(`http://127.0.0.1:${srv.adminPort}/metrics`)).text();
  assert.match(metrics, /yunity_socketio_disconnects_total\{reason="too slow"\} 3/);
});

test('a client that sends without pause gets its share of the loop: another client and the admin port still answered', async () => {
  // Each connection reads at most 256 KB per turn of the loop (plain_websocket.cpp, max_reads_per_turn). Without that
  // bound a client sending faster than the server parses holds the loop as long as it keeps sending.
  const srv = await start({ plugins: ['socketio', 'echo', 'admin-http'] });
  const other = await socketio(srv.port);
  const sock = await rawWebsocket(srv.port, 4);
  sock.write(frame(0x1, '40'));
  // Valid events that no plugin answers, 1 KB each, written as fast as the socket takes them.
  const chunk = Buffer.concat(Array(1024).fill(frame(0x1, `42["flood","${'f'.repeat(1000)}"]`)));
  let flooding = true, flooded = 0, gone = false;
  sock.ended.then(() => { gone = true; });
  const flooder = (async () => {
    while (flooding && !gone) {
      flooded += chunk.length;
      if (!sock.write(chunk)) await Promise.race([new Promise((r) => sock.once('drain', r)), sock.ended]);
    }
  })();
  const began = Date.now();
  await sleep(300);
  const echoes = [], admin = [];
  for (let i = 0; i < 10; i++) {
    let t0 = Date.now();
    other.send(`42${i}["echo",${i}]`);
    await until(() => other.received.includes(`43${i}[${i}]`), `echo ${i}`, 20000 * TIME_FACTOR, 5);
    echoes.push(Date.now() - t0);
    t0 = Date.now();
    assert.equal((await fetch(`http://127.0.0.1:${srv.adminPort}/metrics`)).status, 200);
    admin.push(Date.now() - t0);
    await sleep(50);
  }
  const seconds = (Date.now() - began) / 1000;
  flooding = false;
  await flooder;
  assert.ok(!gone, 'the flooding client was served, not cut');
  // The flood was one: tens of MB while the others were being answered (a sanitizer build parses it slower).
  assert.ok(flooded > 20e6 / TIME_FACTOR, `only ${flooded} bytes flooded in ${seconds} s`);
  const bound = 500 * TIME_FACTOR;
  assert.ok(Math.max(...echoes) < bound, `echoes took ${echoes.join(', ')} ms during the flood`);
  assert.ok(Math.max(...admin) < bound, `the admin port took ${admin.join(', ')} ms during the flood`);
  sock.destroy();
  other.close();
});

test('a probing websocket that repeats its probe and never reads is dropped as too slow; polling goes on', async () => {
  const srv = await start({ plugins: ['socketio', 'admin-http'], config: { socketio: { max_queue_bytes: 65536 } } });
  const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
  const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
  await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40' });
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.on('error', () => {});
  sock.ended = new Promise((r) => sock.once('close', r));
  sock.write(`GET /socket.io/?EIO=4&transport=websocket&sid=${sid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n` +
    'Sec-WebSocket-Version: 13\r\n\r\n');
  sock.pause();
  await flood(sock, Buffer.concat(Array(5000).fill(frame(0x1, '2probe'))), 100 * 1024 * 1024);
  const cut = await Promise.race([sock.ended.then(() => true), sleep(5000 * TIME_FACTOR).then(() => false)]);
  assert.ok(cut, 'the probing websocket was cut');
  // The session itself is still there, over polling: its CONNECT answer waits for the next GET.
  const r = await fetch(`${base}&sid=${sid}`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^40\{"sid"/);
  sock.destroy();
});

// A polling handshake from `localAddress` (the loopback range gives a test many client addresses).
function handshake(port, { eio = 4, localAddress = '127.0.0.1', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, localAddress, headers, agent: false,
      path: `/socket.io/?EIO=${eio}&transport=polling` }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}
const metricsOf = async (srv) => (await fetch(`http://127.0.0.1:${srv.adminPort}/metrics`)).text();
const metric = (text, re) => Number((re.exec(text) ?? [])[1]);

test('a flood of bare handshakes from one address holds at most its pending share; other addresses get in', async () => {
  // The defaults: 64 sessions per address before their CONNECT, 1000 in all.
  const srv = await start({ plugins: ['socketio', 'admin-http'] });
  const statuses = [];
  for (let i = 0; i < 100; i++) statuses.push((await handshake(srv.port)).status);
  assert.equal(statuses.filter((s) => s === 200).length, 64);
  assert.ok(statuses.slice(64).every((s) => s === 503), statuses.join(','));
  // Another address is not locked out, over polling or websocket, and a real client connects and stays.
  assert.equal((await handshake(srv.port, { localAddress: '127.0.0.2' })).status, 200);
  const m = await metricsOf(srv);
  assert.equal(metric(m, /yunity_socketio_refused_total\{limit="max_pending_per_address"\} (\d+)/), 36);
  assert.equal(metric(m, /yunity_socketio_pending_sessions (\d+)/), 65);
});

// A raw TCP connection from `localAddress` that sends nothing; `gone` resolves when the server closes it.
async function idle(port, localAddress = '127.0.0.1') {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  sock.on('error', () => {});
  sock.gone = new Promise((r) => sock.once('close', () => r(true)));
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  return sock;
}
const unboundOf = async (srv) => metric(await metricsOf(srv), /yunity_socketio_unbound_connections (\d+)/);

test('connections without a session: max_unbound_per_address per address, closed at once beyond; others get in', async () => {
  // The default: 64. Before, one address could hold any number, each for request_timeout_ms, and so every file
  // descriptor.
  const srv = await start({ plugins: ['socketio', 'admin-http'] });
  const held = [];
  for (let i = 0; i < 64; i++) held.push(await idle(srv.port));
  await until(async () => (await unboundOf(srv)) === 64, '64 connections counted', 3000);
  const t0 = Date.now();
  const extra = await idle(srv.port);
  assert.equal(await Promise.race([extra.gone, sleep(2000).then(() => false)]), true, 'the 65th is closed at once');
  assert.ok(Date.now() - t0 < 2000);
  // Another address is not locked out.
  assert.equal((await handshake(srv.port, { localAddress: '127.0.0.2' })).status, 200);
  let m = await metricsOf(srv);
  assert.equal(metric(m, /yunity_socketio_refused_total\{limit="max_unbound_per_address"\} (\d+)/), 1);
  await srv.waitLog(/closing new connections at once: max_unbound_per_address \(64 connections without a session\) reached for 127\.0\.0\.1/);
  // A connection that made its handshake counts with its session from then on (kept alive, it is not counted
  // again), and one closed gives its slot back: room for two more.
  held[0].write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
  held[1].destroy();
  await until(async () => (await unboundOf(srv)) === 62, 'two slots given back', 3000);
  const more = [await idle(srv.port), await idle(srv.port)];
  const third = await idle(srv.port);
  assert.equal(await Promise.race([third.gone, sleep(2000).then(() => false)]), true, 'full again');
  for (const s of more) assert.equal(await Promise.race([s.gone, sleep(300).then(() => false)]), false);
  m = await metricsOf(srv);
  assert.equal(metric(m, /yunity_socketio_refused_total\{limit="max_unbound_per_address"\} (\d+)/), 2);
  for (const s of [...held, ...more]) s.destroy();
  await until(async () => (await unboundOf(srv)) === 0, 'every slot given back', 3000);
});

test('pending sessions live only connect_timeout_ms; a CONNECT takes a session out of the pending count', async () => {
  const srv = await start({ plugins: ['socketio', 'admin-http'],
    config: { socketio: { max_pending_per_address: 3, connect_timeout_ms: 500 } } });
  const sids = [];
  for (let i = 0; i < 3; i++) sids.push(JSON.parse((await handshake(srv.port)).body.slice(1)).sid);
  assert.equal((await handshake(srv.port)).status, 503);
  // A CONNECT frees a pending slot at once.
  await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling&sid=${sids[0]}`, { method: 'POST', body: '40' });
  await until(async () => (await handshake(srv.port)).status === 200, 'a pending slot', 2000);
  // The rest expire.
  await until(async () => metric(await metricsOf(srv), /yunity_socketio_pending_sessions (\d+)/) === 0,
    'pending sessions to expire', 3000 * TIME_FACTOR);
  for (let i = 0; i < 3; i++) assert.equal((await handshake(srv.port)).status, 200);
});

test('Engine.IO 3 sessions (connected at once) are held by max_connections_per_address, 1000 by default', async () => {
  const srv = await start({ plugins: ['socketio', 'admin-http'] });
  let ok = 0, refused = 0;
  for (let i = 0; i < 1010; i++) ((await handshake(srv.port, { eio: 3 })).status === 200 ? ok++ : refused++);
  assert.deepEqual([ok, refused], [1000, 10]);
  assert.equal((await handshake(srv.port, { eio: 3, localAddress: '127.0.0.3' })).status, 200);
  const m = await metricsOf(srv);
  assert.equal(metric(m, /yunity_socketio_refused_total\{limit="max_connections_per_address"\} (\d+)/), 10);
});

test('behind a trusted proxy the limits count X-Forwarded-For addresses; from anyone else the header is ignored', async () => {
  const srv = await start({ plugins: ['socketio', 'admin-http'],
    config: { socketio: { max_pending_per_address: 2, trusted_proxies: ['127.0.0.1'] } } });
  const via = (client) => handshake(srv.port, { headers: { 'x-forwarded-for': `6.6.6.6, ${client}` } });
  assert.equal((await via('198.51.100.1')).status, 200);
  assert.equal((await via('198.51.100.1')).status, 200);
  assert.equal((await via('198.51.100.1')).status, 503);
  assert.equal((await via('198.51.100.2')).status, 200);
  // The report shows the forwarded address (a protocol 4 session is reported from its handshake on).
  const v3 = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: srv.port, agent: false,
    headers: { 'x-forwarded-for': '203.0.113.9' }, path: '/socket.io/?EIO=3&transport=polling' }, resolve));
  v3.resume();
  await until(async () => (await (await fetch(`http://127.0.0.1:${srv.adminPort}/`)).json()).connections
    .some((c) => c.handshake.address === '203.0.113.9'), 'the forwarded address in the report', 2000);

  // Not trusted: the header is the client's own claim, and changes nothing.
  const plain = await start({ plugins: ['socketio', 'admin-http'], config: { socketio: { max_pending_per_address: 1 } } });
  assert.equal((await handshake(plain.port, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status, 200);
  assert.equal((await handshake(plain.port, { headers: { 'x-forwarded-for': '198.51.100.2' } })).status, 503);
});

// A socket.io client over a raw websocket: sends packets as text, collects what comes back.
async function socketio(port, { tls, ca } = {}) {
  const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { ca });
  ws.received = [];
  ws.on('message', (d) => ws.received.push(d.toString()));
  ws.on('error', () => {});
  ws.gone = new Promise((r) => ws.once('close', (code) => r(code)));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send('40');
  await until(() => ws.received.some((m) => m.startsWith('40{')), 'CONNECT answer', 3000);
  return ws;
}
const nested = (n) => '['.repeat(n) + ']'.repeat(n);

test('nested JSON: within 64 levels it is echoed back whole; deeper closes the session; the server goes on', async () => {
  const srv = await start({ plugins: ['socketio', 'echo'] });
  const ok = await socketio(srv.port);
  ok.send(`421["echo",${nested(60)}]`);
  await until(() => ok.received.includes(`431[${nested(60)}]`), 'the echo', 3000);
  // The quiz: the client's answer to the server's question goes back out in an emit, nested as sent.
  ok.send('42["quiz"]');
  await until(() => ok.received.some((m) => m.startsWith('42') && m.includes('"question"')), 'the question', 3000);
  const id = /^42(\d+)\["question"/.exec(ok.received.find((m) => m.includes('"question"')))[1];
  ok.send(`43${id}[${nested(60)}]`);
  await until(() => ok.received.includes(`42["answered",${nested(60)}]`), 'the answer echoed', 3000);
  ok.close();

  for (const attack of [`421["echo",${nested(100000)}]`, `42["quiz",${nested(100000)}]`]) {
    const from = srv.log.length;
    const bad = await socketio(srv.port);
    bad.send(attack);
    await bad.gone;
    await srv.waitLog(/nested deeper than 64 levels; closing/, 3000, from);
  }
  assert.equal(srv.proc.exitCode, null);
  const after = await socketio(srv.port);
  after.send('422["echo","still here"]');
  await until(() => after.received.includes('432["still here"]'), 'an echo after the attacks', 3000);
  after.close();
});

// A raw Engine.IO 4 websocket, opened but not yet joined to any namespace: the test writes the CONNECT.
async function engineio(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  ws.received = [];
  ws.on('message', (d, binary) => ws.received.push(binary ? d : d.toString()));
  ws.on('error', () => {});
  ws.gone = new Promise((r) => ws.once('close', (code) => r(code)));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  await until(() => ws.received.some((m) => typeof m === 'string' && m.startsWith('0{')), 'the open packet', 3000);
  return ws;
}
const placeholder = '{"_placeholder":true,"num":0}';
const around = (n, inner) => '['.repeat(n) + inner + ']'.repeat(n);

test('nested JSON in a CONNECT\'s auth or around a binary placeholder: past 64 levels the connection closes, others go on', async () => {
  const srv = await start({ plugins: ['socketio', 'echo'] });
  const bystander = await socketio(srv.port);  // connected throughout: the attacks must not disturb it

  // Within the limit (the outer object or array is level 1): the CONNECT is answered, on "/" and on /chat, whose
  // hook (examples/echo) gets the auth; a binary echo comes back with its placeholder where it was, and its bytes.
  const ok = await engineio(srv.port);
  ok.send(`40{"a":${nested(63)}}`);
  await until(() => ok.received.some((m) => typeof m === 'string' && m.startsWith('40{"sid"')), 'CONNECT of /', 3000);
  ok.send(`40/chat,{"token":"t","a":${nested(63)}}`);
  await until(() => ok.received.some((m) => typeof m === 'string' && m.startsWith('40/chat,{"sid"')), 'CONNECT of /chat', 3000);
  ok.send(`451-7["echo",${around(62, placeholder)}]`);
  ok.send(Buffer.from([1, 2, 3]));
  await until(() => ok.received.includes(`461-7[${around(62, placeholder)}]`), 'the binary echo', 3000);
  await until(() => ok.received.some((m) => Buffer.isBuffer(m) && m.equals(Buffer.from([1, 2, 3]))), 'its bytes', 3000);
  ok.close();

  // One level more (65), and far more: the packet is refused before anything reads it; the connection closes.
  const attacks = [];
  for (const depth of [64, 100000]) {
    attacks.push({ packets: [`40{"a":${nested(depth)}}`] },
      { packets: [`40/chat,{"token":"t","a":${nested(depth)}}`] },
      { join: true, packets: [`451-1["echo",${around(depth - 1, placeholder)}]`, Buffer.from([1, 2, 3])] },
      { join: true, packets: [`452-2["echo",${placeholder},${around(depth - 1, '{"_placeholder":true,"num":1}')}]`,
        Buffer.from([1]), Buffer.from([2])] });
  }
  for (const { join, packets } of attacks) {
    const what = `${packets[0].slice(0, 30)}... (${packets[0].length} bytes)`;
    const from = srv.log.length;
    const bad = await engineio(srv.port);
    if (join) {
      bad.send('40');
      await until(() => bad.received.some((m) => typeof m === 'string' && m.startsWith('40{"sid"')), 'CONNECT', 3000);
    }
    const seen = bad.received.length;
    for (const p of packets) bad.send(p);
    const code = await Promise.race([bad.gone, sleep(3000 * TIME_FACTOR).then(() => 'still open')]);
    assert.notEqual(code, 'still open', `${what} closes the connection`);
    await srv.waitLog(/malformed Socket\.IO packet: invalid payload: nested deeper than 64 levels; closing/, 3000, from);
    assert.deepEqual(bad.received.slice(seen).filter((m) => typeof m !== 'string' || m.startsWith('4')), [],
      `${what}: nothing answered`);
  }

  // Over polling too: the CONNECT closes the session, whose sid is then unknown.
  const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
  const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
  await fetch(`${base}&sid=${sid}`, { method: 'POST', body: `40{"a":${nested(100000)}}` });
  await until(async () => (await fetch(`${base}&sid=${sid}`)).status === 400, 'the polling session to close', 3000);

  assert.equal(srv.proc.exitCode, null);
  bystander.send('421["echo","still here"]');
  await until(() => bystander.received.includes('431["still here"]'), 'the bystander\'s echo', 3000);
  const after = await socketio(srv.port);
  after.send('422["echo","after"]');
  await until(() => after.received.includes('432["after"]'), 'an echo after the attacks', 3000);
  after.close();
  bystander.close();
});

test('attachments behind an ack that overflows a polling queue: the session closes, nothing more is sent', async () => {
  // The ack of a large binary echo is over the queue limit at its text frame: the session closes there, and the
  // attachments that followed were once written through the closed, released session (a use after free).
  const srv = await start({ plugins: ['socketio', 'echo'], config: { socketio: { max_queue_bytes: 4096 } } });
  const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
  for (let round = 0; round < 20; round++) {
    const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
    await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40' });
    assert.match(await (await fetch(`${base}&sid=${sid}`)).text(), /^40\{"sid"/);
    const big = 'x'.repeat(8000);
    const body = `451-0["echo","${big}",{"_placeholder":true,"num":0}]\x1ebAQIDBA==`;
    assert.equal((await fetch(`${base}&sid=${sid}`, { method: 'POST', body })).status, 200);
    // No poll waits meanwhile: a waiting poll's flush would hold the session, and hide a use after free.
    await sleep(100 * TIME_FACTOR);
    await until(async () => (await fetch(`${base}&sid=${sid}`)).status === 400, 'the session to close', 3000);
  }
  assert.match(srv.log, /closed: too slow/);
  assert.equal(srv.proc.exitCode, null);
  assert.equal((await fetch(base)).status, 200);
});

function certificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-hardening-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')],
    ca: fs.readFileSync(path.join(dir, 'cert.pem')) };
}

test('TLS: a session closed while a large frame is being written finishes that frame, then closes with 1000', async () => {
  const { args, ca } = certificate();
  // An echo far larger than what the kernel's socket buffers take on loopback while the client does not read.
  const size = 15000000;
  const srv = await start({ plugins: ['socketio', 'echo', 'admin-http'], args,
    config: { socketio: { max_payload: 16000000, max_queue_bytes: 64000000 } } });
  const sentTotal = async () => metric(await metricsOf(srv), /yunity_socketio_bytes_sent_total (\d+)/);
  const text = 'y'.repeat(size);
  for (let round = 0; round < 3; round++) {
    const ws = await socketio(srv.port, { tls: true, ca });
    const before = await sentTotal();
    // The client reads until the first bytes of the echo are in (its write has begun), then stops reading.
    let received = 0;
    const started = new Promise((resolve) => {
      const onData = (d) => {
        received += d.length;
        if (received < 65536) return;
        ws._socket.pause();
        ws._socket.off('data', onData);
        resolve();
      };
      ws._socket.on('data', onData);
    });
    ws.send(`420["echo","${text}"]`);
    await Promise.race([started, sleep(20000 * TIME_FACTOR).then(() => { throw new Error('no echo began'); })]);
    // The server's writes stall once the kernel's buffers are full, with the rest of the frame still its own: what
    // it has handed to TLS stops growing, short of the frame.
    let last = -1, now = await sentTotal();
    while (now !== last) { last = now; await sleep(300); now = await sentTotal(); }
    assert.ok(now - before < size, `the echo was written whole (${now - before} bytes) before the close: no write in flight`);
    ws.send('1');  // Engine.IO close: the session closes with its write in flight
    await sleep(200);
    ws._socket.resume();  // the write resumes from its buffer, which must still be there
    // As designed: the frame being written is finished, then the close frame (1000) follows; what else was queued is
    // dropped. Once, the frame's buffer was freed mid-write and the stream broke.
    const code = await Promise.race([ws.gone, sleep(20000 * TIME_FACTOR).then(() => 'timeout')]);
    assert.equal(code, 1000);
    const echoes = ws.received.filter((m) => m.startsWith('430'));
    assert.equal(echoes.length, 1, 'the echo arrived');
    assert.ok(echoes[0] === `430["${text}"]`, `the echo arrived whole (${echoes[0].length} characters)`);
  }
  assert.equal(srv.proc.exitCode, null);
  const again = await socketio(srv.port, { tls: true, ca });
  again.send('421["echo","after"]');
  await until(() => again.received.includes('431["after"]'), 'an echo after', 3000);
  again.close();
});

test('TLS: the per-address limits hold over https and wss too', async () => {
  const { args, ca } = certificate();
  const srv = await start({ plugins: ['socketio'], args, config: { socketio: { max_connections_per_address: 2 } } });
  const { default: https } = await import('node:https');
  const get = () => new Promise((resolve, reject) => https.get({ host: '127.0.0.1', port: srv.port, ca, agent: false,
    path: '/socket.io/?EIO=3&transport=polling' }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject));
  assert.deepEqual([await get(), await get(), await get()], [200, 200, 503]);
  const status = await new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=websocket`, { ca });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', () => {});
  });
  assert.equal(status, 503);
});

test('TLS: max_connections (503, Retry-After, a slot freed by a close), the pending cap, X-Forwarded-For, idle connections', async () => {
  const { args, ca } = certificate();
  const { default: https } = await import('node:https');
  const request = (srv, { method = 'GET', path = '/socket.io/?EIO=4&transport=polling', headers = {}, body,
    localAddress } = {}) => new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: srv.port, ca, agent: false, method, path, headers, localAddress },
      (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, retry: res.headers['retry-after'], text }));
      });
    req.on('error', reject);
    req.end(body);
  });
  const sidOf = (r) => JSON.parse(r.text.slice(1)).sid;
  const wss = (srv, headers = {}) => new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=websocket`, { ca, headers });
    ws.on('unexpected-response', (req, res) => { resolve({ status: res.statusCode, retry: res.headers['retry-after'] }); req.destroy(); });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('error', () => {});
  });

  // max_connections: 503 with Retry-After over https and wss; a session closed over TLS frees its slot.
  const full = await start({ plugins: ['socketio', 'admin-http'], args, config: { socketio: { max_connections: 2 } } });
  const a = await request(full);
  const b = await wss(full);
  assert.deepEqual([a.status, b.status], [200, 101]);
  const refused = await request(full);
  assert.deepEqual([refused.status, refused.retry, JSON.parse(refused.text)], [503, '5', { code: 3, message: 'Server full' }]);
  assert.deepEqual(await wss(full), { status: 503, retry: '5' });
  assert.equal((await request(full, { method: 'POST', path: `/socket.io/?EIO=4&transport=polling&sid=${sidOf(a)}`,
    body: '1' })).status, 200);
  const c = await wss(full);
  assert.equal(c.status, 101);
  b.ws.close();  // the websocket's close frees its slot too
  await until(async () => (await request(full)).status === 200, 'the websocket\'s slot', 3000);
  c.ws.close();
  assert.equal(metric(await metricsOf(full), /yunity_socketio_refused_total\{limit="max_connections"\} (\d+)/), 2);

  // The pending cap, by X-Forwarded-For from a trusted proxy, over https and wss; from another peer the header is
  // the client's own claim and changes nothing.
  const proxied = await start({ plugins: ['socketio'], args,
    config: { socketio: { max_pending_per_address: 2, trusted_proxies: ['127.0.0.1'] } } });
  const via = (client) => ({ 'x-forwarded-for': `6.6.6.6, ${client}` });
  assert.equal((await request(proxied, { headers: via('198.51.100.1') })).status, 200);
  assert.equal((await wss(proxied, via('198.51.100.1'))).status, 101);
  assert.equal((await request(proxied, { headers: via('198.51.100.1') })).status, 503);
  assert.equal((await wss(proxied, via('198.51.100.1'))).status, 503);
  assert.equal((await request(proxied, { headers: via('198.51.100.2') })).status, 200);
  assert.equal((await wss(proxied, via('198.51.100.3'))).status, 101);
  const untrusted = (client) => request(proxied, { localAddress: '127.0.0.2', headers: via(client) });
  assert.deepEqual([(await untrusted('198.51.100.4')).status, (await untrusted('198.51.100.5')).status,
    (await untrusted('198.51.100.6')).status], [200, 200, 503]);

  // Connections that never start their TLS handshake count as connections without a session.
  const capped = await start({ plugins: ['socketio', 'admin-http'], args, config: { socketio: { max_unbound_per_address: 3 } } });
  const idles = [await idle(capped.port), await idle(capped.port), await idle(capped.port)];
  await until(async () => (await unboundOf(capped)) === 3, 'three connections counted', 3000);
  const extra = await idle(capped.port);
  assert.equal(await Promise.race([extra.gone, sleep(2000).then(() => false)]), true, 'the fourth is closed at once');
  assert.equal((await request(capped, { localAddress: '127.0.0.2' })).status, 200);
  for (const s of idles) s.destroy();
  await until(async () => (await unboundOf(capped)) === 0, 'the slots given back', 3000);
  assert.equal((await request(capped)).status, 200);
});

test('client port: with allowed_origins set, a request without Origin is judged by its Referer; JSONP needs one', async () => {
  const srv = await start({ plugins: ['socketio'],
    config: { socketio: { allowed_origins: ['https://good.example'], jsonp: true } } });
  const get = async (query, headers = {}) => (await fetch(`${srv.url}/socket.io/?${query}`, { headers })).status;
  assert.equal(await get('EIO=3&transport=polling&j=0'), 403);  // a script tag whose page hid itself
  assert.equal(await get('EIO=3&transport=polling&j=0', { referer: 'https://evil.example/page' }), 403);
  assert.equal(await get('EIO=3&transport=polling&j=0', { referer: 'https://good.example/chat' }), 200);
  assert.equal(await get('EIO=4&transport=polling', { referer: 'https://evil.example/' }), 403);
  assert.equal(await get('EIO=4&transport=polling', { origin: 'https://evil.example' }), 403);
  assert.equal(await get('EIO=4&transport=polling'), 200);  // not a browser: a native or server-side client

  // JSONP is off unless asked for.
  const plain = await start({ plugins: ['socketio'] });
  const r = await fetch(`${plain.url}/socket.io/?EIO=3&transport=polling&j=0`);
  assert.equal(r.status, 400);
});

test('cookie sessions with every origin allowed: a warning at startup names the risk', async () => {
  const redis = await Redis.start();
  cleanup.push(() => redis.stop());
  const open = await start({ redis, config: { 'redis-session': { cookie: 'sessionid' } } });
  assert.match(open.log, /\[redis-session\].*sessions are taken from the "sessionid" cookie while the socketio plugin allows every origin/);
  const closed = await start({ redis, config: { 'redis-session': { cookie: 'sessionid' },
    socketio: { allowed_origins: ['https://good.example'] } } });
  assert.doesNotMatch(closed.log, /allows every origin/);
});

// The SDK's example plugin that logs every event through describe(), as a plugin's throwing handler does too.
const EVENT_LOGGER = path.resolve(path.dirname(BIN), '../tests/plugins/event-logger.so');

test('session ids and Engine.IO sids never appear in the log, at debug level, through login and logout', async () => {
  const redis = await Redis.start();
  cleanup.push(() => redis.stop());
  // The stock plugins, and the event logger: every event crosses the log at info level through describe().
  const srv = await start({ redis, plugins: ['socketio', 'redis-session', 'redis-pubsub', 'admin-http', EVENT_LOGGER] });
  await srv.waitLog(/redis: subscribed to notifications/);
  const session = `secret${Math.random().toString(36).slice(2)}`;
  const ids = [];
  for (const version of [2, 4]) {
    const s = await connect(version, srv.url, { transports: ['polling'] }, session);
    try {
      // An Engine.IO 3 client's sid is its public id (socket.id) too; a Socket.IO 5 client has both.
      ids.push(s.io.engine.id, s.id);
      await redis.command('SET', `session-store-${session}`, 'u-secret');
      await srv.waitMembership(session, 'u-secret');
      await redis.command('DEL', `session-store-${session}`);
      await srv.waitMembership(session, null);
      s.emit('authenticate', { sessionId: 'x'.repeat(5000) });  // unusable: ignored, and not logged either
      await sleep(100);
    } finally { s.close(); }
  }
  await srv.waitLog(/\[event-logger\].*MembershipChanged #\d+ .*user "u-secret"[^]*\[event-logger\].*MembershipChanged #\d+ .*user "u-secret"/);
  assert.match(srv.log, /SessionResolved|with a session/);  // debug lines about sessions were written...
  assert.ok(!srv.log.includes(session), 'the session id is not logged');  // ...without the id
  for (const id of ids) assert.ok(!srv.log.includes(id), `the sid or public id ${id} is not logged`);
  // The event logger described each event that carries a session id or a public id, saying only their lengths.
  for (const line of [/\[event-logger\].*ConnectionOpened #\d+ \(a public id of 20 characters\) polling EIO 3/,
    /\[event-logger\].*ConnectionOpened #\d+ \(a public id of 20 characters\) polling EIO 4/,
    /\[event-logger\].*Authenticate #\d+ \(a session id of \d+ characters\)/,
    /\[event-logger\].*SessionResolved \(a session id of \d+ characters\) -> "u-secret"/,
    /\[event-logger\].*MembershipChanged #\d+ \(a session id of \d+ characters\) user "u-secret"/])
    assert.match(srv.log, line);
});
