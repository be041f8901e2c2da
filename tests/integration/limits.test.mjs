// Connection limits: max_connections and max_connections_per_address answer handshakes beyond them with 503
// (and Retry-After), over polling and websocket; a slot freed by a close is usable again; refusals are counted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Server } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');
const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

async function start(socketio) {
  const s = await Server.start({ plugins: ['socketio', 'admin-http'], config: { socketio } });
  servers.push(s);
  return s;
}
async function handshake(s) {
  const r = await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`);
  const body = await r.text();
  return { status: r.status, retry: r.headers.get('retry-after'), body, sid: r.status === 200 ? JSON.parse(body.slice(1)).sid : null };
}
function websocketStatus(s) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', () => {});
  });
}
const close = (s, sid) => fetch(`${s.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '1' });

test('max_connections: handshakes beyond get 503 with Retry-After; a closed session frees its slot', async () => {
  const s = await start({ max_connections: 3 });
  assert.match(s.log, /at most 3 sessions at once/);
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await handshake(s));
  assert.deepEqual(held.map((h) => h.status), [200, 200, 200]);
  const refused = await handshake(s);
  assert.deepEqual([refused.status, refused.retry, JSON.parse(refused.body)], [503, '5', { code: 3, message: 'Server full' }]);
  assert.equal(await websocketStatus(s), 503);
  // Requests of the sessions it holds are still served.
  assert.equal((await fetch(`${s.url}/socket.io/?EIO=4&transport=polling&sid=${held[0].sid}`, { method: 'POST', body: '40' })).status, 200);
  await close(s, held[1].sid);
  assert.equal((await handshake(s)).status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${s.adminPort}/metrics`)).text();
  assert.match(metrics, /yunity_socketio_refused_total(\{[^}]*\})? 2\b/);
  await s.waitLog(/refusing new sessions with 503: max_connections \(3\) reached/);
});

test('max_connections_per_address: one address is held to its share', async () => {
  const s = await start({ max_connections_per_address: 2 });
  const a = await handshake(s), b = await handshake(s);
  assert.deepEqual([a.status, b.status], [200, 200]);
  assert.equal((await handshake(s)).status, 503);
  assert.equal(await websocketStatus(s), 503);
  await close(s, a.sid);
  assert.equal(await websocketStatus(s), 101);
});

test('without settings the limit follows the open-file limit, raised to its hard limit', async () => {
  const s = await start({});
  const m = /at most (\d+) sessions at once/.exec(s.log);
  assert.ok(m && Number(m[1]) >= 1000, s.log);
});
