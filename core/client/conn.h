/* A protocol exchange for applets with a loop of their own (monit): a non-blocking
 * connection that sends one request and hands back data lines, the final
 * {"ok":...} line, and (for logs and events) the stream lines that follow, without
 * ever blocking or dying when the daemon goes away. */
#ifndef TEND_CONN_H
#define TEND_CONN_H

#include "lib/json.h"

#include <poll.h>

struct conn {
	int fd;               /* -1: not connected */
	struct buf in, out;
	size_t scanned;       /* of in: bytes known to hold no newline */
	bool replied;         /* the final line came */
	bool ok;              /* ... and said ok */
	unsigned gen;         /* counts opens and closes: a callback may do either */
	/* A data or stream line (NUL-terminated, without its newline); the final line. */
	void (*on_line)(struct conn *c, char *line, size_t len);
	void (*on_reply)(struct conn *c, bool ok, int code, const char *error);
	/* The connection is gone (the daemon closed it, or an error). */
	void (*on_close)(struct conn *c);
	void *arg;
};

/* Connect (no autostart) and queue req. False (c->fd -1) when no daemon answers. */
bool conn_open(struct conn *c, const struct buf *req);
void conn_close(struct conn *c);
/* Its pollfd events: POLLIN, and POLLOUT while the request is not all sent. */
short conn_events(const struct conn *c);
/* poll said revents: read and write what can be, call back for each whole line. */
void conn_ready(struct conn *c, short revents);

#endif
