// The websocket layer itself (RFC 6455), with frames written byte by byte over raw TCP: the handshake and its
// refusals, fragmentation with control frames between the fragments, frames split across reads and many in one,
// the close handshake, and every protocol violation closing with its code. On the conformance plugin's plain
// Engine.IO echo path (/engine.io/), where a message "4<text>" comes back as it was sent. Every test runs over
// plain TCP and over TLS: one protocol implementation carries both (plugins/socketio/src/websocket_connection.hpp).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Server, sleep } from './lib/harness.mjs';

const CONFIG = path.resolve(import.meta.dirname, '../../examples/conformance/config.json');
const MAX_PAYLOAD = 1000000;  // examples/conformance/config.json

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

// A client frame: masked unless told otherwise.
function frame(op, payload, { fin = true, mask = true, rsv = 0, length } = {}) {
  const data = Buffer.from(payload);
  const n = length ?? data.length;
  let head;
  if (n < 126) head = Buffer.from([0, n]);
  else if (n <= 0xffff) { head = Buffer.alloc(4); head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head = Buffer.alloc(10); head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | op;
  if (!mask) return Buffer.concat([head, data]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  return Buffer.concat([head, key, Buffer.from(data.map((b, i) => b ^ key[i % 4]))]);
}

// A certificate made for the run, for the TLS half.
let certDir;
before(() => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-ws-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
});
after(() => fs.rmSync(certDir, { recursive: true, force: true }));

for (const secure of [false, true]) describe(secure ? 'over TLS' : 'over plain TCP', () => {
  let server;
  const tlsArgs = () => (secure ? ['--tls-cert', path.join(certDir, 'cert.pem'), '--tls-key', path.join(certDir, 'key.pem')] : []);
  const start = (args) => Server.start({ args: [...args, ...tlsArgs()] });
  before(async () => { server = await start(['--config', CONFIG]); });
  after(async () => { await server?.stop(); });

  // Opens a raw websocket; resolves with the HTTP answer and, on a 101, a reader of the server's frames.
  // `halfOpen`: the client's side stays open after the server's FIN (node closes it at once otherwise).
  async function open(query = 'EIO=4&transport=websocket', headers = {}, { halfOpen = false } = {}) {
    const sock = secure
      ? tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, allowHalfOpen: halfOpen })
      : net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: halfOpen });
    await new Promise((resolve, reject) => {
      sock.once(secure ? 'secureConnect' : 'connect', resolve);
      sock.once('error', reject);
    });
    const key = headers.key ?? crypto.randomBytes(16).toString('base64');
    const version = headers.version ?? '13';
    sock.write(`GET /engine.io/?${query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
               `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`);
    let buffer = Buffer.alloc(0);
    const c = { sock, frames: [], waiters: [], ended: false };
    c.closed = new Promise((resolve) => sock.on('close', () => { c.ended = true; resolve(); }));
    sock.on('error', () => {});
    const head = await new Promise((resolve) => {
      const onData = (d) => {
        buffer = Buffer.concat([buffer, d]);
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        const text = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
        resolve(text);
      };
      sock.on('data', onData);
    });
    c.status = Number(head.split(' ')[1]);
    c.head = head;
    c.key = key;
    const parse = () => {
      for (;;) {
        if (buffer.length < 2) return;
        let n = buffer[1] & 0x7f, at = 2;
        if (n === 126) { if (buffer.length < 4) return; n = buffer.readUInt16BE(2); at = 4; }
        else if (n === 127) { if (buffer.length < 10) return; n = Number(buffer.readBigUInt64BE(2)); at = 10; }
        assert.equal(buffer[1] & 0x80, 0, 'server frames are not masked');
        if (buffer.length < at + n) return;
        const f = { fin: (buffer[0] & 0x80) !== 0, op: buffer[0] & 0x0f, payload: buffer.subarray(at, at + n) };
        buffer = buffer.subarray(at + n);
        if (f.op === OP.text && f.payload.toString() === '2') continue;  // Engine.IO heartbeats
        const w = c.waiters.shift();
        if (w) w(f); else c.frames.push(f);
      }
    };
    sock.on('data', (d) => { buffer = Buffer.concat([buffer, d]); parse(); });
    parse();
    c.next = (ms = 3000) => new Promise((resolve, reject) => {
      if (c.frames.length) return resolve(c.frames.shift());
      const t = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
      c.waiters.push((f) => { clearTimeout(t); resolve(f); });
    });
    c.text = async () => { const f = await c.next(); assert.equal(f.op, OP.text); return f.payload.toString(); };
    c.send = (...args) => sock.write(frame(...args));
    if (c.status === 101) assert.match(await c.text(), /^0\{"sid"/, 'the open packet comes first');
    return c;
  }

  // The server's close frame: its code; the client answers as clients do, with a close frame of its own, and the
  // server then ends the TCP connection (at once: it waits for nothing else).
  async function closedWith(c, code) {
    const f = await c.next();
    assert.equal(f.op, OP.close, `a close frame, not ${f.op}: ${f.payload}`);
    assert.equal(f.payload.readUInt16BE(0), code);
    if (!c.ended) c.send(OP.close, f.payload);
    await Promise.race([c.closed, sleep(2000).then(() => { throw new Error('the connection stayed open'); })]);
  }

  test('the handshake answers the key; a wrong version gets 426, a wrong key 400', async () => {
    const c = await open();
    assert.equal(c.status, 101);
    const accept = crypto.createHash('sha1').update(c.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    assert.match(c.head, new RegExp(`^Sec-WebSocket-Accept: ${accept.replace(/[+/]/g, '\\$&')}$`, 'mi'));
    assert.match(c.head, /^Upgrade: websocket$/mi);
    c.sock.destroy();

    const old = await open(undefined, { version: '8' });
    assert.equal(old.status, 426);
    assert.match(old.head, /^Sec-WebSocket-Version: 13$/mi);
    old.sock.destroy();
    for (const key of ['', 'short', 'x'.repeat(24), crypto.randomBytes(20).toString('base64')]) {
      const bad = await open(undefined, { key });
      assert.equal(bad.status, 400, `key ${JSON.stringify(key)}`);
      bad.sock.destroy();
    }
  });

  test('a fragmented message with a ping between its fragments: the pong first, then the whole message', async () => {
    const c = await open();
    c.send(OP.text, '4hel', { fin: false });
    c.send(OP.ping, 'are you there');
    c.send(OP.continuation, 'lo, ', { fin: false });
    c.send(OP.continuation, 'wörld', { fin: true });
    const pong = await c.next();
    assert.equal(pong.op, OP.pong);
    assert.equal(pong.payload.toString(), 'are you there');
    assert.equal(await c.text(), '4hello, wörld');
    // Binary fragments are joined as well (Engine.IO 4 sends a binary message as its bare bytes).
    c.send(OP.binary, Buffer.from([9, 1, 2]), { fin: false });
    c.send(OP.continuation, Buffer.from([3]));
    const b = await c.next();
    assert.equal(b.op, OP.binary);
    assert.deepEqual([...b.payload], [9, 1, 2, 3]);
    c.sock.destroy();
  });

  test('frames split across reads, many frames in one read, and a large echo written in parts', async () => {
    const c = await open();
    const bytes = frame(OP.text, '4split across writes');
    for (const byte of bytes) { c.sock.write(Buffer.from([byte])); await sleep(1); }
    assert.equal(await c.text(), '4split across writes');

    c.sock.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => frame(OP.text, `4m${i}`))));
    for (let i = 0; i < 200; i++) assert.equal(await c.text(), `4m${i}`);

    const big = '4' + 'x'.repeat(900000);
    c.send(OP.text, big);
    assert.equal(await c.text(), big);
    c.sock.destroy();
  });

  test('small and large frames interleaved, to a reader that paused: all of them, in order, byte for byte', async () => {
    // Small frames are copied together into one write, a large one is written from where it is, and a reader
    // that stops fills the socket: writes end mid-frame and go on when it reads again. Heartbeats a minute apart:
    // this client answers no ping, and a slow build may take longer than the conformance config's 500 ms.
    const main = server;
    server = await Server.start({ config: { plugins: ['socketio', 'conformance'],
                                            socketio: { ping_interval_ms: 60000, ping_timeout_ms: 60000,
                                                        max_payload: MAX_PAYLOAD } },
                                  args: tlsArgs() });
    try {
      const c = await open();
      c.sock.pause();
      const sent = [];
      for (let i = 0; i < 300; i++) {
        const text = i % 50 === 25 ? `4big${i}` + String(i % 10).repeat(140000 + i) : `4m${i}`;
        sent.push(text);
        c.send(OP.text, text);
      }
      await sleep(300);
      c.sock.resume();
      for (const text of sent) assert.equal(await c.text(), text);
      c.sock.destroy();
    } finally {
      await server.stop();
      server = main;
    }
  });

  test('the client closes: the server answers with its code and ends the connection', async () => {
    const c = await open();
    c.send(OP.close, Buffer.from([0x0f, 0xa0]));  // 4000
    await closedWith(c, 4000);
    const d = await open();
    d.send(OP.close, '');
    await closedWith(d, 1000);
  });

  test('protocol violations close the connection with their code', async () => {
    const cases = [
      ['an unmasked frame', 1002, (c) => c.send(OP.text, '4x', { mask: false })],
      ['a reserved bit', 1002, (c) => c.send(OP.text, '4x', { rsv: 4 })],
      ['an unknown opcode', 1002, (c) => c.send(3, '4x')],
      ['a fragmented ping', 1002, (c) => c.send(OP.ping, 'x', { fin: false })],
      ['a ping over 125 bytes', 1002, (c) => c.send(OP.ping, 'x'.repeat(126))],
      ['a continuation out of a message', 1002, (c) => c.send(OP.continuation, 'x')],
      ['a message inside a fragmented one', 1002, (c) => { c.send(OP.text, '4a', { fin: false }); c.send(OP.text, '4b'); }],
      ['a close code that may not be sent', 1002, (c) => c.send(OP.close, Buffer.from([0x03, 0xed]))],  // 1005
      ['text that is not UTF-8', 1007, (c) => c.send(OP.text, Buffer.from([0x34, 0xc3, 0x28]))],
      ['fragments that are not UTF-8 together', 1007,
        (c) => { c.send(OP.text, Buffer.from([0x34, 0xe2, 0x82]), { fin: false }); c.send(OP.continuation, Buffer.from([0x41])); }],
      // Refused on its header: the megabyte is never sent.
      ['a frame over maxPayload', 1009, (c) => c.sock.write(frame(OP.text, '4', { length: MAX_PAYLOAD + 1 }).subarray(0, 14))],
      ['fragments over maxPayload together', 1009, (c) => {
        c.send(OP.text, '4' + 'x'.repeat(MAX_PAYLOAD / 2), { fin: false });
        c.send(OP.continuation, 'x'.repeat(MAX_PAYLOAD / 2));
      }],
    ];
    for (const [what, code, act] of cases) {
      const c = await open();
      act(c);
      await closedWith(c, code).catch((e) => { throw new Error(`${what}: ${e.message}`); });
    }
    // The server keeps serving.
    const c = await open();
    c.send(OP.text, '4still here');
    assert.equal(await c.text(), '4still here');
    c.sock.destroy();
  });

  test('a client that vanishes mid-frame: its session closes, and the server keeps serving', async () => {
    const from = server.log.length;
    for (let i = 0; i < 20; i++) {
      const c = await open();
      c.sock.write(frame(OP.text, '4' + 'y'.repeat(5000)).subarray(0, 100));
      await sleep(20);
      c.sock.destroy();
    }
    const closed = () => (server.log.slice(from).match(/closed: transport error/g) || []).length;
    for (let i = 0; i < 100 && closed() < 20; i++) await sleep(50);
    assert.equal(closed(), 20, 'every session closed as its client vanished');
    const c = await open();
    c.send(OP.text, '4fine');
    assert.equal(await c.text(), '4fine');
    c.sock.destroy();
  });

  test('a last frame and the end of the stream in one readiness event: the server sees the end at once', async () => {
    // Heartbeats a minute apart, so that only reading the end of the stream can close these sessions in time.
    const main = server;
    server = await Server.start({ config: { plugins: ['socketio', 'conformance'],
                                            socketio: { ping_interval_ms: 60000, ping_timeout_ms: 60000 } },
                                  args: tlsArgs() });
    try {
      const clients = [];
      for (let i = 0; i < 10; i++) clients.push(await open());
      const from = server.log.length;
      // Stopped, the server finds both a frame and the FIN waiting when it wakes: one edge of its (edge-triggered)
      // epoll, and a read that stops at the frame must still see the end. A pong: nothing is written back, so no
      // reset from the client's side can announce the end instead.
      server.proc.kill('SIGSTOP');
      for (const c of clients) c.sock.end(frame(OP.pong, ''));
      await sleep(200);
      server.proc.kill('SIGCONT');
      const closed = () => (server.log.slice(from).match(/closed: transport error/g) || []).length;
      for (let i = 0; i < 60 && closed() < 10; i++) await sleep(50);
      assert.equal(closed(), 10, 'every session closed within 3 s, not at its heartbeat a minute later');
    } finally {
      await server.stop();
      server = main;
    }
  });

  test('SIGTERM: every websocket gets a close frame 1001 (going away), then the process exits 0', async () => {
    const main = server;
    server = await start(['--config', CONFIG]);
    try {
      const clients = [await open(), await open('EIO=3&transport=websocket')];
      const t0 = Date.now();
      const stopped = server.stop('SIGTERM');
      for (const c of clients) await closedWith(c, 1001);
      assert.deepEqual(await stopped, { code: 0, signal: null });
      assert.ok(Date.now() - t0 < 5000, `exited after ${Date.now() - t0} ms`);
    } finally {
      server = main;
    }
  });

  test('--shutdown-timeout bounds the exit when a client never answers the close frame', async () => {
    const main = server;
    server = await start(['--config', CONFIG, '--shutdown-timeout', '500']);
    try {
      const c = await open(undefined, {}, { halfOpen: true });
      const t0 = Date.now();
      const stopped = server.stop('SIGTERM');
      const f = await c.next();
      assert.equal(f.op, OP.close);
      assert.equal(f.payload.readUInt16BE(0), 1001);
      // No answer: the server's closing handshake would wait websocket_handshake_timeout (10 s); the exit does not.
      assert.deepEqual(await stopped, { code: 0, signal: null });
      const took = Date.now() - t0;
      assert.ok(took >= 450 && took < 3000, `exited after ${took} ms`);
      assert.match(server.log, /shutdown: work still pending after 500 ms, cut short/);
      c.sock.destroy();
    } finally {
      server = main;
    }
  });
});
