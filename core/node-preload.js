// tend's preload for node apps that get a listening socket from the daemon (cluster
// mode) or a private port behind its proxy (TEND_LB=proxy): node -r node-preload.js
// app.js. Embedded in the tend binary, written into the home by the daemon. It does
// three things and nothing else:
//  1. listen(PORT) adopts fd 3, the socket the daemon owns (LISTEN_FDS=1): every
//     instance accepts from the same socket, and the port never closes (behind the
//     proxy, the app listens on its own PORT as it asked);
//  2. once the app listens there, it tells the daemon ({"type":"tend:listening"}) so
//     a reload waits for it before stopping the old instance;
//  3. on SIGINT (or the "shutdown" message) it drains: stops accepting, answers every
//     further request with "Connection: close", and exits when the last connection has
//     ended. It does not use http.Server.close(), which since node 19 also closes the
//     connections it thinks idle, including those whose next request is already on
//     the wire: that is where resets under load come from.
'use strict';
(function () {
  const env = process.env;
  const handed = env.LISTEN_FDS === '1' && env.LISTEN_PID === String(process.pid);
  if (!handed && env.TEND_LB !== 'proxy') return;
  const net = require('net');
  const http = require('http');
  const PORT = Number(env.PORT);
  const IDLE_GRACE_MS = Number(env.TEND_DRAIN_IDLE_MS || 1000);
  const servers = new Set();
  let adopted = false;
  let draining = false;

  function wantedPort(args) {
    const a = args[0];
    if (a !== null && typeof a === 'object') return a.fd === undefined && a.path === undefined ? Number(a.port) : NaN;
    if (typeof a === 'function' || a === undefined) return 0;
    return Number(a);
  }

  function track(server) {
    if (servers.has(server)) return;
    servers.add(server);
    server._tendConns = new Set();
    server.on('connection', (sock) => {
      server._tendConns.add(sock);
      sock._tendBusy = false;
      sock.on('close', () => { server._tendConns.delete(sock); maybeExit(); });
    });
    if (server instanceof http.Server) {
      // First in line: the app's own handler may answer at once.
      server.prependListener('request', (req, res) => {
        const sock = req.socket;
        sock._tendBusy = true;
        if (draining) res.shouldKeepAlive = false;
        res.on('finish', () => { sock._tendBusy = false; sock._tendIdleSince = Date.now(); });
      });
    }
  }

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    const port = wantedPort(args);
    if (adopted || !(port === PORT || (port === 0 && PORT > 0 && args.length <= 1))) {
      return listen.apply(this, args);
    }
    adopted = true;
    const cb = args.find((a) => typeof a === 'function');
    track(this);
    this.once('listening', () => {
      if (process.send) process.send({ type: 'tend:listening', port: PORT });
    });
    return handed ? listen.call(this, { fd: 3 }, cb) : listen.apply(this, args);
  };

  function maybeExit() {
    if (!draining) return;
    for (const s of servers) if (s._tendConns.size) return;
    // Only when the app has no shutdown code of its own: then it decides.
    if (process.listenerCount('SIGINT') <= 1) process.exit(0);
  }

  function closeIdle() {
    const now = Date.now();
    for (const s of servers) {
      for (const sock of s._tendConns) {
        if (!sock._tendBusy && now - (sock._tendIdleSince || 0) >= IDLE_GRACE_MS) sock.end();
      }
    }
  }

  function drain() {
    if (draining) return;
    draining = true;
    for (const s of servers) {
      // Stop accepting: the listening handle only, never the connections.
      if (s._handle) { s._handle.close(); s._handle = null; }
      for (const sock of s._tendConns) if (!sock._tendBusy) sock._tendIdleSince = sock._tendIdleSince || Date.now();
    }
    const t = setInterval(closeIdle, 100);
    t.unref();
    maybeExit();
  }

  process.on('SIGINT', drain);
  process.on('message', (m) => { if (m === 'shutdown') drain(); });
  if (process.channel) process.channel.unref();
})();
