#include "daemon/proxy.h"
#include "daemon/listener.h"
#include "daemon/reload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	PROBE_EVERY_MS = 20,
	MAX_TRIES = 8,          /* instances tried for one connection */
	ACCEPTS_PER_WAKE = 64,
	READS_PER_WAKE = 4,
	PAUSE_MS = 100,         /* after accept ran out of fds */
	WAIT_EVERY_MS = 20,     /* a connection waiting for an instance looks again */
	WAIT_MAX_MS = 10000,    /* then gives up */
};

/* One forwarded connection: side 0 is the client, side 1 the app's process. */
struct conn {
	int fd[2];
	struct buf pending[2];   /* bytes waiting to be written to fd[i] */
	bool eof[2];             /* fd[i] will send nothing more */
	bool shut[2];            /* fd[i] was told so (shutdown SHUT_WR) */
	bool connecting;         /* fd[1] is connecting */
	bool waiting;            /* no instance was ready: fd[1] not open yet */
	int64_t accepted_at;
	int tries;
	struct listener *l;      /* a reference: the public socket it came in on */
};

static struct conn **conns;
static int nconns;
static int nwaiting;         /* connections waiting for an instance */
static bool conns_closed;    /* some are closed: compact the array */

/* What each polled fd is, in fill order. */
struct slot {
	struct listener *l;      /* a public socket, or NULL */
	struct conn *c;
	int side;
};
static struct slot *slots;
static size_t nslots_cap;

static char io[65536];

/* ---- ports and probes ------------------------------------------------------------ */

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* The kernel's choice of a free port on every address, let go at once for the app
 * to bind. A fresh one for every process: during a reload the old process still
 * holds its own. */
int proxy_free_port(char *err, size_t errlen)
{
	int port = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	else
		snprintf(err, errlen, "no free port for the proxy: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return port;
}

void proxy_forget(struct proc *p)
{
	close_fd(&p->run.proxy.probe_fd);
	p->run.proxy.probe_at = 0;
}

void proxy_spawned(struct proc *p, bool launching)
{
	proxy_forget(p);
	if (p->spec->proxy && launching && !p->spec->wait_ready)
		p->run.proxy.probe_at = mono_ms() + PROBE_EVERY_MS;
}

/* Is a connect to p's port through? True once it is: the app listens. */
static bool probe_answered(struct proc *p)
{
	if (p->run.proxy.probe_fd >= 0) {
		struct pollfd pf = {.fd = p->run.proxy.probe_fd, .events = POLLOUT};
		int err = 0;
		socklen_t len = sizeof err;
		if (poll(&pf, 1, 0) == 0)
			return false;   /* still connecting: look again next time */
		getsockopt(p->run.proxy.probe_fd, SOL_SOCKET, SO_ERROR, &err, &len);
		close_fd(&p->run.proxy.probe_fd);
		return err == 0;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa = loopback(p->run.proxy.port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(fd);
		return true;
	}
	if (errno == EINPROGRESS)
		p->run.proxy.probe_fd = fd;
	else
		close(fd);
	return false;
}

void proxy_probe(struct proc *p, int64_t now)
{
	if (p->state != ST_LAUNCHING || p->run.pid <= 0)
		proxy_forget(p);
	else if (probe_answered(p))
		proc_event(p, EV_READY);   /* which ends the probing */
	else
		p->run.proxy.probe_at = now + PROBE_EVERY_MS;
}

int64_t proxy_next_deadline(void)
{
	int64_t next = 0;
	for (int i = 0; i < nlisteners; i++) {
		int64_t d = listeners[i]->paused_until;
		if (d && (!next || d < next))
			next = d;
	}
	if (nwaiting) {
		int64_t d = mono_ms() + WAIT_EVERY_MS;
		if (!next || d < next)
			next = d;
	}
	return next;
}

void proxy_fire_timers(int64_t now)
{
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i]->paused_until && listeners[i]->paused_until <= now)
			listeners[i]->paused_until = 0;
}

/* ---- choosing a process ---------------------------------------------------------- */

/* The ports that take connections: each ready instance's process, and an old process
 * a reload has not yet begun to stop. k >= 0: the k-th of them (0 if none); k < 0:
 * how many there are. */
static int serving(const struct listener *l, int k)
{
	int n = 0;
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->spec->listener != l)
			continue;
		struct process *prs[2];
		for (int j = 0, np = proc_processes(p, prs); j < np; j++) {
			const struct process *pr = prs[j];
			bool up = pr == &p->run ? p->state == ST_ONLINE : !pr->stopping;
			if (!up || !pr->proxy.port || pr->pid <= 0)
				continue;
			if (n++ == k)
				return pr->proxy.port;
		}
	}
	return k < 0 ? n : 0;
}

static int next_port(struct listener *l)
{
	int n = serving(l, -1);
	return n ? serving(l, (int)(l->next++ % (unsigned)n)) : 0;
}

/* ---- connections ----------------------------------------------------------------- */

static void conn_wait(struct conn *c, bool on)
{
	if (on != c->waiting)
		nwaiting += on ? 1 : -1;
	c->waiting = on;
}

static void conn_close(struct conn *c, bool reset)
{
	conn_wait(c, false);
	for (int s = 0; s < 2; s++) {
		if (c->fd[s] < 0)
			continue;
		if (reset && s == 0) {
			/* The app's side broke: the client should see that, not a clean end. */
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(c->fd[s], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		close_fd(&c->fd[s]);
		buf_free(&c->pending[s]);
	}
	if (c->l) {
		c->l->open--;
		listener_unref(c->l);
		c->l = NULL;
	}
	conns_closed = true;
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Connect side 1 to the next instance; on failure try the others. With none ready (all
 * restarting), or every one refusing (an app that took longer than listen_timeout to
 * listen), wait and try again, up to WAIT_MAX_MS after the client came; then give up. */
static void conn_connect(struct conn *c)
{
	if (c->tries >= MAX_TRIES && mono_ms() - c->accepted_at < WAIT_MAX_MS) {
		c->tries = 0;
		conn_wait(c, true);
		return;
	}
	while (c->tries++ < MAX_TRIES) {
		int port = next_port(c->l);
		if (!port) {
			if (mono_ms() - c->accepted_at < WAIT_MAX_MS) {
				c->tries = 0;
				conn_wait(c, true);
				return;
			}
			break;
		}
		conn_wait(c, false);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		nodelay(fd);
		struct sockaddr_in sa = loopback(port);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno == EINPROGRESS) {
			c->fd[1] = fd;
			c->connecting = true;
			return;
		}
		close(fd);
	}
	if (mono_ms() - c->accepted_at < WAIT_MAX_MS) {
		c->tries = 0;
		conn_wait(c, true);
		return;
	}
	conn_close(c, true);
}

static void conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		close_fd(&c->fd[1]);
		conn_connect(c);
		return;
	}
	c->connecting = false;
}

/* fd[to] was told everything once from has ended and nothing waits for it. */
static void maybe_shut(struct conn *c, int to)
{
	int from = !to;
	if (c->eof[from] && !c->pending[to].len && !c->shut[to]) {
		shutdown(c->fd[to], SHUT_WR);
		c->shut[to] = true;
	}
	if (c->shut[0] && c->shut[1])
		conn_close(c, false);
}

/* Write what waits for fd[to]; false if that side broke. */
static bool conn_flush(struct conn *c, int to)
{
	struct buf *b = &c->pending[to];
	while (b->len) {
		ssize_t w = send(c->fd[to], b->data, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (w < 0)
			return false;
		buf_consume(b, (size_t)w);
	}
	buf_free(b);   /* the usual case holds nothing between wake-ups */
	maybe_shut(c, to);
	return true;
}

/* Move what fd[from] has to fd[to], keeping what fd[to] cannot take yet (and then
 * reading no more from fd[from] until it could). False if a side broke. */
static bool conn_pump(struct conn *c, int from)
{
	int to = !from;
	for (int round = 0; round < READS_PER_WAKE && !c->eof[from] && !c->pending[to].len; round++) {
		ssize_t n = recv(c->fd[from], io, sizeof io, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return false;
		if (n == 0) {
			c->eof[from] = true;
			break;
		}
		ssize_t w = send(c->fd[to], io, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return false;
		if (w < 0)
			w = 0;
		if (w < n)
			buf_add(&c->pending[to], io + w, (size_t)(n - w));
		if ((size_t)n < sizeof io)
			break;   /* drained: the next recv would say EAGAIN */
	}
	maybe_shut(c, to);
	return true;
}

/* How many connections the fd limit allows, keeping room for apps and clients. */
static int max_conns(void)
{
	static int max;
	if (!max) {
		struct rlimit rl;
		long long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long long)rl.rlim_cur : 1 << 20;
		lim = (lim - 1024) / 2;
		max = lim < 64 ? 64 : lim > 500000 ? 500000 : (int)lim;
	}
	return max;
}

static void accept_conns(struct listener *l)
{
	/* Polled while an instance was ready, but a request earlier in this pass may have
	 * stopped them all: then the connections wait in the backlog. */
	if (!serving(l, -1))
		return;
	for (int i = 0; i < ACCEPTS_PER_WAKE && nconns < max_conns(); i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				dlog("proxy %s: accept: %s (paused for %d ms)", l->addr, strerror(errno), PAUSE_MS);
				l->paused_until = mono_ms() + PAUSE_MS;
			}
			return;
		}
		nodelay(fd);
		struct conn *c = xcalloc(1, sizeof *c);
		c->fd[0] = fd;
		c->fd[1] = -1;
		c->l = listener_ref(l);
		c->accepted_at = mono_ms();
		l->open++;
		l->total++;
		conns = xrealloc(conns, (size_t)(nconns + 1) * sizeof *conns);
		conns[nconns++] = c;
		conn_connect(c);
	}
}

static void collect_closed(void)
{
	if (!conns_closed)
		return;
	int k = 0;
	for (int i = 0; i < nconns; i++) {
		if (conns[i]->fd[0] >= 0)
			conns[k++] = conns[i];
		else
			free(conns[i]);
	}
	nconns = k;
	conns_closed = false;
}

/* ---- the loop's part ------------------------------------------------------------- */

/* A request handled earlier in the pass may have dropped a listener (an app that took
 * a declaration with another address): is l still the one polled on fd? */
static bool listener_is(const struct listener *l, int fd)
{
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i] == l)
			return l->fd == fd;
	return false;
}

size_t proxy_poll_max(void)
{
	return (size_t)nlisteners + 2 * (size_t)nconns;
}

static void add_slot(struct pollfd *fds, size_t *n, int fd, short events, struct slot s)
{
	fds[*n] = (struct pollfd){.fd = fd, .events = events};
	slots[(*n)++] = s;
}

size_t proxy_poll_fill(struct pollfd *fds, int64_t now)
{
	collect_closed();
	size_t max = proxy_poll_max();
	if (max > nslots_cap) {
		nslots_cap = max * 2;
		slots = xrealloc(slots, nslots_cap * sizeof *slots);
	}
	size_t n = 0;
	bool room = nconns < max_conns();
	for (int i = 0; i < nlisteners; i++) {
		struct listener *l = listeners[i];
		/* With no instance ready, connections wait in the kernel's backlog. */
		if (l->proxy && room && (!l->paused_until || l->paused_until <= now) && serving(l, -1))
			add_slot(fds, &n, l->fd, POLLIN, (struct slot){l, NULL, 0});
	}
	for (int i = 0; i < nconns; i++) {
		struct conn *c = conns[i];
		if (c->waiting)
			conn_connect(c);   /* an instance may be ready now */
		if (c->fd[0] < 0 || c->waiting)
			continue;
		if (c->connecting) {
			add_slot(fds, &n, c->fd[1], POLLOUT, (struct slot){NULL, c, 1});
			continue;
		}
		for (int s = 0; s < 2; s++) {
			short ev = 0;
			if (!c->eof[s] && !c->pending[!s].len)
				ev |= POLLIN;
			if (c->pending[s].len)
				ev |= POLLOUT;
			if (ev)
				add_slot(fds, &n, c->fd[s], ev, (struct slot){NULL, c, s});
		}
	}
	return n;
}

void proxy_poll_handle(struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		short ev = fds[i].revents;
		struct slot *s = &slots[i];
		if (!ev)
			continue;
		if (s->l) {
			if (listener_is(s->l, fds[i].fd))
				accept_conns(s->l);
			continue;
		}
		struct conn *c = s->c;
		if (c->fd[s->side] != fds[i].fd)
			continue;   /* closed, or reconnected, earlier in this pass */
		if (c->connecting) {
			conn_connected(c);
			if (c->fd[0] >= 0 && !c->connecting && !conn_pump(c, 0))
				conn_close(c, true);
			continue;
		}
		bool ok = true;
		if (ev & POLLOUT)
			ok = conn_flush(c, s->side);
		if (ok && c->fd[0] >= 0 && (ev & (POLLIN | POLLHUP | POLLERR)))
			ok = conn_pump(c, s->side);
		if (!ok)
			conn_close(c, true);
	}
}

void proxy_teardown(void)
{
	for (int i = 0; i < nconns; i++)
		if (conns[i]->fd[0] >= 0)
			conn_close(conns[i], false);
	conns_closed = true;
	collect_closed();
	free(conns);
	conns = NULL;
	free(slots);
	slots = NULL;
	nslots_cap = 0;
}

/* ---- tend update: connections handed across exec ---------------------------------- */

void proxy_save(struct buf *b, int (*keep)(int fd))
{
	collect_closed();
	json_key(b, "conns");
	json_open(b, '[');
	for (int i = 0; i < nconns; i++) {
		const struct conn *c = conns[i];
		json_open(b, '{');
		json_kstr(b, "listener", c->l ? c->l->addr : NULL);
		for (int side = 0; side < 2; side++) {
			json_kint(b, side ? "fd1" : "fd0", c->fd[side] >= 0 ? keep(c->fd[side]) : -1);
			json_khex(b, side ? "pending1" : "pending0", c->pending[side].data, c->pending[side].len);
			json_kint(b, side ? "flags1" : "flags0", c->eof[side] | c->shut[side] << 1);
		}
		json_kbool(b, "connecting", c->connecting);
		json_kbool(b, "waiting", c->waiting);
		json_kint(b, "accepted_at", c->accepted_at);
		json_kint(b, "tries", c->tries);
		json_close(b, '}');
	}
	json_close(b, ']');
}

void proxy_restore(const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		char *addr = json_dup(d, json_get(d, o, "listener"));
		struct listener *l = NULL;
		for (int k = 0; addr && k < nlisteners && !l; k++)
			if (!strcmp(listeners[k]->addr, addr))
				l = listeners[k];
		free(addr);
		struct conn *c = xcalloc(1, sizeof *c);
		long long v;
		for (int side = 0; side < 2; side++) {
			c->fd[side] = json_as_ll(d, json_get(d, o, side ? "fd1" : "fd0"), &v) ? (int)v : -1;
			json_hex(d, json_get(d, o, side ? "pending1" : "pending0"), &c->pending[side]);
			v = 0;
			json_as_ll(d, json_get(d, o, side ? "flags1" : "flags0"), &v);
			c->eof[side] = v & 1;
			c->shut[side] = v & 2;
		}
		json_as_bool(d, json_get(d, o, "connecting"), &c->connecting);
		bool waiting = false;
		json_as_bool(d, json_get(d, o, "waiting"), &waiting);
		if (json_as_ll(d, json_get(d, o, "accepted_at"), &v))
			c->accepted_at = v;
		if (json_as_ll(d, json_get(d, o, "tries"), &v))
			c->tries = (int)v;
		conns = xrealloc(conns, (size_t)(nconns + 1) * sizeof *conns);
		conns[nconns++] = c;
		if (!l || c->fd[0] < 0) {   /* nothing to forward it to: let it go */
			conn_close(c, true);
			continue;
		}
		c->l = listener_ref(l);
		l->open++;
		conn_wait(c, waiting);
	}
}

/* ---- the loop: the proxy's sockets, handled as one block, and its timers ---------- */

static size_t proxy_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	size_t n = proxy_poll_fill(fds, now);
	for (size_t i = 0; i < n; i++)
		tags[i] = NULL;
	return n;
}

const struct loop_source proxy_source = {
	.name = "proxy", .fill = proxy_fill, .most = proxy_poll_max, .ready_all = proxy_poll_handle,
	.next_deadline = proxy_next_deadline, .fire = proxy_fire_timers,
};
