#include "daemon/listener.h"
#include "lib/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { BACKLOG = 511 };

struct listener **listeners;
int nlisteners;

bool listen_addr_parse(const char *text, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
	const char *p = text;
	host[0] = 0;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close || close[1] != ':' || (size_t)(close - p - 1) >= hostlen) {
			snprintf(err, errlen, "expected [IPV6]:PORT, got \"%s\"", text);
			return false;
		}
		snprintf(host, hostlen, "%.*s", (int)(close - p - 1), p + 1);
		p = close + 2;
	} else if (strchr(p, ':')) {
		const char *colon = strrchr(p, ':');
		if ((size_t)(colon - p) >= hostlen) {
			snprintf(err, errlen, "host too long in \"%s\"", text);
			return false;
		}
		snprintf(host, hostlen, "%.*s", (int)(colon - p), p);
		p = colon + 1;
	}
	long long n;
	if (!parse_int(p, 1, 65535, &n)) {
		snprintf(err, errlen, "expected a port from 1 to 65535 in \"%s\"", text);
		return false;
	}
	/* Numeric addresses only (the daemon never waits on a resolver), checked here so
	 * that a bad one is an error even where nothing binds it (fork mode). */
	unsigned char addr[16];
	if (host[0] && strcmp(host, "*") && strcmp(host, "localhost") &&
	    inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1) {
		snprintf(err, errlen, "not a numeric address: %s (use an IPv4 or IPv6 address, or "
		         "localhost)", host);
		return false;
	}
	*port = (int)n;
	return true;
}

/* Numeric addresses only: the daemon never waits on a resolver. "localhost" is the
 * one name taken, as 127.0.0.1. */
static int make_socket(const char *host, int port, bool nonblock, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (!host || !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "*")) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (!strcmp(host, "localhost")) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		snprintf(err, errlen, "not a numeric address: %s", host);
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		v4->sin_port = htons((uint16_t)port);
		len = sizeof *v4;
	} else {
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof *v6;
	}
	/* Handed over, it stays blocking: its file status flags are the apps' too. */
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);   /* "::" takes IPv4 too */
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, BACKLOG) < 0) {
		snprintf(err, errlen, "%s:%d: %s", host && *host ? host : "0.0.0.0", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A unix stream socket at path; an old socket file nobody listens on is replaced. */
static int make_unix_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		struct stat st;
		if (!alive && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		errno = EADDRINUSE;
	}
	if ((errno == EADDRINUSE && bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) || listen(fd, BACKLOG) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct listener *add_listener(char *addr, int fd, int port, bool proxy)
{
	struct listener *l = xcalloc(1, sizeof *l);
	l->addr = addr;
	l->fd = fd;
	l->port = port;
	l->refs = 1;
	l->proxy = proxy;
	listeners = xrealloc(listeners, (size_t)(nlisteners + 1) * sizeof *listeners);
	listeners[nlisteners++] = l;
	return l;
}

struct listener *listener_get(const char *host, int port, bool proxy, char *err, size_t errlen)
{
	char *addr = strchr(host ? host : "", ':') ? xasprintf("[%s]:%d", host, port)
	             : xasprintf("%s:%d", host && *host ? host : "0.0.0.0", port);
	for (int i = 0; i < nlisteners; i++)
		if (!strcmp(listeners[i]->addr, addr)) {
			bool same = listeners[i]->proxy == proxy;
			if (!same)
				snprintf(err, errlen, "%s is already used by an app whose lb is \"%s\"", addr,
				         proxy ? "fd" : "proxy");
			free(addr);
			return same ? listener_ref(listeners[i]) : NULL;
		}
	int fd = make_socket(host, port, proxy, err, errlen);
	if (fd < 0) {
		free(addr);
		return NULL;
	}
	return add_listener(addr, fd, port, proxy);
}

/* ---- sockets an app asked for as it ran (cluster mode: listen() in node) ---------- */

struct owned {
	char *app;
	struct listener *l;
};
static struct owned *owned;
static int nowned;

static void own(const char *app, struct listener *l)
{
	owned = xrealloc(owned, (size_t)(nowned + 1) * sizeof *owned);
	owned[nowned++] = (struct owned){xstrdup(app), l};
}

struct listener *listener_for_app(const char *app, const char *host, int port, const char *path,
                                  int *err_no, char *err, size_t errlen)
{
	/* node listens on every address, IPv6 and IPv4, when it is given no host. */
	const char *h = path ? NULL : host && *host ? host : "::";
	char *addr = path ? xasprintf("unix:%s", path) : strchr(h, ':') ? xasprintf("[%s]:%d", h, port)
	             : xasprintf("%s:%d", h, port);
	struct listener *l = NULL;
	for (int i = 0; i < nlisteners && !l; i++)
		if (!strcmp(listeners[i]->addr, addr))
			l = listeners[i];
	bool mine = false;
	for (int i = 0; l && i < nowned && !mine; i++)
		mine = owned[i].l == l && !strcmp(owned[i].app, app);
	/* Node accepts on a socket it did not open itself without making it non-blocking:
	 * a blocking one (a declared port's, handed over as fd 3 to apps that may want it
	 * so) would hang an instance in accept() whenever another took the connection. */
	bool blocking = l && !(fcntl(l->fd, F_GETFL) & O_NONBLOCK);
	if (l && (l->proxy || blocking)) {
		snprintf(err, errlen, "%s is the socket of an app's declared port (%s)", addr,
		         l->proxy ? "lb proxy" : "--port");
		*err_no = EADDRINUSE;
		l = NULL;
	} else if (l && !mine) {
		own(app, listener_ref(l));   /* another app's: shared, as node's cluster does */
	} else if (!l) {
		errno = 0;
		int fd = path ? make_unix_socket(path, err, errlen) : make_socket(h, port, true, err, errlen);
		if (fd < 0 && !path && !host && errno == EAFNOSUPPORT)   /* no IPv6 here */
			fd = make_socket(NULL, port, true, err, errlen);
		*err_no = errno ? errno : EADDRNOTAVAIL;
		if (fd >= 0) {
			l = add_listener(addr, fd, port, false);
			addr = NULL;
			own(app, l);
		}
	}
	free(addr);
	return l;
}

void listeners_drop_app(const char *app)
{
	for (int i = nowned - 1; i >= 0; i--) {
		if (strcmp(owned[i].app, app) != 0)
			continue;
		struct listener *l = owned[i].l;
		if (l->refs == 1 && !strncmp(l->addr, "unix:", 5))
			unlink(l->addr + 5);   /* its socket file goes with it */
		free(owned[i].app);
		owned[i] = owned[--nowned];
		listener_unref(l);
	}
	if (!nowned) {
		free(owned);
		owned = NULL;
	}
}

struct listener *listener_ref(struct listener *l)
{
	if (l)
		l->refs++;
	return l;
}

void listener_unref(struct listener *l)
{
	if (!l || --l->refs > 0)
		return;
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i] == l)
			listeners[i] = listeners[--nlisteners];
	close(l->fd);
	free(l->addr);
	free(l);
	if (!nlisteners) {
		free(listeners);
		listeners = NULL;
	}
}

void listeners_save(struct buf *b, int (*keep)(int fd))
{
	json_key(b, "listeners");
	json_open(b, '[');
	for (int i = 0; i < nlisteners; i++) {
		const struct listener *l = listeners[i];
		json_open(b, '{');
		json_kstr(b, "addr", l->addr);
		json_kint(b, "fd", keep(l->fd));
		json_kint(b, "port", l->port);
		json_kbool(b, "proxy", l->proxy);
		json_kint(b, "next", l->next);
		json_kint(b, "total", l->total);
		json_close(b, '}');
	}
	json_close(b, ']');
	json_key(b, "owned_listeners");
	json_open(b, '[');
	for (int i = 0; i < nowned; i++) {
		json_open(b, '{');
		json_kstr(b, "app", owned[i].app);
		json_kstr(b, "addr", owned[i].l->addr);
		json_close(b, '}');
	}
	json_close(b, ']');
}

void listeners_restore(const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		long long fd = -1, port = 0, next = 0, total = 0;
		bool proxy = false;
		char *addr = json_dup(d, json_get(d, o, "addr"));
		json_as_ll(d, json_get(d, o, "fd"), &fd);
		json_as_ll(d, json_get(d, o, "port"), &port);
		json_as_ll(d, json_get(d, o, "next"), &next);
		json_as_ll(d, json_get(d, o, "total"), &total);
		json_as_bool(d, json_get(d, o, "proxy"), &proxy);
		if (!addr || fd < 0) {
			free(addr);
			continue;
		}
		/* refs 1: the restore's own, dropped once the apps hold theirs */
		struct listener *l = add_listener(addr, (int)fd, (int)port, proxy);
		l->next = (unsigned)next;
		l->total = total;
	}
}

void listeners_restore_owned(const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		char *app = json_dup(d, json_get(d, o, "app"));
		char *addr = json_dup(d, json_get(d, o, "addr"));
		for (int k = 0; app && addr && k < nlisteners; k++)
			if (!strcmp(listeners[k]->addr, addr)) {
				own(app, listener_ref(listeners[k]));
				break;
			}
		free(app);
		free(addr);
	}
}

void listeners_restored(void)
{
	for (int i = nlisteners - 1; i >= 0; i--)
		listener_unref(listeners[i]);
}
