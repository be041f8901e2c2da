// The per-address limits behind the shipped nginx site (deploy/nginx-yunity-sockets.conf, without TLS, on private
// ports): nginx writes X-Forwarded-For, the instances trust 127.0.0.1 (trusted_proxies), and so each client behind
// nginx is counted by its own address. Clients come from several loopback addresses (127.0.0.x), which the site's
// ip_hash sends to one instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { Server, until } from './lib/harness.mjs';
import { startNginx } from './lib/nginx.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

const LIMITS = { trusted_proxies: ['127.0.0.1'], max_pending_per_address: 3, max_connections_per_address: 5,
  max_unbound_per_address: 2 };
let instances = [], nginx;
before(async () => {
  for (let i = 0; i < 2; i++)
    instances.push(await Server.start({ plugins: ['socketio', 'admin-http'], config: { socketio: LIMITS } }));
  nginx = await startNginx(instances.map((s) => s.port));
});
after(async () => {
  await nginx?.stop();
  for (const s of instances) await s.stop();
});

// A polling handshake through nginx from the client address `from`.
function handshake(from, eio = 4) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: nginx.port, localAddress: from, agent: false,
      path: `/socket.io/?EIO=${eio}&transport=polling` }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, retry: res.headers['retry-after'], body }));
    }).on('error', reject);
  });
}
// A websocket handshake through nginx from `from`: 101 (then closed) or the refusal's status.
function websocket(from) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}/socket.io/?EIO=4&transport=websocket`, { localAddress: from });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', () => {});
  });
}
const metrics = async () => Promise.all(instances.map(async (s) =>
  (await fetch(`http://127.0.0.1:${s.adminPort}/metrics`)).text()));
const sum = (texts, re) => texts.reduce((n, t) => n + Number((re.exec(t) ?? [0, 0])[1]), 0);

test('behind nginx the pending cap counts each forwarded client: one is capped, another is not locked out', async () => {
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await handshake('127.0.0.2')).status);
  assert.deepEqual(statuses, [200, 200, 200, 503, 503]);
  const refused = await handshake('127.0.0.2');
  assert.deepEqual([refused.status, refused.retry], [503, '5']);
  assert.equal(await websocket('127.0.0.2'), 503);
  // Another address behind the same proxy gets in, over polling and websocket.
  assert.equal((await handshake('127.0.0.3')).status, 200);
  assert.equal(await websocket('127.0.0.4'), 101);
  const m = await metrics();
  assert.equal(sum(m, /yunity_socketio_refused_total\{limit="max_pending_per_address"\} (\d+)/), 4);
  // The report shows the client's address, not the proxy's (a protocol 4 session, open at once, is reported).
  assert.equal((await handshake('127.0.0.7', 3)).status, 200);
  await until(async () => {
    const reports = await Promise.all(instances.map(async (s) =>
      (await (await fetch(`http://127.0.0.1:${s.adminPort}/`)).json()).connections));
    return reports.flat().some((c) => c.handshake.address === '127.0.0.7');
  }, 'the forwarded address in the report', 2000);
});

test('behind nginx max_connections_per_address counts each forwarded client', async () => {
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await handshake('127.0.0.5', 3)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503, 503]);
  assert.equal((await handshake('127.0.0.6', 3)).status, 200);
  assert.equal(sum(await metrics(), /yunity_socketio_refused_total\{limit="max_connections_per_address"\} (\d+)/), 2);
});

test('behind nginx the proxy\'s own connections are not held to max_unbound_per_address', async () => {
  // Forty clients at once from forty addresses: nginx opens as many connections to the instance at once, each
  // without a session until its request is read. Counted as the proxy's, two would be allowed.
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => handshake(`127.0.1.${i + 1}`, 3)));
  assert.deepEqual(results.map((r) => r.status), Array(40).fill(200));
  const m = await metrics();
  assert.equal(sum(m, /yunity_socketio_refused_total\{limit="max_unbound_per_address"\} (\d+)/), 0);
  await until(async () => sum(await metrics(), /yunity_socketio_unbound_connections (\d+)/) === 0,
    'no connection counted', 2000);
  assert.doesNotMatch(nginx.errors(), /upstream prematurely closed|Connection reset/);
});
