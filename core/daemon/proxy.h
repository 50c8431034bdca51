/* Proxy mode (lb "proxy"), for apps that can only listen on $PORT: each process gets
 * a private port on loopback, the daemon accepts on the app's public socket and
 * forwards every connection, round-robin, to the processes that are ready. It runs in
 * the daemon's poll loop: non-blocking sockets, a buffer only for bytes the other side
 * could not take yet, so an idle connection costs two fds and a few dozen bytes.
 *
 * Ready means the private port accepts a connection (probed every 20 ms while the
 * process is launching), or the app said so (wait_ready), or the node preload saw it
 * listen. A process being replaced by a reload serves until its replacement is ready. */
#ifndef TEND_PROXY_H
#define TEND_PROXY_H

#include "lib/loop.h"
#include "daemon/proc.h"

#include <poll.h>

/* A free port on this host for a process to listen on; 0 with the reason in err. */
int proxy_free_port(char *err, size_t errlen);
/* p's process was spawned: begin probing its port if it is launching. */
void proxy_spawned(struct proc *p, bool launching);
/* Its probe timer is due (proc.c): is its port answering? */
void proxy_probe(struct proc *p, int64_t now);
/* p's process is gone or ready: no more probing. */
void proxy_forget(struct proc *p);

/* For the daemon's loop: at most how many fds the proxy polls; fill them; handle what
 * poll said of them (the same fds, in the same order). */
size_t proxy_poll_max(void);
size_t proxy_poll_fill(struct pollfd *fds, int64_t now);
void proxy_poll_handle(struct pollfd *fds, size_t n);
int64_t proxy_next_deadline(void);
void proxy_fire_timers(int64_t now);
/* tend update: the connections, their fds kept open by keep(), and back (after the
 * listeners). */
void proxy_save(struct buf *b, int (*keep)(int fd));
void proxy_restore(const struct jdoc *d, int arr);
/* The daemon exits: close every connection. */
void proxy_teardown(void);

extern const struct loop_source proxy_source;
#endif
