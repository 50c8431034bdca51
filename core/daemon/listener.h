/* Listening sockets the daemon owns for apps in cluster mode: bound once, kept open
 * while any declaration of the app uses the address, so the port never closes while
 * instances come and go (restart, reload, a new declaration of the same app). */
#ifndef TEND_LISTENER_H
#define TEND_LISTENER_H

#include "lib/util.h"

struct listener {
	char *addr;      /* "host:port" as bound: "0.0.0.0:8080", "[::1]:8080" */
	int fd;          /* listening, O_CLOEXEC, handed to instances as fd 3 */
	int port;
	int refs;
	bool proxy;      /* the daemon accepts and forwards (proxy.c); else handed over */
	unsigned next;   /* proxy: round-robin position */
	int64_t paused_until;  /* proxy: accept failed for want of fds; try again then */
	int open;        /* proxy: connections being forwarded (each holds a reference) */
	long long total; /* proxy: connections accepted */
};

/* Every listener, for the proxy's poll. */
extern struct listener **listeners;
extern int nlisteners;

/* Parse "PORT", "HOST:PORT" or "[V6]:PORT" into host (NULL: every address) and port.
 * False with a reason in err. */
bool listen_addr_parse(const char *text, char *host, size_t hostlen, int *port, char *err, size_t errlen);
/* The socket for host:port, shared with any declaration that uses it already in the
 * same mode (handed over, or proxied), else bound now (SO_REUSEADDR, backlog 511).
 * NULL with the reason in err. */
struct listener *listener_get(const char *host, int port, bool proxy, char *err, size_t errlen);
struct listener *listener_ref(struct listener *l);
/* The socket an app's process asked for as it ran (node's listen() in cluster mode):
 * host:port (no host: every address, IPv6 and IPv4, as node does) or a unix path. The
 * app holds it until its last instance is deleted (listeners_drop_app), so it stays
 * open across restarts and reloads; apps asking for the same address share it. NULL
 * with errno in *err_no and a reason in err. */
struct listener *listener_for_app(const char *app, const char *host, int port, const char *path,
                                  int *err_no, char *err, size_t errlen);
void listeners_drop_app(const char *app);
void listener_unref(struct listener *l);

/* Handed across exec (tend update): every listener, its fd kept open by keep(). The new
 * daemon takes them back first, then its apps bind (and so share) them, then the
 * restore's own references go (listeners_restored). */
struct jdoc;
void listeners_save(struct buf *b, int (*keep)(int fd));
void listeners_restore(const struct jdoc *d, int arr);
void listeners_restore_owned(const struct jdoc *d, int arr);
void listeners_restored(void);

#endif
