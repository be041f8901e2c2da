// Embedded mode: no redis at all. Sessions come from memory-session (a file at start, then PUT and DELETE on
// the admin port), notifications from http-publish (POST /publish), with real socket.io clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, Server, connect, messageCount, quiet, until } from './lib/harness.mjs';

const PLUGINS = ['socketio', 'memory-session', 'http-publish', 'admin-http'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-embedded-'));
const sessionsFile = path.join(dir, 'sessions.json');
fs.writeFileSync(sessionsFile, `{
  "file-session": "file-user",
  "numeric": 79,
  "logged-out": "",  // no user, as an empty value in redis
}`);

let server, admin, n = 0;
const unique = (p) => `${p}-${++n}`;

before(async () => {
  server = await Server.start({ plugins: PLUGINS, config: { 'memory-session': { file: sessionsFile } } });
  admin = `http://127.0.0.1:${server.adminPort}`;
});
after(async () => { await server?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

// Write routes of the admin port take only JSON (a form on another site cannot send that type).
async function call(method, url, body, headers = {}) {
  if (method === 'PUT' || method === 'POST') headers = { 'content-type': 'application/json', ...headers };
  const res = await fetch(url, { method, body, headers });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}
const putSession = (session, user, base = admin, headers) =>
  call('PUT', `${base}/sessions/${encodeURIComponent(session)}`, user, headers);
const deleteSession = (session, base = admin, headers) =>
  call('DELETE', `${base}/sessions/${encodeURIComponent(session)}`, undefined, headers);
const sessions = async (base = admin, headers) => (await call('GET', `${base}/sessions`, undefined, headers)).json;
const publish = (message, base = admin, headers) =>
  call('POST', `${base}/publish`, typeof message === 'string' ? message : JSON.stringify(message), headers);
// The number of connections a publish reached, checking that it was accepted.
async function reached(message, base) {
  const res = await publish(message, base);
  assert.equal(res.status, 202, res.text);
  assert.match(res.type, /json/);
  return res.json.connections;
}

const membership = (srv, session, user, socket) => srv.waitMembership(session, user, socket);

// Authenticates and waits until the core has the session's answer.
async function client(session, user, { version = 4, transports = ['websocket'], srv = server } = {}) {
  const s = await connect(version, srv.url, { transports }, session);
  await membership(srv, session, user, s);
  return s;
}

test('runs and is ready with no redis', async () => {
  const ready = await call('GET', `${admin}/readyz`);
  assert.equal(ready.status, 200, ready.text);
  assert.equal(ready.json.sources['memory-session'].ready, true);
  assert.doesNotMatch(server.log, /redis link|\[redis-/);
});

test('login by PUT, publish by POST, logout by DELETE moves the connection, login again brings it back', async () => {
  const session = unique('s'), alice = unique('alice'), bob = unique('bob');
  const c = await client(session, null);
  let c2;
  try {
    assert.equal(await reached({ users: [alice], data: 'before login' }), 0);

    const login = await putSession(session, alice);
    assert.equal(login.status, 204, login.text);
    // The answer comes after the login is applied: a publish right after it reaches the connection.
    assert.equal(await reached({ users: [alice], data: 1 }), 1);
    assert.deepEqual(await messageCount(c, 1), [{ data: 1 }]);

    // A second connection on a known session joins at once; repeated users reach each connection once.
    c2 = await client(session, alice, { version: 2, transports: ['polling'] });
    assert.equal(await reached({ users: [alice, alice, alice], data: 2 }), 2);
    await messageCount(c, 2);
    await messageCount(c2, 1);

    const logout = await deleteSession(session);
    assert.equal(logout.status, 204, logout.text);
    assert.equal(await reached({ users: [alice], data: 'after logout' }), 0);
    await quiet(c, 2);
    await quiet(c2, 1, 50);
    assert.equal((await sessions())[session], undefined);

    // The connections kept their session: a login (another user, as JSON this time) brings them back.
    assert.equal((await putSession(session, JSON.stringify(bob))).status, 204);
    assert.equal((await sessions())[session], bob);
    assert.equal(await reached({ users: [bob], data: 3 }), 2);
    assert.deepEqual((await messageCount(c, 3)).map((m) => m.data), [1, 2, 3]);
    assert.deepEqual((await messageCount(c2, 2)).map((m) => m.data), [2, 3]);

    assert.equal((await deleteSession(session)).status, 204);
    const again = await deleteSession(session);
    assert.equal(again.status, 404);
    assert.match(again.type, /json/);
    assert.equal(typeof again.json.error, 'string');
  } finally { c.close(); c2?.close(); }
});

test('a login for a session nobody holds yet is found when a client authenticates with it', async () => {
  const session = unique('later a b/c'), user = unique('u');
  assert.equal((await putSession(session, user)).status, 204);  // percent-encoded in the path
  assert.equal((await sessions())[session], user);
  const c = await client(session, user);
  try {
    assert.equal(await reached({ users: [user], payload: { x: [1, 'two'] } }), 1);
    assert.deepEqual(await messageCount(c, 1), [{ payload: { x: [1, 'two'] } }]);
  } finally { c.close(); }
});

test('the sessions file is loaded at start: 79 and "79" are one user, "" is no user', async () => {
  const all = await sessions();
  assert.equal(all['file-session'], 'file-user');
  assert.equal(all.numeric, '79');
  assert.equal(all['logged-out'], undefined);

  const a = await client('file-session', 'file-user');
  const b = await client('numeric', '79', { version: 2 });
  const none = await client('logged-out', null);
  try {
    assert.equal(await reached({ users: ['file-user'], data: 'file' }), 1);
    assert.equal(await reached({ users: [79], data: 'number' }), 1);
    assert.equal(await reached({ users: ['79'], data: 'string' }), 1);
    assert.deepEqual(await messageCount(a, 1), [{ data: 'file' }]);
    assert.deepEqual((await messageCount(b, 2)).map((m) => m.data), ['number', 'string']);
    await quiet(none, 0, 100);

    // A PUT with an integer body is the same user as the file's 79.
    assert.equal((await putSession('numeric', '79')).status, 204);
    assert.equal(await reached({ users: [79], data: 'still' }), 1);
  } finally { a.close(); b.close(); none.close(); }
});

test('bad publishes and bad logins get 400 with the reason; nothing else happens', async () => {
  const session = unique('s'), user = unique('u');
  assert.equal((await putSession(session, user)).status, 204);
  const c = await client(session, user);
  try {
    for (const [bad, reason] of [['not json', /^not JSON/], ['[1,2]', /^not an object/], ['{"data":1}', /^no users/],
      [`{"users":"${user}"}`, /^no users/], ['{"users":[null]}', /^bad user/], ['{"users":[1.5]}', /^bad user/],
      ['', /^not JSON/], [`{"users":["${user}"],"d":${'['.repeat(100)}${']'.repeat(100)}}`, /^too deep/]]) {
      const res = await publish(bad);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.match(res.type, /json/);
      assert.match(res.json.error, reason, bad);
    }
    for (const bad of ['', '   ', 'null', '1.5', '{"user":"x"}', '[1]', '""', '"unterminated', 'tab\there']) {
      const res = await putSession(session, bad);
      assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
      assert.equal(typeof res.json.error, 'string');
    }
    assert.equal((await sessions())[session], user, 'a refused login changes nothing');
    assert.equal((await call('GET', `${admin}/publish`)).status, 405);
    assert.equal((await call('POST', `${admin}/sessions/${session}`)).status, 405);

    assert.equal(await reached({ users: [user], data: 'good' }), 1);
    assert.deepEqual(await messageCount(c, 1), [{ data: 'good' }]);
    await quiet(c, 1);
    const metrics = (await call('GET', `${admin}/metrics`)).text;
    assert.match(metrics, /^yunity_http_publish_rejected_total\{reason="not JSON"\} [1-9]/m);
    assert.match(metrics, /^yunity_memory_sessions [1-9]/m);
  } finally { c.close(); }
});

test('the admin token guards /publish and /sessions', async () => {
  const srv = await Server.start({ plugins: PLUGINS, env: { YUNITY_ADMIN_TOKEN: 's3cret' } });
  const base = `http://127.0.0.1:${srv.adminPort}`;
  const auth = { authorization: 'Bearer s3cret' };
  try {
    for (const res of [await publish({ users: ['u'] }, base), await putSession('s', 'u', base),
      await deleteSession('s', base), await call('GET', `${base}/sessions`),
      await putSession('s', 'u', base, { authorization: 'Bearer wrong' }),
      await publish({ users: ['u'] }, base, { authorization: 'Bearer wrong' })])
      assert.equal(res.status, 401, res.text);
    assert.deepEqual(await sessions(base, auth), {}, 'refused requests changed nothing');

    assert.equal((await putSession('s', 'u', base, auth)).status, 204);
    const c = await client('s', 'u', { srv });
    try {
      const res = await publish({ users: ['u'], data: 'with token' }, base, auth);
      assert.equal(res.status, 202, res.text);
      assert.deepEqual(res.json, { connections: 1 });
      assert.deepEqual(await messageCount(c, 1), [{ data: 'with token' }]);
      assert.deepEqual(await sessions(base, auth), { s: 'u' });
      assert.equal((await deleteSession('s', base, auth)).status, 204);
    } finally { c.close(); }
  } finally { await srv.stop(); }
});

// Runs the server expecting it to refuse to start.
function refused(plugins, config) {
  const args = ['-w', '0', '-p', '0', '--plugins', plugins.join(',')];
  if (config) {
    const file = path.join(dir, `config-${++n}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const res = spawnSync(BIN, args, { encoding: 'utf8', timeout: 10000 });
  assert.equal(res.status, 2, `exit status ${res.status}: ${res.stdout}${res.stderr}`);
  return res.stdout + res.stderr;
}

test('a missing or broken sessions file, or http-publish without admin-http, stops the server at startup', () => {
  const missing = path.join(dir, 'missing.json');
  assert.match(refused(PLUGINS, { 'memory-session': { file: missing } }),
    new RegExp(`memory-session.*sessions file "${missing}": cannot open`));
  const broken = path.join(dir, 'broken.json');
  fs.writeFileSync(broken, '{"s1": "u1",');
  assert.match(refused(PLUGINS, { 'memory-session': { file: broken } }), /memory-session.*sessions file ".*broken\.json": not JSON/);
  fs.writeFileSync(broken, '{"s1": ["u1"]}');
  assert.match(refused(PLUGINS, { 'memory-session': { file: broken } }), /session "s1": the user must be a string or an integer/);
  assert.match(refused(PLUGINS, { 'memory-session': { fiel: sessionsFile } }), /memory-session.*unknown setting "fiel"/);
  assert.match(refused(PLUGINS, { 'http-publish': { path: '/x' } }), /http-publish.*takes no settings/);
  assert.match(refused(['socketio', 'memory-session', 'http-publish']), /http-publish.*needs the admin-http plugin/);
});

test('without admin-http, memory-session warns that sessions come from the file only, and still resolves them', async () => {
  const srv = await Server.start({ plugins: ['socketio', 'memory-session'], config: { 'memory-session': { file: sessionsFile } } });
  try {
    assert.match(srv.log, /\[memory-session\].*sessions can only come from the file/);
    const c = await client('file-session', 'file-user', { srv });
    c.close();
  } finally { await srv.stop(); }
});

test('notifications posted to /publish carry offsets <run id>-<sequence>, consecutive, a new run id per start', async () => {
  // The offset-echo test plugin emits each delivery's offset as an `offset` event right behind its message.
  const echo = path.resolve(path.dirname(BIN), '../tests/plugins/offset-echo.so');
  const runs = [];
  for (let run = 0; run < 2; run++) {
    const srv = await Server.start({ plugins: [...PLUGINS, echo] });
    const base = `http://127.0.0.1:${srv.adminPort}`;
    const c = await connect(4, srv.url, { transports: ['websocket'] });
    c.offsets = [];
    c.on('offset', (o) => c.offsets.push(o));
    try {
      assert.equal((await putSession('offset-session', '"offset-user"', base)).status, 204);
      c.emit('authenticate', { sessionId: 'offset-session' });
      await srv.waitMembership('offset-session', 'offset-user', c);
      assert.equal((await publish({ users: ['offset-user'], data: 1 }, base)).status, 202);
      assert.equal((await publish('{not json', base)).status, 400);  // uses up no offset
      assert.equal((await publish({ users: ['offset-user'], data: 2 }, base)).status, 202);
      await messageCount(c, 2);
      await until(() => c.offsets.length === 2, 'both offsets');
      const m = /^([a-f][0-9a-f]{15})-1$/.exec(c.offsets[0]);
      assert.ok(m, c.offsets[0]);
      assert.equal(c.offsets[1], `${m[1]}-2`);
      runs.push(m[1]);
    } finally { c.close(); await srv.stop(); }
  }
  assert.notEqual(runs[0], runs[1]);
});
