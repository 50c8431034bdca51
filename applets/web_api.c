/* The web API's routes. Each request that needs the daemon opens its own exchange
 * (client/conn.c) and the HTTP connection waits for it (http_defer): a slow action
 * (a restart waits for the new process) never holds up another client. */
#include "applets/web.h"
#include "client/client.h"
#include "client/conn.h"
#include "client/probes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { K_LIVEZ, K_READYZ, K_ROOT, K_LIST, K_ONE, K_ACTION, K_LOGS, K_METRICS };

/* An HTTP request waiting for the daemon's reply. */
struct waiter {
	unsigned long serial;      /* its HTTP connection */
	enum kind kind;
	bool verbose;              /* readyz?verbose */
};

/* One exchange with the daemon. Reads of the whole list are shared (see join_list):
 * then waiters holds every request the reply answers, and shared says which list. */
struct pending {
	struct conn conn;
	struct waiter one;         /* the request, when not shared */
	struct waiter *waiters;    /* shared: every request */
	int nwaiters, cap;
	bool shared, sent;         /* shared: sent to the daemon yet */
	bool env, tree;            /* shared: which list */
	struct buf data;           /* the data lines of the reply */
	bool done;
	int lines;                 /* logs: how many */
	char type[8];              /* logs: "out", "err", "" (both) */
	struct pending *next;
};
static struct pending *pendings;

static const char JSON[] = "application/json";

static void reply_json(struct http_conn *c, int status, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void reply_json(struct http_conn *c, int status, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	buf_puts(&b, text);
	buf_putc(&b, '\n');
	http_reply(c, status, NULL, JSON, b.data, b.len);
	buf_free(&b);
}

/* {"error":"..."} with the text escaped. */
static void reply_error(struct http_conn *c, int status, const char *error)
{
	struct buf b = {0};
	json_open(&b, '{');
	json_kstr(&b, "error", error);
	json_close(&b, '}');
	buf_putc(&b, '\n');
	http_reply(c, status, NULL, JSON, b.data, b.len);
	buf_free(&b);
}

/* The daemon's errors as HTTP statuses: bad input 400, nothing found 404, a state that
 * forbids it 409, the rest 500. */
static int status_of(int code, const char *error)
{
	if (code == 2)
		return 400;
	if (error && (strstr(error, "not found") || strstr(error, "no process") || strstr(error, "no app")))
		return 404;
	if (error && (strstr(error, "already") || strstr(error, "being reloaded") || strstr(error, "shutting down")))
		return 409;
	return 500;
}

/* ---- the list, parsed --------------------------------------------------------------- */

/* /readyz (client/probes.c): the list's instances and their states. */
static int readyz_body(struct buf *b, const struct jdoc *d, bool verbose)
{
	int n = d->tok[0].size;
	struct probe_app *apps = xcalloc((size_t)n + 1, sizeof *apps);
	for (int i = 0, app = 1; i < n; i++, app = json_next(d, app)) {
		json_as_ll(d, json_get(d, app, "pm_id"), &apps[i].id);
		apps[i].name = json_dup(d, json_get(d, app, "name"));
		apps[i].status = json_dup(d, json_get(d, json_get(d, app, "pm2_env"), "status"));
	}
	int status = probe_readyz(b, apps, n, verbose);
	for (int i = 0; i < n; i++) {
		free((char *)apps[i].name);
		free((char *)apps[i].status);
	}
	free(apps);
	return status;
}

/* The last n lines of a file, as JSON strings into b (an array). */
static void tail_lines(struct buf *b, const char *path, int n)
{
	json_open(b, '[');
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t want = (off_t)n * 512 + 4096, from = st.st_size > want ? st.st_size - want : 0;
		size_t len = (size_t)(st.st_size - from);
		char *text = xmalloc(len + 1);
		ssize_t got = pread(fd, text, len, from);
		len = got > 0 ? (size_t)got : 0;
		size_t end = len && text[len - 1] == '\n' ? len - 1 : len, start = end;
		int k = 0;
		while (start > 0 && k < n) {
			start--;
			if (text[start] == '\n' && ++k == n) {
				start++;
				break;
			}
		}
		if (from > 0 && start == 0) {   /* a first line cut by the window: not shown */
			char *nl = memchr(text, '\n', end);
			start = nl ? (size_t)(nl - text) + 1 : end;
		}
		for (size_t i = start; i < end;) {
			char *nl = memchr(text + i, '\n', end - i);
			size_t l = nl ? (size_t)(nl - (text + i)) : end - i;
			json_strn(b, text + i, l);
			i += l + 1;
		}
		free(text);
	}
	if (fd >= 0)
		close(fd);
	json_close(b, ']');
}

static void logs_body(struct buf *b, const struct jdoc *d, int lines, const char *type)
{
	json_open(b, '[');
	for (int i = 0, app = 1; i < d->tok[0].size; i++, app = json_next(d, app)) {
		int env = json_get(d, app, "pm2_env");
		long long id = -1;
		json_as_ll(d, json_get(d, app, "pm_id"), &id);
		char *name = json_dup(d, json_get(d, app, "name"));
		json_open(b, '{');
		json_kint(b, "id", id);
		json_kstr(b, "name", name ? name : "");
		const char *types[] = {"out", "err"}, *keys[] = {"pm_out_log_path", "pm_err_log_path"};
		for (int t = 0; t < 2; t++) {
			if (type[0] && strcmp(type, types[t]) != 0)
				continue;
			char *path = json_dup(d, json_get(d, env, keys[t]));
			json_key(b, types[t]);
			tail_lines(b, path, lines);
			free(path);
		}
		json_close(b, '}');
		free(name);
	}
	json_close(b, ']');
	buf_putc(b, '\n');
}

/* The reply to a read of the list, into body; its HTTP status. */
static int list_body(struct buf *body, const struct waiter *w, const struct pending *p, const struct jdoc *d)
{
	switch (w->kind) {
	case K_READYZ: return readyz_body(body, d, w->verbose);
	case K_LOGS: logs_body(body, d, p->lines, p->type); return 200;
	case K_ROOT: web_pm2_root(body, d); return 200;
	case K_METRICS: web_metrics(body, d); return 200;
	case K_ONE:
		if (d->tok[0].size == 0) {
			buf_puts(body, "{\"error\":\"no such app\"}\n");
			return 404;
		}
		/* fall through */
	default:
		buf_add(body, p->data.data, p->data.len);
		return 200;
	}
}

/* A reply formatted once for every waiter that wants the same (kind, verbose). */
struct formatted {
	bool made;
	int status;
	struct buf body;
};

static void answer_one(const struct waiter *w, const struct pending *p, bool ok, int code, const char *error,
                       const struct jdoc *d, struct formatted *f)
{
	struct http_conn *c = http_find(w->serial);
	if (!c)
		return;   /* the client went away meanwhile */
	if (w->kind == K_LIVEZ) {
		if (ok)
			reply_json(c, 200, "{\"status\":\"ok\"}");
		else
			reply_error(c, 503, error ? error : "the daemon does not answer");
		return;
	}
	if (!ok) {
		reply_error(c, code < 0 ? 503 : status_of(code, error), error ? error : "failed");
		return;
	}
	if (w->kind == K_ACTION) {
		reply_json(c, 200, "{\"ok\":true}");
		return;
	}
	if (!d) {
		reply_error(c, 502, "the daemon sent no list");
		return;
	}
	if (!f->made) {
		f->status = list_body(&f->body, w, p, d);
		f->made = true;
	}
	http_reply(c, f->status, NULL, w->kind == K_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : JSON,
	           f->body.data, f->body.len);
}

static void send_list(struct pending *p);

/* The reply is in: every waiter answered, the list parsed and each kind formatted once. */
static void answer(struct pending *p, bool ok, int code, const char *error)
{
	p->done = true;
	const struct waiter *ws = p->shared ? p->waiters : &p->one;
	int n = p->shared ? p->nwaiters : 1;
	struct jdoc d = {0};
	bool parsed = ok && p->data.len;
	bool listed = parsed && json_parse(&d, p->data.data, p->data.len) && d.tok[0].type == JSMN_ARRAY;
	struct formatted f[(K_METRICS + 1) * 2] = {0};
	for (int i = 0; i < n; i++)
		answer_one(&ws[i], p, ok, code, error, listed ? &d : NULL, &f[ws[i].kind * 2 + ws[i].verbose]);
	for (size_t i = 0; i < ARRAY_LEN(f); i++)
		buf_free(&f[i].body);
	if (parsed)
		json_free(&d);
	if (!p->shared)
		return;
	/* The next exchange for this list, if readers came while this one was out. */
	for (struct pending *q = pendings; q; q = q->next)
		if (q->shared && !q->sent && !q->done && q->env == p->env && q->tree == p->tree) {
			send_list(q);
			break;
		}
}

static void on_line(struct conn *cn, char *line, size_t len)
{
	struct pending *p = cn->arg;
	buf_add(&p->data, line, len);
	buf_putc(&p->data, '\n');
}

static void on_reply(struct conn *cn, bool ok, int code, const char *error)
{
	struct pending *p = cn->arg;
	answer(p, ok, code, error);
	conn_close(cn);
}

static void on_close(struct conn *cn)
{
	struct pending *p = cn->arg;
	if (!p->done)
		answer(p, false, -1, "the daemon is not running");
}

static struct pending *pending_new(void)
{
	struct pending *p = xcalloc(1, sizeof *p);
	p->conn = (struct conn){.fd = -1, .on_line = on_line, .on_reply = on_reply, .on_close = on_close, .arg = p};
	p->next = pendings;
	pendings = p;
	return p;
}

/* Send req (closed here) on p's exchange. */
static void send_request(struct pending *p, struct buf *req)
{
	req_end(req);
	p->sent = true;
	if (!conn_open(&p->conn, req))
		answer(p, false, -1, "the daemon is not running");
	buf_free(req);
}

/* Ask the daemon for this HTTP request alone and let the connection wait. */
static struct pending *ask(struct http_conn *c, enum kind kind, struct buf *req)
{
	struct pending *p = pending_new();
	p->one = (struct waiter){.serial = http_serial(c), .kind = kind};
	http_defer(c);
	send_request(p, req);
	return p;
}

static void list_request(struct buf *req, const char *target, bool env, bool tree)
{
	req_begin(req, "list");
	json_kbool(req, "env", env);
	if (tree)
		json_kbool(req, "tree", true);
	if (target) {
		char *t[] = {(char *)target};
		req_targets(req, t, 1);
	}
}

static void send_list(struct pending *p)
{
	struct buf req = {0};
	list_request(&req, NULL, p->env, p->tree);
	send_request(p, &req);
}

/* Reads of the whole list share exchanges with the daemon: a request joins the one not
 * yet sent for the same list, or makes it; it is sent when the one out before it has
 * answered. Every reader gets a list taken after it asked, and a hundred readers at
 * once cost the daemon and the parser two lists, not a hundred. */
static void join_list(struct http_conn *c, enum kind kind, bool env, bool tree, bool verbose)
{
	struct pending *queued = NULL;
	bool out = false;
	for (struct pending *p = pendings; p; p = p->next)
		if (p->shared && !p->done && p->env == env && p->tree == tree) {
			if (p->sent)
				out = true;
			else
				queued = p;
		}
	if (!queued) {
		queued = pending_new();
		queued->shared = true;
		queued->env = env;
		queued->tree = tree;
	}
	if (queued->nwaiters == queued->cap) {
		queued->cap = queued->cap ? queued->cap * 2 : 8;
		queued->waiters = xrealloc(queued->waiters, (size_t)queued->cap * sizeof *queued->waiters);
	}
	queued->waiters[queued->nwaiters++] = (struct waiter){.serial = http_serial(c), .kind = kind, .verbose = verbose};
	http_defer(c);
	if (!out)
		send_list(queued);
}

/* One app's list (GET /api/processes/ID, its logs): not shared. */
static struct pending *ask_list(struct http_conn *c, enum kind kind, const char *target, bool env)
{
	struct buf req = {0};
	list_request(&req, target, env, false);
	return ask(c, kind, &req);
}

/* ---- routes ---------------------------------------------------------------------------- */

static bool method_is(struct http_conn *c, const struct http_request *r, const char *want)
{
	bool get = !strcmp(want, "GET");
	if (!strcmp(r->method, want) || (get && r->head))
		return true;
	char allow[64];
	snprintf(allow, sizeof allow, "Allow: %s%s\r\n", want, get ? ", HEAD" : "");
	const char body[] = "{\"error\":\"method not allowed\"}\n";
	http_reply(c, 405, allow, JSON, body, sizeof body - 1);
	return false;
}

static bool unauthorized(struct http_conn *c)
{
	static const char body[] =
		"{\"error\":\"a token is needed: Authorization: Bearer TOKEN (tend web --token)\"}\n";
	http_reply(c, 401, "WWW-Authenticate: Bearer realm=\"tend\"\r\n", JSON, body, sizeof body - 1);
	return false;
}

/* Reading the list, / and /metrics: the token, or --public-read. */
static bool may_read(struct http_conn *c, const struct http_request *r)
{
	return W.public_read || web_authorized(r) || unauthorized(c);
}

/* Acting, and reading logs: the token, always. */
static bool may_act(struct http_conn *c, const struct http_request *r)
{
	return web_authorized(r) || unauthorized(c);
}

static void action(struct http_conn *c, const struct http_request *r, const char *id, const char *what)
{
	static const char *const verbs[] = {"start", "stop", "restart", "reload", "reset", "signal"};
	const char *cmd = NULL;
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++)
		if (!strcmp(what, verbs[i]))
			cmd = verbs[i];
	if (!cmd) {
		reply_error(c, 404, "no such action: start, stop, restart, reload, reset or signal");
		return;
	}
	if (!method_is(c, r, "POST") || !may_act(c, r))
		return;
	struct buf req = {0};
	/* start of an app that exists is a restart in PM2's API too */
	req_begin(&req, !strcmp(cmd, "start") ? "restart" : cmd);
	if (!strcmp(cmd, "signal")) {
		struct jdoc d;
		char *sig = NULL;
		if (r->body_len && json_parse(&d, r->body, r->body_len))
			sig = json_dup(&d, json_get(&d, 0, "signal"));
		if (r->body_len)
			json_free(&d);
		if (!sig || signal_from_name(sig) <= 0) {
			free(sig);
			buf_free(&req);
			reply_error(c, 400, "expected a body {\"signal\":\"SIGUSR2\"}");
			return;
		}
		json_kstr(&req, "signal", sig);
		free(sig);
	}
	char *t[] = {(char *)id};
	req_targets(&req, t, 1);
	ask(c, K_ACTION, &req);
}

static void processes(struct http_conn *c, const struct http_request *r, const char *rest)
{
	if (!*rest) {   /* /api/processes */
		if (method_is(c, r, "GET") && may_read(c, r))
			join_list(c, K_LIST, W.expose_env && web_authorized(r), false, false);
		return;
	}
	char id[256];
	size_t n = strcspn(rest + 1, "/");
	if (rest[0] != '/' || n == 0 || n >= sizeof id) {
		reply_error(c, 404, "not found");
		return;
	}
	snprintf(id, sizeof id, "%.*s", (int)n, rest + 1);
	const char *sub = rest + 1 + n;
	if (!*sub) {
		if (!strcmp(r->method, "DELETE")) {
			if (may_act(c, r)) {
				struct buf req = {0};
				char *t[] = {id};
				req_begin(&req, "delete");
				req_targets(&req, t, 1);
				ask(c, K_ACTION, &req);
			}
		} else if (method_is(c, r, "GET") && may_read(c, r)) {
			ask_list(c, K_ONE, id, W.expose_env && web_authorized(r));
		}
		return;
	}
	if (!strcmp(sub, "/logs")) {
		if (!method_is(c, r, "GET") || !may_act(c, r))
			return;
		char v[32];
		long long lines = 100;
		if (http_query(r->query, "lines", v, sizeof v) && !parse_int(v, 1, 10000, &lines)) {
			reply_error(c, 400, "lines: expected a number from 1 to 10000");
			return;
		}
		char type[8] = "";
		if (http_query(r->query, "type", type, sizeof type) && strcmp(type, "out") && strcmp(type, "err")) {
			reply_error(c, 400, "type: expected out or err");
			return;
		}
		struct pending *p = ask_list(c, K_LOGS, id, false);
		p->lines = (int)lines;
		snprintf(p->type, sizeof p->type, "%s", type);
		return;
	}
	action(c, r, id, sub + 1);
}

void web_route(struct http_conn *c, const struct http_request *r)
{
	const char *path = r->path;
	if (!strcmp(r->method, "OPTIONS") && W.cors) {   /* a CORS preflight */
		http_reply(c, 204, "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
		           "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
		           "Access-Control-Max-Age: 600\r\n", NULL, "", 0);
		return;
	}
	if (!strcmp(path, "/livez")) {
		if (method_is(c, r, "GET")) {
			struct buf req = {0};
			req_begin(&req, "ping");
			ask(c, K_LIVEZ, &req);
		}
	} else if (!strcmp(path, "/readyz")) {
		if (method_is(c, r, "GET")) {
			char v[8];
			join_list(c, K_READYZ, false, false, http_query(r->query, "verbose", v, sizeof v));
		}
	} else if (!strcmp(path, "/")) {
		if (method_is(c, r, "GET") && may_read(c, r))
			join_list(c, K_ROOT, W.expose_env && web_authorized(r), false, false);
	} else if (!strcmp(path, "/metrics")) {
		if (method_is(c, r, "GET") && may_read(c, r))
			join_list(c, K_METRICS, false, true, false);
	} else if (!strcmp(path, "/dashboard") || !strcmp(path, "/dashboard/")) {
		if (method_is(c, r, "GET"))
			web_dashboard(c);   /* no data in it: it asks for the token */
	} else if (!strcmp(path, "/api/events")) {
		char last[32];
		if (method_is(c, r, "GET") && may_act(c, r))
			web_events_open(c, r->last_event_id ? r->last_event_id
			                   : http_query(r->query, "lastEventId", last, sizeof last) ? last : NULL);
	} else if (!strncmp(path, "/api/processes", 14) && (path[14] == 0 || path[14] == '/')) {
		processes(c, r, path + 14);
	} else {
		reply_error(c, 404, "not found");
	}
}

/* ---- the loop: the exchanges, and the signals that end the server ------------------------- */

static size_t src_most(void)
{
	size_t n = 1;
	for (struct pending *p = pendings; p; p = p->next)
		n++;
	return n;
}

static size_t src_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	size_t n = 0;
	fds[n] = (struct pollfd){.fd = W.sigfd, .events = POLLIN};
	tags[n++] = NULL;
	for (struct pending *p = pendings; p; p = p->next)
		if (!p->done && p->conn.fd >= 0) {
			fds[n] = (struct pollfd){.fd = p->conn.fd, .events = conn_events(&p->conn)};
			tags[n++] = p;
		}
	return n;
}

static void src_ready(struct pollfd *pfd, void *tag)
{
	if (!tag) {
		W.quit = true;
		return;
	}
	struct pending *p = tag;
	if (!p->done)
		conn_ready(&p->conn, pfd->revents);
}

const struct loop_source web_daemon_source = {
	.name = "daemon", .fill = src_fill, .most = src_most, .ready = src_ready,
};

/* Answered exchanges go after the pass (their tags are not used past it). */
bool web_after_pass(void)
{
	for (struct pending **pp = &pendings; *pp;) {
		struct pending *p = *pp;
		if (!p->done) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		conn_close(&p->conn);
		buf_free(&p->data);
		free(p->waiters);
		free(p);
	}
	return false;
}
