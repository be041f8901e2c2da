// The redis-streams source on a three-master Redis Cluster (made with `redis-cli --cluster create`, real processes
// on free ports): the stream is read on the master of its key's slot, and when that slot moves to another master
// (MIGRATE carries the stream, ids and all) the reader follows it and goes on from its last id: every entry
// arrives once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, TcpProxy, BIN, connect, messageCount, quiet, until, httpGet, TIME_FACTOR } from './lib/harness.mjs';
import { slotOwner, startCluster } from './lib/cluster.mjs';

const OFFSET_ECHO = path.resolve(path.dirname(BIN), '../tests/plugins/offset-echo.so');
let nodes = [], server, url;

before(async () => {
  nodes = await startCluster(3);
  url = `redis-cluster://127.0.0.1:${nodes[0].port},127.0.0.1:${nodes[1].port}`;
  server = await Server.start({ redis: { url }, plugins: ['socketio', 'redis-session', 'redis-streams', 'admin-http', OFFSET_ECHO],
    config: { 'redis-streams': { block_ms: 200, info_interval_ms: 300 } } });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000);
});

after(async () => {
  await server?.stop();
  for (const n of nodes) await n.stop();
});

const owner = (key) => slotOwner(nodes, key);

const xadd = async (users, data) => (await owner('notifications')).node.command('XADD', 'notifications', '*',
  'notification', JSON.stringify({ users, data }));

test('entries are read on the master of the stream\'s slot, and still after the slot moved to another master', async () => {
  const { slot, node: from } = await owner('notifications');
  assert.match(server.log, new RegExp(`cluster: stream notifications is read on master 127\\.0\\.0\\.1:${from.port}`));
  const sid = 'streams-cluster';
  await (await owner(`session-store-${sid}`)).node.command('SET', `session-store-${sid}`, 'u-cluster');
  const c = await connect(4, server.url, { transports: ['websocket'] }, sid);
  c.offsets = [];
  c.on('offset', (o) => c.offsets.push(o));
  try {
    await server.waitMembership(sid, 'u-cluster');
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push(await xadd(['u-cluster'], { n }));
    await messageCount(c, 3);

    // The migration as redis-cli --cluster reshard does it, for the stream's slot.
    const to = nodes.find((n) => n !== from);
    const logFrom = server.log.length;
    await to.command('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
    await from.command('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
    await from.command('MIGRATE', '127.0.0.1', to.port, 'notifications', 0, 5000);
    for (const n of [to, from, ...nodes.filter((n) => n !== to && n !== from)])
      await n.command('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    assert.equal((await owner('notifications')).node, to);
    for (let n = 3; n < 6; n++) ids.push(await xadd(['u-cluster'], { n }));
    await messageCount(c, 6, 10000);
    await quiet(c, 6);
    assert.deepEqual(c.messages.map((m) => m.data.n), [0, 1, 2, 3, 4, 5]);
    await until(() => c.offsets.length === 6, 'every offset');
    assert.deepEqual(c.offsets, ids);
    // Moved by a MOVED answer or by the map (read every 2 s), whichever came first.
    await server.waitLog(new RegExp(`(redirected \\(MOVED\\) to 127\\.0\\.0\\.1:${to.port}|redis: reading stream notifications on)`), 5000, logFrom);
    await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200, 'ready', 5000);
  } finally { c.close(); }
});

// The claim for a pid with no record (recovery.test.mjs, recovery_streams.test.mjs) in a cluster: the claim's key
// lives on one master, whose keyspace events every instance follows; the record is written on its own key's master
// (the same one or another: the pid is the server's, random).
test('a client whose network vanished comes back to a second instance on the cluster: the first lets its pid go', async () => {
  const second = await Server.start({ redis: { url },
    plugins: ['socketio', 'redis-session', 'redis-streams', 'admin-http'],
    config: { 'redis-streams': { block_ms: 200, info_interval_ms: 300 } } });
  const proxy = await TcpProxy.start(server.port);
  const sid = 'claims-cluster';
  await (await owner(`session-store-${sid}`)).node.command('SET', `session-store-${sid}`, 'u-claims');
  const c = await connect(4, `http://127.0.0.1:${proxy.port}`, { transports: ['websocket'], reconnection: true,
    reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0 }, sid);
  c.on('connect', () => c.emit('authenticate', { sessionId: sid }));
  try {
    await until(async () => (await httpGet(`http://127.0.0.1:${second.adminPort}/readyz`)).status === 200,
      'the second server to be ready', 10000 * TIME_FACTOR);
    await server.waitMembership(sid, 'u-claims', c);
    await xadd(['u-claims'], 1);
    await messageCount(c, 1);
    const pid = c._pid;
    proxy.point(second.port);
    proxy.vanish();
    await xadd(['u-claims'], 2);  // routed by the first server to the connection it still holds
    await until(() => c.connected && c._pid === pid && c.recovered, 'recovered on the second server', 5000 * TIME_FACTOR);
    await xadd(['u-claims'], 3);
    await messageCount(c, 3);
    await quiet(c, 3);
    assert.deepEqual(c.messages.map((m) => m.data), [1, 2, 3]);
    assert.match(server.log, /its client came back to another instance with its pid: closing it/);
  } finally { c.close(); await proxy.stop(); await second.stop(); }
});
