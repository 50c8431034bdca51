/* tend runtime's output: the apps' lines on the container's stdout and stderr as
 * pm2-runtime prints them (raw, --formatted, --format, --json), its process events in
 * --json, the instances' states from the event stream (for auto-exit, --exit-code-from
 * and the probes), and the probes themselves (--health). */
#include "applets/runtime.h"
#include "client/http.h"
#include "client/probes.h"
#include "lib/json.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct runtime_state RT = {.exit_from_code = -1};

/* What goes to stdout and stderr, written as the container's log pipes take it: a
 * runtime blocked in write() would not see the TERM of `docker stop`. While more than
 * OUT_HELD_MAX waits, the logs stream is not read, and the daemon, which never waits for
 * a subscriber, drops lines and says how many. The daemon's own log comes through a
 * pipe of ours, never blocking it: lines past DAEMON_LOG_MAX held are dropped, counted. */
enum { OUT_HELD_MAX = 1 << 16, DAEMON_LOG_MAX = 1 << 20 };

static struct buf out[2];
static struct buf daemon_line;        /* the daemon's log: the start of a line */
static long long daemon_dropped;      /* its lines dropped since the last notice */
static size_t name_width = 3;   /* --formatted: pm2's padding, which only grows */

void rt_say(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	buf_printf(&out[1], "tend: runtime: %s\n", text);
}

/* What fd 1 + i takes until the monotonic deadline (0: now). POLLOUT on a pipe means a
 * free page: a write of at most PIPE_BUF then never blocks, even on a blocking fd shared
 * with others. A terminal says POLLOUT with less room: smaller writes there. */
static bool drain(int i, int64_t deadline)
{
	static int chunk[2];
	if (!chunk[i])
		chunk[i] = isatty(1 + i) ? 256 : PIPE_BUF;
	while (out[i].len) {
		struct pollfd p = {.fd = 1 + i, .events = POLLOUT};
		int64_t left = deadline ? deadline - mono_ms() : 0;
		int r = poll(&p, 1, left > 0 ? (int)left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			buf_reset(&out[i]);   /* the reader is gone: nobody to tell */
			break;
		}
		ssize_t w = write(1 + i, out[i].data, out[i].len < (size_t)chunk[i] ? out[i].len : (size_t)chunk[i]);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			buf_reset(&out[i]);
			break;
		}
		buf_consume(&out[i], (size_t)w);
	}
	return true;
}

void rt_out_flush(void)
{
	if (daemon_dropped && out[1].len < OUT_HELD_MAX) {
		rt_say("%lld lines of the daemon's log were dropped: stderr was not read", daemon_dropped);
		daemon_dropped = 0;
	}
	for (int i = 0; i < 2; i++)
		drain(i, 0);
}

void rt_out_finish(int64_t within_ms)
{
	rt_out_flush();
	int64_t end = mono_ms() + within_ms;
	for (int i = 0; i < 2; i++)
		drain(i, end);
}

short rt_out_events(int fd)
{
	return out[fd - 1].len ? POLLOUT : 0;
}

bool rt_out_full(void)
{
	return out[0].len + out[1].len > OUT_HELD_MAX;
}

int rt_daemon_log(int fd)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	buf_add(&daemon_line, chunk, (size_t)n);
	char *last = memrchr(daemon_line.data, '\n', daemon_line.len);
	if (last) {
		size_t whole = (size_t)(last - daemon_line.data) + 1;
		if (out[1].len + whole <= DAEMON_LOG_MAX)
			buf_add(&out[1], daemon_line.data, whole);
		else
			for (size_t k = 0; k < whole; k++)
				daemon_dropped += daemon_line.data[k] == '\n';
		buf_consume(&daemon_line, whole);
	} else if (daemon_line.len > 4096) {   /* (dlog writes lines under 2 KiB) */
		rt_daemon_log_end();
	}
	return 1;
}

void rt_daemon_log_end(void)
{
	if (daemon_line.len) {
		buf_putc(&daemon_line, '\n');
		buf_add(&out[1], daemon_line.data, daemon_line.len);
	}
	buf_free(&daemon_line);
}

/* UTC, milliseconds: JavaScript's Date.toISOString(), as pm2-runtime's JSON has it. */
static void iso_time(struct buf *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char text[40];
	strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "%s.%03dZ", text, (int)(ms % 1000));
}

static void print_line(long long id, const char *name, bool err, int64_t at, const char *line, size_t len)
{
	switch (RT.out) {
	case OUT_RAW:
		buf_add(&out[err], line, len);
		buf_putc(&out[err], '\n');
		break;
	case OUT_FORMATTED: {
		char label[300];
		int n = snprintf(label, sizeof label, "%lld|%s", id, name);
		if ((size_t)n > name_width)
			name_width = (size_t)n + 1;
		/* green and red, as pm2-runtime, on a terminal */
		static int color = -1;
		if (color < 0)
			color = isatty(1) && !getenv("NO_COLOR");
		buf_printf(&out[0], "%s%-*.*s | %s", color ? (err ? "\033[31m" : "\033[32m") : "", (int)name_width,
		           (int)name_width, label, color ? "\033[39m" : "");
		buf_add(&out[0], line, len);
		buf_putc(&out[0], '\n');
		break;
	}
	case OUT_FORMAT: {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		char stamp[48];
		strftime(stamp, sizeof stamp, "%Y-%m-%d-%H:%M:%S%z", &tm);
		buf_printf(&out[0], "timestamp=%s app=%s id=%lld type=%s message=", stamp, name, id, err ? "error" : "out");
		buf_add(&out[0], line, len);
		buf_putc(&out[0], '\n');
		break;
	}
	case OUT_JSON:
		json_open(&out[0], '{');
		json_key(&out[0], "message");
		json_strn(&out[0], line, len);
		json_key(&out[0], "timestamp");
		buf_putc(&out[0], '"');
		iso_time(&out[0], at);
		buf_putc(&out[0], '"');
		json_kstr(&out[0], "type", err ? "err" : "out");
		json_kint(&out[0], "process_id", id);
		json_kstr(&out[0], "app_name", name);
		json_close(&out[0], '}');
		buf_putc(&out[0], '\n');
		break;
	}
}

/* {"log":{"id","name","stream","at","data"}}: data holds whole lines. */
void rt_log_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	struct jdoc d;
	if (!json_parse(&d, line, len))
		return;
	int log = json_get(&d, 0, "log");
	long long missed = 0;
	if (log < 0 && json_as_ll(&d, json_get(&d, 0, "missed"), &missed)) {
		rt_say("%lld lines of the apps' output were dropped: the output was not read fast enough", missed);
	} else if (log >= 0) {
		long long id = -1, at = 0;
		json_as_ll(&d, json_get(&d, log, "id"), &id);
		json_as_ll(&d, json_get(&d, log, "at"), &at);
		char *name = json_dup(&d, json_get(&d, log, "name"));
		char *data = json_dup(&d, json_get(&d, log, "data"));
		bool err = json_eq(&d, json_get(&d, log, "stream"), "err");
		for (char *p = data; p && *p;) {
			char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			if (l)   /* pm2-runtime leaves empty lines out */
				print_line(id, name ? name : "", err, at, p, l);
			p += l + (nl != NULL);
		}
		free(name);
		free(data);
	}
	json_free(&d);
}

/* ---- the instances ---------------------------------------------------------------------------- */

static struct inst *inst_of(long long id, const char *name)
{
	for (int i = 0; i < RT.ninsts; i++)
		if (RT.insts[i].id == id && !RT.insts[i].gone)
			return &RT.insts[i];
	RT.insts = xrealloc(RT.insts, (size_t)(RT.ninsts + 1) * sizeof *RT.insts);
	struct inst *in = &RT.insts[RT.ninsts++];
	*in = (struct inst){.id = id, .name = xstrdup(name ? name : ""), .last_code = -1};
	snprintf(in->status, sizeof in->status, "launching");
	return in;
}

static bool is_exit_from(const struct inst *in)
{
	return RT.exit_from && !strcmp(in->name, RT.exit_from);
}

static bool is_down(const char *status)
{
	return !strcmp(status, "stopped") || !strcmp(status, "errored");
}

/* The list came on its own connection: an event read before it may be newer than the
 * list, so an instance an event spoke of since the list was asked for keeps what the
 * event said (later events all come, or another {"missed"}). */
void rt_take_list(const struct jdoc *d)
{
	if (d->ntok < 1 || d->tok[0].type != JSMN_ARRAY)
		return;
	bool *named = xcalloc((size_t)RT.ninsts + (size_t)d->tok[0].size + 1, sizeof *named);
	for (int i = 0, a = 1; i < d->tok[0].size; i++, a = json_next(d, a)) {
		int env = json_get(d, a, "pm2_env");
		long long id = -1, code = -1;
		if (!json_as_ll(d, json_get(d, a, "pm_id"), &id) || id < 0)
			continue;
		char *name = json_dup(d, json_get(d, a, "name"));
		char *status = json_dup(d, json_get(d, env, "status"));
		struct inst *in = NULL;
		for (int k = 0; k < RT.ninsts && !in; k++)
			if (RT.insts[k].id == id && !strcmp(RT.insts[k].name, name ? name : ""))
				in = &RT.insts[k];
		if (!in)
			in = inst_of(id, name);
		named[in - RT.insts] = true;
		if (in->touched) {
			free(name);
			free(status);
			continue;
		}
		in->gone = false;
		if (status)
			snprintf(in->status, sizeof in->status, "%s", status);
		if (json_as_ll(d, json_get(d, env, "exit_code"), &code) && code >= 0)
			in->last_code = (int)code;
		if (is_exit_from(in) && is_down(in->status)) {
			RT.exit_from_code = in->last_code;
			RT.exit_from_done = true;
		}
		free(name);
		free(status);
	}
	for (int i = 0; i < RT.ninsts; i++)
		if (!named[i] && !RT.insts[i].touched)
			RT.insts[i].gone = true;   /* deleted while its events were dropped */
	free(named);
}

bool rt_any_alive(void)
{
	for (int i = 0; i < RT.ninsts; i++)
		if (!RT.insts[i].gone &&
		    (!strcmp(RT.insts[i].status, "online") || !strcmp(RT.insts[i].status, "launching")))
			return true;
	return false;
}

/* pm2-runtime's --json process events: {"timestamp","type":"process_event","status","app_name"} */
static void process_event(int64_t at, const char *status, const char *name)
{
	if (RT.out != OUT_JSON)
		return;
	json_open(&out[0], '{');
	json_key(&out[0], "timestamp");
	buf_putc(&out[0], '"');
	iso_time(&out[0], at);
	buf_putc(&out[0], '"');
	json_kstr(&out[0], "type", "process_event");
	json_kstr(&out[0], "status", status);
	json_kstr(&out[0], "app_name", name);
	json_close(&out[0], '}');
	buf_putc(&out[0], '\n');
}

void rt_event_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	struct jdoc d;
	if (!json_parse(&d, line, len))
		return;
	char *event = json_dup(&d, json_get(&d, 0, "event"));
	char *name = json_dup(&d, json_get(&d, 0, "name"));
	long long id = -1, at = 0, missed = 0;
	json_as_ll(&d, json_get(&d, 0, "id"), &id);
	json_as_ll(&d, json_get(&d, 0, "at"), &at);
	if (!event && json_as_ll(&d, json_get(&d, 0, "missed"), &missed)) {
		/* an exit or a delete may be among them: auto-exit and --exit-code-from must
		 * not wait for news that will never come */
		rt_say("%lld of the daemon's events were dropped: asking for the list", missed);
		RT.resync = true;
	}
	if (event && name && id >= 0) {
		struct inst *in = inst_of(id, name);
		in->touched |= RT.listing;
		if (!strcmp(event, "state")) {
			char *to = json_dup(&d, json_get(&d, 0, "to"));
			char *reason = json_dup(&d, json_get(&d, 0, "reason"));
			snprintf(in->status, sizeof in->status, "%s", to ? to : "");
			char *from = json_dup(&d, json_get(&d, 0, "from"));
			/* pm2-runtime says start, then online: an app without a readiness wait goes
			 * from stopped to online at once here */
			if (to && !strcmp(to, "online") && !(from && !strcmp(from, "launching")))
				process_event(at, reason && !strncmp(reason, "restart", 7) ? "restart" : "start", name);
			free(from);
			if (to && !strcmp(to, "online"))
				process_event(at, "online", name);
			else if (to && !strcmp(to, "launching"))
				process_event(at, reason && !strncmp(reason, "restart", 7) ? "restart" : "start", name);
			else if (to && !strcmp(to, "errored"))
				process_event(at, "restart overlimit", name);
			else if (to && !strcmp(to, "stopping"))
				process_event(at, "stop", name);
			/* --exit-code-from: the app is down for good, not waiting to restart */
			if (to && is_exit_from(in) && (!strcmp(to, "stopped") || !strcmp(to, "errored")))
				RT.exit_from_done = true;
			free(to);
			free(reason);
		} else if (!strcmp(event, "exit")) {
			long long code = 0;
			char *sig = json_dup(&d, json_get(&d, 0, "signal"));
			json_as_ll(&d, json_get(&d, 0, "exit_code"), &code);
			int signo = sig ? signal_from_name(sig) : 0;
			in->last_code = signo > 0 ? 128 + signo : (int)code;
			if (is_exit_from(in))
				RT.exit_from_code = in->last_code;
			process_event(at, "exit", name);
			free(sig);
		} else if (!strcmp(event, "delete")) {
			in->gone = true;
			process_event(at, "delete", name);
		}
	}
	free(event);
	free(name);
	json_free(&d);
}

/* ---- the probes --------------------------------------------------------------------------------- */

static void health_route(struct http_conn *c, const struct http_request *r)
{
	if (strcmp(r->method, "GET") != 0 && !r->head) {
		static const char body[] = "{\"error\":\"method not allowed\"}\n";
		http_reply(c, 405, "Allow: GET, HEAD\r\n", "application/json", body, sizeof body - 1);
		return;
	}
	struct buf b = {0};
	int status;
	if (!strcmp(r->path, "/livez")) {
		status = RT.daemon_up ? 200 : 503;
		buf_puts(&b, RT.daemon_up ? "{\"status\":\"ok\"}\n" : "{\"error\":\"the daemon does not answer\"}\n");
	} else if (!strcmp(r->path, "/readyz")) {
		struct probe_app *apps = xcalloc((size_t)RT.ninsts + 1, sizeof *apps);
		int n = 0;
		for (int i = 0; i < RT.ninsts; i++)
			if (!RT.insts[i].gone)
				apps[n++] = (struct probe_app){RT.insts[i].id, RT.insts[i].name, RT.insts[i].status};
		char v[8];
		status = RT.daemon_up ? probe_readyz(&b, apps, n, http_query(r->query, "verbose", v, sizeof v)) : 503;
		if (!RT.daemon_up)
			buf_puts(&b, "{\"status\":\"not ready\"}\n");
		free(apps);
	} else {
		status = 404;
		buf_puts(&b, "{\"error\":\"not found: /livez and /readyz are served here\"}\n");
	}
	http_reply(c, status, NULL, "application/json", b.data, b.len);
	buf_free(&b);
}

bool rt_health_listen(const char *spec, char *err, size_t errlen)
{
	char host[128] = "0.0.0.0";
	const char *colon = strrchr(spec, ':');
	const char *port_text = spec;
	if (colon) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
		port_text = colon + 1;
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [::1]:8080 */
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = 0;
		}
	}
	long long port;
	if (!parse_int(port_text, 1, 65535, &port)) {
		snprintf(err, errlen, "--health %s: expected [ADDR:]PORT", spec);
		return false;
	}
	static const struct http_limits lim = {.max_conns = 64, .max_header = 8192, .max_body = 0,
	                                       .header_ms = 5000, .idle_ms = 30000, .max_pending = 1 << 16};
	return http_listen(host, (int)port, &lim, health_route, err, errlen);
}
