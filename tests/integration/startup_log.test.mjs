// A normal start against a reachable redis logs no warning (the first connect is not a fault: it is logged at
// info level), while a real loss of redis is still a warning.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, Server, TIME_FACTOR } from './lib/harness.mjs';

let redis, server;
after(async () => { await server?.stop(); await redis?.stop(); });

test('a normal start logs no warning; losing redis does', async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  await server.waitLog(/redis link up/);
  await server.waitLog(/redis: subscribed to notifications/);
  assert.match(server.log, / info +\[redis-session\] redis link: connecting to /);
  const warnings = server.log.split('\n').filter((line) => / (warning|error|critical) /.test(line));
  assert.deepEqual(warnings, []);

  const from = server.log.length;
  await redis.stop();
  await server.waitLog(/ warning +\[redis-session\] redis link down: /, 5000 * TIME_FACTOR, from);
  await server.waitLog(/ warning +\[redis-pubsub\] redis: not ready: /, 5000 * TIME_FACTOR, from);
});
