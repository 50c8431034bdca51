// tend's preload for node apps: node -r node-preload.js app.js. Embedded in the tend
// binary, written into the home by the daemon. It does these things and nothing else
// (and takes itself and its variables out of what the app's own children inherit):
//  1. once the main module has run (its top-level code: signal handlers set), it tells
//     the daemon ({"type":"tend:started"}), so that `start` returns only then;
//  2. in cluster mode, every listen() on a port or a unix path gets a socket the daemon
//     owns and shares among the instances ({"type":"tend:listen"}, answered with the
//     socket as a node IPC handle), as node's cluster primary does under PM2: the port
//     stays open across restarts and reloads. listen(PORT) of a declared port adopts fd
//     3 (LISTEN_FDS=1); behind the proxy (TEND_LB=proxy) the app listens on its PORT;
//  3. once the app listens, it tells the daemon ({"type":"tend:listening"}) so a
//     reload waits for it before stopping the old instance;
//  4. on SIGINT (or the "shutdown" message) it drains: stops accepting, answers every
//     further request with "Connection: close", and exits when the last connection has
//     ended. It does not use http.Server.close(), which since node 19 also closes the
//     connections it thinks idle, including those whose next request is already on
//     the wire: that is where resets under load come from.
'use strict';
(function () {
  const env = process.env;
  // The app's own children (child_process.fork copies execArgv and the environment)
  // are not tend's: they see neither the preload nor its variables.
  const mine = process.execArgv.indexOf('--require');
  try {
    if (mine >= 0 && require('fs').realpathSync(process.execArgv[mine + 1]) === __filename) process.execArgv.splice(mine, 2);
  } catch (e) { /* not ours */ }
  const shared = env.TEND_CLUSTER === '1' && !!process.send;
  const proxied = env.TEND_LB === 'proxy';
  delete env.TEND_CLUSTER;
  delete env.TEND_LB;
  if (process.send) setImmediate(() => process.send({ type: 'tend:started' }));
  const handed = env.LISTEN_FDS === '1' && env.LISTEN_PID === String(process.pid);
  if (!handed && !shared && !proxied) return;
  const net = require('net');
  const http = require('http');
  const PORT = Number(env.PORT);
  const IDLE_GRACE_MS = Number(env.TEND_DRAIN_IDLE_MS || 1000);
  const servers = new Set();
  const asked = new Map();   // listen requests sent to the daemon, by id
  let seq = 0;
  let holding = null;   // keeps node running while the daemon's answer is on its way
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

  // listen(port, host, backlog, cb), listen({port, host, path, backlog}, cb), listen(path)
  function where(args) {
    const a = args[0];
    if (a !== null && typeof a === 'object') {
      if (a.fd !== undefined || a._handle || a.handle) return null;   // a handle: as it is
      return { port: a.path === undefined ? Number(a.port || 0) : undefined, host: a.host, path: a.path };
    }
    if (typeof a === 'string' && isNaN(Number(a))) return { path: a };
    if (typeof a === 'function' || a === undefined) return { port: 0 };
    return { port: Number(a), host: typeof args[1] === 'string' ? args[1] : undefined };
  }

  function announce(server, port) {
    server.once('listening', () => {
      if (process.send) process.send({ type: 'tend:listening', port });
    });
  }

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    const at = where(args);
    const cb = args.find((a) => typeof a === 'function');
    if (at && handed && !adopted && (at.port === PORT || (at.port === 0 && PORT > 0 && args.length <= 1))) {
      adopted = true;
      track(this);
      announce(this, PORT);
      return listen.call(this, { fd: 3 }, cb);
    }
    if (at && shared && (at.path !== undefined || at.port > 0)) {
      // Ask the daemon for its socket at that address; listen on it once it comes.
      const id = ++seq;
      asked.set(id, { server: this, cb, at });
      if (!holding) holding = setInterval(() => {}, 1 << 30);
      track(this);
      announce(this, at.port);
      process.send({ type: 'tend:listen', id, port: at.port, host: at.host, path: at.path });
      return this;
    }
    if (at && !handed && proxied && !adopted && at.port === PORT) {
      adopted = true;
      track(this);
      announce(this, PORT);
    }
    return listen.apply(this, args);
  };

  process.on('message', (m, handle) => {
    if (!m || typeof m !== 'object' || !asked.has(m.id)) return;
    const { server, cb, at } = asked.get(m.id);
    asked.delete(m.id);
    if (!asked.size) { clearInterval(holding); holding = null; }
    if (m.type === 'tend:listen-ok' && handle) {
      listen.call(server, handle, cb);
    } else {
      const err = new Error(`listen ${m.code || 'EADDRINUSE'}: ${m.message || 'refused by tend'}`);
      Object.assign(err, { code: m.code || 'EADDRINUSE', syscall: 'listen', address: at.host || at.path, port: at.port });
      process.nextTick(() => server.emit('error', err));
    }
  });

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
