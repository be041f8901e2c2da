// A normal start against a reachable redis logs no warning (the first connect is not a fault: it is logged at
// info level), while a real loss of redis is still a warning. The same with the presence plugin and the
// redis-streams source, through a graceful stop.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Redis, Server, TIME_FACTOR } from './lib/harness.mjs';

let redis, server;
after(async () => { await server?.stop(); await redis?.stop(); });

const warningsIn = (log) => log.split('\n').filter((line) => / (warning|error|critical) /.test(line));

test('a normal start logs no warning; losing redis does', async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis link up/);
  await server.waitLog(/redis: subscribed to notifications/);
  // Ready once the canary's first probe came back: only a source that was ready warns when it stops being so
  // (before, it is "not ready yet", at info level). A slow build may take a while to get there.
  await server.waitLog(/ info +\[redis-pubsub\] redis: ready: /, 5000 * TIME_FACTOR);
  assert.match(server.log, / info +\[redis-session\] redis link: connecting to /);
  assert.deepEqual(warningsIn(server.log), []);
  // The listen queue the kernel granted: the 65,535 asked for, capped at net.core.somaxconn.
  const granted = Math.min(65535, Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));
  assert.match(server.log, new RegExp(`listening on \\S+ for socket\\.io clients; the kernel's listen queue holds ${granted} ` +
    `connections${granted < 65535 ? ' \\(net\\.core\\.somaxconn; reconnect storms want more: docs/operations\\.md\\)' : '\n'}`));

  const from = server.log.length;
  await redis.stop();
  await server.waitLog(/ warning +\[redis-session\] redis link down: /, 5000 * TIME_FACTOR, from);
  await server.waitLog(/ warning +\[redis-pubsub\] redis: not ready: /, 5000 * TIME_FACTOR, from);
});

test('a normal start and stop with presence and redis-streams logs no warning', async () => {
  const own = await Redis.start();
  let s;
  try {
    s = await Server.start({ redis: own, plugins: ['socketio', 'redis-session', 'redis-streams', 'admin-http', 'presence'],
      config: { 'redis-streams': { stream: 'startup-log' }, presence: { refresh_interval_ms: 200, ttl_ms: 1000 } } });
    await s.waitLog(/redis: ready: reading stream startup-log/);
    await s.waitLog(/redis link 'presence': connected/);
    await s.waitLog(/presence as instance \S+ in /);
    await new Promise((r) => setTimeout(r, 1000));  // a few refreshes and sweeps
    assert.deepEqual(warningsIn(s.log), []);
    const { code } = await s.stop();
    assert.equal(code, 0);
    assert.match(s.log, /presence: this instance stops; 0 of its users went offline/);
    assert.deepEqual(warningsIn(s.log), []);
  } finally {
    await s?.stop();
    await own.stop();
  }
});
