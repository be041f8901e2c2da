// Client events, acks, binary attachments and namespaces, through the `conformance` example plugin (built by
// the main build) and examples/conformance/config.json, with socket.io-client 2.x and 4.x over each transport.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BIN, Server, ioV2, ioV4 } from './lib/harness.mjs';

const CONFIG = path.resolve(import.meta.dirname, '../../examples/conformance/config.json');
let server;

before(async () => { server = await Server.start({ args: ['--config', CONFIG] }); });
after(async () => { await server?.stop(); });

// A client on `nsp` that records its `auth` events; resolves once connected.
async function open(version, nsp, opts = {}) {
  const options = { forceNew: true, reconnection: false, ...opts };
  const url = server.url + nsp;
  const socket = version === 2 ? ioV2(url, options) : ioV4(url, options);
  socket.auths = [];
  socket.on('auth', (a) => socket.auths.push(a));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => { socket.close(); reject(new Error(`client v${version} did not connect to ${nsp}`)); }, 5000);
    socket.once('connect', () => { clearTimeout(t); resolve(); });
  });
  return socket;
}

function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

function withAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ack for ${event}`)), 5000);
    socket.emit(event, ...args, (...reply) => { clearTimeout(t); resolve(reply); });
  });
}

// Binary values arrive as Buffer or ArrayBuffer depending on client and transport: compare bytes.
function plain(v) {
  if (v instanceof ArrayBuffer) return { bytes: [...new Uint8Array(v)] };
  if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return { bytes: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const textArgs = [1, 'two', { three: [3, null, true] }, 'Grüße 😀'];
const binaryArgs = () => [Buffer.from([1, 2, 3, 0, 255]), { nested: Buffer.from('xyz'), n: 7 }, 'text'];

for (const version of [2, 4]) {
  for (const transports of [['websocket'], ['polling']]) {
    const name = `client ${version}.x over ${transports[0]}`;

    test(`${name}: connecting to / emits auth with the CONNECT's auth payload`, async () => {
      const auth = version === 4 ? { token: 'abc', n: 1 } : undefined;
      const socket = await open(version, '/', { transports, ...(auth ? { auth } : {}) });
      try {
        if (!socket.auths.length) await once(socket, 'auth');
        assert.deepEqual(socket.auths, [version === 4 ? auth : {}]);
      } finally { socket.close(); }
    });

    test(`${name}: message is answered with message-back and the same arguments`, async () => {
      const socket = await open(version, '/', { transports });
      try {
        const back = once(socket, 'message-back');
        socket.emit('message', ...textArgs);
        assert.deepEqual(await back, textArgs);
        const none = once(socket, 'message-back');
        socket.emit('message');
        assert.deepEqual(await none, []);
      } finally { socket.close(); }
    });

    test(`${name}: binary arguments come back in message-back`, async () => {
      const socket = await open(version, '/', { transports });
      try {
        const back = once(socket, 'message-back');
        socket.emit('message', ...binaryArgs());
        assert.deepEqual(plain(await back), plain(binaryArgs()));
      } finally { socket.close(); }
    });

    test(`${name}: message-with-ack is acknowledged with the same arguments, binary ones too`, async () => {
      const socket = await open(version, '/', { transports });
      try {
        assert.deepEqual(await withAck(socket, 'message-with-ack', ...textArgs), textArgs);
        assert.deepEqual(plain(await withAck(socket, 'message-with-ack', ...binaryArgs())), plain(binaryArgs()));
      } finally { socket.close(); }
    });

    test(`${name}: the /custom namespace gets auth, message-back and acks of its own`, async () => {
      const auth = version === 4 ? { token: 'custom' } : undefined;
      const socket = await open(version, '/custom', { transports, ...(auth ? { auth } : {}) });
      try {
        if (!socket.auths.length) await once(socket, 'auth');
        assert.deepEqual(socket.auths[0], version === 4 ? auth : {});
        const back = once(socket, 'message-back');
        socket.emit('message', 'on custom');
        assert.deepEqual(await back, ['on custom']);
        assert.deepEqual(await withAck(socket, 'message-with-ack', { x: 1 }), [{ x: 1 }]);
      } finally { socket.close(); }
    });

    test(`${name}: an undeclared namespace is refused with "Invalid namespace"`, async () => {
      const options = { forceNew: true, reconnection: false, transports };
      if (version === 4) {
        const socket = ioV4(`${server.url}/undeclared`, options);
        const [err] = await once(socket, 'connect_error');
        assert.equal(err.message, 'Invalid namespace');
        socket.close();
      } else {
        const socket = ioV2(`${server.url}/undeclared`, options);
        const [err] = await once(socket, 'error');
        assert.equal(err, 'Invalid namespace');
        socket.close();
      }
    });
  }
}

test('the stock authenticate event still reaches the core beside the plugin', async () => {
  const socket = await open(4, '/', { transports: ['websocket'] });
  try {
    const from = server.log.length;
    socket.emit('authenticate', { sessionId: 'conf-1' });
    await server.waitMembership('conf-1', null);
    // The connection stays usable.
    const back = once(socket, 'message-back');
    socket.emit('message', 'after authenticate');
    assert.deepEqual(await back, ['after authenticate']);
  } finally { socket.close(); }
});

test('a namespace hook refuses a CONNECT with its message, and accepts the right auth payload', async () => {
  const guard = path.resolve(path.dirname(BIN), '../tests/plugins/namespace-guard.so');
  const srv = await Server.start({ plugins: ['socketio', guard] });
  try {
    const refused4 = ioV4(`${srv.url}/private`, { forceNew: true, reconnection: false, auth: { token: 'wrong' } });
    const [err4] = await once(refused4, 'connect_error');
    assert.equal(err4.message, 'Not authorized');
    refused4.close();
    const accepted = ioV4(`${srv.url}/private`, { forceNew: true, reconnection: false, auth: { token: 'open-sesame' } });
    await once(accepted, 'connect');
    accepted.close();
    const refused2 = ioV2(`${srv.url}/private`, { forceNew: true, reconnection: false, transports: ['websocket'] });
    const [err2] = await once(refused2, 'error');
    assert.equal(err2, 'Not authorized');
    refused2.close();
  } finally { await srv.stop(); }
});
