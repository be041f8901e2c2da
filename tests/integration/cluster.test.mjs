// A three-master Redis Cluster made with `redis-cli --cluster create`, all real processes on free ports.
// Sessions spread over every master resolve, logins and logouts on every master are followed (keyspace events
// are node-local), notifications published on any node arrive, and a slot moved to another master keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, connect, messageCount, quiet, until, httpGet } from './lib/harness.mjs';
import { CLUSTER_ARGS, REDIS_CLI, run, slotOwner, startCluster } from './lib/cluster.mjs';

let nodes = [], extra, server;

before(async () => {
  nodes = await startCluster(3);
  // Two seeds: the server finds the third master from the map.
  const url = `redis-cluster://127.0.0.1:${nodes[0].port},127.0.0.1:${nodes[1].port}`;
  server = await Server.start({ redis: { url } });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000);
});

after(async () => {
  await server?.stop();
  for (const n of nodes) await n.stop();
  await extra?.stop();
});

// The node serving `key` now, asked from the cluster itself.
const owner = (key) => slotOwner(nodes, key);

// One session id per master.
async function sessionsOnEveryMaster(tag) {
  const found = new Map();
  for (let i = 0; found.size < nodes.length; i++) {
    const sid = `${tag}-${i}`;
    const { node } = await owner(`session-store-${sid}`);
    if (!found.has(node.port)) found.set(node.port, { sid, node });
  }
  return [...found.values()];
}

test('sessions on every master resolve; logins and logouts on every master are followed; publish on any node', async () => {
  const text = (await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text;
  assert.match(text, /^yunity_redis_cluster_masters\{source="redis-session"\} 3$/m);
  const sessions = await sessionsOnEveryMaster('c');
  const clients = [];
  try {
    for (const [i, s] of sessions.entries()) {
      await s.node.command('SET', `session-store-${s.sid}`, `user${i}`);
      s.client = await connect(4, server.url, { transports: ['websocket'] }, s.sid);
      clients.push(s.client);
      await server.waitMembership(s.sid, `user${i}`);
    }
    // Each notification published on another node than the last.
    for (const [i, s] of sessions.entries()) {
      await nodes[(i + 1) % nodes.length].command('PUBLISH', 'notifications', JSON.stringify({ users: [`user${i}`], data: i }));
      await messageCount(s.client, 1);
    }
    // A login (another user) and a logout on every master.
    for (const [i, s] of sessions.entries()) {
      await s.node.command('SET', `session-store-${s.sid}`, `other${i}`);
      await server.waitMembership(s.sid, `other${i}`);
      await s.node.command('DEL', `session-store-${s.sid}`);
      await server.waitMembership(s.sid, null);
    }
    await nodes[2].command('PUBLISH', 'notifications', JSON.stringify({ users: ['user0', 'other0'], data: 'x' }));
    await quiet(sessions[0].client, 1);
  } finally { for (const c of clients) c.close(); }
});

test('a slot moved to another master: lookups follow MOVED and the new master\'s keyspace events are seen', async () => {
  const [s] = await sessionsOnEveryMaster('m');
  const key = `session-store-${s.sid}`;
  const { slot, node: from } = await owner(key);
  const to = nodes.find((n) => n !== from);
  await from.command('SET', key, 'before');
  const c = await connect(4, server.url, { transports: ['websocket'] }, s.sid);
  try {
    await server.waitMembership(s.sid, 'before');
    const mapChanges = async () => Number((await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text
      .match(/^yunity_redis_cluster_map_changes\{source="redis-session"\} (\d+)$/m)[1]);
    const changes_before = await mapChanges();
    // The migration as redis-cli --cluster reshard does it, for one slot.
    await to.command('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
    await from.command('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
    await from.command('MIGRATE', '127.0.0.1', to.port, key, 0, 5000);
    for (const n of [to, from, ...nodes.filter((n) => n !== to && n !== from)])
      await n.command('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    assert.equal((await owner(key)).node, to);
    // A login written on the new owner: its keyspace event comes from there, and the lookup, sent by the
    // server's map (read every 2 s) to the old owner, follows its MOVED. Should the map's periodic read have come
    // first (a slow build can take that long between the moves above and this lookup), the lookup went to the new
    // owner directly: then the map's change count says so, and that is the path taken.
    const from_log = server.log.length;
    await to.command('SET', key, 'after');
    await server.waitMembership(s.sid, 'after');
    const moved = new RegExp(`redirected \\(MOVED\\) to 127\\.0\\.0\\.1:${to.port}`).test(server.log.slice(from_log));
    assert.ok(moved || (await mapChanges()) > changes_before,
      `neither a MOVED followed nor a new slot map read: ${server.log.slice(from_log)}`);
    // A fresh authenticate for the moved session resolves too.
    const c2 = await connect(4, server.url, { transports: ['websocket'] }, s.sid);
    try {
      await server.waitMembership(s.sid, 'after', c2);
      await nodes[0].command('PUBLISH', 'notifications', JSON.stringify({ users: ['after'], data: 'moved' }));
      await messageCount(c, 1);
      await messageCount(c2, 1);
    } finally { c2.close(); }
  } finally { c.close(); }
});

test('a replica promoted to master (CLUSTER FAILOVER): its keyspace events are followed, the old master is left', async () => {
  // A replica for the master of one session's slot, then a manual failover to it.
  const [s] = await sessionsOnEveryMaster('f');
  const key = `session-store-${s.sid}`;
  const old = (await owner(key)).node;
  extra = await Redis.start(CLUSTER_ARGS);
  await run(REDIS_CLI, ['--cluster', 'add-node', `127.0.0.1:${extra.port}`, `127.0.0.1:${old.port}`,
    '--cluster-slave', '--cluster-master-id', old.id]);
  await until(async () => /master_link_status:up/.test(await extra.command('INFO', 'replication')), 'the replica to sync', 10000, 100);
  await old.command('SET', key, 'before');
  const c = await connect(4, server.url, { transports: ['websocket'] }, s.sid);
  try {
    await server.waitMembership(s.sid, 'before');
    const from = server.log.length;
    await extra.command('CLUSTER', 'FAILOVER');
    await until(async () => (await extra.command('ROLE'))[0] === 'master', 'the replica to be promoted', 10000, 50);
    // The map is read every 2 s: the new master gets its links, the old one has them stopped.
    await server.waitLog(new RegExp(`cluster: following keyspace events on master 127\\.0\\.0\\.1:${extra.port}`), 5000, from);
    await server.waitLog(new RegExp(`cluster: 127\\.0\\.0\\.1:${old.port} is no longer a master`), 5000, from);
    await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200, 'ready', 5000);
    await extra.command('SET', key, 'after');
    await server.waitMembership(s.sid, 'after');
    await extra.command('PUBLISH', 'notifications', JSON.stringify({ users: ['after'], data: 'promoted' }));
    await messageCount(c, 1);
  } finally { c.close(); }
});
