// The command-line client (tools/yunity-sockets-client) against the real server and a real redis: messages as JSON
// lines over Engine.IO 3 and 4, websocket and polling; heartbeats; reconnection after a cut or a silent connection;
// signals; refusals of bad arguments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Redis, Server, until, sleep, freePort } from './lib/harness.mjs';

const CLIENT = process.env.YUNITY_CLIENT_BIN ||
  path.resolve(import.meta.dirname, '../../build/bin/yunity-sockets-client');

let redis, server, fastServer, n = 0;
const unique = (p) => `${p}-${++n}`;

const running = new Set();
process.on('exit', () => { for (const c of running) { try { c.proc.kill('SIGKILL'); } catch {} } });

before(async () => {
  redis = await Redis.start();
  server = await Server.start({ redis });
  // Short heartbeats, so that a client that does not keep them up is cut off within the test.
  fastServer = await Server.start({ redis, config: { socketio: { ping_interval_ms: 500, ping_timeout_ms: 500 } } });
  await server.waitLog(/redis: subscribed to notifications/);
  await fastServer.waitLog(/redis: subscribed to notifications/);
});
after(async () => {
  for (const c of running) c.proc.kill('SIGKILL');
  await server?.stop(); await fastServer?.stop(); await redis?.stop();
});

const publish = (users, body) => redis.command('PUBLISH', 'notifications', JSON.stringify({ users, ...body }));
const membership = (srv, session, user) => srv.waitMembership(session, user);

// Runs the client; `out` and `err` collect its stdout and stderr.
function run(args) {
  const c = { out: '', err: '' };
  c.proc = spawn(CLIENT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(c);
  c.exit = new Promise((r) => c.proc.once('exit', (code, signal) => { running.delete(c); r({ code, signal }); }));
  c.proc.stdout.on('data', (d) => { c.out += d; });
  c.proc.stderr.on('data', (d) => { c.err += d; });
  c.lines = () => c.out.split('\n').filter((l) => l !== '');
  c.count = (re) => (c.err.match(new RegExp(re, 'g')) || []).length;
  c.waitErr = (re, ms = 5000) => until(() => re.exec(c.err), `client stderr ${re}; have:\n${c.err}`, ms);
  c.waitLines = (k, ms = 5000) => until(() => c.lines().length >= k, `${k} lines on stdout; have:\n${c.out}`, ms);
  return c;
}

async function exited(c, ms = 5000) {
  const res = await Promise.race([c.exit, sleep(ms).then(() => null)]);
  assert.ok(res, `the client did not exit within ${ms} ms; stderr:\n${c.err}`);
  return res;
}

// A client authenticated for a fresh session of a fresh user.
async function authenticated(srv, args, url = srv.url) {
  const session = unique('s'), user = unique('u');
  await redis.command('SET', `session-store-${session}`, user);
  const from = srv.log.length;
  const c = run(['--url', url, ...args, session]);
  await membership(srv, session, user);
  return { c, user, session };
}

// What JSON.stringify writes for the value of the line: the line is compact JSON, escaped as JavaScript does.
const assertStringified = (line) => assert.equal(line, JSON.stringify(JSON.parse(line)));

// A TCP proxy in front of the server that can cut every connection at once, or freeze them (keep them open but
// pass nothing), as a network failure would.
async function proxy(port) {
  const pairs = new Set();
  const srv = net.createServer((a) => {
    const b = net.connect(port, '127.0.0.1');
    const pair = { a, b };
    pairs.add(pair);
    a.pipe(b); b.pipe(a);
    const end = () => { a.destroy(); b.destroy(); pairs.delete(pair); };
    for (const s of [a, b]) { s.on('error', end); s.on('close', end); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    cut() { for (const { a, b } of pairs) { a.destroy(); b.destroy(); } pairs.clear(); },
    freeze() { for (const { a, b } of pairs) { a.unpipe(b); b.unpipe(a); a.pause(); b.pause(); } pairs.clear(); },
    close() { this.cut(); srv.close(); },
  };
}

for (const eio of [3, 4]) {
  for (const transport of ['websocket', 'polling']) {
    test(`Engine.IO ${eio} over ${transport}: each message one JSON line on stdout, exit 0 after --once`, async () => {
      const { c, user } = await authenticated(server, ['--eio', String(eio), '--transport', transport, '--once', '3']);
      await c.waitErr(/connected \(socket id \S+\), authenticating/);
      const bodies = [
        { type: 'conversation:message', data: { id: 1, content: 'héllo "wörld"\n\u2028 😀', n: [1, 2.5, -3e-7, null, true] } },
        { data: { nested: { deeper: [{}, []] } } },
        { data: 'last' },
      ];
      for (const b of bodies) await publish([user], b);
      assert.deepEqual(await exited(c), { code: 0, signal: null });
      const lines = c.lines();
      assert.deepEqual(lines.map((l) => JSON.parse(l)), bodies);
      lines.forEach(assertStringified);
      assert.equal(c.out, lines.map((l) => `${l}\n`).join(''), 'one message per line, nothing else on stdout');
      assert.match(c.err, new RegExp(`Engine\\.IO ${eio}, ${transport}`));
      assert.equal(c.count('connected \\('), 1);
    });
  }
}

test('a message published before authentication is not printed; other users\' messages neither', async () => {
  const { c, user } = await authenticated(server, ['--once', '1']);
  await publish([unique('other')], { data: 'not mine' });
  await publish([user], { data: 'mine' });
  await exited(c);
  assert.deepEqual(c.lines(), ['{"data":"mine"}']);
});

test('--path without slashes, and the server\'s second path /socket/', async () => {
  const { c, user } = await authenticated(server, ['--path', 'socket', '--eio', '3', '--once', '1']);
  await publish([user], { data: 1 });
  await exited(c);
  assert.deepEqual(c.lines(), ['{"data":1}']);
});

for (const [eio, transport] of [[3, 'websocket'], [4, 'websocket'], [3, 'polling'], [4, 'polling']]) {
  test(`heartbeats, Engine.IO ${eio} over ${transport}: still the same connection after many ping intervals`, async () => {
    const { c, user } = await authenticated(fastServer, ['--eio', String(eio), '--transport', transport]);
    try {
      // 500 ms interval + 500 ms timeout: a client that did not ping (3) or answer pings (4) is gone by then.
      await sleep(2500);
      await publish([user], { data: 'still here' });
      await c.waitLines(1);
      assert.deepEqual(c.lines(), ['{"data":"still here"}']);
      assert.equal(c.count('connected \\('), 1, c.err);
      assert.equal(c.count('disconnected|connection failed'), 0, c.err);
    } finally { c.proc.kill('SIGTERM'); await exited(c); }
  });
}

for (const [eio, transport] of [[4, 'websocket'], [3, 'polling']]) {
  test(`reconnects and authenticates again after the connection is cut (Engine.IO ${eio}, ${transport})`, async () => {
    const p = await proxy(server.port);
    const args = ['--eio', String(eio), '--transport', transport, '--reconnect-delay', '100',
      '--reconnect-delay-max', '200'];
    const { c, user, session } = await authenticated(server, args, p.url);
    try {
      await publish([user], { data: 1 });
      await c.waitLines(1);
      const from = server.log.length;
      p.cut();
      await c.waitErr(/disconnected: .*; reconnecting in \d+ ms/);
      await membership(server, session, user);
      await publish([user], { data: 2 });
      await c.waitLines(2);
      assert.deepEqual(c.lines(), ['{"data":1}', '{"data":2}']);
      assert.equal(c.count('connected \\('), 2, c.err);
    } finally { c.proc.kill('SIGTERM'); await exited(c); p.close(); }
  });
}

test('a connection that goes silent is given up after pingInterval + pingTimeout, then reconnected', async () => {
  const p = await proxy(fastServer.port);
  const { c, user, session } = await authenticated(fastServer, ['--reconnect-delay', '100'], p.url);
  try {
    const from = fastServer.log.length;
    p.freeze();
    await c.waitErr(/disconnected: nothing heard from the server for 1000 ms/, 5000);
    await membership(fastServer, session, user);
    await publish([user], { data: 'after' });
    await c.waitLines(1);
    assert.deepEqual(c.lines(), ['{"data":"after"}']);
  } finally { c.proc.kill('SIGTERM'); await exited(c); p.close(); }
});

test('keeps trying while the server is away, with growing delays', async () => {
  const port = await freePort();
  const c = run(['--url', `http://127.0.0.1:${port}`, '--reconnect-delay', '50', '--reconnect-delay-max', '400', 's']);
  try {
    await until(() => c.count('connection failed') >= 4, `4 failed attempts; have:\n${c.err}`, 5000);
    const delays = [...c.err.matchAll(/reconnecting in (\d+) ms/g)].map((m) => Number(m[1]));
    assert.ok(delays.every((d) => d >= 1 && d <= 400), `delays within bounds: ${delays}`);
    assert.ok(delays.at(-1) > 100, `delays grow: ${delays}`);
  } finally { c.proc.kill('SIGTERM'); }
  assert.deepEqual(await exited(c), { code: 0, signal: null });
});

for (const [signal, transport] of [['SIGTERM', 'websocket'], ['SIGINT', 'polling'], ['SIGTERM', 'polling']]) {
  test(`${signal} while connected over ${transport}: exit status 0 at once`, async () => {
    const { c } = await authenticated(server, ['--transport', transport]);
    const from = server.log.length;
    const t0 = Date.now();
    c.proc.kill(signal);
    assert.deepEqual(await exited(c, 3000), { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 1500, `exited within 1.5 s (took ${Date.now() - t0} ms)`);
    assert.match(c.err, new RegExp(`received ${signal}`));
    assert.equal(c.out, '');
    await server.waitLog(/closed: client close/, 2000, from);  // it said goodbye rather than vanishing
  });
}

test('--reconnect-attempts: gives up with status 1 and one error naming the cause', async () => {
  const port = await freePort();
  const refused = run(['--url', `http://127.0.0.1:${port}`, '--reconnect-attempts', '0', 's']);
  assert.deepEqual(await exited(refused), { code: 1, signal: null });
  assert.match(refused.err, /giving up after 0 reconnection attempts: cannot connect to 127\.0\.0\.1:\d+: Connection refused/);

  const wrongPath = run(['--url', server.url, '--path', '/nope/', '--reconnect-attempts', '1', '--reconnect-delay', '50', 's']);
  assert.deepEqual(await exited(wrongPath), { code: 1, signal: null });
  assert.match(wrongPath.err, /giving up after 1 reconnection attempt: websocket handshake refused: HTTP 404/);

  const polling = run(['--url', server.url, '--path', '/nope/', '--transport', 'polling', '--reconnect-attempts', '0', 's']);
  assert.deepEqual(await exited(polling), { code: 1, signal: null });
  assert.match(polling.err, /poll refused: HTTP 404/);
});

test('bad arguments: exit status 2 and one line naming the culprit', async () => {
  const cases = [
    [[], /missing SESSION_ID/],
    [['a', 'b'], /unexpected argument 'b'/],
    [['--bogus', 's'], /unrecognised option '--bogus'/],
    [['--eio', '5', 's'], /--eio '5': expected 3 or 4/],
    [['--transport', 'ws', 's'], /--transport 'ws': expected websocket or polling/],
    [['--url', 'localhost:5000', 's'], /--url 'localhost:5000': expected http:\/\/host\[:port\]/],
    [['--url', 'https://example.org', 's'], /TLS .* is not supported/],
    [['--url', 'http://127.0.0.1:5000/socket.io/', 's'], /would name a socket\.io namespace.*--path/],
    [['--url', 'http://127.0.0.1:0', 's'], /invalid port '0'/],
    [['--url', 'http://127.0.0.1:5000/?EIO=3', 's'], /must not set 'EIO'/],
    [['--once', '0', 's'], /--once '0': expected a whole number of at least 1/],
    [['--once', '-1', 's'], /--once '-1'/],
    [['--reconnect-delay', '500', '--reconnect-delay-max', '100', 's'], /--reconnect-delay-max must not be less/],
    [['--log-level', 'loud', 's'], /--log-level 'loud'/],
    [['--eio'], /the required argument for option '--eio' is missing/],
    [[''], /SESSION_ID must not be empty/],
  ];
  for (const [args, re] of cases) {
    const c = run(args);
    const res = await exited(c);
    assert.deepEqual(res, { code: 2, signal: null }, `${JSON.stringify(args)}: ${c.err}`);
    assert.match(c.err, re, JSON.stringify(args));
    assert.match(c.err, /^yunity-sockets-client: [^\n]+\n$/, `one line for ${JSON.stringify(args)}: ${c.err}`);
    assert.equal(c.out, '');
  }
  const help = run(['--help']);
  assert.deepEqual(await exited(help), { code: 0, signal: null });
  assert.match(help.out, /Usage: yunity-sockets-client \[options\] SESSION_ID/);
});
