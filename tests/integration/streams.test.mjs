// The redis-streams source against a real redis-server: entries XADDed on the stream reach socket.io clients 2.x
// and 4.x, each once and in order, across a cut link and a redis restart (with its data); a new server reads new
// entries only; bad entries are counted by reason; a burst arrives whole; two servers each deliver to their own
// clients; readiness follows the XREAD loop. The offset-echo test plugin shows each delivery's offset (the entry
// id) as an `offset` event right behind its message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { Redis, Server, BIN, TIME_FACTOR, connect, messageCount, quiet, until, sleep, httpGet } from './lib/harness.mjs';

const OFFSET_ECHO = path.resolve(path.dirname(BIN), '../tests/plugins/offset-echo.so');
const PLUGINS = ['socketio', 'redis-session', 'redis-streams', 'admin-http', OFFSET_ECHO];
// Short XREAD blocks and checks, so that the tests see readiness and reconnects quickly.
const FAST = { block_ms: 200, stall_timeout_ms: 1000, info_interval_ms: 300 };

// A proxy in front of redis that can be cut: every connection through it is closed, and new ones are closed at
// once, until it is opened again (a network partition between the server and redis, with redis still up).
class CuttableProxy {
  static async start(targetPort) {
    const p = new CuttableProxy();
    p.pairs = new Set();
    p.cut = false;
    p.server = net.createServer((down) => {
      if (p.cut) return down.destroy();
      const up = net.connect(targetPort, '127.0.0.1');
      const pair = { up, down };
      p.pairs.add(pair);
      down.on('data', (d) => { if (!up.destroyed) up.write(d); });
      up.on('data', (d) => { if (!down.destroyed) down.write(d); });
      const close = () => { up.destroy(); down.destroy(); p.pairs.delete(pair); };
      for (const s of [up, down]) { s.on('close', close); s.on('error', close); }
    });
    await new Promise((r) => p.server.listen(0, '127.0.0.1', r));
    p.port = p.server.address().port;
    return p;
  }
  get url() { return `redis://127.0.0.1:${this.port}/0`; }
  sever() { this.cut = true; for (const { up, down } of this.pairs) { up.destroy(); down.destroy(); } this.pairs.clear(); }
  heal() { this.cut = false; }
  async stop() { this.sever(); await new Promise((r) => this.server.close(r)); }
}

let redis;
// AOF: a restart keeps the stream. DEBUG SLEEP stalls redis for the readiness test.
before(async () => { redis = await Redis.start(['--appendonly', 'yes', '--enable-debug-command', 'local']); });
after(async () => { await redis?.stop(); });

const xadd = (users, data, stream = 'notifications', to = redis) =>
  to.command('XADD', stream, '*', 'notification', JSON.stringify({ users, data }));
const admin = (server, what) => httpGet(`http://127.0.0.1:${server.adminPort}/${what}`);
const readyz = async (server) => (await admin(server, 'readyz')).status;
async function metric(server, name, labels = '') {
  const text = (await admin(server, 'metrics')).text;
  const escaped = labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${name}${labels ? `\\{${escaped}\\}` : ''} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

// A client of `version` holding a session of `user`, recording messages and offsets in arrival order.
let sessions = 0;
async function client(server, version, user) {
  const sid = `streams-${++sessions}`;
  await redis.command('SET', `session-store-${sid}`, user);
  const c = await connect(version, server.url, { transports: ['websocket'] }, sid);
  c.offsets = [];
  c.on('offset', (o) => c.offsets.push(o));
  await server.waitMembership(sid, user, c);
  return c;
}

async function start(config = {}, redisLike = redis) {
  const server = await Server.start({ redis: redisLike, plugins: PLUGINS,
    config: { 'redis-streams': { ...FAST, ...config } } });
  await until(async () => (await readyz(server)) === 200, 'the server to be ready', 10000);
  return server;
}

test('clients 4.x and 2.x get a notification XADDed to the stream, with the entry id as its offset', async () => {
  const server = await start();
  const c4 = await client(server, 4, 'u-basic');
  const c2 = await client(server, 2, 'u-basic');
  try {
    const id = await xadd(['u-basic'], { text: 'hello' });
    for (const c of [c4, c2]) {
      await messageCount(c, 1);
      assert.deepEqual(c.messages, [{ data: { text: 'hello' } }]);
      await until(() => c.offsets.length === 1, 'the offset');
      assert.deepEqual(c.offsets, [id]);
      // The client itself gets it too, as the message event's last argument (socket.io-client 4.6+ records it).
      assert.deepEqual(c.messageOffsets, [id]);
    }
    // Users are matched as on the channel: 79 and "79" are one user; others get nothing.
    const other = await xadd(['someone-else'], { text: 'not for you' });
    assert.match(other, /^\d+-\d+$/);
    await quiet(c4, 1); await quiet(c2, 1);
    assert.equal(await metric(server, 'yunity_redis_streams_entries_total', 'source="redis-streams"'), 2);
    const stats = JSON.parse((await admin(server, 'stats')).text)['redis-streams'];
    assert.equal(stats.stream, 'notifications');
    assert.equal(stats.last_id, other);
    assert.equal(stats.ready, true);
    await until(async () => JSON.parse((await admin(server, 'stats')).text)['redis-streams'].lag_entries === 0,
      'lag_entries 0 in /stats', 3000);
  } finally { c4.close(); c2.close(); await server.stop(); }
});

test('entries added while the link is cut are all delivered after it comes back, in order, none twice', async () => {
  const proxy = await CuttableProxy.start(redis.port);
  // A small COUNT: the backlog takes several turns, each from the id the last one ended at.
  const server = await start({ count: 7 }, proxy);
  const c = await client(server, 4, 'u-cut');
  try {
    const before = [await xadd(['u-cut'], { n: 0 })];
    await messageCount(c, 1);
    const from = server.log.length;
    proxy.sever();
    await until(async () => (await readyz(server)) === 503, '503 while cut', 5000);
    const during = [];
    for (let n = 1; n <= 50; n++) during.push(await xadd(['u-cut'], { n }));
    await sleep(300);
    assert.equal(c.messages.length, 1, 'nothing arrives while the link is cut');
    proxy.heal();
    await messageCount(c, 51, 10000);
    const after1 = await xadd(['u-cut'], { n: 51 });
    await messageCount(c, 52);
    await quiet(c, 52);
    assert.deepEqual(c.messages.map((m) => m.data.n), [...Array(52).keys()]);
    await until(() => c.offsets.length === 52, 'every offset');
    assert.deepEqual(c.offsets, [...before, ...during, after1]);
    await server.waitLog(/redis: reading stream notifications on/, 5000, from);
    assert.equal(await readyz(server), 200);
    assert.equal(await metric(server, 'yunity_redis_streams_gaps_total', 'source="redis-streams"'), 0);
  } finally { c.close(); await server.stop(); await proxy.stop(); }
});

test('redis restarted with its data (AOF): entries added before the restart that the server had not read arrive once, in order', async () => {
  const server = await start({ count: 5 });
  const c = await client(server, 2, 'u-restart');
  try {
    const first = await xadd(['u-restart'], { n: 0 });
    await messageCount(c, 1);
    // The server is frozen, so it reads nothing of what comes now (redis may still write some of it into the
    // socket of the XREAD it was blocked in); then redis restarts from its AOF, and the server goes on.
    server.proc.kill('SIGSTOP');
    const added = [];
    try {
      for (let n = 1; n <= 30; n++) added.push(await xadd(['u-restart'], { n }));
      await redis.restart();
    } finally { server.proc.kill('SIGCONT'); }
    assert.equal(Number(await redis.command('XLEN', 'notifications')) >= 31, true, 'the AOF kept the stream');
    await messageCount(c, 31, 15000);
    const later = await xadd(['u-restart'], { n: 31 });
    await messageCount(c, 32, 10000);
    await quiet(c, 32);
    assert.deepEqual(c.messages.map((m) => m.data.n), [...Array(32).keys()]);
    await until(() => c.offsets.length === 32, 'every offset');
    assert.deepEqual(c.offsets, [first, ...added, later]);
    await until(async () => (await readyz(server)) === 200, 'ready again', 10000);
    assert.equal(await metric(server, 'yunity_redis_streams_gaps_total', 'source="redis-streams"'), 0);
  } finally { c.close(); await server.stop(); }
});

test('a server reads only what is added after it started, also when started again; a stream created later is read from its first entry', async () => {
  await xadd(['u-new'], { old: 1 });
  await xadd(['u-new'], { old: 2 });
  let server = await start();
  let c = await client(server, 4, 'u-new');
  try {
    await xadd(['u-new'], { fresh: 1 });
    await messageCount(c, 1);
    await quiet(c, 1);
    assert.deepEqual(c.messages, [{ data: { fresh: 1 } }]);
  } finally { c.close(); await server.stop(); }
  // Stopped: what is added meanwhile is before the next start, so not read by it.
  await xadd(['u-new'], { while_down: 1 });
  server = await start();
  c = await client(server, 4, 'u-new');
  try {
    await xadd(['u-new'], { fresh: 2 });
    await messageCount(c, 1);
    await quiet(c, 1);
    assert.deepEqual(c.messages, [{ data: { fresh: 2 } }]);
  } finally { c.close(); await server.stop(); }

  // A stream that does not exist when the server starts: every entry it ever gets is new.
  await redis.command('DEL', 'later-stream');
  server = await start({ stream: 'later-stream' });
  c = await client(server, 4, 'u-new');
  try {
    assert.match(server.log, /stream later-stream: reading after 0-0 \(the stream does not exist yet/);
    await xadd(['u-new'], { created: 1 }, 'later-stream');
    await xadd(['u-new'], { created: 2 }, 'later-stream');
    await messageCount(c, 2);
    assert.deepEqual(c.messages.map((m) => m.data.created), [1, 2]);
  } finally { c.close(); await server.stop(); }
});

test('malformed entries are counted by reason and logged; the next good entry still arrives', async () => {
  const server = await start({ max_message_bytes: 300 });
  const c = await client(server, 4, 'u-bad');
  try {
    const s = 'notifications';
    await redis.command('XADD', s, '*', 'other', 'no notification field here');
    await redis.command('XADD', s, '*', 'notification', '{not json');
    await redis.command('XADD', s, '*', 'notification', '[1,2]');
    await redis.command('XADD', s, '*', 'notification', '{"data":1}');
    await redis.command('XADD', s, '*', 'notification', '{"users":[{"a":1}],"data":1}');
    await redis.command('XADD', s, '*', 'notification', JSON.stringify({ users: ['u-bad'], data: 'x'.repeat(400) }));
    await redis.command('XADD', s, '*', 'notification', `{"users":["u-bad"],"data":${'['.repeat(100)}${']'.repeat(100)}}`);
    const good = await xadd(['u-bad'], { ok: true });
    await messageCount(c, 1);
    assert.deepEqual(c.messages, [{ data: { ok: true } }]);
    await until(() => c.offsets.length === 1, 'the offset');
    assert.deepEqual(c.offsets, [good]);
    for (const reason of ['no notification field', 'not JSON', 'not an object', 'no users array', 'bad user',
      'too large', 'too deep'])
      assert.equal(await metric(server, 'yunity_notifications_rejected_total', `reason="${reason}"`), 1, reason);
    assert.equal(await metric(server, 'yunity_redis_streams_entries_total', 'source="redis-streams"'), 8);
    // Logged at most once per log_interval_ms: the first, with its reason and the entry's id.
    await server.waitLog(/ignored entry \d+-\d+ of stream "notifications": no notification field/);
    assert.doesNotMatch(server.log, /ignored entry .*: not JSON/);
  } finally { c.close(); await server.stop(); }
});

test('a key of another type is an error the reader reports and survives; it reads once the stream is back', async () => {
  await redis.command('DEL', 'typed');
  await redis.command('SET', 'typed', 'a string');
  const server = await Server.start({ redis, plugins: PLUGINS,
    config: { 'redis-streams': { ...FAST, stream: 'typed', retry_interval_ms: 100 } } });
  try {
    await server.waitLog(/stream typed: XINFO STREAM failed: WRONGTYPE/, 5000);
    const body = JSON.parse((await admin(server, 'readyz')).text);
    assert.equal(body.ready, false);
    assert.match(body.sources['redis-streams'].detail, /WRONGTYPE/);
    assert.ok(await metric(server, 'yunity_redis_streams_errors_total', 'source="redis-streams"') >= 1);
    await redis.command('DEL', 'typed');
    await until(async () => (await readyz(server)) === 200, 'ready once the key is gone', 5000);
    const c = await client(server, 4, 'u-typed');
    try {
      await xadd(['u-typed'], { back: 1 }, 'typed');
      await messageCount(c, 1);
    } finally { c.close(); }
  } finally { await server.stop(); await redis.command('DEL', 'typed'); }
});

const BURST = Math.round(20000 / TIME_FACTOR);
test(`a burst of ${BURST} entries XADDed at once (pipelined) while the server is frozen arrives whole and in order, read in bounded turns`, async () => {
  const server = await start({ count: 1000 });
  const c = await client(server, 4, 'u-burst');
  try {
    const rssBefore = await metric(server, 'process_resident_memory_bytes');
    // Frozen, the server finds the whole burst waiting in the stream (redis may have answered its blocked XREAD
    // with the first entry or so). Read at once, the burst would be ~1.3 MB of frames queued for this one client
    // in one turn of the loop, over socketio's max_queue_bytes (1 MiB): the client would be cut as too slow and
    // the test would time out. Read `count` entries a turn, each turn's frames leave before the next XREAD.
    server.proc.kill('SIGSTOP');
    let ids;
    try {
      ids = await Promise.all(Array.from({ length: BURST }, (_, n) =>
        redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: ['u-burst'], data: { n } }))));
    } finally { server.proc.kill('SIGCONT'); }
    let rssMax = rssBefore;
    await until(async () => {
      rssMax = Math.max(rssMax, await metric(server, 'process_resident_memory_bytes'));
      return c.messages.length >= BURST;
    }, `${BURST} messages (have ${c.messages.length})`, 60000, 50);
    await quiet(c, BURST);
    assert.equal(c.connected, true, 'never cut as too slow');
    for (let n = 0; n < BURST; n++) if (c.messages[n].data.n !== n) assert.fail(`message ${n} is ${JSON.stringify(c.messages[n])}`);
    await until(() => c.offsets.length === BURST, 'every offset');
    assert.deepEqual(c.offsets, ids);
    assert.ok(rssMax - rssBefore < 32 * 1024 * 1024, `resident memory grew by ${(rssMax - rssBefore) >> 20} MB`);
    assert.equal(await metric(server, 'yunity_redis_streams_entries_total', 'source="redis-streams"'), BURST);
    assert.equal(await metric(server, 'yunity_redis_streams_gaps_total', 'source="redis-streams"'), 0);
    assert.equal(await metric(server, 'yunity_socketio_disconnects_total', 'reason="too slow"') ?? 0, 0);
    // Caught up: the next XINFO STREAM (every info_interval_ms) finds nothing added after the last entry read.
    await until(async () => await metric(server, 'yunity_redis_streams_lag_entries', 'source="redis-streams"') === 0 &&
      await metric(server, 'yunity_redis_streams_lag_milliseconds', 'source="redis-streams"') === 0, 'no lag', 3000);
  } finally { c.close(); await server.stop(); }
});

test('two servers on one stream each deliver every entry to their own clients', async () => {
  const a = await start();
  const b = await start();
  const ca = await client(a, 4, 'u-two');
  const cb = await client(b, 2, 'u-two');
  try {
    const ids = [];
    for (let n = 0; n < 10; n++) ids.push(await xadd(['u-two'], { n }));
    for (const c of [ca, cb]) {
      await messageCount(c, 10);
      await quiet(c, 10);
      assert.deepEqual(c.messages.map((m) => m.data.n), [...Array(10).keys()]);
      await until(() => c.offsets.length === 10, 'every offset');
      assert.deepEqual(c.offsets, ids);
    }
  } finally { ca.close(); cb.close(); await a.stop(); await b.stop(); }
});

test('readiness: 200 while reading, 503 with the reason while redis is stopped, 200 again after', async () => {
  const server = await start();
  try {
    const ok = JSON.parse((await admin(server, 'readyz')).text);
    assert.equal(ok.sources['redis-streams'].ready, true);
    assert.match(ok.sources['redis-streams'].detail, /reading stream notifications on redis:\/\/127\.0\.0\.1/);
    assert.equal(await metric(server, 'yunity_source_ready', 'source="redis-streams"'), 1);
    await redis.stop();
    const down = await until(async () => { const r = await admin(server, 'readyz'); return r.status === 503 && r; },
      '503', 5000);
    assert.equal(JSON.parse(down.text).sources['redis-streams'].ready, false);
    await redis.launch();
    await until(async () => (await readyz(server)) === 200, '200 after redis is back', 15000);
    const c = await client(server, 4, 'u-ready');
    try {
      await xadd(['u-ready'], { back: true });
      await messageCount(c, 1);
    } finally { c.close(); }
  } finally { await server.stop(); }
});

test('a stalled redis (DEBUG SLEEP) makes the source not ready within block_ms + stall_timeout_ms', async () => {
  const server = await start();
  try {
    const sleeping = redis.command('DEBUG', 'SLEEP', '2.5');
    const down = await until(async () => { const r = await admin(server, 'readyz'); return r.status === 503 && r; },
      '503 during the stall', 3000, 50);
    assert.match(JSON.parse(down.text).sources['redis-streams'].detail, /has not answered within 1200 ms/);
    await sleeping;
    await until(async () => (await readyz(server)) === 200, '200 after the stall', 5000);
  } finally { await server.stop(); }
});

test('entries trimmed before the server read them: a warning saying how many and how far, a count, and reading goes on from the oldest entry', async () => {
  const server = await start({ count: 2 });
  const c = await client(server, 4, 'u-trim');
  try {
    await xadd(['u-trim'], { n: 0 });
    await messageCount(c, 1);
    const from = server.log.length;
    server.proc.kill('SIGSTOP');
    const kept = [];
    try {
      for (let n = 1; n <= 10; n++) await xadd(['u-trim'], { n });
      // The producer's retention keeps only the newest 3: entries 1..7 go before the server read them. Redis may
      // already have answered the blocked XREAD with entry 1 into its socket: that one arrives, the rest of
      // the gap does not.
      await redis.command('XTRIM', 'notifications', 'MAXLEN', '3');
      kept.push(...(await redis.command('XRANGE', 'notifications', '-', '+')).map(([id]) => id));
    } finally { server.proc.kill('SIGCONT'); }
    assert.equal(kept.length, 3);
    const warned = await server.waitLog(/stream notifications: (\d+) entries after (\d+-\d+), up to (\d+-\d+) \(\d+ ms of the stream\), were removed before this server read them/, 5000, from);
    await until(async () => await metric(server, 'yunity_redis_streams_gaps_total', 'source="redis-streams"') === 1,
      'the gap counted', 3000);
    await until(() => c.messages.some((m) => m.data.n === 10), 'the newest entry', 5000);
    await quiet(c, c.messages.length);
    const got = c.messages.map((m) => m.data.n);
    // In order, none twice, the kept ones all there, and of the trimmed only what redis had already answered.
    assert.deepEqual(got.slice(-3), [8, 9, 10]);
    assert.deepEqual(got, [...got].sort((x, y) => x - y));
    assert.equal(new Set(got).size, got.length);
    assert.ok(got.length <= 6, `got ${JSON.stringify(got)}`);
    // The warning counts exactly the trimmed entries that were not delivered.
    assert.equal(Number(warned[1]), 7 - got.filter((n) => n >= 1 && n <= 7).length, warned[0]);
    // Reported once, not at every check.
    await sleep(1000);
    assert.equal(await metric(server, 'yunity_redis_streams_gaps_total', 'source="redis-streams"'), 1);
  } finally { c.close(); await server.stop(); }
});

test('redis-pubsub gives offsets <run id>-<sequence>: consecutive within a run, another run id after a restart', async () => {
  const plugins = ['socketio', 'redis-session', 'redis-pubsub', 'admin-http', OFFSET_ECHO];
  const runs = [];
  for (let run = 0; run < 2; run++) {
    const server = await Server.start({ redis, plugins });
    await until(async () => (await readyz(server)) === 200, 'ready', 10000);
    const c = await client(server, 4, 'u-pubsub');
    try {
      for (let n = 0; n < 3; n++) await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['u-pubsub'], data: { n } }));
      // Not a notification: no offset is used up by it.
      await redis.command('PUBLISH', 'notifications', '{not json');
      await redis.command('PUBLISH', 'notifications', JSON.stringify({ users: ['u-pubsub'], data: { n: 3 } }));
      await messageCount(c, 4);
      await until(() => c.offsets.length === 4, 'every offset');
      const parts = c.offsets.map((o) => /^([a-f][0-9a-f]{15})-(\d+)$/.exec(o));
      assert.ok(parts.every(Boolean), JSON.stringify(c.offsets));
      assert.equal(new Set(parts.map((p) => p[1])).size, 1, 'one run id per run');
      const seq = parts.map((p) => Number(p[2]));
      // The canary's probes are not notifications either: the sequence has no holes.
      for (let i = 1; i < seq.length; i++) assert.equal(seq[i], seq[i - 1] + 1, JSON.stringify(c.offsets));
      runs.push(parts[0][1]);
    } finally { c.close(); await server.stop(); }
  }
  assert.notEqual(runs[0], runs[1], 'each start draws its own run id');
});
