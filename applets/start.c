/* start: turn a script, binary or command string and PM2's options into an app
 * declaration, check it here (missing script or interpreter is an error before
 * anything is registered), and hand it to the daemon. */
#include "applets/applet.h"
#include "client.h"
#include "daemon.h"
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

//applet: start start_main start_help - start an app (script, binary or "command") and keep it alive

const char start_help[] =
	"usage: tend start SCRIPT|BINARY|\"COMMAND\" [OPTIONS] [-- ARGS...]\n"
	"\n"
	"Start an app and keep it alive. The interpreter follows the extension: .js .mjs\n"
	".cjs node, .py python3, .sh bash, .rb ruby, .php php, .pl perl, .coffee coffee;\n"
	"an executable runs directly; a string with spaces runs under sh -c. Starting a\n"
	"name that exists and is stopped restarts it. Returns once every instance runs.\n"
	"\n"
	"  -n, --name NAME           app name (default: the script's base name)\n"
	"      --namespace NS        group apps; a namespace is a valid target\n"
	"      --cwd DIR             working directory (default: the current one)\n"
	"  -i, --instances N         N instances; max or 0 = CPUs, -1 = CPUs - 1\n"
	"  -x, --fork                fork mode (the default)\n"
	"      --interpreter X       run the script with X; none = execute it directly\n"
	"      --interpreter-args A  arguments for the interpreter (also --node-args)\n"
	"      --uid USER --gid GROUP  run as this user/group (root only)\n"
	"  -p, --pid FILE            pid file (default: $TEND_HOME/pids/NAME-ID.pid)\n"
	"  -o, --output FILE         stdout log file   -e, --error FILE  stderr log file\n"
	"  -k, --kill-timeout MS     SIGKILL this long after the stop signal (1600)\n"
	"      --kill-signal SIG     stop signal (SIGINT, or $TEND_KILL_SIGNAL)\n"
	"      --max-restarts N      unstable restarts before errored (16)\n"
	"      --min-uptime TIME     a run shorter than this is unstable (1000; 10s, 5m, 1h)\n"
	"      --restart-delay TIME  wait before each automatic restart\n"
	"      --exp-backoff-restart-delay TIME  growing wait (x1.5, at most 15s)\n"
	"      --no-autorestart      do not restart when it exits\n"
	"      --stop-exit-codes N.. exit codes that mean \"do not restart\"\n"
	"      --no-treekill         signal the main process only, not its tree\n"
	"  -f, --force               start another copy even if the name runs\n"
	"      --no-daemon           run the supervisor in the foreground (containers)\n"
	"  -s, --silent              print nothing on success\n"
	"  -m, --mini-list           print id, name, status, pid only\n"
	"      --no-color            no colors in the table\n"
	"\n"
	"Exit status: 0 started, 1 failed (spawn failed, already running), 2 bad usage.\n";

enum {
	O_NAME = 1, O_NAMESPACE, O_CWD, O_INSTANCES, O_FORK, O_INTERP, O_INTERP_ARGS, O_UID, O_GID,
	O_PID, O_OUT, O_ERR, O_KILL_TIMEOUT, O_KILL_SIGNAL, O_MAX_RESTARTS, O_MIN_UPTIME,
	O_RESTART_DELAY, O_BACKOFF, O_NO_AUTORESTART, O_STOP_CODES, O_NO_TREEKILL, O_FORCE,
	O_NO_DAEMON, O_SILENT, O_MINI, O_NO_COLOR,
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
	{"kill-timeout", 'k', OPT_REQUIRED, O_KILL_TIMEOUT},
	{"kill-signal", 0, OPT_REQUIRED, O_KILL_SIGNAL},
	{"max-restarts", 0, OPT_REQUIRED, O_MAX_RESTARTS},
	{"min-uptime", 0, OPT_REQUIRED, O_MIN_UPTIME},
	{"restart-delay", 0, OPT_REQUIRED, O_RESTART_DELAY},
	{"exp-backoff-restart-delay", 0, OPT_REQUIRED, O_BACKOFF},
	{"no-autorestart", 0, OPT_NONE, O_NO_AUTORESTART},
	{"stop-exit-codes", 0, OPT_REQUIRED, O_STOP_CODES},
	{"no-treekill", 0, OPT_NONE, O_NO_TREEKILL},
	{"force", 'f', OPT_NONE, O_FORCE},
	{"no-daemon", 0, OPT_NONE, O_NO_DAEMON},
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

struct start {
	const char *script, *name, *namespace, *cwd, *interpreter, *interp_args;
	const char *pid_file, *out_file, *err_file, *kill_signal;
	long long instances, kill_timeout, max_restarts, uid, gid;
	int64_t min_uptime, restart_delay, backoff;
	bool has_min_uptime, no_autorestart, no_treekill, force, no_daemon, silent, mini, no_color;
	int stop_codes[16], nstop;
	char **args;
	int nargs;
	char *user;
};

static const struct {
	const char *ext, *interpreter;
} by_extension[] = {
	{".js", "node"}, {".mjs", "node"}, {".cjs", "node"}, {".py", "python3"}, {".sh", "bash"},
	{".rb", "ruby"}, {".php", "php"}, {".pl", "perl"}, {".coffee", "coffee"},
};

/* An executable named in PATH (or a path), resolved to an absolute path. */
static char *which(const char *name)
{
	if (strchr(name, '/')) {
		char *abs = realpath(name, NULL);
		if (abs && access(abs, X_OK) == 0)
			return abs;
		free(abs);
		return NULL;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char full[PATH_MAX];
		snprintf(full, sizeof full, "%.*s/%s", (int)(n ? n : 1), n ? p : ".", name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return n && full[0] == '/' ? xstrdup(full) : realpath(full, NULL);
		p += n + (p[n] == ':');
	}
	return NULL;
}

static const char *interpreter_for(const char *script)
{
	size_t n = strlen(script);
	for (size_t i = 0; i < ARRAY_LEN(by_extension); i++) {
		size_t e = strlen(by_extension[i].ext);
		if (n > e && strcmp(script + n - e, by_extension[i].ext) == 0)
			return by_extension[i].interpreter;
	}
	return NULL;
}

static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strcspn(b, " ");
	char *name = xstrndup(b, n);
	char *dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = 0;
	return name;
}

static long long cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static long long parse_instances(const char *v)
{
	long long n;
	if (!strcmp(v, "max") || !strcmp(v, "0"))
		return cpus();
	if (!parse_int(v, -4096, 4096, &n))
		die_usage("--instances: expected a number, max, 0 or -1, got '%s'", v);
	if (n < 0)
		n = cpus() + n;
	return n < 1 ? 1 : n;
}

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

static void add_stop_code(struct start *st, const char *v)
{
	if (st->nstop >= (int)ARRAY_LEN(st->stop_codes))
		die_usage("--stop-exit-codes: at most 16 codes");
	st->stop_codes[st->nstop++] = (int)number("stop-exit-codes", v, 0, 255);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void parse_args(struct start *st, int argc, char **argv)
{
	struct optstate s;
	opt_init(&s, argc, argv);
	int id;
	st->instances = 1;
	st->kill_timeout = -1;
	st->max_restarts = -1;
	st->uid = st->gid = -1;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		const char *v = s.arg;
		switch (id) {
		case O_NAME: st->name = v; break;
		case O_NAMESPACE: st->namespace = v; break;
		case O_CWD: st->cwd = v; break;
		case O_INSTANCES: st->instances = parse_instances(v); break;
		case O_FORK: break;
		case O_INTERP: st->interpreter = v; break;
		case O_INTERP_ARGS: st->interp_args = v; break;
		case O_UID: {
			struct passwd *pw = getpwnam(v);
			long long n;
			if (!pw && parse_int(v, 0, 0x7fffffff, &n))
				pw = getpwuid((uid_t)n), st->uid = n;
			if (pw)
				st->uid = pw->pw_uid, st->user = xstrdup(pw->pw_name);
			else if (st->uid < 0)
				die_usage("--uid: no such user: %s", v);
			if (st->gid < 0 && pw)
				st->gid = pw->pw_gid;
			break;
		}
		case O_GID: {
			struct group *gr = getgrnam(v);
			long long n;
			if (gr)
				st->gid = gr->gr_gid;
			else if (parse_int(v, 0, 0x7fffffff, &n))
				st->gid = n;
			else
				die_usage("--gid: no such group: %s", v);
			break;
		}
		case O_PID: st->pid_file = v; break;
		case O_OUT: st->out_file = v; break;
		case O_ERR: st->err_file = v; break;
		case O_KILL_TIMEOUT: st->kill_timeout = duration("kill-timeout", v); break;
		case O_KILL_SIGNAL:
			if (signal_from_name(v) <= 0)
				die_usage("--kill-signal: unknown signal '%s'", v);
			st->kill_signal = v;
			break;
		case O_MAX_RESTARTS: st->max_restarts = number("max-restarts", v, 0, 1 << 30); break;
		case O_MIN_UPTIME: st->min_uptime = duration("min-uptime", v); st->has_min_uptime = true; break;
		case O_RESTART_DELAY: st->restart_delay = duration("restart-delay", v); break;
		case O_BACKOFF: st->backoff = duration("exp-backoff-restart-delay", v); break;
		case O_NO_AUTORESTART: st->no_autorestart = true; break;
		case O_STOP_CODES:
			/* PM2 takes a list: "--stop-exit-codes 0 3", also "0,3". */
			for (char *c = (char *)v; *c;) {
				size_t n = strcspn(c, ",");
				char save = c[n];
				c[n] = 0;
				add_stop_code(st, c);
				c[n] = save;
				c += n + (save == ',');
			}
			while (s.i < s.argc && all_digits(s.argv[s.i]))
				add_stop_code(st, s.argv[s.i++]);
			break;
		case O_NO_TREEKILL: st->no_treekill = true; break;
		case O_FORCE: st->force = true; break;
		case O_NO_DAEMON: st->no_daemon = true; break;
		case O_SILENT: st->silent = true; break;
		case O_MINI: st->mini = true; break;
		case O_NO_COLOR: st->no_color = true; break;
		}
	}
	if (s.npos == 0)
		die_usage("no script given (usage: tend start SCRIPT [OPTIONS])");
	if (s.npos > 1)
		die_usage("unexpected argument '%s' (app arguments go after --)", s.pos[1]);
	st->script = s.pos[0];
	st->args = s.rest;
	st->nargs = s.nrest;
	if ((st->uid >= 0 || st->gid >= 0) && geteuid() != 0)
		die_usage("--uid/--gid: only root can run apps as another user");
	if (st->name && (!*st->name || strchr(st->name, '/') || strlen(st->name) > 200))
		die_usage("--name: must be 1 to 200 characters, without '/'");
	if (st->name && all_digits(st->name))
		die_usage("--name: '%s' would be taken for an id; use a name with a letter", st->name);
	opt_free(&s);
}

static void json_words(struct buf *b, const char *key, const char *words)
{
	json_key(b, key);
	json_open(b, '[');
	for (const char *p = words; p && *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n)
			json_strn(b, p, n);
		p += n;
	}
	json_close(b, ']');
}

static char *absolute(const char *path, const char *base)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", base, path);
}

/* Decide how to run the script; fill script/interpreter/shell in the request. */
static void resolve_program(struct buf *b, struct start *st, const char *cwd, const char **interp_name)
{
	char *path = absolute(st->script, cwd);
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if (!exists && strchr(st->script, ' ') && !st->interpreter) {
		/* A command string: the shell finds the program. */
		json_kstr(b, "script", st->script);
		json_kbool(b, "shell", true);
		*interp_name = "sh";
		free(path);
		return;
	}
	if (!exists && !strchr(st->script, '/')) {
		char *found = which(st->script);
		if (found) {
			free(path);
			path = found;
			exists = stat(path, &sb) == 0;
		}
	}
	if (!exists)
		die("%s: %s", st->script, strerror(errno == ENOTDIR ? ENOTDIR : ENOENT));
	if (S_ISDIR(sb.st_mode))
		die("%s: is a directory", st->script);
	char *real = realpath(path, NULL);
	json_kstr(b, "script", real ? real : path);
	const char *interp = st->interpreter;
	if (interp && !strcmp(interp, "none"))
		interp = NULL;
	else if (!interp)
		interp = interpreter_for(path);
	if (!interp && access(path, X_OK) != 0)
		die("%s: not executable, and no interpreter for its extension (use --interpreter)",
		    st->script);
	if (interp) {
		char *ipath = which(interp);
		if (!ipath)
			die("%s: interpreter %s not found in PATH", st->script, interp);
		json_kstr(b, "exec_interpreter", ipath);
		free(ipath);
		*interp_name = interp;
	}
	free(real);
	free(path);
}

extern char **environ;

static void add_env(struct buf *b, const char *interp)
{
	json_key(b, "env");
	json_open(b, '{');
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e || !strncmp(*e, "TEND_READY_FD=", 14))
			continue;
		if (interp && strstr(interp, "python") && !strncmp(*e, "PYTHONUNBUFFERED=", 17))
			continue;
		json_keyn(b, *e, (size_t)(eq - *e));
		json_bytes(b, eq + 1);
	}
	/* Python buffers stdout when it is a pipe; logs would arrive in lumps. */
	if (interp && strstr(interp, "python"))
		json_kstr(b, "PYTHONUNBUFFERED", "1");
	json_close(b, '}');
}

static void build_request(struct buf *b, struct start *st)
{
	char cwdbuf[PATH_MAX];
	if (!getcwd(cwdbuf, sizeof cwdbuf))
		die("getcwd: %s", strerror(errno));
	char *cwd = st->cwd ? absolute(st->cwd, cwdbuf) : xstrdup(cwdbuf);
	struct stat sb;
	if (stat(cwd, &sb) < 0 || !S_ISDIR(sb.st_mode))
		die("--cwd %s: not a directory", st->cwd);
	req_begin(b, "start");
	json_kbool(b, "force", st->force);
	json_key(b, "apps");
	json_open(b, '[');
	json_open(b, '{');
	const char *interp = NULL;
	resolve_program(b, st, st->cwd ? cwd : cwdbuf, &interp);
	char *name = st->name ? xstrdup(st->name) : base_name(st->script);
	json_kstr(b, "name", name);
	if (st->namespace)
		json_kstr(b, "namespace", st->namespace);
	json_kstr(b, "cwd", cwd);
	json_kint(b, "instances", st->instances);
	json_kstr(b, "exec_mode", "fork");
	if (st->interp_args)
		json_words(b, "interpreter_args", st->interp_args);
	json_key(b, "args");
	json_open(b, '[');
	for (int i = 0; i < st->nargs; i++)
		json_bytes(b, st->args[i]);
	json_close(b, ']');
	add_env(b, interp);
	const char *files[][2] = {{"pid_file", st->pid_file}, {"out_file", st->out_file},
	                          {"error_file", st->err_file}};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		if (!files[i][1])
			continue;
		char *abs = absolute(files[i][1], cwdbuf);
		json_kstr(b, files[i][0], abs);
		free(abs);
	}
	if (st->kill_timeout >= 0)
		json_kint(b, "kill_timeout", st->kill_timeout);
	if (st->kill_signal)
		json_kstr(b, "kill_signal", st->kill_signal);
	if (st->max_restarts >= 0)
		json_kint(b, "max_restarts", st->max_restarts);
	if (st->has_min_uptime)
		json_kint(b, "min_uptime", st->min_uptime);
	if (st->restart_delay)
		json_kint(b, "restart_delay", st->restart_delay);
	if (st->backoff)
		json_kint(b, "exp_backoff_restart_delay", st->backoff);
	if (st->no_autorestart)
		json_kbool(b, "autorestart", false);
	if (st->no_treekill)
		json_kbool(b, "treekill", false);
	if (st->nstop) {
		json_key(b, "stop_exit_codes");
		json_open(b, '[');
		for (int i = 0; i < st->nstop; i++)
			json_int(b, st->stop_codes[i]);
		json_close(b, ']');
	}
	if (st->uid >= 0)
		json_kint(b, "uid", st->uid);
	if (st->gid >= 0)
		json_kint(b, "gid", st->gid);
	if (st->user) {
		json_kstr(b, "username", st->user);
	} else {
		struct passwd *pw = getpwuid(geteuid());
		if (pw)
			json_kstr(b, "username", pw->pw_name);
	}
	json_close(b, '}');
	json_close(b, ']');
	req_end(b);
	free(name);
	free(cwd);
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
	char *target = (char *)st->script;
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

int start_main(int argc, char **argv)
{
	struct start st = {0};
	parse_args(&st, argc, argv);
	struct stat sb;
	if (!st.no_daemon && stat(st.script, &sb) < 0 && !strpbrk(st.script, " /")) {
		int rc = start_known(&st);
		if (rc >= 0)
			return rc;
	}
	struct buf req = {0};
	build_request(&req, &st);
	if (st.no_daemon) {
		int rc = daemon_run(true, req.data, req.len - 1);
		buf_free(&req);
		free(st.user);
		return rc;
	}
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	if (rep.ok)
		show_table(&st);
	reply_free(&rep);
	buf_free(&req);
	free(st.user);
	return rc;
}
