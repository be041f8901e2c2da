// The shipped nginx site (deploy/nginx-yunity-sockets.conf) without TLS, on private ports, in front of two
// instances: what tests/install/proxy_test.sh and rolling_restart.test.mjs do, for any test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, until, sleep } from './harness.mjs';

const SITE = path.resolve(import.meta.dirname, '../../../deploy/nginx-yunity-sockets.conf');
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) || 'nginx';

// Starts nginx with the site's upstream servers on `ports` (two), listening on 127.0.0.1; resolves with its port,
// url and stop().
export async function startNginx(ports) {
  const port = await freePort();
  const redirectPort = await freePort();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ys-nginx-'));
  const site = fs.readFileSync(SITE, 'utf8')
    .replace('127.0.0.1:5090', `127.0.0.1:${ports[0]}`).replace('127.0.0.1:5092', `127.0.0.1:${ports[1]}`)
    .split('\n').filter((l) => !/^\s*ssl_/.test(l) && !/listen \[::\]/.test(l)).join('\n')
    .replace(/^\s*listen 443 ssl http2;/m, `    listen 127.0.0.1:${port};`)
    .replace(/^\s*listen 80;/m, `    listen 127.0.0.1:${redirectPort};`);
  assert.ok(site.includes(`listen 127.0.0.1:${port};`), 'the site\'s listen lines changed: update this helper');
  assert.ok(site.includes(`127.0.0.1:${ports[1]}`), 'the site\'s upstream servers changed: update this helper');
  fs.writeFileSync(path.join(work, 'site.conf'), site);
  fs.mkdirSync(path.join(work, 'logs'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${work}/tmp-${t};`).join(' ');
  fs.writeFileSync(path.join(work, 'nginx.conf'), `daemon on; pid ${work}/nginx.pid; error_log ${work}/logs/error.log warn;
events { worker_connections 512; } worker_processes 1;
http { access_log off; ${temp} include ${work}/site.conf; }\n`);
  const r = spawnSync(NGINX, ['-p', work, '-c', path.join(work, 'nginx.conf'), '-e', path.join(work, 'logs/error.log')]);
  assert.equal(r.status, 0, `nginx did not start: ${r.stderr}`);
  const pidFile = path.join(work, 'nginx.pid');
  await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim(), 'nginx\'s pid file', 5000);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errors: () => fs.readFileSync(path.join(work, 'logs/error.log'), 'utf8'),
    async stop() {
      if (fs.existsSync(pidFile)) {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
        for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) await sleep(50);
      }
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
