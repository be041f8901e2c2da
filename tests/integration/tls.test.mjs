// https and wss on the client port (--tls-cert, --tls-key) with a self-signed certificate made for the test,
// and real socket.io clients 2.x and 4.x trusting it, over polling, websocket and the upgrade.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { Server, ioV2, ioV4 } from './lib/harness.mjs';

let server, dir, ca;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = fs.readFileSync(path.join(dir, 'cert.pem'));
  server = await Server.start({ plugins: ['socketio', 'echo'],
    args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')] });
});
after(async () => { await server?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

const url = () => `https://127.0.0.1:${server.port}`;

function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

test('the log says the client port speaks TLS; plain http there gets no answer', async () => {
  assert.match(server.log, /listening on \S+ for socket\.io clients \(TLS\)/);
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`));
});

test('an https handshake is answered, and the certificate is the one given', async () => {
  const body = await new Promise((resolve, reject) => {
    https.get(`${url()}/socket.io/?EIO=4&transport=polling`, { ca }, (res) => {
      assert.equal(res.socket.getPeerCertificate().subject.CN, 'localhost');
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  assert.match(body, /^0\{"sid":"/);
});

for (const version of [2, 4]) {
  for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
    test(`client ${version}.x over ${transports.join(' then ')} with TLS`, async () => {
      const options = { forceNew: true, reconnection: false, transports, ca };
      const s = version === 2 ? ioV2(url(), options) : ioV4(url(), options);
      await once(s, 'connect');
      const reply = await new Promise((resolve) => s.emit('echo', { over: 'tls' }, (...a) => resolve(a)));
      assert.deepEqual(reply, [{ over: 'tls' }]);
      if (transports.length === 2) {
        const engine = version === 2 ? s.io.engine : s.io.engine;
        if (engine.transport.name !== 'websocket') await once(engine, 'upgrade');
        assert.equal(engine.transport.name, 'websocket');
        const again = await new Promise((resolve) => s.emit('echo', 'after upgrade', (...a) => resolve(a)));
        assert.deepEqual(again, ['after upgrade']);
      }
      s.close();
    });
  }
}

test('a bad certificate or key path is refused at startup with a clear message', async () => {
  const missing = path.join(dir, 'nope.pem');
  for (const [args, re] of [
    [['--tls-cert', missing, '--tls-key', path.join(dir, 'key.pem')], /--tls-cert .*nope\.pem/],
    [['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', missing], /--tls-key .*nope\.pem/],
    [['--tls-cert', path.join(dir, 'cert.pem')], /--tls-cert and --tls-key go together/]]) {
    const out = (() => {
      try {
        execFileSync(process.env.YUNITY_BIN || path.resolve(import.meta.dirname, '../../../build/bin/yunity-sockets'),
          ['-w', '0', '-p', '0', '--plugins', 'socketio', ...args], { stdio: 'pipe', timeout: 10000 });
        return { status: 0, text: '' };
      } catch (e) { return { status: e.status, text: String(e.stderr) + String(e.stdout) }; }
    })();
    assert.equal(out.status, 2, out.text);
    assert.match(out.text, re);
  }
});
