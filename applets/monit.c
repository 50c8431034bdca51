/* monit: the live terminal dashboard, PM2's four panes (process list, the selected
 * app's logs, its metrics, its metadata) as a client of the daemon's event stream:
 * CPU and memory are the samples the daemon takes of each instance's whole process
 * tree, status changes arrive as they happen, logs as they are written. The screen
 * is redrawn cell by cell (only what changed), the terminal given back on every way
 * out. Not on a terminal (or --once): one snapshot as text or JSON. */
#include "applets/applet.h"
#include "client/client.h"
#include "client/conn.h"
#include "applets/monit.h"
#include "client/screen.h"
#include "client/table.h"
#include "lib/loop.h"
#include "lib/opt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

//applet: monit monit_main monit_help o live dashboard: apps with CPU and memory, logs, metadata; keys act on them
//applet: dashboard monit_main monit_help a monit
//applet: dash monit_main monit_help a monit
//applet: imonit monit_main monit_help a monit
//applet: ilogs ilogs_main monit_help o monit with the logs pane full screen

const char monit_help[] =
	"usage: tend monit [-d TENTHS] [--sort FIELD[:desc]] [--readonly] [--no-mouse]\n"
	"                  [--ascii] [--no-color] [--once [--json]]\n"
	"       (also: dashboard, dash, imonit; tend ilogs opens with the logs full screen)\n"
	"\n"
	"A live dashboard in the terminal, PM2's monit: the process list with each\n"
	"instance's CPU and memory (its whole process tree, as the daemon samples it),\n"
	"the selected app's logs (the last lines of its files at once, then live), its\n"
	"CPU and memory over the last two minutes, and its metadata. A header shows the\n"
	"host's load, memory and CPUs. If the daemon stops, monit says so and waits.\n"
	"\n"
	"Keys:\n"
	"  Up/Down j PgUp/PgDn Home/End     select an app (or scroll the focused pane)\n"
	"  Left/Right Tab Shift-Tab         focus another pane\n"
	"  s / I       sort by name, id, cpu, mem, restarts, uptime / invert the order\n"
	"  /           filter by name (Enter applies, Esc clears)\n"
	"  r R x       restart, reload, stop (start if stopped) the selected instance\n"
	"  k           send it a signal (a menu)      d   delete it (asks y/N)\n"
	"  l           logs full screen (and back)    w t  wrap lines, show timestamps\n"
	"  p           pause updates                  ?    help\n"
	"  q Esc Ctrl-C  quit\n"
	"Mouse: a click selects an app or focuses a pane; the wheel scrolls.\n"
	"\n"
	"  -d, --delay TENTHS  refresh every TENTHS tenths of a second (default 10)\n"
	"      --sort F[:desc] initial order: name, id, cpu, mem, restarts, uptime\n"
	"      --readonly      keys that act on apps do nothing\n"
	"      --no-mouse      no mouse reports (the terminal's own selection works)\n"
	"      --ascii         ASCII borders and bars (also when the locale is not UTF-8)\n"
	"      --no-color      no colours (also with NO_COLOR set)\n"
	"      --once          print one snapshot and exit (also when not on a terminal)\n"
	"      --json          the snapshot as JSON: host and processes\n"
	"\n"
	"Exit status: 0; 1 when the daemon cannot be reached for a snapshot; 2 bad usage.\n";

enum { O_DELAY = 1, O_SORT, O_READONLY, O_NO_MOUSE, O_ASCII, O_NO_COLOR, O_ONCE, O_JSON };
static const struct opt options[] = {
	{"delay", 'd', OPT_REQUIRED, O_DELAY},
	{"sort", 0, OPT_REQUIRED, O_SORT},
	{"readonly", 0, OPT_NONE, O_READONLY},
	{"no-mouse", 0, OPT_NONE, O_NO_MOUSE},
	{"ascii", 0, OPT_NONE, O_ASCII},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{"once", 0, OPT_NONE, O_ONCE},
	{"json", 0, OPT_NONE, O_JSON},
	{0},
};

struct monit M;

enum { FRAME_MS = 100 };

/* ---- talking to the daemon -------------------------------------------------------- */

static void send_list(void);

static void on_list_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	struct jdoc d;
	if (!json_parse(&d, line, len) || d.tok[0].type != JSMN_ARRAY) {
		json_free(&d);
		return;
	}
	monit_take_list(&d);
	json_free(&d);
	M.dirty = true;
}

static void on_list_reply(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	(void)error;
	(void)ok;
	conn_close(c);
	M.list_busy = false;
	if (M.list_again) {
		M.list_again = false;
		M.list_at = mono_ms() + 100;
	}
}

static void on_gone(struct conn *c)
{
	(void)c;
	if (M.daemon_up) {
		M.daemon_up = false;
		monit_status("the daemon is gone: waiting for it to come back");
	}
	conn_close(&M.events);
	conn_close(&M.logs);
	conn_close(&M.list);
	M.list_busy = false;
	M.retry_at = mono_ms() + 1000;
	M.dirty = true;
}

static void send_list(void)
{
	if (M.list_busy) {
		M.list_again = true;
		return;
	}
	struct buf req = {0};
	req_begin(&req, "list");
	req_end(&req);
	M.list = (struct conn){.fd = -1, .on_line = on_list_line, .on_reply = on_list_reply,
	                       .on_close = on_gone};
	if (conn_open(&M.list, &req))
		M.list_busy = true;
	buf_free(&req);
}

static void on_event_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	struct jdoc d;
	if (json_parse(&d, line, len) && d.tok[0].type == JSMN_OBJECT && monit_take_event(&d)) {
		/* a state change or a delete: what else changed (pid, restarts, reason) comes
		 * with the next list, soon */
		if (!M.list_at)
			M.list_at = mono_ms() + 150;
	}
	json_free(&d);
	M.dirty = true;
}

static void on_log_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	if (len < 8 || memcmp(line, "{\"log\":", 7) != 0)
		return;   /* the reply's data lines: the files, which the list gives too */
	struct jdoc d;
	if (json_parse(&d, line, len))
		monit_take_log(&d);
	json_free(&d);
}

static void on_stream_reply(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	if (!ok) {
		monit_status("%s", error ? error : "the daemon refused the subscription");
		conn_close(c);
	}
}

static bool subscribe(void)
{
	struct buf req = {0};
	req_begin(&req, "events");
	json_kint(&req, "samples", M.delay_ms);
	req_end(&req);
	M.events = (struct conn){.fd = -1, .on_line = on_event_line, .on_reply = on_stream_reply,
	                         .on_close = on_gone};
	bool up = conn_open(&M.events, &req);
	buf_free(&req);
	if (!up)
		return false;
	if (!M.once) {
		req_begin(&req, "logs");
		req_end(&req);
		M.logs = (struct conn){.fd = -1, .on_line = on_log_line, .on_reply = on_stream_reply,
		                       .on_close = on_gone};
		conn_open(&M.logs, &req);
		buf_free(&req);
	}
	M.daemon_up = true;
	send_list();
	return true;
}

static void on_action_reply(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	if (ok)
		monit_status("%s: done", M.action_what);
	else
		monit_status("%s: %s", M.action_what, error ? error : "failed");
	conn_close(c);
	M.list_at = mono_ms();
	M.dirty = true;
}

static void on_action_gone(struct conn *c)
{
	(void)c;
	monit_status("%s: the daemon went away", M.action_what);
}

void monit_act(const char *cmd, const struct inst *in, const char *signal)
{
	if (M.readonly) {
		monit_status("read-only (--readonly): %s not sent", cmd);
		return;
	}
	if (M.action.fd >= 0) {
		monit_status("%s still waiting for its answer", M.action_what);
		return;
	}
	char id[16];
	snprintf(id, sizeof id, "%d", in->id);
	char *targets[] = {id};
	struct buf req = {0};
	req_begin(&req, cmd);
	if (signal)
		json_kstr(&req, "signal", signal);
	req_targets(&req, targets, 1);
	req_end(&req);
	snprintf(M.action_what, sizeof M.action_what, "%s%s%s %s[%d]", cmd, signal ? " " : "",
	         signal ? signal : "", in->name, in->id);
	M.action = (struct conn){.fd = -1, .on_reply = on_action_reply, .on_close = on_action_gone};
	if (conn_open(&M.action, &req))
		monit_status("%s...", M.action_what);
	else
		monit_status("%s: the daemon is not running", M.action_what);
	buf_free(&req);
}

/* ---- the loop ----------------------------------------------------------------------- */

static struct conn *const conns[] = {&M.events, &M.logs, &M.list, &M.action};

static size_t src_most(void) { return 2 + ARRAY_LEN(conns); }

static size_t src_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	size_t n = 0;
	if (M.tty) {
		fds[n] = (struct pollfd){.fd = 0, .events = POLLIN};
		tags[n++] = NULL;
	}
	if (M.sigfd >= 0) {
		fds[n] = (struct pollfd){.fd = M.sigfd, .events = POLLIN};
		tags[n++] = &M.sigfd;
	}
	for (size_t i = 0; i < ARRAY_LEN(conns); i++)
		/* paused: what the apps do waits (the daemon keeps a bounded backlog) */
		if (conns[i]->fd >= 0 && !(M.paused && (conns[i] == &M.events || conns[i] == &M.logs))) {
			fds[n] = (struct pollfd){.fd = conns[i]->fd, .events = conn_events(conns[i])};
			tags[n++] = conns[i];
		}
	return n;
}

static void read_signals(void)
{
	struct signalfd_siginfo si;
	while (read(M.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGWINCH) {
			screen_resize(&M.scr);
			M.dirty = true;
		} else {
			M.quit = true;
		}
	}
}

static void read_keys(void)
{
	buf_grow(&M.keys, 4096);
	ssize_t n = read(0, M.keys.data + M.keys.len, M.keys.cap - M.keys.len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {   /* the terminal went away */
		M.quit = true;
		return;
	}
	M.keys.len += (size_t)n;
	M.key_wait_at = 0;
	M.key_dirty = true;
	for (;;) {
		struct key k;
		size_t used = key_parse(M.keys.data, M.keys.len, true, &k);
		if (!used) {
			if (M.keys.len)   /* a lone Esc, or a sequence cut by the read */
				M.key_wait_at = mono_ms() + 30;
			break;
		}
		buf_consume(&M.keys, used);
		monit_key(&k);
	}
	M.dirty = true;
}

static void src_ready(struct pollfd *pfd, void *tag)
{
	if (!tag)
		read_keys();
	else if (tag == &M.sigfd)
		read_signals();
	else
		conn_ready(tag, pfd->revents);
}

static int64_t earliest(int64_t a, int64_t b)
{
	return b > 0 && (a == 0 || b < a) ? b : a;
}

static int64_t src_deadline(void)
{
	int64_t next = earliest(M.retry_at, M.list_at);
	next = earliest(next, M.key_wait_at);
	next = earliest(next, M.status_until);
	next = earliest(next, M.once_at);
	if (M.dirty && M.tty)
		next = earliest(next, M.frame_at);
	return next;
}

static void src_fire(int64_t now)
{
	if (M.key_wait_at && M.key_wait_at <= now) {   /* Esc alone, not a sequence */
		M.key_wait_at = 0;
		struct key k;
		size_t used;
		while (M.keys.len && (used = key_parse(M.keys.data, M.keys.len, false, &k))) {
			buf_consume(&M.keys, used);
			monit_key(&k);
		}
		M.dirty = true;
	}
	if (M.retry_at && M.retry_at <= now) {
		M.retry_at = 0;
		if (subscribe())
			monit_status("the daemon is back");
		else
			M.retry_at = now + 1000;
		M.dirty = true;
	}
	if (M.list_at && M.list_at <= now && M.daemon_up) {
		M.list_at = 0;
		send_list();
	}
	if (M.status_until && M.status_until <= now) {
		M.status_until = 0;
		M.status[0] = 0;
		M.dirty = true;
	}
	if (M.once_at && M.once_at <= now)
		M.quit = true;
}

static const struct loop_source monit_source = {
	.name = "monit", .fill = src_fill, .most = src_most, .ready = src_ready,
	.next_deadline = src_deadline, .fire = src_fire,
};

/* After each pass: draw, at most every FRAME_MS (a burst of events or log lines is one
 * frame), at once after a key. */
static bool draw_if_due(void)
{
	if (!M.tty || !M.dirty)
		return false;
	int64_t now = mono_ms();
	if (now < M.frame_at && !M.key_dirty)
		return false;
	monit_draw();
	screen_flush(&M.scr);
	M.dirty = M.key_dirty = false;
	M.frame_at = now + FRAME_MS;
	return false;
}

static int run(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	M.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	struct loop l = {0};
	loop_add_source(&l, &monit_source);
	loop_after_pass(&l, draw_if_due);
	while (!M.quit)
		if (loop_pass(&l) < 0)
			break;
	loop_free(&l);
	return EXIT_OK;
}

static bool utf8_locale(void)
{
	const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

static void options_parse(int argc, char **argv)
{
	struct optstate s;
	opt_init(&s, argc, argv);
	int id;
	long long v;
	bool no_color = false;
	M.delay_ms = 1000;
	M.mouse = true;
	M.sort = S_ID;   /* pm_id order, as PM2's monit */
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		switch (id) {
		case O_DELAY:
			if (!parse_int(s.arg, 1, 36000, &v))
				die_usage("--delay: expected tenths of a second from 1 to 36000, got '%s'", s.arg);
			M.delay_ms = (int)v * 100;
			break;
		case O_SORT:
			if (!monit_sort_set(s.arg))
				die_usage("--sort: expected name, id, cpu, mem, restarts or uptime, optionally "
				          ":asc or :desc, got '%s'", s.arg);
			break;
		case O_READONLY: M.readonly = true; break;
		case O_NO_MOUSE: M.mouse = false; break;
		case O_ASCII: M.ascii = true; break;
		case O_NO_COLOR: no_color = true; break;
		case O_ONCE: M.once = true; break;
		case O_JSON: M.json = true; break;
		}
	}
	if (s.npos)
		die_usage("unexpected argument '%s'", s.pos[0]);
	opt_free(&s);
	M.color = !no_color && !getenv("NO_COLOR");
	if (M.json)
		M.once = true;
}

/* Start the daemon if none runs, as every command does. */
static bool daemon_ping(void)
{
	struct buf req = {0};
	req_begin(&req, "ping");
	req_end(&req);
	struct reply rep;
	bool up = call(&req, true, NULL, NULL, &rep) && rep.ok;
	if (!up)
		reply_status(&rep);
	reply_free(&rep);
	buf_free(&req);
	return up;
}

static int monit_run(int argc, char **argv, bool zoom)
{
	options_parse(argc, argv);
	M.sigfd = -1;
	M.events.fd = M.logs.fd = M.list.fd = M.action.fd = -1;
	M.sel_id = -1;
	M.zoom = zoom;
	if (!M.once && !term_open(&M.scr, M.mouse))
		M.once = true;   /* not a terminal: a snapshot */
	if (!daemon_ping())
		return EXIT_FAIL;
	if (M.once) {
		M.delay_ms = 400;   /* two samples make a CPU figure */
		if (!subscribe())
			die("the daemon is not running");
		M.once_at = mono_ms() + 1000;
		run();
		monit_print_snapshot(stdout);
		return EXIT_OK;
	}
	M.tty = true;
	M.scr.utf8 = !M.ascii && utf8_locale();
	M.scr.color = M.color;
	set_nonblock(0, true);
	if (!subscribe())
		on_gone(NULL);
	M.dirty = true;
	int rc = run();
	set_nonblock(0, false);
	term_close();
	screen_free(&M.scr);
	return rc;
}

int monit_main(int argc, char **argv) { return monit_run(argc, argv, false); }
int ilogs_main(int argc, char **argv) { return monit_run(argc, argv, true); }
