/* events: what the daemon does, as it happens: every instance's state changes with
 * their reason and pids, exits with their code or signal, deletes, the daemon's own
 * events (save, resurrect, shutdown, update), and with --samples the CPU and memory
 * of each instance's whole process tree. PM2 has a bus but nothing that prints it. */
#include "applets/applet.h"
#include "client/client.h"
#include "client/table.h"
#include "lib/opt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//applet: events events_main events_help o print the daemon's events live: state changes, exits, samples

const char events_help[] =
	"usage: tend events [TARGET...] [--json] [--samples MS] [--no-color]\n"
	"\n"
	"Print what the daemon does as it happens, one line each, until Ctrl-C or until\n"
	"the reader of the output goes away (tend events | grep -m1 errored):\n"
	"  TIME NAME[ID] FROM -> TO pid PID (REASON)     a state change\n"
	"  TIME NAME[ID] exit pid PID code N [SIGNAL] after UPTIME\n"
	"  TIME NAME[ID] deleted\n"
	"  TIME daemon WHAT (DETAIL)                     save, resurrect, shutdown, update\n"
	"  TIME NAME[ID] sample cpu N% mem SIZE restarts N up UPTIME   with --samples\n"
	"Without targets (id, name, namespace, all, /regex/, script), every app, those\n"
	"started later too.\n"
	"\n"
	"      --json          the daemon's JSON lines as they come (see tend-protocol(7))\n"
	"      --samples MS    every MS milliseconds (100 to 3600000), a sample of each\n"
	"                      instance: CPU % and memory of its whole process tree\n"
	"      --no-color      never use colors\n"
	"\n"
	"A reader slower than the events misses some, and is told on stderr how many.\n"
	"A target that names no app yet waits for one (tend events api, then start api).\n"
	"Exit status: 0 when the output's reader goes away; 1 when the daemon goes away;\n"
	"2 bad usage.\n";

enum { O_JSON = 1, O_SAMPLES, O_NO_COLOR };
static const struct opt options[] = {
	{"json", 0, OPT_NONE, O_JSON},
	{"samples", 0, OPT_REQUIRED, O_SAMPLES},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

static struct {
	bool json, color;
	struct buf out;
} E;

static void flush_out(void)
{
	if (E.out.len && !write_all(1, E.out.data, E.out.len)) {
		if (errno == EPIPE)
			exit(EXIT_OK);
		die("writing: %s", strerror(errno));
	}
	buf_reset(&E.out);
}

static void put_time(long long at)
{
	time_t t = (time_t)(at / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(&E.out, "%s.%03lld ", when, at % 1000);
}

/* A state's colour, as the list colours it. */
static const char *state_color(const char *s)
{
	if (!E.color)
		return "";
	if (!strcmp(s, "online"))
		return "\033[32m";
	if (!strcmp(s, "errored"))
		return "\033[31m";
	if (!strcmp(s, "stopped"))
		return "\033[90m";
	return "\033[33m";
}

static void put_state(const char *s)
{
	buf_printf(&E.out, "%s%s%s", state_color(s), s, E.color ? "\033[0m" : "");
}

static void put_duration(const struct jdoc *d, const char *key)
{
	long long ms = 0;
	json_as_ll(d, json_get(d, 0, key), &ms);
	char dur[32];
	format_duration(dur, sizeof dur, ms);
	buf_puts(&E.out, dur);
}

static void put_instance(const struct jdoc *d)
{
	char *name = json_dup(d, json_get(d, 0, "name"));
	long long id = -1;
	json_as_ll(d, json_get(d, 0, "id"), &id);
	buf_printf(&E.out, "%s[%lld] ", name ? name : "?", id);
	free(name);
}

static void put_text(const struct jdoc *d, const char *key, const char *fmt)
{
	char *v = json_dup(d, json_get(d, 0, key));
	if (v && *v)
		buf_printf(&E.out, fmt, v);
	free(v);
}

static void on_line(char *line, size_t len)
{
	if (E.json) {
		buf_add(&E.out, line, len);
		buf_putc(&E.out, '\n');
		return;
	}
	struct jdoc d;
	if (!json_parse(&d, line, len) || d.tok[0].type != JSMN_OBJECT) {
		warn("not an event: %.*s", (int)(len > 200 ? 200 : len), line);
		return;
	}
	long long at = 0, n = 0;
	json_as_ll(&d, json_get(&d, 0, "at"), &at);
	int ev = json_get(&d, 0, "event");
	if (ev < 0) {
		if (json_as_ll(&d, json_get(&d, 0, "missed"), &n)) {
			flush_out();
			warn("missed %lld events: this reader is slower than the daemon's events", n);
		}
		json_free(&d);
		return;
	}
	put_time(at);
	if (json_eq(&d, ev, "state")) {
		put_instance(&d);
		char *from = json_dup(&d, json_get(&d, 0, "from")), *to = json_dup(&d, json_get(&d, 0, "to"));
		put_state(from ? from : "?");
		buf_puts(&E.out, " -> ");
		put_state(to ? to : "?");
		free(from);
		free(to);
		if (json_as_ll(&d, json_get(&d, 0, "pid"), &n) && n > 0)
			buf_printf(&E.out, " pid %lld", n);
		put_text(&d, "reason", " (%s)");
	} else if (json_eq(&d, ev, "exit")) {
		put_instance(&d);
		json_as_ll(&d, json_get(&d, 0, "pid"), &n);
		buf_printf(&E.out, "exit pid %lld", n);
		json_as_ll(&d, json_get(&d, 0, "exit_code"), &n);
		buf_printf(&E.out, " code %lld", n);
		put_text(&d, "signal", " %s");
		buf_puts(&E.out, " after ");
		put_duration(&d, "uptime");
	} else if (json_eq(&d, ev, "delete")) {
		put_instance(&d);
		buf_puts(&E.out, "deleted");
	} else if (json_eq(&d, ev, "daemon")) {
		json_as_ll(&d, json_get(&d, 0, "pid"), &n);
		buf_printf(&E.out, "daemon[%lld] ", n);
		put_text(&d, "what", "%s");
		put_text(&d, "detail", " (%s)");
	} else if (json_eq(&d, ev, "sample")) {
		put_instance(&d);
		char mem[32];
		long long rss = 0, restarts = 0;
		json_as_ll(&d, json_get(&d, 0, "memory"), &rss);
		json_as_ll(&d, json_get(&d, 0, "restarts"), &restarts);
		format_bytes(mem, sizeof mem, rss);
		char *cpu_text = json_dup(&d, json_get(&d, 0, "cpu"));
		double cpu = cpu_text ? strtod(cpu_text, NULL) : 0;
		free(cpu_text);
		buf_puts(&E.out, "sample ");
		put_text(&d, "status", "%s");
		buf_printf(&E.out, " cpu %.1f%% mem %s restarts %lld up ", cpu, mem, restarts);
		put_duration(&d, "uptime");
	} else {
		char *what = json_dup(&d, ev);
		buf_printf(&E.out, "%s", what ? what : "?");   /* a newer daemon's event */
		free(what);
	}
	buf_putc(&E.out, '\n');
	json_free(&d);
}

int events_main(int argc, char **argv)
{
	struct optstate s;
	bool no_color = false;
	long long samples = 0;
	int id;
	opt_init(&s, argc, argv);
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		switch (id) {
		case O_JSON: E.json = true; break;
		case O_NO_COLOR: no_color = true; break;
		case O_SAMPLES:
			if (!parse_int(s.arg, 100, 3600000, &samples))
				die_usage("--samples: expected milliseconds from 100 to 3600000, got '%s'", s.arg);
			break;
		}
	}
	E.color = want_color(1, no_color);
	char **targets = s.pos;
	int ntargets = s.npos;
	struct buf req = {0};
	req_begin(&req, "events");
	if (ntargets)
		req_targets(&req, targets, ntargets);
	if (samples)
		json_kint(&req, "samples", samples);
	req_end(&req);
	struct reply rep;
	struct buf in = {0};
	int fd = call_stream(&req, NULL, NULL, &rep, &in);
	buf_free(&req);
	if (fd < 0)
		exit(reply_status(&rep));
	reply_free(&rep);
	int status = follow_stream(fd, &in, on_line, flush_out);
	close(fd);
	buf_free(&in);
	buf_free(&E.out);
	opt_free(&s);
	return status;
}
