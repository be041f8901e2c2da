// Connects real socket.io clients to URL (a yunity-sockets instance, or nginx in front of several), over
// long-polling only, websocket only, and polling upgraded to websocket, with socket.io-client 4.x and 2.x;
// logs each in through redis (session key + authenticate), publishes a notification on redis and checks that
// every client receives it as `message`. Usage: node deliver_client.mjs URL REDIS_PORT [PATH]
// With LB_QUERY=name set, each client sends ?name=<a random id of its own> on every request (for a proxy that
// hashes it to pick the instance).
import { createRequire } from 'node:module';
import path from 'node:path';
import { RespClient } from '../integration/lib/resp.mjs';

const require = createRequire(path.resolve(import.meta.dirname, '../package.json'));
const ioV2 = require('socket.io-client-v2');
const { io: ioV4 } = require('socket.io-client-v4');

const [url, redisPort, socketPath = '/socket.io/'] = process.argv.slice(2);
if (!url || !redisPort) { console.error('usage: deliver_client.mjs URL REDIS_PORT [PATH]'); process.exit(2); }
const deadline = setTimeout(() => { console.error('FAIL: timed out after 20 s'); process.exit(1); }, 20000);

const redis = new RespClient(Number(redisPort));
await redis.connect();

const variants = [
  { name: 'v4 polling', v: 4, opts: { transports: ['polling'], upgrade: false } },
  { name: 'v4 websocket', v: 4, opts: { transports: ['websocket'] } },
  { name: 'v4 polling+upgrade', v: 4, opts: {} },
  { name: 'v2 polling', v: 2, opts: { transports: ['polling'], upgrade: false } },
  { name: 'v2 websocket', v: 2, opts: { transports: ['websocket'] } },
];
const sockets = [];
for (const [i, variant] of variants.entries()) {
  const options = { path: socketPath, forceNew: true, reconnection: false, timeout: 5000, ...variant.opts };
  if (process.env.LB_QUERY) options.query = { [process.env.LB_QUERY]: Math.random().toString(36).slice(2) };
  const socket = variant.v === 2 ? ioV2(url, options) : ioV4(url, options);
  socket.messages = [];
  socket.on('message', (m) => socket.messages.push(m));
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (e) => reject(new Error(`${variant.name}: cannot connect: ${e.message}`)));
  });
  const session = `deliver-${process.pid}-${i}`;
  await redis.command(['SET', `session-store-${session}`, `user-${i}`]);
  socket.emit('authenticate', { sessionId: session });
  socket.variant = variant;
  sockets.push(socket);
}
// Authentication is asynchronous (a redis lookup): publish until every client got one message.
const users = variants.map((_, i) => `user-${i}`);
for (let round = 0; sockets.some((s) => s.messages.length === 0); ++round) {
  if (round > 100) throw new Error('no delivery after 100 rounds');
  await redis.command(['PUBLISH', 'notifications', JSON.stringify({ users, data: { round } })]);
  await new Promise((r) => setTimeout(r, 100));
}
for (const s of sockets) {
  const m = s.messages[0];
  if (!m || !m.data || typeof m.data.round !== 'number') throw new Error(`${s.variant.name}: bad message ${JSON.stringify(m)}`);
  // polling stays polling; the upgraded client moved to websocket
  const transport = s.io.engine.transport.name;
  console.log(`ok ${s.variant.name}: got ${JSON.stringify(m)} over ${transport}`);
  s.close();
}
redis.close();
clearTimeout(deadline);
console.log('all clients received their message');
