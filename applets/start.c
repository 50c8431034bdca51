/* start, startOrRestart, startOrReload: apps from a script, binary or command string,
 * or from a declaration file, checked here whole (a missing script, interpreter or a
 * bad key is an error before anything is registered) and handed to the daemon. The
 * command line's options become PM2 keys and go through the same checks as a file's,
 * over each app of the file. */
#include "applets/applet.h"
#include "client.h"
#include "cron.h"
#include "daemon.h"
#include "decl.h"
#include "ecosystem.h"
#include "opt.h"
#include "table.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//applet: start start_main start_help - start apps: a script, binary, "command", or a declaration file
//applet: startOrGracefulReload start_or_reload_main start_help a startOrRestart
//applet: startOrReload start_or_reload_main start_help a startOrRestart
//applet: startOrRestart start_or_restart_main start_help - start the apps of a file, restart (or reload) those running

const char start_help[] =
	"usage: tend start SCRIPT|BINARY|\"COMMAND\" [OPTIONS] [-- ARGS...]\n"
	"       tend start [FILE|-] [--only A,B] [--env NAME] [OPTIONS]\n"
	"       tend startOrRestart FILE    (also startOrReload, startOrGracefulReload)\n"
	"\n"
	"Start an app and keep it alive. The interpreter follows the extension: .js .mjs\n"
	".cjs node, .py python3, .sh bash, .rb ruby, .php php, .pl perl, .coffee coffee;\n"
	"an executable runs directly; a string with spaces runs under sh -c. Starting a\n"
	"name that exists and is stopped restarts it. Returns once every instance runs.\n"
	"\n"
	"FILE declares apps (see tend-ecosystem(5)): *.json (comments and trailing commas\n"
	"allowed), *.config.js evaluated by node, a Procfile, or - for JSON on stdin.\n"
	"Without arguments: ./ecosystem.json, then ./ecosystem.config.js. Apps of the file\n"
	"that already run are left alone; startOrRestart restarts them with the file's\n"
	"declaration instead, startOrReload reloads them with it (rolling, as reload).\n"
	"Options given here override every app's keys.\n"
	"\n"
	"  -n, --name NAME           app name (default: the script's base name)\n"
	"      --namespace NS        group apps; a namespace is a valid target\n"
	"      --cwd DIR             working directory (default: the current one)\n"
	"  -i, --instances N         N instances in cluster mode; max or 0 = CPUs, -1 = CPUs - 1\n"
	"  -x, --fork                fork mode (the default; with -i: N separate instances)\n"
	"      --interpreter X       run the script with X; none = execute it directly\n"
	"      --interpreter-args A  arguments for the interpreter (also --node-args)\n"
	"      --uid USER --gid GROUP  run as this user/group (root only)\n"
	"  -p, --pid FILE            pid file (default: $TEND_HOME/pids/NAME-ID.pid)\n"
	"  -o, --output FILE         stdout log file   -e, --error FILE  stderr log file\n"
	"  -l, --log FILE            both streams, also combined in FILE (/dev/null: none)\n"
	"      --merge-logs          instances share one set of log files\n"
	"      --time                prefix each line with its time (ISO-8601)\n"
	"      --log-date-format F   ... in this format (dayjs tokens: YYYY-MM-DD HH:mm:ss)\n"
	"      --log-type json       one JSON record per line\n"
	"      --log-max-size SIZE   rotate a log file past SIZE (10M; $TEND_LOG_MAX_SIZE)\n"
	"      --log-retain N        rotated files kept (10; $TEND_LOG_RETAIN)\n"
	"  -k, --kill-timeout MS     SIGKILL this long after the stop signal (1600)\n"
	"      --kill-signal SIG     stop signal (SIGINT, or $TEND_KILL_SIGNAL)\n"
	"      --max-restarts N      unstable restarts before errored (16)\n"
	"      --min-uptime TIME     a run shorter than this is unstable (1000; 10s, 5m, 1h)\n"
	"      --restart-delay TIME  wait before each automatic restart\n"
	"      --exp-backoff-restart-delay TIME  growing wait (x1.5, at most 15s)\n"
	"      --no-autorestart      do not restart when it exits\n"
	"      --stop-exit-codes N.. exit codes that mean \"do not restart\"\n"
	"      --no-treekill         signal the main process only, not its tree\n"
	"      --max-memory-restart SIZE  restart when the tree's RSS passes SIZE (200M)\n"
	"  -c, --cron-restart EXPR   restart at each match of a cron expression (also --cron)\n"
	"      --watch               restart when files under the cwd change\n"
	"      --ignore-watch LIST   globs not to watch (node_modules and .dirs never are)\n"
	"      --watch-delay TIME    wait for changes to settle (1000)\n"
	"      --port N              PORT for the app; in cluster mode (-i) the daemon listens\n"
	"                            on it and hands the socket over (LISTEN_FDS, fd 3)\n"
	"      --listen HOST:PORT    the same on one address ([::1]:8080 for IPv6)\n"
	"      --lb fd|proxy         fd: hand the socket over in fork mode too; proxy: each\n"
	"                            instance listens on a private PORT, the daemon forwards\n"
	"      --wait-ready          ready when the app says so: process.send('ready') or\n"
	"                            sd_notify READY=1 (NOTIFY_SOCKET)\n"
	"      --listen-timeout TIME how long to wait for that (3000)\n"
	"      --shutdown-with-message  stop with the IPC message 'shutdown', not a signal\n"
	"      --env NAME            use the file's env_NAME over env\n"
	"      --only A,B            only these apps of the file\n"
	"  -f, --force               start another copy even if the name runs\n"
	"      --no-daemon           run the supervisor in the foreground (containers)\n"
	"  -s, --silent              print nothing on success\n"
	"  -m, --mini-list           print id, name, status, pid only\n"
	"      --no-color            no colors in the table\n"
	"\n"
	"Exit status: 0 started, 1 failed (spawn failed, already running), 2 bad usage or a\n"
	"bad declaration.\n";

enum {
	O_NAME = 1, O_NAMESPACE, O_CWD, O_INSTANCES, O_FORK, O_INTERP, O_INTERP_ARGS, O_UID, O_GID,
	O_PID, O_OUT, O_ERR, O_KILL_TIMEOUT, O_KILL_SIGNAL, O_MAX_RESTARTS, O_MIN_UPTIME,
	O_RESTART_DELAY, O_BACKOFF, O_NO_AUTORESTART, O_STOP_CODES, O_NO_TREEKILL, O_MAX_MEMORY,
	O_CRON, O_WATCH, O_IGNORE_WATCH, O_WATCH_DELAY, O_PORT, O_ENV, O_ONLY, O_UPDATE_ENV,
	O_FORCE, O_NO_DAEMON, O_SILENT, O_MINI, O_NO_COLOR, O_LOG, O_MERGE_LOGS, O_TIME,
	O_DATE_FORMAT, O_LOG_TYPE, O_LOG_MAX_SIZE, O_LOG_RETAIN, O_LISTEN, O_LB, O_WAIT_READY,
	O_LISTEN_TIMEOUT, O_SHUTDOWN_MSG,
};

static const struct opt options[] = {
	{"name", 'n', OPT_REQUIRED, O_NAME},
	{"namespace", 0, OPT_REQUIRED, O_NAMESPACE},
	{"cwd", 0, OPT_REQUIRED, O_CWD},
	{"instances", 'i', OPT_REQUIRED, O_INSTANCES},
	{"fork", 'x', OPT_NONE, O_FORK},
	{"interpreter", 0, OPT_REQUIRED, O_INTERP},
	{"interpreter-args", 0, OPT_REQUIRED, O_INTERP_ARGS},
	{"node-args", 0, OPT_REQUIRED, O_INTERP_ARGS},
	{"uid", 0, OPT_REQUIRED, O_UID},
	{"gid", 0, OPT_REQUIRED, O_GID},
	{"pid", 'p', OPT_REQUIRED, O_PID},
	{"output", 'o', OPT_REQUIRED, O_OUT},
	{"error", 'e', OPT_REQUIRED, O_ERR},
	{"log", 'l', OPT_REQUIRED, O_LOG},
	{"merge-logs", 0, OPT_NONE, O_MERGE_LOGS},
	{"time", 0, OPT_NONE, O_TIME},
	{"log-date-format", 0, OPT_REQUIRED, O_DATE_FORMAT},
	{"log-type", 0, OPT_REQUIRED, O_LOG_TYPE},
	{"log-max-size", 0, OPT_REQUIRED, O_LOG_MAX_SIZE},
	{"log-retain", 0, OPT_REQUIRED, O_LOG_RETAIN},
	{"kill-timeout", 'k', OPT_REQUIRED, O_KILL_TIMEOUT},
	{"kill-signal", 0, OPT_REQUIRED, O_KILL_SIGNAL},
	{"max-restarts", 0, OPT_REQUIRED, O_MAX_RESTARTS},
	{"min-uptime", 0, OPT_REQUIRED, O_MIN_UPTIME},
	{"restart-delay", 0, OPT_REQUIRED, O_RESTART_DELAY},
	{"exp-backoff-restart-delay", 0, OPT_REQUIRED, O_BACKOFF},
	{"no-autorestart", 0, OPT_NONE, O_NO_AUTORESTART},
	{"stop-exit-codes", 0, OPT_REQUIRED, O_STOP_CODES},
	{"no-treekill", 0, OPT_NONE, O_NO_TREEKILL},
	{"max-memory-restart", 0, OPT_REQUIRED, O_MAX_MEMORY},
	{"cron-restart", 'c', OPT_REQUIRED, O_CRON},
	{"cron", 0, OPT_REQUIRED, O_CRON},
	{"watch", 0, OPT_NONE, O_WATCH},
	{"ignore-watch", 0, OPT_REQUIRED, O_IGNORE_WATCH},
	{"watch-delay", 0, OPT_REQUIRED, O_WATCH_DELAY},
	{"port", 0, OPT_REQUIRED, O_PORT},
	{"listen", 0, OPT_REQUIRED, O_LISTEN},
	{"lb", 0, OPT_REQUIRED, O_LB},
	{"wait-ready", 0, OPT_NONE, O_WAIT_READY},
	{"listen-timeout", 0, OPT_REQUIRED, O_LISTEN_TIMEOUT},
	{"shutdown-with-message", 0, OPT_NONE, O_SHUTDOWN_MSG},
	{"env", 0, OPT_REQUIRED, O_ENV},
	{"only", 0, OPT_REQUIRED, O_ONLY},
	{"update-env", 'a', OPT_NONE, O_UPDATE_ENV},
	{"force", 'f', OPT_NONE, O_FORCE},
	{"no-daemon", 0, OPT_NONE, O_NO_DAEMON},
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

struct start {
	const char *mode;          /* the daemon's "existing": error, skip, restart */
	bool rolling;              /* startOrReload: running apps get a rolling reload */
	const char *target;        /* script, file, or NULL */
	const char *env_name, *only;
	bool force, no_daemon, silent, mini, no_color, has_name;
	bool instances, fork;      /* -i without -x means cluster mode, as with PM2 */
	char **args;
	int nargs;
	struct buf over;           /* the options, as PM2 keys */
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

static void option(struct start *st, struct optstate *s, int id, const char *v)
{
	struct buf *b = &st->over;
	struct cron c;
	char why[160];
	int64_t size;
	switch (id) {
	case O_NAME: {
		const char *bad_name = app_name_problem(v);
		if (bad_name && strstr(bad_name, "control"))   /* not echoed: one line */
			die_usage("--name: %s", bad_name);
		if (bad_name)
			die_usage("--name: '%s' %s", v, bad_name);
		json_kstr(b, "name", v);
		st->has_name = true;
		break;
	}
	case O_NAMESPACE: json_kstr(b, "namespace", v); break;
	case O_CWD: {
		struct stat sb;
		if (stat(v, &sb) < 0 || !S_ISDIR(sb.st_mode))
			die("--cwd %s: not a directory", v);
		json_kstr(b, "cwd", v);
		break;
	}
	case O_INSTANCES:
		if (strcmp(v, "max") != 0)
			number("instances", v, -4096, 4096);
		json_kstr(b, "instances", v);
		st->instances = true;
		break;
	case O_FORK: st->fork = true; break;
	case O_INTERP: json_kstr(b, "exec_interpreter", v); break;
	case O_INTERP_ARGS: json_kstr(b, "interpreter_args", v); break;
	case O_UID: user_option(b, true, v); break;
	case O_GID: user_option(b, false, v); break;
	case O_PID: path_option(b, "pid_file", v); break;
	case O_OUT: path_option(b, "out_file", v); break;
	case O_ERR: path_option(b, "error_file", v); break;
	case O_LOG: path_option(b, "log_file", v); break;
	case O_MERGE_LOGS: json_kbool(b, "merge_logs", true); break;
	case O_TIME: json_kbool(b, "time", true); break;
	case O_DATE_FORMAT: json_kstr(b, "log_date_format", v); break;
	case O_LOG_MAX_SIZE:
		if (!parse_size(v, &size) || size <= 0)
			die_usage("--log-max-size: expected a size (1024, 10K, 200M, 1G), got '%s'", v);
		json_kint(b, "log_max_size", size);
		break;
	case O_LOG_RETAIN: json_kint(b, "log_retain", number("log-retain", v, 0, 100000)); break;
	case O_LOG_TYPE:
		if (strcmp(v, "json") != 0 && strcmp(v, "raw") != 0)
			die_usage("--log-type: expected json or raw, got '%s'", v);
		json_kstr(b, "log_type", v);
		break;
	case O_KILL_TIMEOUT: json_kint(b, "kill_timeout", duration("kill-timeout", v)); break;
	case O_KILL_SIGNAL:
		if (signal_from_name(v) <= 0)
			die_usage("--kill-signal: unknown signal '%s'", v);
		json_kstr(b, "kill_signal", v);
		break;
	case O_MAX_RESTARTS: json_kint(b, "max_restarts", number("max-restarts", v, 0, 1 << 30)); break;
	case O_MIN_UPTIME: json_kint(b, "min_uptime", duration("min-uptime", v)); break;
	case O_RESTART_DELAY: json_kint(b, "restart_delay", duration("restart-delay", v)); break;
	case O_BACKOFF: json_kint(b, "exp_backoff_restart_delay", duration("exp-backoff-restart-delay", v)); break;
	case O_NO_AUTORESTART: json_kbool(b, "autorestart", false); break;
	case O_STOP_CODES: stop_codes(b, s, v); break;
	case O_NO_TREEKILL: json_kbool(b, "treekill", false); break;
	case O_MAX_MEMORY:
		if (!parse_size(v, &size) || size <= 0)
			die_usage("--max-memory-restart: expected a size (1024, 10K, 200M, 1G), got '%s'", v);
		json_kint(b, "max_memory_restart", size);
		break;
	case O_CRON:
		if (!cron_parse(v, &c, why, sizeof why))
			die_usage("--cron-restart: %s", why);
		json_kstr(b, "cron_restart", v);
		break;
	case O_WATCH: json_kbool(b, "watch", true); break;
	case O_IGNORE_WATCH: list_of(b, "ignore_watch", v); break;
	case O_WATCH_DELAY: json_kint(b, "watch_delay", duration("watch-delay", v)); break;
	case O_PORT: json_kint(b, "port", number("port", v, 1, 65535)); break;
	case O_LISTEN: json_kstr(b, "listen", v); break;
	case O_LB:
		if (strcmp(v, "fd") != 0 && strcmp(v, "proxy") != 0)
			die_usage("--lb: expected fd or proxy, got '%s'", v);
		json_kstr(b, "lb", v);
		break;
	case O_WAIT_READY: json_kbool(b, "wait_ready", true); break;
	case O_LISTEN_TIMEOUT: json_kint(b, "listen_timeout", duration("listen-timeout", v)); break;
	case O_SHUTDOWN_MSG: json_kbool(b, "shutdown_with_message", true); break;
	case O_ENV: st->env_name = v; break;
	case O_ONLY: st->only = v; break;
	case O_UPDATE_ENV: break;   /* a file's apps always get the caller's environment */
	case O_FORCE: st->force = true; break;
	case O_NO_DAEMON: st->no_daemon = true; break;
	case O_SILENT: st->silent = true; break;
	case O_MINI: st->mini = true; break;
	case O_NO_COLOR: st->no_color = true; break;
	}
}

static void parse_args(struct start *st, int argc, char **argv)
{
	struct optstate s;
	opt_init(&s, argc, argv);
	json_open(&st->over, '{');
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END)
		option(st, &s, id, s.arg);
	if (s.npos > 1)
		die_usage("unexpected argument '%s' (app arguments go after --)", s.pos[1]);
	st->target = s.npos ? s.pos[0] : NULL;
	st->args = s.rest;
	st->nargs = s.nrest;
	if (st->nargs) {
		json_key(&st->over, "args");
		json_open(&st->over, '[');
		for (int i = 0; i < st->nargs; i++)
			json_bytes(&st->over, st->args[i]);
		json_close(&st->over, ']');
	}
	if (st->fork || st->instances)
		json_kstr(&st->over, "exec_mode", st->fork ? "fork" : "cluster");
	json_close(&st->over, '}');
	opt_free(&s);   /* the strings are argv's */
}

static void request_head(struct buf *req, const struct start *st)
{
	req_begin(req, "start");
	json_kstr(req, "existing", st->mode);
	json_kbool(req, "force", st->force);
	if (st->rolling)
		json_kbool(req, "reload", true);
	json_key(req, "apps");
	json_open(req, '[');
}

/* The apps of a file, each over-laid with the options, into a start request. */
static void file_request(struct buf *req, const struct start *st, const char *file)
{
	request_head(req, st);
	eco_append_apps(req, file, st->only, st->env_name, &st->over, st->has_name);
	json_close(req, ']');
	req_end(req);
}

/* One app from the command line: the script, with the options. */
static void script_request(struct buf *req, const struct start *st)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		die("getcwd: %s", strerror(errno));
	struct buf app = {0};
	json_open(&app, '{');
	json_kstr(&app, "script", st->target);
	json_close(&app, '}');
	struct jdoc ad, od;
	if (!json_parse(&ad, app.data, app.len) || !json_parse(&od, st->over.data, st->over.len))
		die("options: bad JSON");
	request_head(req, st);
	struct decl_opts o = {.base_dir = cwd, .env_name = st->env_name, .shell_env = true};
	char err[512];
	if (!decl_normalize(&ad, 0, &od, 0, &o, req, err, sizeof err))
		die("%s", err);
	json_close(req, ']');
	req_end(req);
	json_free(&ad);
	json_free(&od);
	buf_free(&app);
}

static void show_table(const struct start *st)
{
	if (st->silent)
		return;
	struct table_opts o = {.color = want_color(1, st->no_color), .mini = st->mini};
	table_show(stdout, &o);
}

/* PM2's "start NAME|ID": an app the daemon knows is (re)started as it was declared.
 * Returns -1 when the daemon knows no such app. */
static int start_known(const struct start *st)
{
	struct buf req = {0};
	char *target = (char *)st->target;
	req_begin(&req, "list");
	req_targets(&req, &target, 1);
	json_kbool(&req, "env", false);
	req_end(&req);
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	bool known = rep.ok;
	reply_free(&rep);
	if (!known) {
		buf_free(&req);
		return -1;
	}
	req_begin(&req, "restart");
	req_targets(&req, &target, 1);
	req_end(&req);
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	if (rep.ok)
		show_table(st);
	reply_free(&rep);
	buf_free(&req);
	return rc;
}

static void warn_skipped(const struct reply *rep)
{
	int sk = json_get(&rep->doc, 0, "skipped");
	for (int i = 0, e = sk + 1; sk >= 0 && i < rep->doc.tok[sk].size; i++, e = json_next(&rep->doc, e)) {
		char *name = json_dup(&rep->doc, e);
		warn("%s: already running, left as it is (startOrRestart restarts it)", name ? name : "?");
		free(name);
	}
}

static int run(struct start *st)
{
	const char *file = st->target;
	if (!file) {
		file = eco_default();
		if (!file)
			die_usage("no script given, and no ecosystem.json or ecosystem.config.js here "
			          "(usage: tend start SCRIPT|FILE [OPTIONS])");
	}
	bool is_file = eco_is_file(file);
	if (is_file && !strcmp(st->mode, "error"))
		st->mode = "skip";   /* a file's running apps are left alone */
	struct stat sb;
	if (!is_file && !st->no_daemon && stat(file, &sb) < 0 && !strpbrk(file, " /")) {
		int rc = start_known(st);
		if (rc >= 0)
			return rc;
	}
	if (!is_file && (st->only || st->env_name))
		die_usage("--only/--env: need a declaration file");
	if (!is_file && strcmp(st->mode, "error") != 0)
		die_usage("%s: expected a declaration file (*.json, *.config.js, Procfile)", file);
	struct buf req = {0};
	if (is_file)
		file_request(&req, st, file);
	else
		script_request(&req, st);
	if (st->no_daemon) {
		int rc = daemon_run(true, req.data, req.len - 1);
		buf_free(&req);
		return rc;
	}
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	if (rep.ok) {
		warn_skipped(&rep);
		show_table(st);
	}
	reply_free(&rep);
	buf_free(&req);
	return rc;
}

static int start_as(const char *mode, bool rolling, int argc, char **argv)
{
	struct start st = {.mode = mode, .rolling = rolling};
	parse_args(&st, argc, argv);
	int rc = run(&st);
	buf_free(&st.over);
	return rc;
}

int start_main(int argc, char **argv) { return start_as("error", false, argc, argv); }
int start_or_restart_main(int argc, char **argv) { return start_as("restart", false, argc, argv); }
int start_or_reload_main(int argc, char **argv) { return start_as("restart", true, argc, argv); }
