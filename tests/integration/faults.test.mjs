// The fault matrix: one server with the stock plugins holds authenticated clients of both versions over both
// transports while faults are applied one after another. After each, every held client still receives each
// notification exactly once, and a fresh client connects, authenticates and receives too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { BIN, Redis, Server, TIME_FACTOR, connect, messageCount, until, sleep } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

const FAULTY = path.resolve(path.dirname(BIN), '../tests/plugins/faulty.so');
let redis, server, held = [];
let n = 0;
const unique = (p) => `${p}-${++n}`;
let round = 0;

const publish = (users, body) => redis.command('PUBLISH', 'notifications', JSON.stringify({ users, ...body }));

// A client authenticated as a user of its own (its session written into redis first).
async function member(version, transports) {
  const session = unique('s'), user = unique('u');
  await redis.command('SET', `session-store-${session}`, user);
  const from = server.log.length;
  const socket = await connect(version, server.url, { transports }, session);
  await server.waitMembership(session, user);
  socket.user = user;
  socket.session = session;
  socket.on('disconnect', (r) => { socket.gone = `${r} at ${new Date().toISOString()}`; });
  return socket;
}

const ready = () => until(async () => (await fetch(`http://127.0.0.1:${server.adminPort}/readyz`)).status === 200,
  'the server to be ready', 10000);

// Every held client and a fresh one receive one more notification each, exactly once.
async function healthy(what) {
  await ready();
  round++;
  const fresh = await member(4, ['websocket']);
  const all = [...held, fresh];
  const before = all.map((c) => c.messages.length);
  await publish(all.map((c) => c.user), { data: { round, what } });
  await Promise.all(all.map((c, i) => messageCount(c, before[i] + 1, 5000 * TIME_FACTOR).catch((e) => {
    throw new Error(`${what}: client ${i} (${c.user}, ${c.io?.engine?.transport?.name ?? c.io?.engine?.transport?.query?.transport}) connected=${c.connected} gone=${c.gone}: ${e.message}`);
  })));
  await sleep(100);
  all.forEach((c, i) => {
    assert.equal(c.messages.length, before[i] + 1, `${what}: one copy each`);
    assert.deepEqual(c.messages.at(-1), { data: { round, what } });
  });
  fresh.close();
}

before(async () => {
  redis = await Redis.start();
  server = await Server.start({
    redis,
    plugins: ['socketio', 'redis-session', 'redis-pubsub', 'admin-http', FAULTY],
    config: {
      // A slower build (a sanitizer's) takes longer over the connect burst, and heartbeats wait on the loop.
      // The connect burst comes from one address: the per-address limits (tested in hardening.test.mjs) are off.
      socketio: { ping_interval_ms: 1000, ping_timeout_ms: 3000 * TIME_FACTOR, request_timeout_ms: 2000,
        max_payload: 100000, max_connections_per_address: 1000000, max_pending_per_address: 1000000,
        max_unbound_per_address: 1000000 },
      'redis-session': { command_timeout_ms: 500, connect_timeout_ms: 500 },
    },
  });
  await server.waitLog(/redis: subscribed to notifications/);
  for (const version of [2, 4]) for (const t of [['websocket'], ['polling']]) held.push(await member(version, t));
  await healthy('start');
});
after(async () => {
  if (process.env.DUMP_LOG) console.error(server.log.split('\n').filter((l) => /redis|warn|error|Deliver|Notification/.test(l)).slice(-80).join('\n'));
  for (const c of held) c.close();
  await server?.stop();
  await redis?.stop();
});

test('redis killed and restarted: held clients keep receiving, logins work again', async () => {
  redis.proc.kill('SIGKILL');
  await redis.exited;
  await server.waitLog(/redis.*(lost|closed|error|disconnect)/i, 5000);
  await redis.launch();
  await ready();
  // The test's redis keeps nothing across a kill; the web app's store would. Its writes are followed again.
  const from = server.log.length;
  for (const c of held) await redis.command('SET', `session-store-${c.session}`, c.user);
  for (const c of held) await server.waitMembership(c.session, c.user);
  await healthy('redis restarted');
});

test('redis paused past the command timeout, then resumed: lookups made meanwhile complete', async () => {
  redis.proc.kill('SIGSTOP');
  try {
    // A client authenticating now cannot be looked up until redis is back.
    const session = unique('paused'), user = unique('u');
    const late = await connect(4, server.url, { transports: ['websocket'] }, session);
    await sleep(1500);
    redis.proc.kill('SIGCONT');
    await redis.command('SET', `session-store-${session}`, user);
    late.user = user;
    held.push(late);
  } finally { redis.proc.kill('SIGCONT'); }
  await ready();
  await healthy('redis paused and resumed');
});

// The burst shrinks by the time factor in a sanitizer build, whose every connect costs several times more: 5000
// at ASan's pace would keep the held polling clients' next requests (new TCP connections) queued behind it, in
// the kernel's accept queue and then in SYN retries, past any heartbeat. The g++ build takes the full 5000.
const BURST = Math.round(5000 / TIME_FACTOR);

test(`a burst of ${BURST} connects is served; then everyone still receives`, async () => {
  // From a process of its own, so that this one keeps answering its held clients' heartbeats meanwhile.
  const url = `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const child = spawn(process.execPath, ['-e', `
    const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
    const sockets = [], results = [];
    let started = 0;
    const batch = () => {  // a burst, released in slices so that each request is written promptly
      for (let i = 0; i < 250 && started < ${BURST}; i++, started++) {
        const s = new WebSocket(${JSON.stringify(url)});
        sockets.push(s);
        s.on('error', () => {});
        results.push(new Promise((resolve) => {
          s.once('message', (m) => resolve(String(m).startsWith('0{')));
          s.once('close', () => resolve(false));
        }));
      }
      if (started < ${BURST}) setImmediate(batch);
      else Promise.all(results).then((r) => { console.log(r.filter(Boolean).length); sockets.forEach((s) => s.terminate()); });
    };
    batch();
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(Number(out.trim()), BURST, 'every connect got its open packet');
  await healthy(`${BURST} connects`);
});

test('half-open connections: silent TCP and a frozen client are dropped on their timers; others unaffected', async () => {
  // TCP connections that never send a request are cut after request_timeout (2 s here).
  const silent = await Promise.all(Array.from({ length: 50 }, () => new Promise((resolve) => {
    const c = net.connect(server.port, '127.0.0.1', () => resolve(c));
  })));
  const closed = silent.map((c) => new Promise((resolve) => c.once('close', resolve)));
  // A client process that freezes (SIGSTOP) holds its websocket open but answers no ping.
  const child = spawn(process.execPath, ['-e', `
    const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
    const s = new WebSocket(${JSON.stringify(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)});
    s.on('message', (m) => { m = String(m); if (m.startsWith('0')) { s.send('40'); } else if (m === '2') s.send('3');
      else if (m.startsWith('40')) console.log('connected'); });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const from = server.log.length;
  child.kill('SIGSTOP');
  try {
    await Promise.race([Promise.all(closed), sleep(5000).then(() => { throw new Error('silent sockets not cut'); })]);
    await server.waitLog(/closed: ping timeout/, (2000 + 3000 * TIME_FACTOR) * 2, from);
  } finally { child.kill('SIGKILL'); }
  await healthy('half-open connections');
});

test('malformed and oversized frames close only their own connection', async () => {
  const url = `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  for (const bad of ['x', '4abc', '42{"not":"an array"}', '4' + '2'.repeat(10), '42["' + 'a'.repeat(200000) + '"]']) {
    const s = new WebSocket(url);
    s.on('error', () => {});
    await new Promise((resolve) => s.once('message', resolve));
    s.send('40');
    await new Promise((resolve) => s.once('message', resolve));
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.send(bad);
    await Promise.race([closed, sleep(3000).then(() => { throw new Error(`not closed after ${bad.slice(0, 20)}`); })]);
  }
  const r = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { method: 'POST', body: 'x'.repeat(200000) });
  assert.ok(r.status >= 400);
  await healthy('malformed and oversized frames');
});

test('plugin handlers that throw, and acks answered wrongly: logged, and nobody else is affected', async () => {
  const from = server.log.length;
  await publish([held[0].user], { data: 'explode' });
  await server.waitLog(/faulty.*exploding on a notification/, 5000, from);
  await messageCount(held[0], held[0].messages.length, 5000);
  const c = await connect(4, server.url, { transports: ['websocket'] });
  c.emit('explode');
  await server.waitLog(/faulty.*exploding on a client event/, 5000, from);
  const replies = [];
  c.emit('bad-acks', (...a) => replies.push(a));
  await until(() => replies.length === 1, 'the ack', 5000);
  await server.waitLog(/dropped an ack: connection \d+ did not ask for ack \d+/, 5000, from);
  await sleep(200);
  assert.deepEqual(replies, [['first']], 'only the first answer to the real ack id reaches the client');
  c.close();
  await healthy('throwing handlers');
});
