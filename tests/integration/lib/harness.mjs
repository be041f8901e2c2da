// Test harness: a real redis-server and the real yunity-sockets binary on free ports, and real socket.io
// clients (2.x and 4.x from npm). Every wait is bounded; everything started is stopped at exit.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RespClient } from './resp.mjs';

const require = createRequire(import.meta.url);
export const ioV2 = require('socket.io-client-v2');
export const { io: ioV4 } = require('socket.io-client-v4');

export const BIN = process.env.YUNITY_BIN || path.resolve(import.meta.dirname, '../../../build/bin/yunity-sockets');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch {} } });

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
// How much slower than a plain build the server runs: a ThreadSanitizer build (scripts/sanitize tsan sets it) does
// everything several times slower, so bounds that are about speed, not correctness, stretch by this much.
export const TIME_FACTOR = Number(process.env.YUNITY_TEST_TIME_FACTOR) || 1;
// A timeout that does not keep the process alive on its own.
function timeout(ms) { return new Promise((r) => setTimeout(r, ms).unref()); }

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// Resolves with the value of `fn()` once truthy; rejects after `ms` with `what`.
export async function until(fn, what, ms = 5000, every = 20) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export class Redis {
  // With `password`, the server requires it (and uses it towards its master) and command() authenticates.
  static async start(extraArgs = [], { password } = {}) {
    const r = new Redis();
    r.password = password;
    if (password) extraArgs = ['--requirepass', password, '--masterauth', password, ...extraArgs];
    r.port = await freePort();
    r.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-redis-'));
    r.extraArgs = extraArgs;
    await r.launch();
    return r;
  }
  get url() { return `redis://${this.password ? `:${encodeURIComponent(this.password)}@` : ''}127.0.0.1:${this.port}/0`; }
  async launch() {
    this.proc = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.proc);
    this.proc.stdout.resume(); this.proc.stderr.resume();
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.exited = exited;
    await until(async () => { try { await this.command('PING'); return true; } catch { return false; } },
      'redis-server to answer', 10000, 50);
  }
  async command(...args) {
    if (!this.client || this.client.closed) {
      this.client = new RespClient(this.port);
      await this.client.connect();
      if (this.password) await this.client.command(['AUTH', this.password]);
    }
    return this.client.command(args.map(String));
  }
  async stop() {
    if (!this.proc) return;
    try { await this.command('SHUTDOWN', 'NOSAVE'); } catch {}
    this.client?.close();
    await Promise.race([this.exited, timeout(3000)]);
    this.proc.kill('SIGKILL');
    children.delete(this.proc);
    this.proc = null;
  }
  async restart() { await this.stop(); await this.launch(); }
}

// A redis-sentinel watching `master` under `name`, on a free port. Debian's redis-sentinel package is
// redis-server in sentinel mode; without it, redis-server --sentinel runs the same code.
const REDIS_SENTINEL = process.env.REDIS_SENTINEL || (fs.existsSync('/usr/bin/redis-sentinel') ? 'redis-sentinel' : null);
export class Sentinel {
  static async start(master, name = 'mymaster', { downAfterMs = 1000, failoverTimeoutMs = 3000 } = {}) {
    // The master's password, if it has one, is what the sentinels use towards it and its replicas.
    const s = new Sentinel();
    s.port = await freePort();
    s.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-sentinel-'));
    const conf = path.join(s.dir, 'sentinel.conf');
    fs.writeFileSync(conf, [`port ${s.port}`, 'bind 127.0.0.1', `dir ${s.dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`, `sentinel parallel-syncs ${name} 1`,
      ...(master.password ? [`sentinel auth-pass ${name} ${master.password}`] : []), ''].join('\n'));
    const [bin, args] = REDIS_SENTINEL ? [REDIS_SENTINEL, [conf]] : [REDIS_SERVER, [conf, '--sentinel']];
    s.proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(s.proc);
    s.log = '';
    s.proc.stdout.on('data', (d) => { s.log += d; });
    s.proc.stderr.on('data', (d) => { s.log += d; });
    s.exited = new Promise((r) => s.proc.once('exit', r));
    await until(async () => { try { await s.command('PING'); return true; } catch { return false; } },
      'redis-sentinel to answer', 10000, 50);
    return s;
  }
  async command(...args) {
    if (!this.client || this.client.closed) {
      this.client = new RespClient(this.port);
      await this.client.connect();
    }
    return this.client.command(args.map(String));
  }
  async stop() {
    if (!this.proc) return;
    this.client?.close();
    this.proc.kill('SIGKILL');
    await Promise.race([this.exited, timeout(3000)]);
    children.delete(this.proc);
    this.proc = null;
  }
}

// A TCP proxy in front of a port. After silence(), the connections open at that moment stay open on the
// client's side when the target closes them (what a NAT box or a load balancer that lost its state does): the
// client sees no error, and what it sends is dropped. Connections made later behave. point() sends the
// connections made from then on to another port (a load balancer moving clients to another instance).
export class TcpProxy {
  static async start(targetPort) {
    const p = new TcpProxy();
    p.pairs = new Set();
    p.downUntil = 0;
    p.target = targetPort;
    p.server = net.createServer((down) => {
      if (Date.now() < p.downUntil) { down.destroy(); return; }
      const pair = { down, up: net.connect(p.target, '127.0.0.1'), silent: false, held: false };
      const { up } = pair;
      p.pairs.add(pair);
      down.on('data', (d) => { if (!up.destroyed) up.write(d); });
      up.on('data', (d) => { if (!down.destroyed) down.write(d); });
      const closeUp = () => { if (pair.held) return; up.destroy(); p.pairs.delete(pair); };
      const closeDown = () => { if (!pair.silent) down.destroy(); };
      down.on('close', closeUp); down.on('error', closeUp);
      up.on('close', closeDown); up.on('error', closeDown);
    });
    await new Promise((r) => p.server.listen(0, '127.0.0.1', r));
    p.port = p.server.address().port;
    return p;
  }
  get url() { return `redis://127.0.0.1:${this.port}/0`; }
  silence() { for (const pair of this.pairs) pair.silent = true; }
  // The clients' side goes and the target's stays open, unanswered: a network change as the target sees it (no FIN,
  // nothing until its heartbeat gives up). For `ms` after, new connections are cut as they come (a client's
  // goodbye does not get through either). stop() closes what is held.
  vanish(ms = 0) {
    this.downUntil = Date.now() + ms;
    for (const pair of this.pairs) { pair.held = true; pair.down.destroy(); }
  }
  point(port) { this.target = port; }
  async stop() {
    for (const { up, down } of this.pairs) { up.destroy(); down.destroy(); }
    await new Promise((r) => this.server.close(r));
  }
}

export class Server {
  // Starts yunity-sockets on free ports (-w 0 -p 0; `port` for the client port of a restarted instance) and
  // learns them from its log.
  // `redis` is anything with a `url` (a Redis, or {url: 'redis-sentinel://...'}).
  static async start({ redis, plugins, args = [], env = {}, config, port = 0 } = {}) {
    const s = new Server();
    const argv = ['-w', String(port), '-p', '0', '--log-level', 'debug', ...args];
    // YUNITY_TEST_PLUGINS narrows the default set (e.g. while a plugin is being built elsewhere).
    if (!plugins && process.env.YUNITY_TEST_PLUGINS) plugins = process.env.YUNITY_TEST_PLUGINS.split(',');
    if (redis) argv.push('--redis', redis.url);
    if (plugins) argv.push('--plugins', plugins.join(','));
    if (config) {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ys-config-')), 'config.json');
      fs.writeFileSync(file, JSON.stringify(config));
      argv.push('--config', file);
    }
    s.log = '';
    s.proc = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(s.proc);
    s.exit = new Promise((r) => s.proc.once('exit', (code, signal) => r({ code, signal })));
    s.proc.stdout.on('data', (d) => { s.log += d; });
    s.proc.stderr.on('data', (d) => { s.log += d; });
    // Every plugin has started (and logged its ports) once the core says it is running.
    await until(() => /yunity-sockets running with \d+ plugins/.exec(s.log) || s.proc.exitCode !== null,
      'yunity-sockets to start', 10000);
    const m = /listening on \S+:(\d+) for socket\.io clients/.exec(s.log);
    if (!m) throw new Error(`yunity-sockets did not start:\n${s.log}`);
    s.port = Number(m[1]);
    const a = /listening on \S+:(\d+) for admin requests/.exec(s.log);
    s.adminPort = a ? Number(a[1]) : undefined;
    s.url = `http://127.0.0.1:${s.port}`;
    s.adminToken = env.YUNITY_ADMIN_TOKEN;
    return s;
  }
  // Waits until the admin report shows the connections holding `session` (at least one; with `socket`, that
  // client's) all with `user` (null: none). Session ids are credentials and never appear in the log, so the report
  // (the operator's view) is where a test sees them. Without the admin port, the log's line for the membership
  // (which names the user, not the session) is the sign.
  async waitMembership(session, user, socket, ms = 5000) {
    const want = user === null || user === undefined ? '__nouser__' : String(user);
    if (!this.adminPort) {
      const name = want === '__nouser__' ? '\\(none\\)' : want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return this.waitLog(new RegExp(`with a session user ${name}$`, 'm'), ms);
    }
    const headers = this.adminToken ? { authorization: `Bearer ${this.adminToken}` } : {};
    return until(async () => {
      const res = await fetch(`http://127.0.0.1:${this.adminPort}/`, { headers });
      const { connections } = await res.json();
      const holding = connections.filter((c) => c.sessionId === String(session) && (!socket || c.connectionId === socket.id));
      return holding.length > 0 && holding.every((c) => String(c.userId) === want);
    }, `session ${session} to hold user ${want}`, ms);
  }
  // Waits until the log matches `re` (counting matches after `from`, a log offset).
  async waitLog(re, ms = 5000, from = 0) { return until(() => re.exec(this.log.slice(from)), `log ${re}`, ms); }
  async stop(signal = 'SIGTERM') {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exit;
    this.proc.kill(signal);
    const res = await Promise.race([this.exit, timeout(8000).then(() => null)]);
    if (!res) { this.proc.kill('SIGKILL'); throw new Error('yunity-sockets did not stop within 8 s'); }
    children.delete(this.proc);
    return res;
  }
}

// A connected client that records every `message` it receives.
export async function connect(version, url, opts = {}, sessionId) {
  const options = { forceNew: true, reconnection: false, ...opts };
  const socket = version === 2 ? ioV2(url, options) : ioV4(url, options);
  socket.messages = [];
  // One argument, as the apps written for the original server take it; the offset (the last argument since the
  // sources give one) is kept apart.
  socket.on('message', (m) => socket.messages.push(m));
  socket.messageOffsets = [];
  socket.on('message', (...args) => socket.messageOffsets.push(args.length > 1 ? args[args.length - 1] : undefined));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => { socket.close(); reject(new Error(`client v${version} did not connect`)); }, 5000);
    socket.once('connect', () => { clearTimeout(t); resolve(); });
    socket.on('connect_error', (e) => { socket.lastError = e; if (process.env.DEBUG_CONNECT) console.log('connect_error', e, e.description); });
  });
  if (sessionId !== undefined) socket.emit('authenticate', { sessionId });
  return socket;
}

export async function messageCount(socket, n, ms = 5000) {
  await until(() => socket.messages.length >= n, `${n} messages (have ${socket.messages.length})`, ms);
  return socket.messages;
}

// Nothing more arrives within `ms`.
export async function quiet(socket, count, ms = 300) {
  await sleep(ms);
  if (socket.messages.length !== count)
    throw new Error(`expected ${count} messages, got ${socket.messages.length}: ${JSON.stringify(socket.messages)}`);
}

export async function httpGet(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
