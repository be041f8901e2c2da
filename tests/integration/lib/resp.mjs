// A minimal RESP2 client for tests: commands in, parsed replies out, in order.
import net from 'node:net';

export class RespClient {
  constructor(port, host = '127.0.0.1') { this.port = port; this.host = host; this.queue = []; this.buf = Buffer.alloc(0); }
  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect(this.port, this.host, resolve);
      this.sock.once('error', (e) => { this.closed = true; reject(e); this.fail(e); });
      this.sock.on('close', () => { this.closed = true; this.fail(new Error('connection closed')); });
      this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    });
  }
  fail(e) { for (const q of this.queue.splice(0)) q.reject(e); }
  close() { this.closed = true; this.sock?.destroy(); }
  command(args) {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.queue.push({ resolve, reject });
      let out = `*${args.length}\r\n`;
      for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      this.sock.write(out);
    });
  }
  drain() {
    for (;;) {
      const r = parse(this.buf, 0);
      if (!r) return;
      this.buf = this.buf.subarray(r.next);
      const q = this.queue.shift();
      if (!q) continue;
      if (r.value instanceof Error) q.reject(r.value); else q.resolve(r.value);
    }
  }
}

function parse(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, next };
    case '-': return { value: new Error(line), next };
    case ':': return { value: Number(line), next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const items = []; let pos = next;
      for (let i = 0; i < n; i++) { const r = parse(buf, pos); if (!r) return null; items.push(r.value); pos = r.next; }
      return { value: items, next: pos };
    }
    default: throw new Error(`bad RESP type ${type}`);
  }
}
