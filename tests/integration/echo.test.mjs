// The SDK guide's example plugin (examples/echo/echo.cpp, shown in sdk/README.md) with socket.io-client 2.x and
// 4.x: a client event answered with an ack, a namespace whose hook checks the CONNECT's auth, and a server emit
// that asks the client for an ack, whose answer comes back to the plugin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Server, ioV2, ioV4 } from './lib/harness.mjs';

let server;
before(async () => { server = await Server.start({ plugins: ['socketio', 'echo'] }); });
after(async () => { await server?.stop(); });

function client(version, nsp, opts = {}) {
  const options = { forceNew: true, reconnection: false, ...opts };
  return version === 2 ? ioV2(server.url + nsp, options) : ioV4(server.url + nsp, options);
}

function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

test('the SDK guide shows examples/echo/echo.cpp as it is built and tested', () => {
  const here = import.meta.dirname;
  const guide = fs.readFileSync(path.resolve(here, '../../sdk/README.md'), 'utf8');
  const source = fs.readFileSync(path.resolve(here, '../../examples/echo/echo.cpp'), 'utf8');
  const block = /## Client events, acks and namespaces[\s\S]*?```cpp\n([\s\S]*?)```/.exec(guide);
  assert.ok(block, 'the guide has the example');
  assert.equal(block[1], source);
});

for (const version of [2, 4]) {
  for (const transports of [['websocket'], ['polling']]) {
    const name = `client ${version}.x over ${transports[0]}`;

    test(`${name}: echo is acknowledged with its arguments`, async () => {
      const s = client(version, '/', { transports });
      await once(s, 'connect');
      const reply = await new Promise((resolve) => s.emit('echo', { n: 1 }, 'two', (...a) => resolve(a)));
      assert.deepEqual(reply, [{ n: 1 }, 'two']);
      s.close();
    });

    test(`${name}: the server asks a question with an ack and hears the answer`, async () => {
      const s = client(version, '/', { transports });
      await once(s, 'connect');
      s.on('question', (q, callback) => callback({ question: q, answer: 42 }));
      s.emit('quiz');
      assert.deepEqual(await once(s, 'answered'), [{ question: '6 x 7?', answer: 42 }]);
      s.close();
    });
  }

  test(`client ${version}.x: /chat needs a token in the CONNECT's auth`, async () => {
    const refused = client(version, '/chat');
    const [err] = await Promise.race([once(refused, 'connect_error'), once(refused, 'error')]);
    assert.match(String(err?.message ?? err), /Not authorized/);
    refused.close();
    if (version === 4) {
      const s = client(4, '/chat', { auth: { token: 't' } });
      await once(s, 'connect');
      const reply = await new Promise((resolve) => s.emit('echo', 'in chat', (...a) => resolve(a)));
      assert.deepEqual(reply, ['in chat']);
      s.close();
    }
  });
}
