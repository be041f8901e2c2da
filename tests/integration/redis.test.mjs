// Sessions, keyspace events and notifications through a real redis, with real socket.io clients, including
// redis restarts and outages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, connect, messageCount, quiet, until, sleep } from './lib/harness.mjs';

let redis, server, n = 0;
const unique = (p) => `${p}-${++n}`;

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis: subscribed to notifications/);
});
after(async () => { await server?.stop(); await redis?.stop(); });

const publish = (users, body = {}, to = redis) =>
  to.command('PUBLISH', 'notifications', JSON.stringify({ users, ...body }));
const membership = (srv, session, user, socket) => srv.waitMembership(session, user, socket);

// Authenticates and waits until the core has the session's answer.
async function client(session, user, { version = 4, transports = ['websocket'], srv = server } = {}) {
  const s = await connect(version, srv.url, { transports }, session);
  await membership(srv, session, user, s);
  return s;
}

test('login after authenticate, switch user, logout, login again on the same session, expiry', async () => {
  const session = unique('s'), alice = unique('alice'), bob = unique('bob');
  const c = await client(session, null);
  try {
    await publish([alice], { data: 'before login' });
    let from = server.log.length;
    await redis.command('SET', `session-store-${session}`, alice);
    await membership(server, session, alice);
    await publish([alice], { data: 1 });
    await messageCount(c, 1);

    from = server.log.length;
    await redis.command('SET', `session-store-${session}`, bob);
    await membership(server, session, bob);
    await publish([alice], { data: 'to alice' });
    await publish([bob], { data: 2 });
    await messageCount(c, 2);

    from = server.log.length;
    await redis.command('DEL', `session-store-${session}`);
    await membership(server, session, null);
    await publish([bob], { data: 'after logout' });
    await quiet(c, 2);

    // The connection kept its session: a later login brings it back without a new authenticate.
    from = server.log.length;
    await redis.command('SET', `session-store-${session}`, bob, 'EX', '1');
    await membership(server, session, bob);
    await publish([bob], { data: 3 });
    await messageCount(c, 3);

    from = server.log.length;
    await membership(server, session, null);  // expired after a second
    await publish([bob], { data: 'after expiry' });
    await quiet(c, 3);
    assert.deepEqual(c.messages.map((m) => m.data), [1, 2, 3]);
  } finally { c.close(); }
});

test('an empty value counts as no user', async () => {
  const session = unique('s'), user = unique('u');
  await redis.command('SET', `session-store-${session}`, user);
  const c = await client(session, user);
  try {
    const from = server.log.length;
    await redis.command('SET', `session-store-${session}`, '');
    await membership(server, session, null);
    await publish([user], { data: 'x' });
    await quiet(c, 0);
  } finally { c.close(); }
});

test('numeric user ids: 79 and "79" are one user', async () => {
  const session = unique('s');
  await redis.command('SET', `session-store-${session}`, '79');
  const c = await client(session, '79');
  try {
    await publish([79], { data: 'number' });
    await publish(['79'], { data: 'string' });
    assert.deepEqual((await messageCount(c, 2)).map((m) => m.data), ['number', 'string']);
  } finally { c.close(); }
});

test('one user, two sessions, three connections: one copy each, whatever repeats in users', async () => {
  const user = unique('u'), s1 = unique('s'), s2 = unique('s');
  await redis.command('SET', `session-store-${s1}`, user);
  await redis.command('SET', `session-store-${s2}`, user);
  const cs = [await client(s1, user), await client(s1, user, { version: 2 }), await client(s2, user, { transports: ['polling'] })];
  try {
    await publish([user, user, user], { data: 'once' });
    for (const c of cs) { await messageCount(c, 1); }
    for (const c of cs) { await quiet(c, 1, 100); }
    // Every copy carries the notification's offset as the message event's last argument, the same for each
    // (websocket 4.x and 2.x, polling): this run's id, then the notification's sequence number.
    const [offset] = cs[0].messageOffsets;
    assert.match(offset, /^[a-f][0-9a-f]{15}-\d+$/);
    for (const c of cs) assert.deepEqual(c.messageOffsets, [offset]);
    await publish([user], { data: 'next' });
    await messageCount(cs[0], 2);
    const [run, seq] = offset.split('-');
    assert.equal(cs[0].messageOffsets[1], `${run}-${Number(seq) + 1}`);
  } finally { cs.forEach((c) => c.close()); }
});

test('re-authenticating moves the connection; a session without user leaves the previous one', async () => {
  const a = unique('a'), b = unique('b'), s1 = unique('s'), s2 = unique('s'), nobody = unique('s');
  await redis.command('SET', `session-store-${s1}`, a);
  await redis.command('SET', `session-store-${s2}`, b);
  const c = await client(s1, a);
  try {
    let from = server.log.length;
    c.emit('authenticate', { sessionId: s2 });
    await membership(server, s2, b);
    await publish([a], { data: 'old' });
    await publish([b], { data: 'new' });
    assert.deepEqual((await messageCount(c, 1)).map((m) => m.data), ['new']);

    from = server.log.length;
    c.emit('authenticate', { sessionId: nobody });
    await membership(server, nobody, null);
    await publish([b], { data: 'gone' });
    await quiet(c, 1);
  } finally { c.close(); }
});

test('bad messages on the channel are refused and nothing else happens', async () => {
  const session = unique('s'), user = unique('u');
  await redis.command('SET', `session-store-${session}`, user);
  const c = await client(session, user);
  try {
    for (const bad of ['not json', '[1,2]', '{"data":1}', `{"users":"${user}"}`, `{"users":[{"id":1}]}`,
      `{"users":[null]}`, '{"users":[1.5]}', '"just a string"', '{"users":[' + '['.repeat(100000)]) {
      await redis.command('PUBLISH', 'notifications', bad);
    }
    await publish([user], { data: 'good' });
    assert.deepEqual(await messageCount(c, 1), [{ data: 'good' }]);
    await quiet(c, 1);
    assert.match(server.log, /ignored a message on "notifications": not JSON/);
  } finally { c.close(); }
});

test('authenticate with no data, null, a number, an object, or a huge string is ignored', async () => {
  const c = await connect(4, server.url, { transports: ['websocket'] });
  const c2 = await connect(2, server.url, { transports: ['polling'] });
  try {
    for (const s of [c, c2]) {
      s.emit('authenticate');
      s.emit('authenticate', null);
      s.emit('authenticate', 42);
      s.emit('authenticate', { sessionId: { nested: true } });
      s.emit('authenticate', { sessionId: 'x'.repeat(100000) });
      s.emit('authenticate', { sessionId: null });
    }
    await sleep(300);
    assert.ok(c.connected && c2.connected);
    // Still served: a fresh client works too.
    const session = unique('s'), user = unique('u');
    await redis.command('SET', `session-store-${session}`, user);
    const fresh = await client(session, user);
    await publish([user], { data: 'ok' });
    await messageCount(fresh, 1);
    fresh.close();
  } finally { c.close(); c2.close(); }
});

test('two server processes on one redis each deliver to their own connections', async () => {
  const second = await Server.start({ redis });
  try {
    await second.waitLog(/redis: subscribed to notifications/);
    const user = unique('u'), session = unique('s');
    await redis.command('SET', `session-store-${session}`, user);
    const a = await client(session, user);
    const b = await client(session, user, { srv: second, version: 2 });
    await publish([user], { data: 'both' });
    await messageCount(a, 1);
    await messageCount(b, 1);
    await quiet(a, 1); await quiet(b, 1);
    a.close(); b.close();
  } finally { await second.stop(); }
});

test('a redis restart: members still receive and keyspace logins are seen again, clients connected throughout', async () => {
  const own = await Redis.start();
  const srv = await Server.start({ redis: own });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    const user = unique('u'), session = unique('s'), later = unique('s'), user2 = unique('u');
    await own.command('SET', `session-store-${session}`, user);
    const member = await client(session, user, { srv });
    const waiting = await client(later, null, { srv, version: 2 });

    const from = srv.log.length;
    await own.command('SHUTDOWN', 'SAVE').catch(() => {});
    await own.restart();  // a fresh redis: notify-keyspace-events is reset
    await srv.waitLog(/redis: subscribed to notifications/, 15000, from);
    await srv.waitLog(/set notify-keyspace-events/, 15000, from);
    await srv.waitLog(/re-reading \d+ sessions/, 15000, from);
    await sleep(200);
    assert.ok(member.connected && waiting.connected);

    // SHUTDOWN SAVE kept the key: the member is still in its user's room and receives.
    await publish([user], { data: 'after restart' }, own);
    await messageCount(member, 1);

    let mark;
    mark = srv.log.length;
    await own.command('SET', `session-store-${later}`, user2);
    await membership(srv, later, user2);
    await publish([user2], { data: 'login seen' }, own);
    await messageCount(waiting, 1);
    member.close(); waiting.close();
  } finally { await srv.stop(); await own.stop(); }
});

test('redis down at startup: the server serves clients, then connects when redis appears', async () => {
  const own = await Redis.start();
  await own.stop();
  const srv = await Server.start({ redis: own });
  try {
    const session = unique('s'), user = unique('u');
    const c = await connect(4, srv.url, { transports: ['websocket'] }, session);
    assert.ok(c.connected);
    await sleep(300);
    assert.equal(srv.proc.exitCode, null);
    await own.launch();
    await own.command('SET', `session-store-${session}`, user);
    await srv.waitLog(/redis: subscribed to notifications/, 15000);
    await membership(srv, session, user);
    await publish([user], { data: 'finally' }, own);
    await messageCount(c, 1);
    c.close();
  } finally { await srv.stop(); await own.stop(); }
});

test('logins and logouts racing authenticate end in the latest state', async () => {
  const user = unique('race-user');
  const sessions = Array.from({ length: 20 }, () => unique('race'));
  const clients = [];
  // Each session flips between user and nothing while its client authenticates; the last write decides.
  await Promise.all(sessions.map(async (session, i) => {
    const writes = [];
    for (let k = 0; k < 6; k++)
      writes.push(k % 2 === 0 ? redis.command('SET', `session-store-${session}`, user) : redis.command('DEL', `session-store-${session}`));
    const c = connect(i % 2 ? 2 : 4, server.url, { transports: ['websocket'] }, session);
    if (i % 3 === 0) writes.push(redis.command('DEL', `session-store-${session}`));
    else writes.push(redis.command('SET', `session-store-${session}`, user));
    await Promise.all(writes);
    clients[i] = await c;
  }));
  await sleep(500);
  await publish([user], { data: 'who is in?' });
  await sleep(500);
  for (let i = 0; i < sessions.length; i++) {
    const expected = (await redis.command('GET', `session-store-${sessions[i]}`)) === user ? 1 : 0;
    assert.equal(clients[i].messages.length, expected, `session ${sessions[i]} (${i})`);
  }
  clients.forEach((c) => c.close());
});

test('what changed while redis was away is seen after it comes back (resync of held sessions)', async () => {
  const own = await Redis.start();
  const srv = await Server.start({ redis: own });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    const user = unique('u'), session = unique('s');
    await own.command('SET', `session-store-${session}`, user);
    const member = await client(session, user, { srv });
    const from = srv.log.length;
    await own.command('SHUTDOWN', 'NOSAVE').catch(() => {});
    await own.restart();  // the key is gone: the web app's logout happened while we could not see it
    await membership(srv, session, null);
    await publish([user], { data: 'must not arrive' }, own);
    await quiet(member, 0);
    member.close();
  } finally { await srv.stop(); await own.stop(); }
});

test('the session id may come from a handshake cookie (HttpOnly session cookies need no authenticate)', async () => {
  const srv = await Server.start({ redis, config: { 'redis-session': { cookie: 'sessionid' } } });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    const session = unique('cookie'), user = unique('u');
    await redis.command('SET', `session-store-${session}`, user);
    const from = srv.log.length;
    const c = await connect(4, srv.url, { transports: ['polling'], extraHeaders: { Cookie: `csrftoken=x; sessionid=${session}` } });
    await membership(srv, session, user);
    await publish([user], { data: 'by cookie' });
    await messageCount(c, 1);
    c.close();
  } finally { await srv.stop(); }
});

test('a plain Engine.IO client (a plugin\'s path) authenticated by cookie gets notifications as plain messages', async () => {
  const srv = await Server.start({ redis, config: {
    plugins: ['socketio', 'redis-session', 'redis-pubsub', 'conformance'],
    'redis-session': { cookie: 'sessionid' } } });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    const session = unique('raw'), user = unique('u');
    await redis.command('SET', `session-store-${session}`, user);
    const from = srv.log.length;
    const res = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`, { headers: { Cookie: `sessionid=${session}` } });
    const sid = JSON.parse((await res.text()).slice(1)).sid;
    await membership(srv, session, user);
    await publish([user], { data: 'plain' });
    const poll = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(await poll.text(), '4{"data":"plain"}');
  } finally { await srv.stop(); }
});

test('where CONFIG is not allowed: a clear warning, and lookups and notifications still work', async () => {
  const own = await Redis.start(['--rename-command', 'CONFIG', '']);
  const srv = await Server.start({ redis: own });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    await srv.waitLog(/cannot read notify-keyspace-events .*make sure redis has it include/);
    const session = unique('s'), user = unique('u');
    await own.command('SET', `session-store-${session}`, user);
    const c = await client(session, user, { srv });
    await publish([user], { data: 'still works' }, own);
    await messageCount(c, 1);
    c.close();
  } finally { await srv.stop(); await own.stop(); }
});
