// A rolling restart behind the shipped nginx site (deploy/nginx-yunity-sockets.conf, without TLS, on private
// ports): two instances share one redis and read the notifications stream; each is stopped with SIGTERM and
// started again in turn while a producer keeps adding notifications. Real clients (4.x over websocket and over
// polling with the upgrade, 2.x resuming with its last offset) go wherever nginx sends them, and each must get
// every notification once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, connect, messageCount, quiet, until, sleep, httpGet, freePort, TIME_FACTOR } from './lib/harness.mjs';
import { startNginx } from './lib/nginx.mjs';

const PLUGINS = ['socketio', 'redis-session', 'redis-streams', 'admin-http'];
const CONFIG = { 'redis-streams': { block_ms: 200, info_interval_ms: 300 } };

let redis, nginx;
const ports = [];

before(async () => {
  redis = await Redis.start();
  ports.push(await freePort(), await freePort());
  nginx = await startNginx(ports);
});
after(async () => {
  await nginx?.stop();
  await redis?.stop();
});

async function start(port) {
  const server = await Server.start({ redis, plugins: PLUGINS, config: CONFIG, port });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000 * TIME_FACTOR);
  return server;
}

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300 };
let sessions = 0;
async function login(user) {
  const session = `rolling-${++sessions}`;
  await redis.command('SET', `session-store-${session}`, user);
  return session;
}

test('a rolling restart of two instances behind nginx loses nothing and sends nothing twice', async () => {
  const instances = [await start(ports[0]), await start(ports[1])];
  const url = nginx.url;
  const user = 'rolling-user';
  const clients = [];
  try {
    for (const transports of [['websocket'], undefined]) {
      const session = await login(user);
      const c = await connect(4, url, { ...RECONNECT, ...(transports ? { transports } : {}) }, session);
      c.connects = 0;
      c.on('connect', () => { c.connects += 1; c.emit('authenticate', { sessionId: session }); });
      clients.push(c);
    }
    const session2 = await login(user);
    const c2 = await connect(2, url, { ...RECONNECT, transports: ['websocket'] }, session2);
    c2.resumed = [];
    c2.connects = 0;
    c2.on('resumed', (r) => c2.resumed.push(r));
    c2.on('connect', () => {
      c2.connects += 1;
      const offset = c2.messageOffsets.at(-1);
      c2.emit('authenticate', offset === undefined ? { sessionId: session2 } : { sessionId: session2, offset });
    });
    clients.push(c2);
    await until(async () => {
      const reports = await Promise.all(instances.map(async (s) =>
        (await (await fetch(`http://127.0.0.1:${s.adminPort}/`)).json()).connections));
      return reports.flat().filter((c) => String(c.userId) === user).length === 3;
    }, 'three connections of the user');

    const total = 600;
    let added = 0;
    const producer = (async () => {
      for (let i = 1; i <= total; i++) {
        await redis.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: [user], data: i }));
        added = i;
        await sleep(5);
      }
    })();
    // Each instance in turn: stopped (its clients go to the other), started again on its port.
    for (const i of [0, 1]) {
      const at = added;
      await until(() => added >= at + 100, 'the producer under way', 10000 * TIME_FACTOR);
      await instances[i].stop();
      await sleep(200);
      instances[i] = await start(ports[i]);
    }
    await producer;
    const want = Array.from({ length: total }, (_, i) => i + 1);
    for (const c of clients) {
      await messageCount(c, total, 20000 * TIME_FACTOR);
      await quiet(c, total);
      assert.deepEqual(c.messages.map((m) => m.data), want);
    }
    // ip_hash sends every client of this address to one instance: its turn moved them all to the other.
    for (const c of clients) assert.ok(c.connects >= 1, 'each client was moved at least once');
    assert.ok(c2.resumed.length >= 1 && c2.resumed.every((r) => r.recovered === true), JSON.stringify(c2.resumed));
    for (const c of clients.slice(0, 2)) assert.equal(c.recovered, true, 'the 4.x client recovered on its last reconnection');
  } finally {
    for (const c of clients) c.close();
    for (const s of instances) await s.stop();
  }
});
