// The baseline for bench/run: what yunity-sockets does, written the way a Node.js team would with socket.io 4
// and ioredis, one process on one core. Clients emit `authenticate {sessionId}`; the session's user is read from
// `session-store-<id>`; a JSON notification on the `notifications` channel goes, minus `users`, as `message` to
// every connection of every user it names (each connection once). Keyspace events are left out: the benchmark
// never logs users in or out mid-run.
//
// node server.js PORT [REDIS_URL] [PATH...]
'use strict';
const http = require('http');
const { Server } = require('socket.io');
const Redis = require('ioredis');

const port = Number(process.argv[2] || 5000);
const redisUrl = process.argv[3] || 'redis://127.0.0.1:6379';
const paths = process.argv.length > 4 ? process.argv.slice(4) : ['/socket.io/'];

const commands = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const httpServer = http.createServer();
// socket.io serves one path per Server; several share the HTTP server, as yunity-sockets serves both of its paths.
const servers = paths.map((path) => new Server(httpServer, {
  path,
  allowEIO3: true,            // socket.io-client 2.x (Engine.IO 3), as yunity-sockets accepts
  cors: { origin: true, credentials: true },
  serveClient: false,
  perMessageDeflate: false,   // yunity-sockets does not compress either
  pingInterval: 25000,
  pingTimeout: 20000,
}));

for (const io of servers) {
  io.on('connection', (socket) => {
    socket.on('authenticate', async (data) => {
      const sessionId = data && (typeof data.sessionId === 'string' || typeof data.sessionId === 'number')
        ? String(data.sessionId) : null;
      if (sessionId === null) return;
      socket.data.sessionId = sessionId;
      let user;
      try {
        user = await commands.get('session-store-' + sessionId);
      } catch (e) {
        return;
      }
      // A newer authenticate, or a disconnect, while the lookup was out wins.
      if (socket.data.sessionId !== sessionId || socket.disconnected) return;
      if (socket.data.room) socket.leave(socket.data.room);
      socket.data.room = user ? 'user:' + user : null;
      if (socket.data.room) socket.join(socket.data.room);
    });
  });
}

subscriber.subscribe('notifications');
subscriber.on('message', (channel, text) => {
  let notification;
  try {
    notification = JSON.parse(text);
  } catch (e) {
    return;
  }
  if (!notification || !Array.isArray(notification.users)) return;
  const rooms = notification.users.map((u) => 'user:' + u);
  delete notification.users;
  // to() with several rooms reaches each socket once, however many of the rooms it is in.
  for (const io of servers) io.to(rooms).emit('message', notification);
});

httpServer.listen(port, () => console.log(`baseline listening on ${port} (${paths.join(', ')})`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
