// No notification lost across a server restart, a move to another instance and a redis restart: the
// redis-streams source, the recovery records in redis (redis-session) and the replay from the stream. Real
// clients (socket.io-client 4.x recovering with its pid, 2.x resuming with `authenticate {sessionId, offset}`)
// reach the servers through a TCP proxy, as through a load balancer; each must get every notification once, in
// order, while a producer keeps adding them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, TcpProxy, connect, messageCount, quiet, until, sleep, httpGet, TIME_FACTOR } from './lib/harness.mjs';

const PLUGINS = ['socketio', 'redis-session', 'redis-streams', 'admin-http'];
const CONFIG = { 'redis-streams': { block_ms: 200, info_interval_ms: 300 } };

let redis, n = 0;
const unique = (p) => `${p}-${++n}`;
// AOF: a restart of redis keeps the stream and the recovery records.
before(async () => { redis = await Redis.start(['--appendonly', 'yes']); });
after(async () => { await redis?.stop(); });

async function start() {
  const server = await Server.start({ redis, plugins: PLUGINS, config: CONFIG });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000 * TIME_FACTOR);
  return server;
}

async function login(user) {
  const session = unique('s');
  await redis.command('SET', `session-store-${session}`, user);
  return session;
}

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0 };

// A 4.x client over websocket or the default polling-then-upgrade, authenticating on every connect as apps do.
async function client4(url, session, transports) {
  const s = await connect(4, url, { ...RECONNECT, ...(transports ? { transports } : {}) }, session);
  s.connects = 0;
  s.recoveries = 0;
  s.on('connect', () => {
    s.connects += 1;
    if (s.recovered) s.recoveries += 1;
    s.emit('authenticate', { sessionId: session });
  });
  return s;
}

// A 2.x client as the README shows it: it keeps the last offset, and resumes from it on every reconnect.
async function client2(url, session) {
  const s = await connect(2, url, { ...RECONNECT, transports: ['websocket'] }, session);
  s.connects = 0;
  s.resumed = [];
  s.on('resumed', (r) => s.resumed.push(r));
  s.on('connect', () => {
    s.connects += 1;
    const offset = s.messageOffsets.at(-1);
    s.emit('authenticate', offset === undefined ? { sessionId: session } : { sessionId: session, offset });
  });
  return s;
}

// Adds notifications 1..total for `users`, one every few ms, retrying through a redis restart.
function producer(users, total) {
  const p = { added: 0 };
  p.done = (async () => {
    for (let i = 1; i <= total; i++) {
      for (;;) {
        try {
          await redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users, data: i }));
          break;
        } catch { await sleep(50); }
      }
      p.added = i;
      await sleep(4);
    }
  })();
  return p;
}

async function everyOnceInOrder(clients, total) {
  const want = Array.from({ length: total }, (_, i) => i + 1);
  for (const c of clients) {
    await messageCount(c, total, 15000 * TIME_FACTOR);
    await quiet(c, total);
    assert.deepEqual(c.messages.map((m) => m.data), want);
    assert.equal(new Set(c.messageOffsets).size, total, 'each came with its own offset');
  }
}

async function membership(server, clients) {
  for (const [c, session, user] of clients) await server.waitMembership(session, user, c);
}

test('a SIGTERM restart mid-stream: every client comes back to the new process and misses nothing', async () => {
  const a = await start();
  const proxy = await TcpProxy.start(a.port);
  const url = `http://127.0.0.1:${proxy.port}`;
  const user = unique('u');
  const sessions = [await login(user), await login(user), await login(user)];
  const c4ws = await client4(url, sessions[0], ['websocket']);
  const c4poll = await client4(url, sessions[1]);
  const c2 = await client2(url, sessions[2]);
  const clients = [c4ws, c4poll, c2];
  let b;
  try {
    await membership(a, [[c4ws, sessions[0], user], [c4poll, sessions[1], user], [c2, sessions[2], user]]);
    const total = 400;
    const p = producer([user], total);
    await until(() => p.added >= 120, 'the producer under way', 10000);
    const from = a.log.length;
    await a.stop();
    // The records of the three connections went to redis before the process ended.
    assert.match(a.log.slice(from), /writing 2 recovery records before stopping|stopped/);
    assert.equal(Number(await redis.command('EXISTS', ...[c4ws._pid, c4poll._pid].map((pid) => `yunity-recovery:${pid}`))), 2);
    await sleep(300);  // nobody serves: these entries reach no one live
    b = await start();
    proxy.point(b.port);
    await p.done;
    await everyOnceInOrder(clients, total);
    assert.equal(c4ws.recoveries, c4ws.connects);
    assert.equal(c4poll.recoveries, c4poll.connects);
    assert.ok(c4ws.connects >= 1 && c4poll.connects >= 1 && c2.connects >= 1);
    assert.ok(c2.resumed.length >= 1 && c2.resumed.every((r) => r.recovered === true), JSON.stringify(c2.resumed));
    // The new process had none of it in memory: what the clients missed came from the stream.
    const metrics = (await httpGet(`http://127.0.0.1:${b.adminPort}/metrics`)).text;
    assert.match(metrics, /yunity_recoveries_total\{result="recovered"\} [3-9]/);
    assert.ok(Number(/yunity_replayed_notifications_total (\d+)/.exec(metrics)[1]) > 0);
  } finally {
    for (const c of clients) c.close();
    await b?.stop(); await a.stop(); await proxy.stop();
  }
});

test('every client moved to a second instance (rolling restart behind a balancer): nothing lost, nothing twice', async () => {
  const a = await start();
  const b = await start();
  const proxy = await TcpProxy.start(a.port);
  const url = `http://127.0.0.1:${proxy.port}`;
  const users = [unique('u'), unique('u')];
  const clients = [];
  try {
    for (const user of users) {
      const s4 = await login(user);
      const c4 = await client4(url, s4, ['websocket']);
      const s2 = await login(user);
      const c2 = await client2(url, s2);
      await membership(a, [[c4, s4, user], [c2, s2, user]]);
      clients.push(c4, c2);
    }
    const total = 300;
    const p = producer(users, total);
    await until(() => p.added >= 100, 'the producer under way', 10000);
    proxy.point(b.port);  // new connections go to b; a is taken out as in a rolling restart
    await a.stop();
    await p.done;
    await everyOnceInOrder(clients, total);
    for (const c of clients.filter((c) => c.recoveries !== undefined)) assert.equal(c.recoveries, c.connects);
    for (const c of clients.filter((c) => c.resumed)) assert.ok(c.resumed.every((r) => r.recovered === true));
    const metrics = (await httpGet(`http://127.0.0.1:${b.adminPort}/metrics`)).text;
    assert.match(metrics, /yunity_recoveries_total\{result="recovered"\} [4-9]/);
  } finally {
    for (const c of clients) c.close();
    await a.stop(); await b.stop(); await proxy.stop();
  }
});

// A network change reaches the server as nothing: instance a still holds the connection (and routes to it) when its
// client comes back through the balancer to instance b, with its pid. b finds no record, writes the claim; a hears
// of it, closes the connection and writes its record; b reads it and replays from the stream.
for (const transport of ['websocket', 'polling']) {
  test(`a client over ${transport} whose network vanished comes back to another instance: a lets go, nothing lost`, async () => {
    const a = await start();
    const b = await start();
    const proxy = await TcpProxy.start(a.port);
    const user = unique('u');
    const session = await login(user);
    const s = await client4(`http://127.0.0.1:${proxy.port}`, session, [transport]);
    const add = (i) => redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: [user], data: i }));
    try {
      await a.waitMembership(session, user, s);
      await add(1);
      await messageCount(s, 1);
      const pid = s._pid;
      proxy.point(b.port);
      proxy.vanish(300);  // a polling client's goodbye does not get through either
      await add(2);  // routed by a to the connection it still holds
      await add(3);
      await until(() => s.connects >= 1 && s.connected, 'a reconnection to b', 5000 * TIME_FACTOR);
      assert.equal(s.recovered, true, 'recovered');
      assert.equal(s._pid, pid);
      await b.waitMembership(session, user, s);
      await add(4);
      await messageCount(s, 4);
      await quiet(s, 4);
      assert.deepEqual(s.messages.map((m) => m.data), [1, 2, 3, 4]);
      assert.match(a.log, /its client came back to another instance with its pid: closing it/);
      assert.match((await httpGet(`http://127.0.0.1:${a.adminPort}/metrics`)).text,
        /yunity_socketio_disconnects_total\{reason="taken over"\} 1/);
      // A pid nobody holds waits out the claim and starts afresh.
      const started = Date.now();
      const stranger = await connect(4, `http://127.0.0.1:${b.port}`, { transports: ['websocket'], auth: { pid: 'q'.repeat(20) } });
      assert.notEqual(stranger._pid, 'q'.repeat(20));
      assert.ok(Date.now() - started >= 250, 'the claim was waited for');
      stranger.close();
    } finally {
      s.close();
      await a.stop(); await b.stop(); await proxy.stop();
    }
  });
}

test('a redis restart (AOF) while a client is away: its record and the stream survive; nothing lost', async () => {
  const server = await start();
  const user = unique('u');
  const session = await login(user);
  const away = await client4(server.url, session, ['websocket']);
  const stays = await client4(server.url, await login(user), ['websocket']);
  try {
    await server.waitMembership(session, user, away);
    const total = 200;
    const p = producer([user], total);
    await until(() => p.added >= 50, 'the producer under way', 10000);
    away.io.reconnectionDelay(1500);
    away.io.reconnectionDelayMax(1500);
    away.io.engine.close();
    await sleep(200);
    await redis.restart();
    await p.done;
    await everyOnceInOrder([away, stays], total);
    assert.equal(away.connects, 1);
    assert.equal(away.recoveries, 1);
  } finally { away.close(); stays.close(); await server.stop(); }
});

test('an offset the stream no longer holds (trimmed) is a gap the client is told of; live goes on', async () => {
  const server = await start();
  const user = unique('u');
  const session = await login(user);
  const a = await client2(server.url, session);
  try {
    await server.waitMembership(session, user, a);
    await redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: [user], data: 1 }));
    await messageCount(a, 1);
    const last = a.messageOffsets.at(-1);
    a.close();
    for (let i = 2; i <= 5; i++)
      await redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: [user], data: i }));
    await redis.command('XTRIM', 'notifications', 'MAXLEN', '2');
    // Another instance, whose history never held the offset: the stream is asked, and it was trimmed.
    const other = await start();
    const b = await connect(2, other.url, { transports: ['websocket'] });
    b.resumed = [];
    b.on('resumed', (r) => b.resumed.push(r));
    b.emit('authenticate', { sessionId: session, offset: last });
    try {
      await until(() => b.resumed.length === 1, 'the resumed event');
      assert.deepEqual(b.resumed[0], { recovered: false, reason: 'entries trimmed' });
      await other.waitMembership(session, user, b);
      await redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: [user], data: 6 }));
      await messageCount(b, 1);
      assert.deepEqual(b.messages.map((m) => m.data), [6]);
    } finally { b.close(); await other.stop(); }
  } finally { a.close(); await server.stop(); }
});
