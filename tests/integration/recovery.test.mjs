// Connection state recovery with real clients and a real redis (the pub/sub source, the core's in-memory
// history and records): socket.io-client 4.x coming back with its pid, and the explicit resume of 2.x clients
// (`authenticate` with an offset). Every check is on what the clients received: each notification once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, TcpProxy, connect, messageCount, quiet, until, sleep, ioV2, TIME_FACTOR } from './lib/harness.mjs';

let redis, server, n = 0;
const unique = (p) => `${p}-${++n}`;

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis: subscribed to notifications/);
});
after(async () => { await server?.stop(); await redis?.stop(); });

const publish = (users, data, srv = redis) => srv.command('PUBLISH', 'notifications', JSON.stringify({ users, data }));

async function login(user) {
  const session = unique('s');
  await redis.command('SET', `session-store-${session}`, user);
  return session;
}

// A 4.x client that reconnects by itself and, as apps do, authenticates on every `connect`.
async function reconnecting(session, user, opts = {}, url = server.url) {
  const s = await connect(4, url, { transports: ['websocket'], reconnection: true, reconnectionDelay: 50,
    reconnectionDelayMax: 50, randomizationFactor: 0, ...opts }, session);
  s.on('connect', () => s.emit('authenticate', { sessionId: session }));
  s.connects = 0;
  s.recoveries = 0;
  s.on('connect', () => { s.connects += 1; if (s.recovered) s.recoveries += 1; });
  await server.waitMembership(session, user, s);
  return s;
}

async function metric(name, labels) {
  const text = await (await fetch(`http://127.0.0.1:${server.adminPort}/metrics`)).text();
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('4.x: the CONNECT reply carries a pid; a client whose transport drops comes back recovered', async () => {
  const user = unique('u');
  const s = await reconnecting(await login(user), user);
  try {
    assert.match(s._pid, /^[A-Za-z0-9_-]{20}$/);
    const pid = s._pid;
    await publish([user], 1);
    await messageCount(s, 1);
    const recovered = await metric('yunity_recoveries_total', 'result="recovered"');
    s.io.engine.close();  // the transport drops, as on a network change: the client reconnects
    await until(() => s.connects === 1, 'a reconnection');
    assert.equal(s.recovered, true);
    assert.equal(s._pid, pid, 'the client keeps its pid');
    assert.equal(await metric('yunity_recoveries_total', 'result="recovered"'), recovered + 1);
    await publish([user], 2);
    await messageCount(s, 2);
    assert.deepEqual(s.messages, [{ data: 1 }, { data: 2 }]);
  } finally { s.close(); }
});

test('4.x: what is published while the client is away is replayed in order before anything live, once', async () => {
  const user = unique('u'), other = unique('other');
  const s = await reconnecting(await login(user), user, { reconnectionDelay: 600, reconnectionDelayMax: 600 });
  try {
    await publish([user], 0);
    await messageCount(s, 1);
    s.io.engine.close();
    // Away for 600 ms: these reach nobody live. Another user's notification is not replayed to this one.
    for (let i = 1; i <= 5; i++) await publish(i === 3 ? [other] : [user, other], i);
    await until(() => s.connects === 1, 'a reconnection', 5000 * TIME_FACTOR);
    assert.equal(s.recovered, true);
    await publish([user], 6);
    await messageCount(s, 6);
    await quiet(s, 6);
    assert.deepEqual(s.messages.map((m) => m.data), [0, 1, 2, 4, 5, 6]);
    // Every offset is distinct and each message came with one.
    assert.equal(new Set(s.messageOffsets).size, 6);
  } finally { s.close(); }
});

test('4.x: transports dropping every few hundred ms while notifications flow: every one once, in order', async () => {
  const user = unique('u');
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await reconnecting(await login(user), user));
  try {
    const total = 300;
    let dropping = true;
    const dropper = (async () => {
      while (dropping) {
        await sleep(150 + Math.random() * 200);
        const c = clients[Math.floor(Math.random() * clients.length)];
        if (c.connected) c.io.engine.close();
      }
    })();
    for (let i = 1; i <= total; i++) {
      await publish([user], i);
      await sleep(5);
    }
    dropping = false;
    await dropper;
    for (const c of clients) {
      await until(() => c.connected, 'connected again');
      await messageCount(c, total, 10000 * TIME_FACTOR);
      await quiet(c, total);
      assert.deepEqual(c.messages.map((m) => m.data), Array.from({ length: total }, (_, i) => i + 1));
    }
    const drops = clients.reduce((sum, c) => sum + c.connects, 0);
    assert.ok(drops >= 4, `only ${drops} reconnections happened`);
    assert.equal(clients.reduce((sum, c) => sum + c.recoveries, 0), drops, 'every reconnection recovered');
  } finally { for (const c of clients) c.close(); }
});

// The server sees nothing of a client whose network changed (no FIN reaches it) until the heartbeat gives up, nor
// of a polling client dropped between two polls; what is routed to the old connection meanwhile goes nowhere. The
// client comes back at once with its pid, and the old connection is still the pid's holder: the claim takes it over.
for (const transport of ['websocket', 'polling']) {
  test(`4.x over ${transport}: a client back before the server saw it go takes over its connection, nothing lost`, async () => {
    const proxy = await TcpProxy.start(server.port);
    const user = unique('u');
    const session = await login(user);
    const s = await reconnecting(session, user, { transports: [transport], reconnectionDelay: 400,
      reconnectionDelayMax: 400 }, `http://127.0.0.1:${proxy.port}`);
    try {
      const pid = s._pid;
      await publish([user], 1);
      await messageCount(s, 1);
      const takenOver = await metric('yunity_socketio_disconnects_total', 'reason="taken over"');
      proxy.vanish(200);  // a polling client's goodbye (a POST) does not get through
      // Routed to the old connection, which the server still holds: written into the void.
      await publish([user], 2);
      await publish([user], 3);
      await until(() => s.connects === 1, 'a reconnection', 5000 * TIME_FACTOR);
      assert.equal(s.recovered, true, 'recovered');
      assert.equal(s._pid, pid);
      await until(async () => await metric('yunity_socketio_disconnects_total', 'reason="taken over"') === takenOver + 1,
        'the old connection closed as taken over');
      await publish([user], 4);
      await messageCount(s, 4);
      await quiet(s, 4);
      assert.deepEqual(s.messages.map((m) => m.data), [1, 2, 3, 4]);
      assert.match(server.log, /continues connection #\d+ \(its client came back with its pid\)/);
      // One connection holds the session now: the taken-over one is gone from the report.
      const { connections } = await (await fetch(`http://127.0.0.1:${server.adminPort}/`)).json();
      assert.equal(connections.filter((c) => c.sessionId === session).length, 1);
    } finally { s.close(); await proxy.stop(); }
  });
}

test('4.x: an unknown pid is not recovered; the connection works afresh', async () => {
  const user = unique('u');
  const session = await login(user);
  const before = await metric('yunity_recoveries_total', 'result="failed",reason="unknown pid"');
  // A first CONNECT carrying a pid nobody gave (the client sends its auth as the CONNECT's data).
  const s = await connect(4, server.url, { transports: ['websocket'], auth: { pid: 'nope', offset: '1-1' } }, session);
  try {
    assert.equal(s.recovered, false);
    assert.match(s._pid, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(await metric('yunity_recoveries_total', 'result="failed",reason="unknown pid"'), before + 1);
    await server.waitMembership(session, user, s);
    await publish([user], 'live');
    await messageCount(s, 1);
  } finally { s.close(); }
});

// redis' count of calls to a command (`INFO commandstats`), e.g. 'getdel'.
async function calls(command) {
  const info = String(await redis.command('INFO', 'commandstats'));
  const m = info.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`));
  return m ? Number(m[1]) : 0;
}

test('4.x: a flood of unknown pids: each waits its claim out and costs a bounded few redis commands; a real recovery amid it works', async () => {
  const user = unique('u');
  const session = await login(user);
  const s = await reconnecting(session, user, { reconnectionDelay: 400, reconnectionDelayMax: 400 });
  const unknownBefore = await metric('yunity_recoveries_total', 'result="failed",reason="unknown pid"');
  const getdelBefore = await calls('getdel');
  const waves = 4, perWave = 50;  // under max_pending_per_address (64)
  // The real client drops (the server sees it) and comes back during the flood, with a notification in between.
  s.io.engine.close();
  await publish([user], 'while away');
  const flood = [];
  for (let w = 0; w < waves; w += 1) {
    const wave = await Promise.all(Array.from({ length: perWave }, async (_, i) => {
      const pid = `flood-${w}-${i}-${Math.random().toString(36).slice(2)}`;
      const started = Date.now();
      const c = await connect(4, server.url, { transports: ['websocket'], auth: { pid, offset: '1-1' } });
      const answer = { pid, got: c._pid, recovered: c.recovered, ms: Date.now() - started };
      c.close();
      return answer;
    }));
    flood.push(...wave);
  }
  try {
    assert.equal(flood.length, waves * perWave);
    for (const f of flood) {
      assert.equal(f.recovered, false, `${f.pid} recovered`);
      assert.notEqual(f.got, f.pid);
      assert.match(f.got, /^[A-Za-z0-9_-]{20}$/);
      // The claim is waited out (claim_wait_ms, 300 by default, and its last look), not longer.
      assert.ok(f.ms < 300 + 1000 * TIME_FACTOR, `${f.pid} answered after ${f.ms} ms`);
    }
    assert.equal(await metric('yunity_recoveries_total', 'result="failed",reason="unknown pid"'),
      unknownBefore + waves * perWave);
    // Per unknown pid: the record's GETDEL, then at most 4 looks again (after 20, 40, 80 and 160 ms).
    const getdels = (await calls('getdel')) - getdelBefore;
    assert.ok(getdels <= 5 * waves * perWave + 5, `${getdels} GETDELs for ${waves * perWave} unknown pids`);
    // The real client got its notification back, once, and goes on live.
    await until(() => s.connects === 1, 'the real client back', 5000 * TIME_FACTOR);
    assert.equal(s.recovered, true);
    await messageCount(s, 1);
    await publish([user], 'live');
    await messageCount(s, 2);
    await quiet(s, 2);
    // The claims expire (written for twice claim_wait_ms): the flood leaves nothing in redis.
    await until(async () => (await redis.command('KEYS', 'yunity-recovery:claim:flood-*')).length === 0,
      'the claims expired', 3000 * TIME_FACTOR);
  } finally { s.close(); }
});

test('4.x: a session logged out while the client was away gets nothing back', async () => {
  const user = unique('u');
  const session = await login(user);
  const s = await reconnecting(session, user, { reconnectionDelay: 600, reconnectionDelayMax: 600 });
  try {
    s.io.engine.close();
    await redis.command('DEL', `session-store-${session}`);
    await publish([user], 'after logout');
    await until(() => s.connects === 1, 'a reconnection', 5000 * TIME_FACTOR);
    assert.equal(s.recovered, false);
    await publish([user], 'later');
    await quiet(s, 0);
  } finally { s.close(); }
});

test('4.x: a pid has one holder: a second client presenting it takes the session over, the first is closed', async () => {
  const user = unique('u');
  const session = await login(user);
  const s = await reconnecting(session, user);
  const pid = s._pid;
  s.close();
  await sleep(100);
  const first = await connect(4, server.url, { transports: ['websocket'], auth: { pid } });
  // The first got the session back without authenticating.
  await server.waitMembership(session, user, first);
  let firstGone = false;
  first.on('disconnect', () => { firstGone = true; });
  const second = await connect(4, server.url, { transports: ['websocket'], auth: { pid } });
  try {
    // socket.io-client only counts a recovery for a pid it already held; the server's answer is in the pid.
    assert.equal(first._pid, pid);
    assert.equal(second._pid, pid);
    await until(() => firstGone, 'the first closed');
    await server.waitMembership(session, user, second);
    await publish([user], 'x');
    await messageCount(second, 1);
    await quiet(first, 0);
    // A pid nobody holds and no record has is refused, as ever.
    const third = await connect(4, server.url, { transports: ['websocket'], auth: { pid: 'p'.repeat(20) } });
    assert.notEqual(third._pid, 'p'.repeat(20));
    third.close();
  } finally { first.close(); second.close(); }
});

// A 2.x client: connects, authenticates, gets messages; the app keeps the last offset.
async function client2(session, offset) {
  const s = await connect(2, server.url, { transports: ['websocket'] });
  s.resumed = [];
  s.on('resumed', (r) => s.resumed.push(r));
  s.emit('authenticate', offset === undefined ? { sessionId: session } : { sessionId: session, offset });
  return s;
}

test('2.x: authenticate with the last offset replays what was missed, tells so, then live', async () => {
  const user = unique('u');
  const session = await login(user);
  const a = await client2(session);
  await server.waitMembership(session, user, a);
  await publish([user], 1);
  await messageCount(a, 1);
  const last = a.messageOffsets.at(-1);
  assert.equal(typeof last, 'string');
  a.close();
  for (let i = 2; i <= 4; i++) await publish([user], i);
  const b = await client2(session, last);
  try {
    await until(() => b.resumed.length === 1, 'the resumed event');
    assert.deepEqual(b.resumed[0], { recovered: true, replayed: 3 });
    await messageCount(b, 3);
    await publish([user], 5);
    await messageCount(b, 4);
    await quiet(b, 4);
    assert.deepEqual(b.messages.map((m) => m.data), [2, 3, 4, 5]);
  } finally { b.close(); }
});

test('2.x: a replay three times the slow-client bound goes out in slices: nothing cut, every one in order', async () => {
  const user = unique('u');
  const session = await login(user);
  const a = await client2(session);
  await server.waitMembership(session, user, a);
  await publish([user], 0);
  await messageCount(a, 1);
  const last = a.messageOffsets.at(-1);
  a.close();
  // 3,000 notifications of 1 KB while away: 3 MB to replay, where a connection may hold 1 MB (max_queue_bytes).
  const pad = 'x'.repeat(1000);
  const routed = await metric('yunity_notifications_routed_total', '');
  await Promise.all(Array.from({ length: 3000 }, (_, i) => redis.command('PUBLISH', 'notifications',
    JSON.stringify({ users: [user], data: { i: i + 1, pad } }))));
  // Redis has them all; the server, on a slow build, may not yet: the replay is of what it has routed.
  await until(async () => await metric('yunity_notifications_routed_total', '') >= routed + 3000,
    'the 3,000 routed', 20000 * TIME_FACTOR);
  const b = await client2(session, last);
  try {
    await until(() => b.resumed.length === 1, 'the resumed event');
    assert.deepEqual(b.resumed[0], { recovered: true, replayed: 3000 });
    await messageCount(b, 3000, 20000 * TIME_FACTOR);
    await publish([user], 'live');
    await messageCount(b, 3001);
    assert.deepEqual(b.messages.slice(0, 3000).map((m) => m.data.i), Array.from({ length: 3000 }, (_, i) => i + 1));
    assert.equal(b.messages[3000].data, 'live');
    assert.equal(b.connected, true, 'not cut off as too slow');
  } finally { b.close(); }
});

test('2.x: an offset the history does not hold is a gap the client is told of; live goes on', async () => {
  const user = unique('u');
  const session = await login(user);
  const b = await client2(session, '1-1');
  try {
    await until(() => b.resumed.length === 1, 'the resumed event');
    assert.deepEqual(b.resumed[0], { recovered: false, reason: 'offset unknown' });
    await server.waitMembership(session, user, b);
    await publish([user], 'live');
    await messageCount(b, 1);
  } finally { b.close(); }
});

test('recovery off (--recovery-window 0): no pid, and an explicit resume is answered as off', async () => {
  const srv = await Server.start({ redis, args: ['--recovery-window', '0'] });
  try {
    await srv.waitLog(/redis: subscribed to notifications/);
    const user = unique('u');
    const session = await login(user);
    const s = await connect(4, srv.url, { transports: ['websocket'] }, session);
    assert.equal(s._pid, undefined);
    s.close();
    const b = await connect(2, srv.url, { transports: ['websocket'] });
    const resumed = [];
    b.on('resumed', (r) => resumed.push(r));
    b.emit('authenticate', { sessionId: session, offset: '1-1' });
    await until(() => resumed.length === 1, 'the resumed event');
    assert.deepEqual(resumed[0], { recovered: false, reason: 'recovery off' });
    b.close();
  } finally { await srv.stop(); }
});
