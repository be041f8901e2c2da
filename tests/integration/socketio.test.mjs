// The socketio transport with real socket.io clients 2.x (Engine.IO 3) and 4.x (Engine.IO 4), every transport
// and both paths, through the stock set against a real redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, connect, messageCount, quiet, until, sleep } from './lib/harness.mjs';

let redis, server, n = 0;

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis: subscribed to notifications/);
});
after(async () => { await server?.stop(); await redis?.stop(); });

// A user with one authenticated connection, ready to receive.
async function authenticated(version, opts) {
  const id = ++n;
  const session = `sess-${id}`, user = `user-${id}`;
  await redis.command('SET', `session-store-${session}`, user);
  const from = server.log.length;
  const socket = await connect(version, server.url, opts, session);
  await server.waitMembership(session, user);
  return { socket, user };
}

const publish = (users, body) => redis.command('PUBLISH', 'notifications', JSON.stringify({ users, ...body }));

for (const version of [2, 4]) {
  for (const path of ['/socket.io', '/socket']) {
    for (const [name, transports] of [['default', undefined], ['websocket', ['websocket']], ['polling', ['polling']]]) {
      test(`client ${version}.x, ${name} transports, path ${path}: connect, authenticate, receive`, async () => {
        const { socket, user } = await authenticated(version, { path, ...(transports ? { transports } : {}) });
        try {
          if (name === 'default')
            await until(() => socket.io.engine.transport.name === 'websocket', 'the upgrade to websocket');
          else assert.equal(socket.io.engine.transport.name, name);
          await publish([user], { data: { hello: 'world', n: 1 } });
          const [m] = await messageCount(socket, 1);
          assert.deepEqual(m, { data: { hello: 'world', n: 1 } });
          await quiet(socket, 1);
        } finally { socket.close(); }
      });
    }
  }
}

for (const version of [2, 4]) {
  for (const transports of [['websocket'], ['polling']]) {
    test(`client ${version}.x over ${transports[0]}: a 200-message burst arrives complete and in order`, async () => {
      const { socket, user } = await authenticated(version, { transports });
      try {
        for (let i = 0; i < 200; i++) publish([user], { data: { i } });
        const got = await messageCount(socket, 200, 10000);
        assert.deepEqual(got.map((m) => m.data.i), [...Array(200).keys()]);
        await quiet(socket, 200);
      } finally { socket.close(); }
    });

    test(`client ${version}.x over ${transports[0]}: a 200 KB message and unicode arrive intact`, async () => {
      const { socket, user } = await authenticated(version, { transports });
      try {
        const big = 'x'.repeat(200 * 1024);
        const unicode = 'Grüße € 😀 日本語 \u2028 "quoted" \\ \n tab\t';
        await publish([user], { data: { big } });
        await publish([user], { data: { unicode, emoji: '👩‍👩‍👧' } });
        const [a, b] = await messageCount(socket, 2, 10000);
        assert.equal(a.data.big, big);
        assert.deepEqual(b.data, { unicode, emoji: '👩‍👩‍👧' });
      } finally { socket.close(); }
    });
  }
}

test('a numeric sessionId works as its decimal string', async () => {
  await redis.command('SET', 'session-store-987654', 'numeric-user');
  const from = server.log.length;
  const socket = await connect(4, server.url, { transports: ['websocket'] }, 987654);
  try {
    await server.waitMembership('987654', 'numeric-user');
    await publish(['numeric-user'], { data: 'n' });
    assert.deepEqual(await messageCount(socket, 1), [{ data: 'n' }]);
  } finally { socket.close(); }
});

test('a client that disconnects is forgotten at once (close reason logged)', async () => {
  const { socket } = await authenticated(4, { transports: ['polling'] });
  const sid = socket.io.engine.id;
  const from = server.log.length;
  socket.close();
  await server.waitLog(/connection #\d+ closed: client close/, 3000, from);
  // An Engine.IO sid lets whoever holds it poll the session: no log line shows one.
  assert.ok(!server.log.includes(sid), 'the sid is not in the log');
});

test('SIGTERM: every client is told (close packet or close frame) and the process exits 0 promptly', async () => {
  const own = await Server.start({ redis });
  const clients = [];
  for (const version of [2, 4])
    for (const transports of [['websocket'], ['polling'], undefined])
      clients.push(await connect(version, own.url, transports ? { transports } : {}));
  await sleep(300);
  const reasons = clients.map((c) => new Promise((r) => c.on('disconnect', r)));
  const t0 = Date.now();
  const res = await own.stop('SIGTERM');
  assert.deepEqual(res, { code: 0, signal: null });
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(await Promise.all(reasons), Array(clients.length).fill('transport close'));
  assert.match(own.log, /received SIGTERM, shutting down/);
});
