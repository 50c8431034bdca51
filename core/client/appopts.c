#include "client/appopts.h"
#include "lib/cron.h"
#include "client/decl.h"
#include "lib/json.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	A_NAME = APPOPT_FIRST, A_NAMESPACE, A_CWD, A_INSTANCES, A_FORK, A_INTERP, A_INTERP_ARGS,
	A_UID, A_GID, A_PID, A_OUT, A_ERR, A_LOG, A_MERGE_LOGS, A_TIME, A_DATE_FORMAT, A_LOG_TYPE,
	A_DISABLE_LOGS, A_LOG_MAX_SIZE, A_LOG_RETAIN, A_KILL_TIMEOUT, A_KILL_SIGNAL, A_MAX_RESTARTS,
	A_MIN_UPTIME, A_RESTART_DELAY, A_BACKOFF, A_NO_AUTORESTART, A_NO_AUTOSTART, A_STOP_CODES,
	A_NO_TREEKILL, A_MAX_MEMORY, A_CRON, A_WATCH, A_IGNORE_WATCH, A_WATCH_DELAY, A_EXT, A_PORT,
	A_LISTEN, A_LB, A_WAIT_READY, A_LISTEN_TIMEOUT, A_SHUTDOWN_MSG, A_FILTER_ENV, A_NOOP,
};

const struct opt appopt_table[] = {
	{"name", 'n', OPT_REQUIRED, A_NAME},
	{"namespace", 0, OPT_REQUIRED, A_NAMESPACE},
	{"cwd", 0, OPT_REQUIRED, A_CWD},
	{"instances", 'i', OPT_REQUIRED, A_INSTANCES},
	{"fork", 'x', OPT_NONE, A_FORK},
	{"execute-command", 0, OPT_NONE, A_FORK},
	{"interpreter", 0, OPT_REQUIRED, A_INTERP},
	{"interpreter-args", 0, OPT_REQUIRED, A_INTERP_ARGS},
	{"node-args", 0, OPT_REQUIRED, A_INTERP_ARGS},
	{"uid", 0, OPT_REQUIRED, A_UID},
	{"user", 'u', OPT_REQUIRED, A_UID},
	{"gid", 0, OPT_REQUIRED, A_GID},
	{"pid", 'p', OPT_REQUIRED, A_PID},
	{"output", 'o', OPT_REQUIRED, A_OUT},
	{"error", 'e', OPT_REQUIRED, A_ERR},
	{"log", 'l', OPT_OPTIONAL, A_LOG},
	{"merge-logs", 0, OPT_NONE, A_MERGE_LOGS},
	{"time", 0, OPT_NONE, A_TIME},
	{"log-date-format", 0, OPT_REQUIRED, A_DATE_FORMAT},
	{"log-type", 0, OPT_REQUIRED, A_LOG_TYPE},
	{"disable-logs", 0, OPT_NONE, A_DISABLE_LOGS},
	{"log-max-size", 0, OPT_REQUIRED, A_LOG_MAX_SIZE},
	{"log-retain", 0, OPT_REQUIRED, A_LOG_RETAIN},
	{"kill-timeout", 'k', OPT_REQUIRED, A_KILL_TIMEOUT},
	{"kill-signal", 0, OPT_REQUIRED, A_KILL_SIGNAL},
	{"max-restarts", 0, OPT_REQUIRED, A_MAX_RESTARTS},
	{"min-uptime", 0, OPT_REQUIRED, A_MIN_UPTIME},
	{"restart-delay", 0, OPT_REQUIRED, A_RESTART_DELAY},
	{"exp-backoff-restart-delay", 0, OPT_REQUIRED, A_BACKOFF},
	{"no-autorestart", 0, OPT_NONE, A_NO_AUTORESTART},
	{"no-autostart", 0, OPT_NONE, A_NO_AUTOSTART},
	{"stop-exit-codes", 0, OPT_REQUIRED, A_STOP_CODES},
	{"no-treekill", 0, OPT_NONE, A_NO_TREEKILL},
	{"max-memory-restart", 0, OPT_REQUIRED, A_MAX_MEMORY},
	{"cron-restart", 'c', OPT_REQUIRED, A_CRON},
	{"cron", 0, OPT_REQUIRED, A_CRON},
	{"watch", 0, OPT_INLINE, A_WATCH},
	{"ignore-watch", 0, OPT_REQUIRED, A_IGNORE_WATCH},
	{"watch-delay", 0, OPT_REQUIRED, A_WATCH_DELAY},
	{"ext", 0, OPT_REQUIRED, A_EXT},
	{"port", 0, OPT_REQUIRED, A_PORT},
	{"listen", 0, OPT_REQUIRED, A_LISTEN},
	{"lb", 0, OPT_REQUIRED, A_LB},
	{"wait-ready", 0, OPT_NONE, A_WAIT_READY},
	{"listen-timeout", 0, OPT_REQUIRED, A_LISTEN_TIMEOUT},
	{"shutdown-with-message", 0, OPT_NONE, A_SHUTDOWN_MSG},
	{"filter-env", 0, OPT_OPTIONAL, A_FILTER_ENV},
	/* PM2's, about its own runtime and hosted service (Keymetrics, source maps,
	 * tracing, git metadata), or about startup: accepted, nothing to do here. */
	{"no-automation", 0, OPT_NONE, A_NOOP},
	{"no-pmx", 0, OPT_NONE, A_NOOP},
	{"no-vizion", 0, OPT_NONE, A_NOOP},
	{"source-map-support", 0, OPT_NONE, A_NOOP},
	{"disable-source-map-support", 0, OPT_NONE, A_NOOP},
	{"trace", 0, OPT_NONE, A_NOOP},
	{"disable-trace", 0, OPT_NONE, A_NOOP},
	{"v8", 0, OPT_NONE, A_NOOP},
	{"event-loop-inspector", 0, OPT_NONE, A_NOOP},
	{"deep-monitoring", 0, OPT_NONE, A_NOOP},
	{"hp", 0, OPT_REQUIRED, A_NOOP},
	{"wait-ip", 0, OPT_NONE, A_NOOP},
	{"service-name", 0, OPT_REQUIRED, A_NOOP},
	{0},
};


static int64_t duration(const char *opt, const char *v)
{
	int64_t ms;
	if (!parse_duration_ms(v, &ms))
		die_usage("--%s: expected a duration (1500, 10s, 5m, 1h), got '%s'", opt, v);
	return ms;
}

static long long number(const char *opt, const char *v, long long min, long long max)
{
	long long n;
	if (!parse_int(v, min, max, &n))
		die_usage("--%s: expected a number from %lld to %lld, got '%s'", opt, min, max, v);
	return n;
}

static int64_t size_of(const char *opt, const char *v)
{
	int64_t size;
	if (!parse_size(v, &size) || size <= 0)
		die_usage("--%s: expected a size (1024, 10K, 200M, 1G), got '%s'", opt, v);
	return size;
}

static bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == 0;
}

static void list_of(struct buf *b, const char *key, const char *v)
{
	json_key(b, key);
	json_open(b, '[');
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ", ");
		if (n)
			json_strn(b, p, n);
		p += n + (p[n] != 0);
	}
	json_close(b, ']');
}

/* A path on the command line is relative to where the command runs, not to --cwd. */
static void path_option(struct buf *b, const char *key, const char *v)
{
	char cwd[PATH_MAX];
	if (v[0] == '/' || !strcmp(v, "NULL") || !getcwd(cwd, sizeof cwd)) {
		json_kstr(b, key, v);
		return;
	}
	char *abs = xasprintf("%s/%s", cwd, v);
	json_kstr(b, key, abs);
	free(abs);
}

static void user_option(struct buf *b, bool user, const char *v)
{
	long long n;
	if (user && !getpwnam(v) && !(parse_int(v, 0, 0x7fffffff, &n)))
		die_usage("--uid: no such user: %s", v);
	if (!user && !getgrnam(v) && !parse_int(v, 0, 0x7fffffff, &n))
		die_usage("--gid: no such group: %s", v);
	if (geteuid() != 0)
		die_usage("--uid/--gid: only root can run apps as another user");
	json_kstr(b, user ? "uid" : "gid", v);
}

/* --stop-exit-codes takes "0 3", "0,3", or codes as separate words after it. */
static void stop_codes(struct buf *b, struct optstate *s, const char *v)
{
	json_key(b, "stop_exit_codes");
	json_open(b, '[');
	int count = 0;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ", ");
		char code[16];
		snprintf(code, sizeof code, "%.*s", (int)(n < 15 ? n : 15), p);
		if (n)
			json_int(b, number("stop-exit-codes", code, 0, 255)), count++;
		p += n + (p[n] != 0);
	}
	while (s->i < s->argc && all_digits(s->argv[s->i]))
		json_int(b, number("stop-exit-codes", s->argv[s->i++], 0, 255)), count++;
	if (count > 16)
		die_usage("--stop-exit-codes: at most 16 codes");
	json_close(b, ']');
}

void appopts_begin(struct appopts *a)
{
	memset(a, 0, sizeof *a);
	json_open(&a->over, '{');
}

void appopts_end(struct appopts *a)
{
	if (a->filter.len)
		list_of(&a->over, "filter_env", a->filter.data);
	buf_free(&a->filter);
	json_close(&a->over, '}');
}

static void take_name(struct appopts *a, const char *v)
{
	const char *bad = app_name_problem(v);
	if (bad && strstr(bad, "control"))   /* not echoed: one line */
		die_usage("--name: %s", bad);
	if (bad)
		die_usage("--name: '%s' %s", v, bad);
	json_kstr(&a->over, "name", v);
	a->has_name = true;
}

static void take_other(struct appopts *a, struct optstate *s, int id, const char *v)
{
	struct buf *b = &a->over;
	struct cron c;
	char why[160];
	switch (id) {
	case A_NAMESPACE: json_kstr(b, "namespace", v); break;
	case A_CWD: {
		struct stat sb;
		if (stat(v, &sb) < 0 || !S_ISDIR(sb.st_mode))
			die("--cwd %s: not a directory", v);
		json_kstr(b, "cwd", v);
		break;
	}
	case A_INSTANCES:
		if (strcmp(v, "max") != 0)
			number("instances", v, -4096, 4096);
		json_kstr(b, "instances", v);
		a->instances = true;
		break;
	case A_FORK: json_kstr(b, "exec_mode", "fork"); break;
	case A_INTERP: json_kstr(b, "exec_interpreter", v); break;
	case A_INTERP_ARGS:
		json_key(b, "interpreter_args");
		if (!strcmp(v, "null"))
			json_null(b);   /* PM2's way to remove them */
		else
			json_str(b, v);
		break;
	case A_UID: user_option(b, true, v); break;
	case A_GID: user_option(b, false, v); break;
	case A_PID: path_option(b, "pid_file", v); break;
	case A_OUT: path_option(b, "out_file", v); break;
	case A_ERR: path_option(b, "error_file", v); break;
	case A_LOG:
		if (v)
			path_option(b, "log_file", v);
		else
			json_kbool(b, "log_file", true);
		break;
	case A_MERGE_LOGS: json_kbool(b, "merge_logs", true); break;
	case A_TIME: json_kbool(b, "time", true); break;
	case A_DATE_FORMAT: json_kstr(b, "log_date_format", v); break;
	case A_LOG_TYPE:
		if (strcmp(v, "json") != 0 && strcmp(v, "raw") != 0)
			die_usage("--log-type: expected json or raw, got '%s'", v);
		json_kstr(b, "log_type", v);
		break;
	case A_DISABLE_LOGS: json_kbool(b, "disable_logs", true); break;
	case A_LOG_MAX_SIZE: json_kint(b, "log_max_size", size_of("log-max-size", v)); break;
	case A_LOG_RETAIN: json_kint(b, "log_retain", number("log-retain", v, 0, 100000)); break;
	case A_KILL_TIMEOUT: json_kint(b, "kill_timeout", duration("kill-timeout", v)); break;
	case A_KILL_SIGNAL:
		if (signal_from_name(v) <= 0)
			die_usage("--kill-signal: unknown signal '%s'", v);
		json_kstr(b, "kill_signal", v);
		break;
	case A_MAX_RESTARTS: json_kint(b, "max_restarts", number("max-restarts", v, 0, 1 << 30)); break;
	case A_MIN_UPTIME: json_kint(b, "min_uptime", duration("min-uptime", v)); break;
	case A_RESTART_DELAY: json_kint(b, "restart_delay", duration("restart-delay", v)); break;
	case A_BACKOFF: json_kint(b, "exp_backoff_restart_delay", duration("exp-backoff-restart-delay", v)); break;
	case A_NO_AUTORESTART: json_kbool(b, "autorestart", false); break;
	case A_NO_AUTOSTART: json_kbool(b, "autostart", false); break;
	case A_STOP_CODES: stop_codes(b, s, v); break;
	case A_NO_TREEKILL: json_kbool(b, "treekill", false); break;
	case A_MAX_MEMORY: json_kint(b, "max_memory_restart", size_of("max-memory-restart", v)); break;
	case A_CRON:
		if (!cron_parse(v, &c, why, sizeof why))
			die_usage("--cron-restart: %s", why);
		json_kstr(b, "cron_restart", v);
		break;
	case A_WATCH:
		if (v)
			list_of(b, "watch", v);
		else
			json_kbool(b, "watch", true);
		break;
	case A_IGNORE_WATCH: list_of(b, "ignore_watch", v); break;
	case A_WATCH_DELAY: json_kint(b, "watch_delay", duration("watch-delay", v)); break;
	case A_EXT:
		warn("--ext %s: not supported: every file under the watched paths counts", v);
		break;
	case A_PORT: json_kint(b, "port", number("port", v, 1, 65535)); break;
	case A_LISTEN: json_kstr(b, "listen", v); break;
	case A_LB:
		if (strcmp(v, "fd") != 0 && strcmp(v, "proxy") != 0)
			die_usage("--lb: expected fd or proxy, got '%s'", v);
		json_kstr(b, "lb", v);
		break;
	case A_WAIT_READY: json_kbool(b, "wait_ready", true); break;
	case A_LISTEN_TIMEOUT: json_kint(b, "listen_timeout", duration("listen-timeout", v)); break;
	case A_SHUTDOWN_MSG: json_kbool(b, "shutdown_with_message", true); break;
	case A_FILTER_ENV:
		/* PM2 collects them; a bare --filter-env filters nothing there (its value is
		 * the word "true"), unlike filter_env: true in a file. */
		if (v) {
			if (a->filter.len)
				buf_putc(&a->filter, ',');
			buf_puts(&a->filter, v);
		}
		break;
	}
}

bool appopts_take(struct appopts *a, struct optstate *s, int id, const char *v)
{
	if (id < APPOPT_FIRST)
		return false;
	if (id == A_NOOP)
		return true;
	if (id == A_NAME)
		take_name(a, v);
	else
		take_other(a, s, id, v);
	a->count++;
	return true;
}

bool appopts_set(const struct appopts *a, struct buf *req)
{
	if (!a->count)
		return false;
	char cwd[PATH_MAX], err[512];
	if (!getcwd(cwd, sizeof cwd))
		die("getcwd: %s", strerror(errno));
	struct jdoc od;
	if (!json_parse(&od, a->over.data, a->over.len))
		die("options: %s", od.err);
	struct decl_opts o = {.base_dir = cwd};
	json_key(req, "set");
	json_open(req, '{');
	if (!decl_changes(&od, 0, &o, req, err, sizeof err))
		die_usage("%s", err);
	json_close(req, '}');
	json_free(&od);
	return true;
}
