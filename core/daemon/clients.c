#include "daemon/clients.h"
#include "daemon/events.h"
#include "daemon/logstream.h"
#include "daemon/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	INPUT_AHEAD = 64 << 10,      /* requests read ahead of the one running */
	OUT_SOFT = 1 << 20,          /* unsent: the client's next request waits */
	OUT_GLOBAL = 64 << 20,       /* unsent by all: clients behind on replies wait */
	MAX_PENDING_OUT = 64 << 20,  /* one client not reading at all: disconnected */
	REQUESTS_PER_PASS = 16,
	PASS_BUDGET_MS = 20,         /* requests of all clients in one pass, then timers and I/O */
	READS_PER_PASS = 4,
	REFUSED_LOG_EVERY_MS = 60000,
};

struct client **clients;
int nclients;
static size_t total_out;        /* unsent bytes of every client */
static int reserve_fd = -1;

size_t client_queued(const struct client *c) { return c->out.len - c->out_off; }

static void out_reset(struct client *c)
{
	total_out -= client_queued(c);
	c->out_off = 0;
	if (c->out.cap > 1 << 20)
		buf_free(&c->out);   /* a big reply does not keep its buffer */
	else
		buf_reset(&c->out);
}

/* Drop n sent bytes from the front: an offset, and a move only when most of the buffer
 * is dead (each byte moves at most once: linear, however the sends split). */
static void out_consume(struct client *c, size_t n)
{
	c->out_off += n;
	total_out -= n;
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->out.cap > 1 << 20)
			buf_free(&c->out);
	} else if (c->out_off > c->out.len / 2) {
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
}

static void out_add(struct client *c, const char *p, size_t n)
{
	buf_add(&c->out, p, n);
	total_out += n;
}

void client_drop_output(struct client *c)
{
	out_reset(c);
	c->closing = true;
}

/* The client went away: nothing it asked for can be answered. */
static void client_gone(struct client *c)
{
	out_reset(c);
	buf_free(&c->in);
	c->in_off = c->in_scan = 0;
	c->closing = true;
}

/* Send what the socket takes of p[0..n); the count sent, or -1 when the client went
 * away. */
static ssize_t client_write(struct client *c, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = send(c->fd, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			client_gone(c);
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static void client_flush(struct client *c)
{
	if (c->fd < 0) {
		out_reset(c);
		return;
	}
	if (!client_queued(c))
		return;
	ssize_t w = client_write(c, c->out.data + c->out_off, client_queued(c));
	if (w > 0)
		out_consume(c, (size_t)w);
}

void client_send(struct client *c, const char *p, size_t n)
{
	if (c->fd < 0) {
		/* The foreground daemon's own request: only errors matter, to its log; its
		 * final line ({"ok":...}) says it is carried out. */
		bool failed = n > 11 && memcmp(p, "{\"ok\":false", 11) == 0;
		if (failed)
			dlog("%.*s", (int)(n && p[n - 1] == '\n' ? n - 1 : n), p);
		if (failed || (n > 10 && memcmp(p, "{\"ok\":true", 10) == 0))
			daemon_initial_done(!failed);
		return;
	}
	if (client_queued(c) + n > MAX_PENDING_OUT) {
		dlog("client not reading its replies (%zu bytes waiting): disconnected", client_queued(c));
		client_gone(c);
		return;
	}
	if (client_queued(c)) {   /* behind what is queued */
		out_add(c, p, n);
		client_flush(c);
		return;
	}
	/* Nothing queued: send straight from the caller's buffer and keep only the rest
	 * (a big reply, like jlist of a thousand apps, is not copied first). */
	ssize_t w = client_write(c, p, n);
	if (w >= 0 && (size_t)w < n)
		out_add(c, p + w, n - (size_t)w);
}

struct client *client_add(int fd)
{
	struct client *c = xcalloc(1, sizeof *c);
	c->fd = fd;
	clients = xrealloc(clients, (size_t)(nclients + 1) * sizeof *clients);
	clients[nclients++] = c;
	return c;
}

static void client_close(int i)
{
	struct client *c = clients[i];
	if (c->fd >= 0)
		close(c->fd);
	ctl_client_free(c);
	out_reset(c);
	buf_free(&c->in);
	buf_free(&c->out);
	daemon_client_gone(c);
	free(c);
	clients[i] = clients[--nclients];
	if (!nclients) {
		free(clients);
		clients = NULL;
	}
}

void clients_close_all(void)
{
	while (nclients > 0)
		client_close(nclients - 1);
}

/* ---- accepting ---------------------------------------------------------------- */

void clients_reserve_fd(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Out of fds: the reserve makes room for one accept, so the client hears why instead
 * of hanging in the backlog while the listener stays readable and the loop spins. */
static void refuse_one(int listen_fd)
{
	static int64_t logged_at;
	static long refused;
	if (reserve_fd < 0)
		return;
	close(reserve_fd);
	reserve_fd = -1;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		static const char msg[] = "{\"ok\":false,\"error\":\"the daemon is out of file "
			"descriptors (see its log); try again later\",\"code\":1}\n";
		(void)!send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		refused++;
	}
	clients_reserve_fd();
	int64_t now = mono_ms();
	if (!logged_at || now - logged_at >= REFUSED_LOG_EVERY_MS) {
		dlog("out of file descriptors: refused %ld connection(s) (raise the fd limit, "
		     "or fewer apps and connections)", refused);
		logged_at = now;
		refused = 0;
	}
}

void clients_accept(int listen_fd)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				refuse_one(listen_fd);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				dlog("accept: %s", strerror(errno));
			return;
		}
		struct ucred cred;
		socklen_t len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != geteuid() && cred.uid != 0)) {
			dlog("refused a connection from uid %d", (int)cred.uid);
			close(fd);
			continue;
		}
		if (nclients >= MAX_CLIENTS) {
			static const char msg[] = "{\"ok\":false,\"error\":\"too many connections to "
				"the daemon; try again later\",\"code\":1}\n";
			dlog("too many connections (%d): refused one", nclients);
			(void)!send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		/* Fewer, larger writes for big replies (jlist of a thousand apps): each
		 * pass of the loop polls every app pipe. */
		int sndbuf = 1 << 22;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
		client_add(fd);
	}
}

/* ---- requests ----------------------------------------------------------------- */

static size_t in_pending(const struct client *c) { return c->in.len - c->in_off; }

/* Is a complete request line waiting? Scans only what arrived since the last look. */
static char *next_line(struct client *c)
{
	if (c->in_scan < c->in_off)
		c->in_scan = c->in_off;
	char *nl = memchr(c->in.data + c->in_scan, '\n', c->in.len - c->in_scan);
	if (!nl)
		c->in_scan = c->in.len;
	return nl;
}

/* A client behind on its replies waits; past OUT_GLOBAL for all of them, every client
 * with anything unsent waits, but one that reads its replies is never held up by the
 * others. */
static bool may_run(struct client *c)
{
	size_t queued = client_queued(c);
	return c->wait.kind == WAIT_NONE && in_pending(c) && queued < OUT_SOFT &&
	       (total_out < OUT_GLOBAL || queued == 0) && next_line(c);
}

short client_events(struct client *c)
{
	short ev = client_queued(c) ? POLLOUT : 0;
	if (c->closing)
		return ev;
	/* Read ahead a little; more only to complete a long request line. */
	size_t pending = in_pending(c);
	bool partial = !pending || !next_line(c);   /* no complete line in what is held */
	if (pending < INPUT_AHEAD || (partial && pending <= PROTOCOL_MAX_REQUEST))
		ev |= POLLIN;
	return ev;
}

static void compact_input(struct client *c)
{
	if (c->in_off == c->in.len) {
		c->in.len = c->in_off = c->in_scan = 0;
		if (c->in.cap > 1 << 20)
			buf_free(&c->in);
	} else if (c->in_off > c->in.len / 2) {
		memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_scan = c->in_scan > c->in_off ? c->in_scan - c->in_off : 0;
		c->in_off = 0;
	}
	if (c->in.data)
		c->in.data[c->in.len] = 0;
}

static void client_read(struct client *c)
{
	for (int round = 0; round < READS_PER_PASS; round++) {
		compact_input(c);
		/* Small first: most requests are a line of JSON; a start grows it. */
		buf_grow(&c->in, c->in.len < 4096 ? 4096 : 65536);
		ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* EOF: finish what was asked (a stop still completes), then close. */
			c->closing = true;
			break;
		}
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = 0;
		if (!(client_events(c) & POLLIN))
			break;
	}
}

/* Send what the socket takes, and tell its subscriptions (a {"missed"} notice). */
static void client_flush_sent(struct client *c)
{
	client_flush(c);
	if (c->fd >= 0)
		ctl_client_sent(c);
}

void client_ready(struct client *c, short revents)
{
	if (revents & POLLOUT)
		client_flush_sent(c);
	if (revents & POLLIN)
		client_read(c);
	else if (revents & (POLLHUP | POLLERR))
		client_gone(c);   /* hung up while we were not reading: nobody to answer */
}

/* Run up to REQUESTS_PER_PASS complete requests; one at a time while a wait is
 * pending. */
static void client_process(struct client *c)
{
	for (int k = 0; k < REQUESTS_PER_PASS && may_run(c); k++) {
		char *line = c->in.data + c->in_off;
		char *nl = next_line(c);
		size_t len = (size_t)(nl - line);
		c->in_off += len + 1;
		if (len > PROTOCOL_MAX_REQUEST) {
			dlog("request longer than %d bytes: refused", PROTOCOL_MAX_REQUEST);
			reply_error(c, 2, "request too long (more than %d bytes)", PROTOCOL_MAX_REQUEST);
			continue;
		}
		ctl_request(c, line, len);
	}
	if (c->wait.kind == WAIT_NONE && in_pending(c) > PROTOCOL_MAX_REQUEST && !next_line(c)) {
		dlog("request longer than %d bytes: connection closed", PROTOCOL_MAX_REQUEST);
		reply_error(c, 2, "request too long (more than %d bytes)", PROTOCOL_MAX_REQUEST);
		c->in_off = c->in.len;
		c->closing = true;
	}
	compact_input(c);
}

/* Requests are served client by client, from a different one each pass, until the
 * pass's budget is spent: sixty clients with a queue of lists each cannot make a
 * ping (or a timer) wait for all of theirs. */
static bool serve_requests(void)
{
	static int first;
	int64_t start = mono_ms();
	int n = nclients, served = 0;
	bool cut = false;
	for (int k = 0; k < n && nclients == n; k++) {
		struct client *c = clients[(first + k) % n];
		if (c->wait.kind != WAIT_NONE)
			ctl_check_wait(c);
		if (cut)
			continue;   /* past the budget: only their waits are looked at */
		if (c->wait.kind == WAIT_NONE && in_pending(c))
			client_process(c);
		served = k + 1;
		cut = mono_ms() - start >= PASS_BUDGET_MS;
	}
	first = n ? (first + (cut ? served : 1)) % n : 0;
	return cut;
}

bool clients_run(void)
{
	bool more = serve_requests();
	for (int i = nclients - 1; i >= 0; i--) {
		struct client *c = clients[i];
		if (c->fd >= 0)
			client_flush_sent(c);
		bool idle = c->wait.kind == WAIT_NONE && !(in_pending(c) && next_line(c));
		if ((c->closing || c->fd < 0) && idle && (!client_queued(c) || c->fd < 0))
			client_close(i);
		else
			more |= may_run(c);
	}
	return more;
}

/* ---- tend update: connections handed across exec ---------------------------------- */

bool clients_busy(const struct client *updater, char *why, size_t whylen)
{
	for (int i = 0; i < nclients; i++)
		if (clients[i] != updater && clients[i]->wait.kind != WAIT_NONE) {
			snprintf(why, whylen, "another command is still being carried out (a stop, start, "
			         "restart or reload waits to finish)");
			return true;
		}
	return false;
}

void clients_save(struct buf *b, const struct client *updater, int (*keep)(int fd))
{
	json_key(b, "clients");
	json_open(b, '[');
	for (int i = 0; i < nclients; i++) {
		const struct client *c = clients[i];
		if (c->fd < 0)
			continue;
		json_open(b, '{');
		json_kint(b, "fd", keep(c->fd));
		json_kbool(b, "updater", c == updater);
		json_kbool(b, "closing", c->closing);
		json_khex(b, "in", c->in.data + c->in_off, c->in.len - c->in_off);
		json_khex(b, "out", c->out.data + c->out_off, client_queued(c));
		logstream_save(b, c);
		events_save(b, c);
		json_close(b, '}');
	}
	json_close(b, ']');
}

struct client *clients_restore(const struct jdoc *d, int arr)
{
	struct client *updater = NULL;
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		long long fd = -1;
		if (!json_as_ll(d, json_get(d, o, "fd"), &fd) || fd < 0)
			continue;
		struct client *c = client_add((int)fd);
		bool is_updater = false;
		json_as_bool(d, json_get(d, o, "updater"), &is_updater);
		json_as_bool(d, json_get(d, o, "closing"), &c->closing);
		json_hex(d, json_get(d, o, "in"), &c->in);
		struct buf out = {0};
		json_hex(d, json_get(d, o, "out"), &out);
		if (out.len)
			out_add(c, out.data, out.len);
		buf_free(&out);
		logstream_restore(c, d, json_get(d, o, "subs"));
		events_restore(c, d, json_get(d, o, "events"));
		if (is_updater)
			updater = c;
	}
	return updater;
}

/* ---- the loop: every connection, and the control socket ------------------------- */

static size_t conns_most(void) { return (size_t)nclients; }

static size_t conns_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	size_t n = 0;
	for (int i = 0; i < nclients; i++) {
		struct client *c = clients[i];
		short ev = c->fd >= 0 ? client_events(c) : 0;
		if (!ev)
			continue;
		fds[n] = (struct pollfd){.fd = c->fd, .events = ev};
		tags[n++] = c;
	}
	return n;
}

static void conns_ready(struct pollfd *pfd, void *tag) { client_ready(tag, pfd->revents); }

const struct loop_source clients_source = {
	.name = "clients", .fill = conns_fill, .most = conns_most, .ready = conns_ready,
};
