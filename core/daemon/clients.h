/* Control connections, bounded: what one client may hold in the daemon is capped (its
 * unread requests, its unsent replies), all clients together too, and one client gets
 * a bounded share of each pass of the loop, so that a client pipelining without end,
 * or one that never reads its replies, neither grows the daemon nor delays anyone. */
#ifndef TEND_CLIENTS_H
#define TEND_CLIENTS_H

#include "lib/loop.h"
#include "daemon/ctl.h"
#include "lib/version.h"

#include <poll.h>

enum { MAX_CLIENTS = 1024 };

extern struct client **clients;
extern int nclients;

/* The listening socket is readable: accept what waits (at the fd limit, each one gets
 * an error line instead of hanging). */
void clients_accept(int listen_fd);
/* A client for a request the daemon runs itself (fd -1: replies go to the log). */
struct client *client_add(int fd);
/* For poll: what c waits for now (0: nothing), and what poll said of it. */
short client_events(struct client *c);
void client_ready(struct client *c, short revents);
/* Once per pass: pending waits checked, requests run (a bounded number per client),
 * replies flushed, finished clients closed. True when some client still has requests
 * it may run at once (the next poll must not sleep). */
bool clients_run(void);
void clients_close_all(void);
/* The daemon reserves an fd so that a client at the fd limit is told, not ignored. */
void clients_reserve_fd(void);
/* Replies a client has not taken yet; drop them (a log subscriber too slow to keep). */
size_t client_queued(const struct client *c);
void client_drop_output(struct client *c);
/* tend update: is another client waiting for something to finish (then not now)? The
 * connections, their fds kept open by keep(), and back: the updater is the client
 * that asked for the update (it hears the new daemon's answer). */
bool clients_busy(const struct client *updater, char *why, size_t whylen);
void clients_save(struct buf *b, const struct client *updater, int (*keep)(int fd));
struct client *clients_restore(const struct jdoc *d, int arr);
/* Called when a client is freed (daemon.c: an exit waiting for its reply). */
void daemon_client_gone(struct client *c);

extern const struct loop_source clients_source;
#endif
