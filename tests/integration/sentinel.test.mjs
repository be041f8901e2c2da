// Behind Sentinel: a master, a replica and three sentinels, all real processes on free ports. The master is
// killed (SIGKILL) while clients are connected; the sentinels promote the replica and the server must follow:
// notifications, logins and logouts on the new master reach the same, still connected, clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, connect, messageCount, quiet, until, sleep, httpGet } from './lib/harness.mjs';
import { role, startSentinelGroup } from './lib/sentinel_group.mjs';

// The master and its replica require a password, given in the URL as for any redis: it must reach them (AUTH
// after every move) and never the log.
const password = 'sentinel-test-s3cret';
let group, master, replica, sentinels = [], server;

before(async () => {
  group = await startSentinelGroup({ password });
  ({ master, replica, sentinels } = group);
  server = await Server.start({ redis: { url: group.url } });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000);
});

after(async () => {
  await server?.stop();
  await group?.stop();
});

const publish = (to, users, data) => to.command('PUBLISH', 'notifications', JSON.stringify({ users, data }));
const metrics = async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text;

test('the master is killed: the replica is promoted and delivery, logins and logouts resume on it', async () => {
  assert.match(server.log, new RegExp(`the master "mymaster" is 127\\.0\\.0\\.1:${master.port}`));
  assert.match(await metrics(),
    new RegExp(`yunity_redis_master\\{source="redis-pubsub",address="127\\.0\\.0\\.1:${master.port}"\\} 1`));
  await master.command('SET', 'session-store-s-alice', 'alice');
  const a4 = await connect(4, server.url, { transports: ['websocket'] }, 's-alice');
  const a2 = await connect(2, server.url, { transports: ['polling'] }, 's-alice');
  const later = await connect(4, server.url, { transports: ['websocket'] }, 's-later');
  try {
    await server.waitMembership('s-alice', 'alice');
    await server.waitMembership('s-later', null);
    await publish(master, ['alice'], 'before');
    await messageCount(a4, 1);
    await messageCount(a2, 1);

    master.proc.kill('SIGKILL');
    master.client?.close();
    const killed = Date.now();
    await until(async () => (await role(replica)) === 'master', 'the sentinels to promote the replica', 20000, 25);
    const promoted = Date.now();

    // Delivery resumes within 5 s of the promotion: publish until the first arrives.
    let sent = 0;
    await until(async () => {
      await publish(replica, ['alice'], `after-${++sent}`);
      return a4.messages.length > 1 && a2.messages.length > 1;
    }, 'delivery from the new master', 5000, 100);
    const resumed = Date.now() - promoted;
    console.log(`failover: promoted ${promoted - killed} ms after the kill, delivery ${resumed} ms after that`);
    assert.ok(resumed <= 5000);
    for (const c of [a4, a2]) {
      assert.equal(c.messages[0].data, 'before');
      assert.match(c.messages.at(-1).data, /^after-\d+$/);
      assert.ok(c.connected, 'the client stayed connected');
    }

    // A login and a logout written on the new master are followed (keyspace events set up there).
    await replica.command('SET', 'session-store-s-later', 'bob');
    await server.waitMembership('s-later', 'bob');
    await publish(replica, ['bob'], 'to bob');
    await messageCount(later, 1);
    await replica.command('DEL', 'session-store-s-alice');
    await server.waitMembership('s-alice', null);
    const count = a4.messages.length;
    await publish(replica, ['alice'], 'after logout');
    await quiet(a4, count);

    const text = await metrics();
    for (const source of ['redis-pubsub', 'redis-session']) {
      assert.match(text, new RegExp(`yunity_redis_failovers_total\\{source="${source}"\\} 1`));
      assert.match(text, new RegExp(`yunity_redis_master\\{source="${source}",address="127\\.0\\.0\\.1:${replica.port}"\\} 1`));
      assert.match(text, new RegExp(`yunity_redis_master\\{source="${source}",address="127\\.0\\.0\\.1:${master.port}"\\} 0`));
    }
    const ready = await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(ready.text, new RegExp(`127\\.0\\.0\\.1:${replica.port} via 3 sentinels`));
    assert.ok(!server.log.includes(password), 'the password never reaches the log');
  } finally { a4.close(); a2.close(); later.close(); }
});

test('a replica named as the master is never used', async () => {
  // A sentinel's answer can be stale (a failover under way): the links check ROLE themselves. Here a real
  // sentinel monitors a replica under the name "wrong", so it names a replica as that group's master.
  const standby = await Redis.start(['--replicaof', '127.0.0.1', String(replica.port)], { password });
  await sentinels[0].command('SENTINEL', 'MONITOR', 'wrong', '127.0.0.1', String(standby.port), '1');
  try {
    assert.equal(await role(standby), 'slave');
    const s2 = await Server.start({ redis: { url: `redis-sentinel://:${password}@127.0.0.1:${sentinels[0].port}#wrong` },
      plugins: ['socketio', 'redis-pubsub', 'admin-http'] });
    try {
      await s2.waitLog(/the server is not a master \(ROLE slave\)/, 5000);
      await sleep(500);
      const ready = await httpGet(`http://127.0.0.1:${s2.adminPort}/readyz`);
      assert.equal(ready.status, 503);
      assert.doesNotMatch(s2.log, /redis: subscribed to notifications/);
    } finally { await s2.stop(); }
  } finally {
    await sentinels[0].command('SENTINEL', 'REMOVE', 'wrong');
    await standby.stop();
  }
});
