// A client that goes on uploading a body past the server's limit, as HTTP clients do mid-upload: it reads
// whatever the server answers and keeps sending after the server's FIN (half-open allowed). Used to check the
// lingering close: closing with unread input resets the connection and the upload fails (EPIPE, ECONNRESET).
import net from 'node:net';
import { sleep } from './harness.mjs';

export async function uploadPastLimit(port, target, size, { pauseAfter = size / 2 } = {}) {
  const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  let reply = '';
  let failed = null;
  sock.on('data', (d) => { reply += d; });
  sock.on('error', (e) => { failed = e; });
  const closed = new Promise((resolve) => sock.once('close', resolve));
  sock.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
             `Content-Length: ${size}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < size && !failed; sent += chunk.length) {
    if (!sock.write(chunk)) await new Promise((resolve) => { sock.once('drain', resolve); sock.once('close', resolve); });
    if (sent === pauseAfter) await sleep(100);  // the refusal is on its way by now
  }
  sock.end();
  await closed;
  return { reply, failed };
}
