// The redis-streams source behind Sentinel: a master, a replica and three sentinels, all real processes on free
// ports. Entries the server has not read yet when the master is killed (SIGKILL), replicated before it died, are
// read from the promoted replica, from the server's last id: every entry arrives once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, BIN, connect, messageCount, quiet, until, httpGet } from './lib/harness.mjs';
import { role, startSentinelGroup } from './lib/sentinel_group.mjs';

const OFFSET_ECHO = path.resolve(path.dirname(BIN), '../tests/plugins/offset-echo.so');
let group, master, replica, server;

before(async () => {
  group = await startSentinelGroup();
  ({ master, replica } = group);
  server = await Server.start({ redis: { url: group.url }, plugins: ['socketio', 'redis-session', 'redis-streams', 'admin-http', OFFSET_ECHO],
    config: { 'redis-streams': { count: 2, block_ms: 200, info_interval_ms: 300 } } });
  await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
    'the server to be ready', 10000);
});

after(async () => {
  await server?.stop();
  await group?.stop();
});

const xadd = (to, n) => to.command('XADD', 'notifications', '*', 'notification', JSON.stringify({ users: ['u-s'], data: { n } }));

test('the master is killed with entries the server has not read: they come from the promoted replica, once, in order', async () => {
  await master.command('SET', 'session-store-streams-s', 'u-s');
  const c = await connect(4, server.url, { transports: ['websocket'] }, 'streams-s');
  c.offsets = [];
  c.on('offset', (o) => c.offsets.push(o));
  try {
    await server.waitMembership('streams-s', 'u-s');
    const ids = [await xadd(master, 0)];
    await messageCount(c, 1);
    // Frozen, the server reads nothing of the next entries (but perhaps the first, answered to its blocked
    // XREAD); they reach the replica before the master dies.
    server.proc.kill('SIGSTOP');
    try {
      for (let n = 1; n <= 6; n++) ids.push(await xadd(master, n));
      assert.equal(await master.command('WAIT', '1', '5000'), 1, 'replicated');
      master.proc.kill('SIGKILL');
      master.client?.close();
    } finally { server.proc.kill('SIGCONT'); }
    await until(async () => (await role(replica)) === 'master', 'the sentinels to promote the replica', 20000, 25);
    await until(async () => (await httpGet(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
      'ready on the new master', 15000);
    for (let n = 7; n <= 8; n++) ids.push(await xadd(replica, n));
    await messageCount(c, 9, 10000);
    await quiet(c, 9);
    assert.deepEqual(c.messages.map((m) => m.data.n), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await until(() => c.offsets.length === 9, 'every offset');
    assert.deepEqual(c.offsets, ids);
    const text = (await httpGet(`http://127.0.0.1:${server.adminPort}/metrics`)).text;
    assert.match(text, /^yunity_redis_failovers_total\{source="redis-streams"\} 1$/m);
    assert.match(text, /^yunity_redis_streams_gaps_total\{source="redis-streams"\} 0$/m);
  } finally { c.close(); }
});
