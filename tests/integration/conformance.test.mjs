// The behaviour the official protocol suites check (socketio/engine.io-protocol test-suite for Engine.IO 4, its
// v3 branch for Engine.IO 3, socketio/socket.io-protocol for Socket.IO 5), in the project's own words, with raw
// frames: plain Engine.IO on the conformance plugin's /engine.io/ echo path, Socket.IO 5 over Engine.IO 4 and
// Socket.IO 4 over Engine.IO 3 on /socket.io/. The server runs with examples/conformance/config.json, the
// settings those suites assume (pingInterval 300, pingTimeout 200, maxPayload 1000000, connectTimeout 1000).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Server, sleep } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

const CONFIG = path.resolve(import.meta.dirname, '../../examples/conformance/config.json');
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
let server, http, ws;

before(async () => {
  server = await Server.start({ args: ['--config', CONFIG] });
  http = server.url;
  ws = http.replace('http', 'ws');
});
after(async () => { await server?.stop(); });

// ---- helpers -------------------------------------------------------------------------------------------------

async function request(url, init = {}) {
  const res = await fetch(url, init);
  const buffer = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type') || '', buffer, body: buffer.toString() };
}

// Engine.IO 3's text payload: `<length>:<packet>` repeated; lengths count UTF-16 units.
function v3Packets(body) {
  const out = [];
  for (let i = 0; i < body.length;) {
    const colon = body.indexOf(':', i);
    const n = Number(body.slice(i, colon));
    out.push(body.slice(colon + 1, colon + 1 + n));
    i = colon + 1 + n;
  }
  return out;
}

function openPacket(version, body) {
  if (version === 4) return body;
  const packets = v3Packets(body);
  assert.equal(packets.length, 1);
  assert.equal(body, `${packets[0].length}:${packets[0]}`, 'the length prefix counts the packet');
  return packets[0];
}

async function pollingSession(version, eioPath, extra = '') {
  const r = await request(`${http}${eioPath}?EIO=${version}&transport=polling${extra}`);
  assert.equal(r.status, 200);
  return JSON.parse(openPacket(version, r.body).slice(1)).sid;
}

// A raw websocket whose messages queue up, so that none is missed between awaits. Pings ("2") are skipped by
// next() when `skipPings` is set, as the socket.io suite's waitForPackets does.
function socket(url) {
  const s = new WebSocket(url);
  s.binaryType = 'nodebuffer';
  s.inbox = [];
  s.waiters = [];
  s.closed = new Promise((resolve) => s.on('close', (code) => resolve(code)));
  s.on('error', () => {});
  s.on('message', (data, isBinary) => {
    const m = isBinary ? Buffer.from(data) : data.toString();
    const w = s.waiters.shift();
    if (w) w(m); else s.inbox.push(m);
  });
  s.next = (ms = 2000) => new Promise((resolve, reject) => {
    if (s.inbox.length) return resolve(s.inbox.shift());
    const t = setTimeout(() => reject(new Error('no message within ' + ms + ' ms')), ms);
    s.waiters.push((m) => { clearTimeout(t); resolve(m); });
  });
  s.nextNonPing = async (ms) => { for (;;) { const m = await s.next(ms); if (m !== '2') return m; } };
  s.opened = new Promise((resolve, reject) => { s.once('open', resolve); s.once('close', () => reject(new Error('closed before open'))); });
  s.opened.catch(() => {});  // only awaited by some tests
  return s;
}

async function closesWithin(s, ms) {
  const t = sleep(ms).then(() => 'still open');
  assert.notEqual(await Promise.race([s.closed, t]), 'still open', `the websocket should close within ${ms} ms`);
}

// ---- Engine.IO, versions 3 and 4, on the plugin's plain /engine.io/ path ---------------------------------------

for (const version of [3, 4]) {
  const E = '/engine.io/';
  const url = (q) => `${http}${E}?EIO=${version}&${q}`;
  const wsUrl = (q = '') => `${ws}${E}?EIO=${version}&transport=websocket${q}`;
  // Payload encoding of text packets for this version (the v3 test suite's sessions use b64=1 where binary matters).
  const payload = (...packets) => (version === 4 ? packets.join('\x1e') : packets.map((p) => `${p.length}:${p}`).join(''));
  const name = `Engine.IO ${version}`;

  test(`${name}: polling handshake has exactly the open packet's fields and the suite's timings`, async () => {
    const r = await request(url('transport=polling'));
    assert.equal(r.status, 200);
    const open = openPacket(version, r.body);
    assert.equal(open[0], '0');
    const value = JSON.parse(open.slice(1));
    const keys = ['sid', 'upgrades', 'pingInterval', 'pingTimeout'].concat(version === 4 ? ['maxPayload'] : []);
    assert.deepEqual(Object.keys(value).sort(), keys.sort());
    assert.equal(typeof value.sid, 'string');
    assert.deepEqual(value.upgrades, ['websocket']);
    assert.equal(value.pingInterval, PING_INTERVAL);
    assert.equal(value.pingTimeout, PING_TIMEOUT);
    if (version === 4) assert.equal(value.maxPayload, 1000000);
    // Compact JSON, as the suites' exact string comparisons need.
    assert.equal(open, '0' + JSON.stringify(value));
  });

  test(`${name}: a bad EIO, transport or handshake method is refused with 400`, async () => {
    for (const q of ['transport=polling']) assert.equal((await request(`${http}${E}?${q}`)).status, 400);
    assert.equal((await request(`${http}${E}?EIO=abc&transport=polling`)).status, 400);
    assert.equal((await request(url(''))).status, 400);
    assert.equal((await request(url('transport=abc'))).status, 400);
    assert.equal((await request(url('transport=polling'), { method: 'POST' })).status, 400);
    assert.equal((await request(url('transport=polling'), { method: 'PUT' })).status, 400);
  });

  test(`${name}: websocket handshake; bad EIO or transport closes the websocket`, async () => {
    const s = socket(wsUrl());
    const open = await s.next();
    assert.equal(open[0], '0');
    const value = JSON.parse(open.slice(1));
    assert.deepEqual(value.upgrades, []);
    assert.equal(value.pingInterval, PING_INTERVAL);
    assert.equal(value.pingTimeout, PING_TIMEOUT);
    s.close();
    for (const u of [`${ws}${E}?transport=websocket`, `${ws}${E}?EIO=abc&transport=websocket`, `${ws}${E}?EIO=${version}`,
      `${ws}${E}?EIO=${version}&transport=abc`]) {
      await closesWithin(socket(u), 2000);
    }
  });

  test(`${name}: polling echoes one text packet, then several in one payload`, async () => {
    const sid = await pollingSession(version, E);
    let r = await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: payload('4hello') });
    assert.deepEqual([r.status, r.body], [200, 'ok']);
    r = await request(url(`transport=polling&sid=${sid}`));
    assert.deepEqual([r.status, r.body], [200, payload('4hello')]);
    r = await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: payload('4test1', '4test2', '4test3') });
    assert.deepEqual([r.status, r.body], [200, 'ok']);
    r = await request(url(`transport=polling&sid=${sid}`));
    assert.equal(r.body, payload('4test1', '4test2', '4test3'));
  });

  test(`${name}: polling echoes text and binary packets in one payload`, async () => {
    // Version 4 carries binary as base64 `b...` in the text payload; version 3 with b64=1 as `b4...`.
    const sid = await pollingSession(version, E, version === 3 ? '&b64=1' : '');
    const body = version === 4 ? '4hello\x1ebAQIDBA==' : '6:4hello10:b4AQIDBA==';
    let r = await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body });
    assert.deepEqual([r.status, r.body], [200, 'ok']);
    r = await request(url(`transport=polling&sid=${sid}`));
    assert.equal(r.body, body);
  });

  if (version === 3) {
    test('Engine.IO 3: a session that supports binary gets the binary payload format back', async () => {
      const sid = await pollingSession(3, E);
      let r = await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: '6:4hello10:b4AQIDBA==' });
      assert.equal(r.status, 200);
      r = await request(url(`transport=polling&sid=${sid}`));
      assert.match(r.type, /application\/octet-stream/);
      assert.deepEqual([...r.buffer], [0, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4]);
    });
  }

  test(`${name}: a polling packet of a bad format closes the session`, async () => {
    const sid = await pollingSession(version, E);
    const r = await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: 'abc' });
    assert.equal(r.status, 400);
    assert.equal((await request(url(`transport=polling&sid=${sid}`))).status, 400);
  });

  test(`${name}: two polls at once close the session: the first gets a close packet, the second 400`, async () => {
    const sid = await pollingSession(version, E);
    const [first, second] = await Promise.all([
      request(url(`transport=polling&sid=${sid}`)),
      sleep(5).then(() => request(url(`transport=polling&sid=${sid}&t=burst`))),
    ]);
    assert.deepEqual([first.status, first.body], [200, payload('1')]);
    assert.equal(second.status, 400);
    assert.equal((await request(url(`transport=polling&sid=${sid}`))).status, 400);
  });

  test(`${name}: websocket echoes text and binary messages`, async () => {
    const s = socket(wsUrl());
    await s.next();
    s.send('4hello');
    assert.equal(await s.nextNonPing(), '4hello');
    // Version 4 binary frames are the bytes alone; version 3 prefixes the packet type (4).
    s.send(version === 4 ? Buffer.from([1, 2, 3, 4]) : Buffer.from([4, 1, 2, 3, 4]));
    const echoed = await s.nextNonPing();
    assert.ok(Buffer.isBuffer(echoed), 'a binary frame comes back');
    assert.deepEqual([...echoed], version === 4 ? [1, 2, 3, 4] : [4, 1, 2, 3, 4]);
    s.close();
  });

  test(`${name}: a websocket packet of a bad format closes the session`, async () => {
    const s = socket(wsUrl());
    await s.next();
    s.send('abc');
    await closesWithin(s, 2000);
  });

  if (version === 4) {
    test('Engine.IO 4: the server pings over polling and the client answers', async () => {
      const sid = await pollingSession(4, E);
      for (let i = 0; i < 3; i++) {
        const r = await request(url(`transport=polling&sid=${sid}`));
        assert.deepEqual([r.status, r.body], [200, '2']);
        assert.equal((await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: '3' })).status, 200);
      }
    });

    test('Engine.IO 4: the server pings over websocket and the client answers', async () => {
      const s = socket(wsUrl());
      await s.next();
      for (let i = 0; i < 3; i++) {
        assert.equal(await s.next(1000), '2');
        s.send('3');
      }
      s.close();
    });
  } else {
    test('Engine.IO 3: the client pings and the server answers with a pong, over polling and websocket', async () => {
      const sid = await pollingSession(3, E);
      for (let i = 0; i < 3; i++) {
        assert.equal((await request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: '1:2' })).status, 200);
        const r = await request(url(`transport=polling&sid=${sid}`));
        assert.equal(r.body, '1:3');
        await sleep(PING_INTERVAL);
      }
      const s = socket(wsUrl());
      await s.next();
      for (let i = 0; i < 3; i++) {
        s.send('2probe-not');
        assert.equal(await s.next(1000), '3probe-not');
        await sleep(PING_INTERVAL);
      }
      s.close();
    });
  }

  test(`${name}: a silent session is gone at pingInterval + pingTimeout`, async () => {
    const sid = await pollingSession(version, E);
    await sleep(PING_INTERVAL + PING_TIMEOUT + 50);
    assert.equal((await request(url(`transport=polling&sid=${sid}`))).status, 400);
    // The server counts from its handshake, which comes after this request and before the open packet reaches
    // us: the lower bound is measured from the request (a slow server must not make it look early).
    const requested = Date.now();
    const s = socket(wsUrl());
    await s.next();
    await closesWithin(s, PING_INTERVAL + PING_TIMEOUT + 500);
    assert.ok(Date.now() - requested >= PING_INTERVAL + PING_TIMEOUT - 5, 'not before pingInterval + pingTimeout');
  });

  test(`${name}: a close packet ends the session; a waiting poll is answered with a noop`, async () => {
    const sid = await pollingSession(version, E);
    const [poll, post] = await Promise.all([
      request(url(`transport=polling&sid=${sid}`)),
      request(url(`transport=polling&sid=${sid}`), { method: 'POST', body: payload('1') }),
    ]);
    assert.equal(post.status, 200);
    assert.deepEqual([poll.status, poll.body], [200, payload('6')]);
    assert.equal((await request(url(`transport=polling&sid=${sid}`))).status, 400);
    const s = socket(wsUrl());
    await s.next();
    s.send('1');
    await closesWithin(s, 2000);
  });

  test(`${name}: upgrade from polling to websocket, then polls get 400 and a second websocket is closed`, async () => {
    const sid = await pollingSession(version, E);
    const s = socket(wsUrl(`&sid=${sid}`));
    await s.opened;
    s.send('2probe');
    assert.equal(await s.next(), '3probe');
    const poll = await request(url(`transport=polling&sid=${sid}`));
    assert.deepEqual([poll.status, poll.body], [200, payload('6')]);
    s.send('5');
    s.send('4hello');
    assert.equal(await s.nextNonPing(), '4hello');
    assert.equal((await request(url(`transport=polling&sid=${sid}`))).status, 400);
    const second = socket(wsUrl(`&sid=${sid}`));
    await closesWithin(second, 2000);
    s.send('4still here');
    assert.equal(await s.nextNonPing(), '4still here');
    s.close();
  });

  test(`${name}: a sid is only valid on the path that opened it`, async () => {
    const sid = await pollingSession(version, E);
    const r = await request(`${http}/socket.io/?EIO=${version}&transport=polling&sid=${sid}`);
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 1, message: 'Session ID unknown' });
  });
}

// ---- Socket.IO 5 (Engine.IO 4) with raw frames ------------------------------------------------------------

const sio5 = () => `${ws}/socket.io/?EIO=4&transport=websocket`;

async function sio5Connected() {
  const s = socket(sio5());
  await s.next();  // Engine.IO open
  s.send('40');
  assert.match(await s.next(), /^40\{"sid":"[^"]+"\}$/);
  assert.equal(await s.next(), '42["auth",{}]');
  return s;
}

test('Socket.IO 5: CONNECT to / and /custom, with and without an auth payload', async () => {
  for (const [send, prefix, auth] of [['40', '40', '{}'], ['40{"token":"123"}', '40', '{"token":"123"}'],
    ['40/custom,', '40/custom,', '{}'], ['40/custom,{"token":"abc"}', '40/custom,', '{"token":"abc"}']]) {
    const s = socket(sio5());
    await s.next();
    s.send(send);
    const answer = await s.next();
    assert.ok(answer.startsWith(prefix), answer);
    assert.deepEqual(Object.keys(JSON.parse(answer.slice(prefix.length))), ['sid']);
    const nsp = prefix === '40' ? '' : '/custom,';
    assert.equal(await s.next(), `42${nsp}["auth",${auth}]`);
    s.close();
  }
});

test('Socket.IO 5: an unknown namespace is refused; a bad handshake or none closes the connection', async () => {
  let s = socket(sio5());
  await s.next();
  s.send('40/random');
  assert.equal(await s.next(), '44/random,{"message":"Invalid namespace"}');
  s.close();
  s = socket(sio5());
  await s.next();
  s.send('4abc');
  await closesWithin(s, 2000);
  // No CONNECT: the heartbeat (unanswered here) ends it first, as in the suite...
  s = socket(sio5());
  await s.next();
  await closesWithin(s, PING_INTERVAL + PING_TIMEOUT + 500);
  // ...and with pings answered, connectTimeout (1000 ms) does.
  s = socket(sio5());
  await s.next();
  s.on('message', (m) => { if (m.toString() === '2') s.send('3'); });
  const opened = Date.now();
  await closesWithin(s, 2500);
  assert.ok(Date.now() - opened >= 900, `closed after ${Date.now() - opened} ms`);
});

test('Socket.IO 5: DISCONNECT leaves a namespace and keeps the Engine.IO session', async () => {
  let s = await sio5Connected();
  s.send('41');
  assert.equal(await s.next(1000), '2');  // the session lives on: the next thing is the server's ping
  s.send('3');
  s.close();
  s = await sio5Connected();
  s.send('40/custom');
  assert.match(await s.nextNonPing(), /^40\/custom,\{"sid":"[^"]+"\}$/);
  assert.equal(await s.nextNonPing(), '42/custom,["auth",{}]');
  s.send('41/custom');
  s.send('42["message","message to main namespace"]');
  assert.equal(await s.nextNonPing(), '42["message-back","message to main namespace"]');
  s.close();
});

test('Socket.IO 5: events, binary attachments and acks come back byte for byte', async () => {
  const s = await sio5Connected();
  s.send('42["message",1,"2",{"3":[true]}]');
  assert.equal(await s.nextNonPing(), '42["message-back",1,"2",{"3":[true]}]');
  s.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  s.send(Buffer.from([1, 2, 3]));
  s.send(Buffer.from([4, 5, 6]));
  assert.equal(await s.nextNonPing(), '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  assert.deepEqual([...await s.nextNonPing()], [1, 2, 3]);
  assert.deepEqual([...await s.nextNonPing()], [4, 5, 6]);
  s.send('42456["message-with-ack",1,"2",{"3":[false]}]');
  assert.equal(await s.nextNonPing(), '43456[1,"2",{"3":[false]}]');
  s.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  s.send(Buffer.from([1, 2, 3]));
  s.send(Buffer.from([4, 5, 6]));
  assert.equal(await s.nextNonPing(), '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  assert.deepEqual([...await s.nextNonPing()], [1, 2, 3]);
  assert.deepEqual([...await s.nextNonPing()], [4, 5, 6]);
  s.close();
});

test('Socket.IO 5: packets of a bad format close the connection', async () => {
  for (const bad of ['4abc', '42{}', '42abc["message-with-ack",1,"2",{"3":[false]}]', '49["x"]', '42/custom,["x"]']) {
    const s = await sio5Connected();
    s.send(bad);
    await closesWithin(s, 2000);
  }
  // A binary message that no packet announced.
  const s = await sio5Connected();
  s.send(Buffer.from([1, 2, 3]));
  await closesWithin(s, 2000);
});

// ---- Socket.IO 4 (Engine.IO 3) with raw frames ------------------------------------------------------------

const sio4 = () => `${ws}/socket.io/?EIO=3&transport=websocket`;

async function sio4Connected() {
  const s = socket(sio4());
  assert.equal((await s.next())[0], '0');
  assert.equal(await s.next(), '40');  // "/" is joined implicitly
  assert.equal(await s.next(), '42["auth",{}]');
  return s;
}

test('Socket.IO 4: / is joined at once; /custom on request; an unknown namespace is refused', async () => {
  const s = await sio4Connected();
  s.send('40/custom,');
  assert.equal(await s.next(), '40/custom,');
  assert.equal(await s.next(), '42/custom,["auth",{}]');
  s.send('40/random,');
  assert.equal(await s.next(), '44/random,"Invalid namespace"');
  s.close();
});

test('Socket.IO 4: events, binary attachments and acks come back byte for byte', async () => {
  const s = await sio4Connected();
  s.send('42["message",1,"2",{"3":[true]}]');
  assert.equal(await s.next(), '42["message-back",1,"2",{"3":[true]}]');
  s.send('42/custom,["message",1]');  // not joined: nothing, the connection closes
  await closesWithin(s, 2000);
  const b = await sio4Connected();
  // Engine.IO 3 binary frames carry the packet type (4) before the bytes.
  b.send('452-12["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  b.send(Buffer.from([4, 1, 2, 3]));
  b.send(Buffer.from([4, 4, 5, 6]));
  assert.equal(await b.next(), '462-12[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  assert.deepEqual([...await b.next()], [4, 1, 2, 3]);
  assert.deepEqual([...await b.next()], [4, 4, 5, 6]);
  b.send('4213["message-with-ack","x"]');
  assert.equal(await b.next(), '4313["x"]');
  b.close();
});

test('Socket.IO 4: DISCONNECT from / keeps the session (pings still answered); bad packets close it', async () => {
  let s = await sio4Connected();
  s.send('41');
  s.send('2');
  assert.equal(await s.next(), '3');
  s.close();
  for (const bad of ['4abc', '42{}', '42abc["x"]']) {
    s = await sio4Connected();
    s.send(bad);
    await closesWithin(s, 2000);
  }
});
