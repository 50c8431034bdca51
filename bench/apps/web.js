// bench/cluster.sh: the one HTTP app of every node case (direct, tend cluster and proxy,
// PM2 cluster). Under tend's cluster mode, its node preload makes listen(PORT) adopt the
// daemon's socket (fd 3); under PM2's, node's cluster master shares the port.
require('http').createServer((q, s) => s.end('hello\n')).listen(process.env.PORT || 3000);
