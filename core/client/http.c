#include "client/http.h"
#include "client/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state {
	C_READING,    /* waiting for (the rest of) a request */
	C_DEFERRED,   /* a handler will answer */
	C_STREAM,     /* server-sent events */
	C_CLOSING,    /* the last reply is being written, then close */
};

struct http_conn {
	int fd;
	unsigned long serial;
	enum conn_state state;
	struct buf in, out;
	size_t out_sent;      /* of out: sent already (out is reset once all of it is) */
	size_t req_len;       /* bytes of the request being handled, still in `in` */
	bool keep_alive, head, gone;
	int64_t deadline;     /* the request must be in by then / idle until then */
	struct tls_session *tls;   /* HTTPS: its session */
	bool handshaking;
	int want;             /* TLS: what the session waits for (TLS_WANT_*), 0: nothing */
};

static struct http_conn **conns;
static int nconns;
static int listen_fd = -1;
static struct http_limits lim;
static http_handler *handler;
static unsigned long next_serial = 1;
static char *common_headers;
static bool use_tls;

void http_use_tls(void) { use_tls = true; }

/* The connection's bytes, through TLS or not: > 0 done, 0 the end, -1 try later
 * (errno EAGAIN) or an error. */
static ssize_t io_recv(struct http_conn *c, void *buf, size_t n)
{
	if (!c->tls)
		return recv(c->fd, buf, n, MSG_DONTWAIT);
	ssize_t r = tls_read(c->tls, buf, n, &c->want);
	if (r < 0)
		errno = c->want ? EAGAIN : EIO;
	return r;
}

static ssize_t io_send(struct http_conn *c, const void *buf, size_t n)
{
	if (!c->tls)
		return send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	ssize_t w = tls_write(c->tls, buf, n, &c->want);
	if (w < 0)
		errno = c->want ? EAGAIN : EIO;
	return w;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

void http_set_common_headers(const char *lines)
{
	free(common_headers);
	common_headers = lines && *lines ? xstrdup(lines) : NULL;
}

bool http_listen(const char *host, int port, const struct http_limits *l, http_handler *h,
                 char *err, size_t errlen)
{
	lim = *l;
	handler = h;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	char service[16];
	snprintf(service, sizeof service, "%d", port);
	int rc = getaddrinfo(host, service, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "%s: not a numeric address (%s)", host, gai_strerror(rc));
		return false;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
		snprintf(err, errlen, "%s port %d: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return false;
	}
	freeaddrinfo(ai);
	listen_fd = fd;
	return true;
}

unsigned long http_serial(const struct http_conn *c) { return c->serial; }

struct http_conn *http_find(unsigned long serial)
{
	for (int i = 0; i < nconns; i++)
		if (conns[i]->serial == serial && !conns[i]->gone)
			return conns[i];
	return NULL;
}

int http_open_connections(void)
{
	int n = 0;
	for (int i = 0; i < nconns; i++)
		n += !conns[i]->gone;
	return n;
}

/* Closed now; freed at the next fill (a tag of this pass may still point to it). */
static void conn_close(struct http_conn *c)
{
	if (c->gone)
		return;
	c->gone = true;
	close_fd(&c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	c->out_sent = 0;
	tls_session_free(c->tls);
	c->tls = NULL;
}

static void flush(struct http_conn *c)
{
	while (c->out.len && !c->gone && !c->handshaking) {
		ssize_t w = io_send(c, c->out.data + c->out_sent, c->out.len - c->out_sent);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(c);
			return;
		}
		/* An offset, not a memmove per write: a megabyte reply goes out in many writes. */
		c->out_sent += (size_t)w;
		if (c->out_sent == c->out.len)
			c->out_sent = c->out.len = 0;
	}
	if (!c->gone && c->state == C_CLOSING && !c->out.len)
		conn_close(c);
}

static void queue(struct http_conn *c, const char *p, size_t n)
{
	if (c->gone)
		return;
	/* Not reading what it asked for: more than max_pending still unsent when more comes
	 * (one reply, however large, is always let through). */
	if (c->out.len - c->out_sent > lim.max_pending) {
		conn_close(c);
		return;
	}
	if (c->out_sent && c->out_sent >= c->out.len / 2) {   /* reclaim what was sent */
		buf_consume(&c->out, c->out_sent);
		c->out_sent = 0;
	}
	buf_add(&c->out, p, n);
}

static void process_input(struct http_conn *c);

/* The status line and headers given, the common ones, the caller's, the blank line. */
static void queue_head(struct http_conn *c, const char *head, const char *headers)
{
	queue(c, head, strlen(head));
	if (common_headers)
		queue(c, common_headers, strlen(common_headers));
	if (headers)
		queue(c, headers, strlen(headers));
	queue(c, "\r\n", 2);
}

void http_reply(struct http_conn *c, int status, const char *headers, const char *ctype,
                const char *body, size_t len)
{
	if (!c || c->gone || c->state == C_STREAM)
		return;
	char head[512];
	snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	         "Connection: %s\r\n", status, http_status_text(status),
	         ctype ? ctype : "text/plain; charset=utf-8", len, c->keep_alive ? "keep-alive" : "close");
	queue_head(c, head, headers);
	if (!c->head && len)
		queue(c, body, len);
	if (c->gone)
		return;
	buf_consume(&c->in, c->req_len);
	c->req_len = 0;
	c->state = c->keep_alive ? C_READING : C_CLOSING;
	c->deadline = mono_ms() + (c->in.len ? lim.header_ms : lim.idle_ms);
	flush(c);
	if (!c->gone && c->state == C_READING && c->in.len)
		process_input(c);   /* a pipelined request */
}

void http_defer(struct http_conn *c)
{
	c->state = C_DEFERRED;
	c->deadline = 0;
}

void http_stream_begin(struct http_conn *c, const char *headers)
{
	queue_head(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	           "Cache-Control: no-cache\r\nConnection: keep-alive\r\n", headers);
	buf_consume(&c->in, c->in.len);   /* nothing more is read from it */
	c->req_len = 0;
	c->state = C_STREAM;
	c->deadline = 0;
	flush(c);
}

bool http_stream_send(struct http_conn *c, const char *data, size_t len)
{
	if (!c || c->gone || c->state != C_STREAM)
		return false;
	queue(c, data, len);
	flush(c);
	return !c->gone;
}

void http_each_stream(void (*fn)(struct http_conn *c, void *arg), void *arg)
{
	for (int i = 0; i < nconns; i++)
		if (!conns[i]->gone && conns[i]->state == C_STREAM)
			fn(conns[i], arg);
}

void http_close_all(void)
{
	for (int i = 0; i < nconns; i++) {
		conn_close(conns[i]);
		free(conns[i]);
	}
	nconns = 0;
	close_fd(&listen_fd);
}

/* ---- parsing ------------------------------------------------------------------------- */

static void fail(struct http_conn *c, int status, const char *why)
{
	c->keep_alive = false;
	c->req_len = c->in.len;
	char body[160];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", why);
	http_reply(c, status, NULL, "application/json", body, (size_t)n);
}

static int hexval(int ch)
{
	return isdigit(ch) ? ch - '0' : isxdigit(ch) ? (tolower(ch) - 'a' + 10) : -1;
}

/* Percent-decode in place; false on a bad escape or a NUL. */
static bool decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int a = hexval((unsigned char)p[1]), b = a < 0 ? -1 : hexval((unsigned char)p[2]);
		if (a < 0 || b < 0 || (a == 0 && b == 0))
			return false;
		*o++ = (char)(a * 16 + b);
		p += 2;
	}
	*o = 0;
	return true;
}

bool http_query(const char *query, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&");
		if (len >= nl && !strncmp(p, name, nl) && (p[nl] == '=' || p[nl] == '&' || nl == len)) {
			const char *v = p[nl] == '=' ? p + nl + 1 : p + nl;
			size_t vl = len - (size_t)(v - p);
			if (vl >= n)
				vl = n - 1;
			memcpy(out, v, vl);
			out[vl] = 0;
			for (char *q = out; *q; q++)
				if (*q == '+')
					*q = ' ';
			return decode(out) || (out[0] = 0, true);
		}
		p += len + (p[len] == '&');
	}
	return false;
}

/* The headers end at a blank line: its offset past it, or 0 if not there yet. */
static size_t header_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\n')
			continue;
		if (s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void parse_request(struct http_conn *c, size_t end)
{
	char *text = c->in.data;
	if (memchr(text, 0, end)) {   /* (found by fuzz_http) */
		fail(c, 400, "a NUL byte in the request head");
		return;
	}
	text[end - 1] = 0;
	struct http_request r = {0};
	char *line = text, *next = strchr(line, '\n');
	*next = 0;
	if (next > line && next[-1] == '\r')
		next[-1] = 0;
	char *method = strtok(line, " "), *target = strtok(NULL, " "), *version = strtok(NULL, " ");
	if (!method || !target || !version || strtok(NULL, " ")) {
		fail(c, 400, "bad request line");
		return;
	}
	if (strncmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1') || version[8]) {
		fail(c, 505, "HTTP/1.0 and HTTP/1.1 only");
		return;
	}
	bool http10 = version[7] == '0';
	c->keep_alive = !http10;
	long long length = 0;
	bool chunked = false;
	for (char *h = next + 1; *h;) {
		char *eol = strchr(h, '\n');
		if (eol)
			*eol = 0;
		size_t hl = strlen(h);
		if (hl && h[hl - 1] == '\r')
			h[--hl] = 0;
		char *colon = strchr(h, ':');
		if (hl && !colon) {
			fail(c, 400, "bad header line");
			return;
		}
		if (colon) {
			*colon = 0;
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
				*--e = 0;
			if (!strcasecmp(h, "content-length")) {
				if (!parse_int(v, 0, (long long)lim.max_body, &length)) {
					fail(c, 413, "the body is too large");
					return;
				}
			} else if (!strcasecmp(h, "transfer-encoding")) {
				chunked = true;
			} else if (!strcasecmp(h, "connection")) {
				if (strcasestr(v, "close"))
					c->keep_alive = false;
				else if (strcasestr(v, "keep-alive"))
					c->keep_alive = true;
			} else if (!strcasecmp(h, "authorization")) {
				r.authorization = v;
			} else if (!strcasecmp(h, "origin")) {
				r.origin = v;
			} else if (!strcasecmp(h, "last-event-id")) {
				r.last_event_id = v;
			} else if (!strcasecmp(h, "content-type")) {
				r.content_type = v;
			}
		}
		if (!eol)
			break;
		h = eol + 1;
	}
	if (chunked) {
		fail(c, 501, "chunked request bodies are not taken: send Content-Length");
		return;
	}
	if (c->in.len < end + (size_t)length)
		return;   /* the body is still coming */
	if (target[0] != '/') {
		fail(c, 400, "expected a path");
		return;
	}
	char *q = strchr(target, '?');
	r.query = "";
	if (q) {
		*q = 0;
		r.query = q + 1;
	}
	if (!decode(target)) {
		fail(c, 400, "bad percent escape in the path");
		return;
	}
	r.method = method;
	r.path = target;
	r.head = !strcmp(method, "HEAD");
	r.body = c->in.data + end;
	r.body_len = (size_t)length;
	c->head = r.head;
	c->req_len = end + (size_t)length;
	c->state = C_DEFERRED;   /* the handler answers now or later */
	c->deadline = 0;
	handler(c, &r);
}

static void process_input(struct http_conn *c)
{
	if (c->gone || c->state != C_READING || !c->in.len)
		return;
	size_t end = header_end(c->in.data, c->in.len);
	if (!end) {
		if (c->in.len > lim.max_header)
			fail(c, 431, "the request headers are too large");
		return;
	}
	if (end > lim.max_header) {
		fail(c, 431, "the request headers are too large");
		return;
	}
	/* parse_request writes NULs into the headers: keep a copy until the body is whole */
	struct buf keep = {0};
	buf_add(&keep, c->in.data, c->in.len);
	parse_request(c, end);
	if (!c->gone && c->state == C_READING && !c->req_len && c->in.len) {
		/* the body was not all there: the text goes back as it was */
		memcpy(c->in.data, keep.data, keep.len);
	}
	buf_free(&keep);
}

/* ---- the loop ------------------------------------------------------------------------ */

static void add_conn(int fd)
{
	struct http_conn *c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->serial = next_serial++;
	c->state = C_READING;
	c->deadline = mono_ms() + lim.header_ms;
	if (use_tls && !(c->tls = tls_session_new(fd))) {
		close(fd);
		free(c);
		return;
	}
	c->handshaking = use_tls;
	conns = xrealloc(conns, (size_t)(nconns + 1) * sizeof *conns);
	conns[nconns++] = c;
}

void http_adopt(int fd, const struct http_limits *l, http_handler *h)
{
	lim = *l;
	handler = h;
	set_nonblock(fd, true);
	add_conn(fd);
}

/* Full: the connection idle the longest (no request under way) makes room, so that
 * clients who hold connections open and say nothing cannot lock the others out. */
static bool evict_idle(void)
{
	struct http_conn *victim = NULL;
	for (int i = 0; i < nconns; i++) {
		struct http_conn *c = conns[i];
		if (!c->gone && c->state == C_READING && !c->in.len && !c->out.len &&
		    (!victim || c->deadline < victim->deadline))
			victim = c;
	}
	if (victim)
		conn_close(victim);
	return victim != NULL;
}

static void accept_all(void)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (http_open_connections() >= lim.max_conns && !evict_idle()) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 31\r\n"
			                           "Connection: close\r\n\r\n{\"error\":\"too many connections\"}";
			(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		add_conn(fd);
	}
}

static void read_conn(struct http_conn *c)
{
	if (c->state == C_STREAM || c->state == C_CLOSING) {
		char sink[512];   /* a stream's client says nothing; EOF: it is gone */
		ssize_t n = io_recv(c, sink, sizeof sink);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	size_t room = lim.max_header + lim.max_body + 1;
	if (c->in.len >= room)
		return;   /* full: the request is handled first */
	buf_grow(&c->in, 4096);
	size_t want = c->in.cap - c->in.len - 1;
	if (want > room - c->in.len)
		want = room - c->in.len;
	ssize_t n = io_recv(c, c->in.data + c->in.len, want);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n < 0)
		return;
	if (c->state == C_READING && !c->in.len)
		c->deadline = mono_ms() + lim.header_ms;   /* a new request: its clock starts */
	c->in.len += (size_t)n;
	c->in.data[c->in.len] = 0;
	process_input(c);
	/* TLS may hold more of what it decrypted than one read took: poll would not say */
	if (c->tls && !c->gone && (size_t)n == want)
		read_conn(c);
}

static void handshake(struct http_conn *c)
{
	int rc = tls_handshake(c->tls, &c->want);
	if (rc == 0) {
		c->handshaking = false;
		read_conn(c);   /* the request may have come with the last flight */
		flush(c);
	} else if (!c->want) {
		conn_close(c);   /* not TLS, or a handshake that failed */
	}
}

static size_t src_most(void) { return (size_t)nconns + 1; }

static size_t src_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	int k = 0;
	for (int i = 0; i < nconns; i++) {   /* the ones closed last pass go now */
		if (conns[i]->gone)
			free(conns[i]);
		else
			conns[k++] = conns[i];
	}
	nconns = k;
	size_t n = 0;
	if (listen_fd >= 0) {
		fds[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		tags[n++] = NULL;
	}
	for (int i = 0; i < nconns; i++) {
		struct http_conn *c = conns[i];
		short ev = c->out.len ? POLLOUT : 0;
		if (c->state != C_DEFERRED)
			ev |= POLLIN;
		if (c->want)   /* TLS waits for the socket one way or the other */
			ev = (short)(ev | (c->want & TLS_WANT_READ ? POLLIN : 0) | (c->want & TLS_WANT_WRITE ? POLLOUT : 0));
		fds[n] = (struct pollfd){.fd = c->fd, .events = ev};
		tags[n++] = c;
	}
	return n;
}

static void src_ready(struct pollfd *pfd, void *tag)
{
	if (!tag) {
		accept_all();
		return;
	}
	struct http_conn *c = tag;
	if (c->gone)
		return;
	if (c->handshaking) {
		handshake(c);
		return;
	}
	c->want = 0;
	if (pfd->revents & POLLOUT)
		flush(c);
	if (!c->gone && (pfd->revents & (POLLIN | POLLHUP | POLLERR)))
		read_conn(c);
}

static int64_t src_deadline(void)
{
	int64_t next = 0;
	for (int i = 0; i < nconns; i++)
		if (!conns[i]->gone && conns[i]->deadline && (!next || conns[i]->deadline < next))
			next = conns[i]->deadline;
	return next;
}

static void src_fire(int64_t now)
{
	for (int i = 0; i < nconns; i++) {
		struct http_conn *c = conns[i];
		if (c->gone || !c->deadline || c->deadline > now)
			continue;
		if (c->state == C_READING && c->in.len)
			fail(c, 408, "the request took too long to arrive");
		else
			conn_close(c);   /* idle, or a reply the client does not read */
		if (!c->gone)
			c->deadline = now + 1000;   /* the 408 gets a second to go */
	}
}

const struct loop_source http_source = {
	.name = "http", .fill = src_fill, .most = src_most, .ready = src_ready,
	.next_deadline = src_deadline, .fire = src_fire,
};
