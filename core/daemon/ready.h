/* What apps tell the daemon: readiness and messages.
 *  - sd_notify for any language: one datagram socket for every app (NOTIFY_SOCKET);
 *    "READY=1" from an instance's process group makes it ready.
 *  - node's IPC channel for node apps: a stream socketpair (NODE_CHANNEL_FD), one JSON
 *    message per line, so process.send('ready') and process.on('message') work as
 *    under PM2. The daemon sends "shutdown" this way (shutdown_with_message).
 *  - the node preload (cluster mode) reports {"type":"tend:listening"}. */
#ifndef TEND_READY_H
#define TEND_READY_H

#include "daemon/proc.h"

extern int ready_notify_fd;   /* -1 when it could not be made */

/* At daemon start: the notify socket (inherited: the one a previous program of this
 * daemon bound), and the preload file for node apps. */
void ready_setup(int inherited);
/* The preload node runs with for s: the home's, or one its user can read. */
const char *ready_preload_path(const struct spec *s);
void ready_teardown(void);
void ready_notify_read(void);
/* p->ipc_fd is readable. */
void ready_ipc_read(struct proc *p, struct process *pr);
/* Send one message (JSON text) to the instance; false if it has no channel. */
bool ready_ipc_send(struct process *pr, const char *json);

#endif
