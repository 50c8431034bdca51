/* start, startOrRestart, startOrReload: apps from a script, binary or command string,
 * or from a declaration file, checked here whole (a missing script, interpreter or a
 * bad key is an error before anything is registered) and handed to the daemon. The
 * command line's options become PM2 keys and go through the same checks as a file's,
 * over each app of the file. */
#include "applets/applet.h"
#include "client/appopts.h"
#include "client/client.h"
#include "daemon/daemon.h"
#include "client/decl.h"
#include "client/ecosystem.h"
#include "lib/opt.h"
#include "lib/safefile.h"
#include "client/table.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//applet: start start_main start_help s start apps: a script, binary, "command", or a declaration file
//applet: startOrGracefulReload start_or_reload_main start_help a startOrRestart
//applet: startOrReload start_or_reload_main start_help a startOrRestart
//applet: startOrRestart start_or_restart_main start_help s start the apps of a file, restart (or reload) those running

const char start_help[] =
	"usage: tend start SCRIPT|BINARY|\"COMMAND\"... [OPTIONS] [-- ARGS...]\n"
	"       tend start [FILE|-] [--only A,B] [--env NAME] [OPTIONS]\n"
	"       tend start NAME|ID [OPTIONS]\n"
	"       tend startOrRestart FILE    (also startOrReload, startOrGracefulReload)\n"
	"\n"
	"Start an app and keep it alive. The interpreter follows the extension: .js .mjs\n"
	".cjs node, .py python3, .sh bash, .rb ruby, .php php, .pl perl, .coffee coffee;\n"
	"an executable runs directly; a string with spaces runs under sh -c. Several\n"
	"scripts start one app each, with the same options and ARGS. A NAME or ID the daemon\n"
	"knows restarts those apps with the options given (--node-args=null removes them).\n"
	"Returns once every instance runs (node apps: once their main module is loaded).\n"
	"\n"
	"FILE declares apps (see tend-ecosystem(5)): *.json (JSON with comments; other\n"
	"JavaScript expressions are evaluated by node, as PM2 reads them), *.config.js\n"
	"evaluated by node, a Procfile, or - for JSON on stdin. Without arguments:\n"
	"./ecosystem.json, then ./ecosystem.config.js. Apps of the file that already run\n"
	"are restarted with the file's declaration (startOrReload: reloaded, rolling).\n"
	"Options given here override every app's keys. Keys tend does not know are\n"
	"ignored with a warning (--strict, or TEND_STRICT=1: an error).\n"
	"\n"
	APPOPT_HELP
	"      --env NAME            use the file's env_NAME over env\n"
	"      --only A,B            only these apps of the file\n"
	"      --strict              unknown keys in a file are errors\n"
	"  -f, --force               start another copy even if the name runs\n"
	"  -w, --write               write the app's declaration to NAME-pm2.json here\n"
	"      --attach              then follow the started apps' logs (as tend logs)\n"
	"  -v, --version             print the version and exit, as pm2 -v\n"
	"      --parallel N, --sort F  (accepted: PM2's options for other commands)\n"
	"  -a, --update-env          (accepted: apps always get this shell's environment)\n"
	"      --no-daemon           run the supervisor in the foreground (containers)\n"
	"  -s, --silent              print nothing on success\n"
	"  -m, --mini-list           print id, name, status, pid only\n"
	"      --no-color            no colors in the table\n"
	"\n"
	"Exit status: 0 started, 1 failed (spawn failed, already running), 2 bad usage or a\n"
	"bad declaration.\n";

enum { O_ENV = 1, O_ONLY, O_STRICT, O_UPDATE_ENV, O_FORCE, O_WRITE, O_NO_DAEMON, O_SILENT, O_MINI,
       O_NO_COLOR, O_ATTACH, O_VERSION, O_IGNORED };

static const struct opt own_options[] = {
	{"env", 0, OPT_REQUIRED, O_ENV},
	{"only", 0, OPT_REQUIRED, O_ONLY},
	{"strict", 0, OPT_NONE, O_STRICT},
	{"update-env", 'a', OPT_NONE, O_UPDATE_ENV},
	{"attach", 0, OPT_NONE, O_ATTACH},
	{"version", 'v', OPT_NONE, O_VERSION},
	/* PM2's global options that mean nothing to a start: accepted, as PM2 does */
	{"parallel", 0, OPT_REQUIRED, O_IGNORED},
	{"sort", 0, OPT_REQUIRED, O_IGNORED},
	{"force", 'f', OPT_NONE, O_FORCE},
	{"write", 'w', OPT_NONE, O_WRITE},
	{"no-daemon", 0, OPT_NONE, O_NO_DAEMON},
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

struct start {
	const char *mode;          /* the daemon's "existing": error, skip, restart */
	bool rolling;              /* startOrReload: running apps get a rolling reload */
	char **targets;            /* scripts, files, names; none: the default file */
	int ntargets;
	const char *target;        /* the one being started */
	const char *env_name, *only;
	bool force, write, no_daemon, silent, mini, no_color, update_env, attach;
	char **args;
	int nargs;
	struct appopts ao;         /* the options, as PM2 keys */
};

static void own_option(struct start *st, int id, const char *v)
{
	switch (id) {
	case O_ENV: st->env_name = v; break;
	case O_ONLY: st->only = v; break;
	case O_STRICT: setenv("TEND_STRICT", "1", 1); break;   /* decl.c reads it */
	case O_UPDATE_ENV: st->update_env = true; break;   /* a new app gets it anyway */
	case O_ATTACH: st->attach = true; break;
	case O_VERSION: exit(version_main(1, (char *[]){"version", NULL}));   /* as pm2 -v */
	case O_IGNORED: break;
	case O_FORCE: st->force = true; break;
	case O_WRITE: st->write = true; break;
	case O_NO_DAEMON: st->no_daemon = true; break;
	case O_SILENT: st->silent = true; break;
	case O_MINI: st->mini = true; break;
	case O_NO_COLOR: st->no_color = true; break;
	}
}

/* PM2's --watch takes paths after it (--watch src); tend's takes them as --watch=src.
 * A word after --watch that is a directory is read as PM2 reads it: a script never is
 * one, so `start --watch app.js` keeps its meaning. */
static int watch_paths_after(int argc, char **argv)
{
	struct stat sb;
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--watch") && argv[i + 1][0] != '-' && stat(argv[i + 1], &sb) == 0 &&
		    S_ISDIR(sb.st_mode)) {
			argv[i] = xasprintf("--watch=%s", argv[i + 1]);
			memmove(argv + i + 1, argv + i + 2, (size_t)(argc - i - 1) * sizeof *argv);
			argc--;
		}
	}
	return argc;
}

static void parse_args(struct start *st, int argc, char **argv)
{
	struct optstate s;
	struct opt *options = opt_merge(own_options, appopt_table());
	argc = watch_paths_after(argc, argv);
	opt_init(&s, argc, argv);
	appopts_begin(&st->ao);
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END)
		if (!appopts_take(&st->ao, &s, id, s.arg))
			own_option(st, id, s.arg);
	free(options);
	st->targets = xcalloc((size_t)s.npos + 1, sizeof *st->targets);
	memcpy(st->targets, s.pos, (size_t)s.npos * sizeof *s.pos);
	st->ntargets = s.npos;
	st->args = s.rest;
	st->nargs = s.nrest;
	if (st->nargs) {
		json_key(&st->ao.over, "args");
		json_open(&st->ao.over, '[');
		for (int i = 0; i < st->nargs; i++)
			json_bytes(&st->ao.over, st->args[i]);
		json_close(&st->ao.over, ']');
	}
	appopts_end(&st->ao);
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
	eco_append_apps(req, file, st->only, st->env_name, &st->ao.over, st->ao.has_name);
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
	if (!json_parse(&ad, app.data, app.len) || !json_parse(&od, st->ao.over.data, st->ao.over.len))
		die("options: bad JSON");
	request_head(req, st);
	struct decl_opts o = {.base_dir = cwd, .env_name = st->env_name, .shell_env = true};
	char err[512];
	if (!decl_normalize(&ad, 0, &od, 0, &o, req, err, sizeof err))
		die_usage("%s", err);   /* bad input, as in a file: exit 2 on every route */
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

/* PM2's "start NAME|ID": an app the daemon knows is restarted, with what the options
 * change applied (as restart does). Returns -1 when the daemon knows no such app. */
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
	appopts_set(&st->ao, &req);
	if (st->update_env)
		decl_shell_env(&req);
	req_end(&req);
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	reply_free(&rep);
	buf_free(&req);
	return rc;
}

/* -w: the app's declaration, as it goes to the daemon (without the caller's
 * environment), in NAME-pm2.json here, as PM2 writes it. */
static void write_declaration(const struct buf *req)
{
	struct jdoc d;
	if (!json_parse(&d, req->data, req->len))
		return;
	int app = json_child(&d, json_get(&d, 0, "apps"), 0);
	char *name = json_dup(&d, json_get(&d, app, "name"));
	char *path = name ? xasprintf("%s-pm2.json", name) : NULL;
	static const char *const skip[] = {"shell_env"};
	struct buf out = {0};
	json_pretty(&out, &d, app, 2, skip, 1);
	if (path && app >= 0) {
		char why[PATH_MAX + 64];
		if (safe_replace(path, out.data, out.len, 0644, false, why, sizeof why) < 0)
			die("--write: %s", why);
		printf("Writing configuration to %s\n", path);
	}
	free(path);
	free(name);
	buf_free(&out);
	json_free(&d);
}

/* One target: a script, a file, or an app the daemon knows. 0 when it started. */
static int start_one(struct start *st)
{
	const char *file = st->target;
	bool is_file = eco_is_file(file);
	struct stat sb;
	if (!is_file && !st->no_daemon && stat(file, &sb) < 0 && !strpbrk(file, " /")) {
		int rc = start_known(st);
		if (rc >= 0)
			return rc;
	}
	if (!is_file && (st->only || st->env_name)) {
		static bool told;   /* PM2 ignores them for a script; so do we, saying so */
		if (!told)
			warn("%s%s: %s is no declaration file: ignored", st->env_name ? "--env" : "--only",
			     st->env_name && st->only ? " and --only" : "", file);
		told = true;
	}
	if (!is_file && strcmp(st->mode, "error") != 0)
		die_usage("%s: expected a declaration file (*.json, *.config.js, Procfile)", file);
	const char *mode = st->mode;
	if (is_file && !strcmp(mode, "error"))
		st->mode = "restart";   /* PM2: a file's running apps take its new declaration */
	struct buf req = {0};
	if (is_file)
		file_request(&req, st, file);
	else
		script_request(&req, st);
	st->mode = mode;
	if (st->write && !is_file)
		write_declaration(&req);
	if (st->no_daemon) {
		int rc = daemon_run(true, req.data, req.len - 1);
		buf_free(&req);
		return rc;
	}
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	reply_free(&rep);
	buf_free(&req);
	return rc;
}

/* --attach: follow the logs of what was started, as PM2 does: the scripts (a script
 * names the apps started from it) or the --name, else every app. */
static int attach_logs(const struct start *st)
{
	char **argv = xcalloc((size_t)st->ntargets + 3, sizeof *argv);
	int n = 0;
	argv[n++] = "logs";   /* with the files' last lines: the app may have spoken already */
	struct jdoc d;
	char *name = NULL;
	if (st->ao.has_name && json_parse(&d, st->ao.over.data, st->ao.over.len)) {
		name = json_dup(&d, json_get(&d, 0, "name"));
		json_free(&d);
	}
	if (name)
		argv[n++] = name;
	for (int i = 0; !name && i < st->ntargets; i++)
		if (!eco_is_file(st->targets[i]))
			argv[n++] = st->targets[i];
	fflush(stdout);
	int rc = logs_main(n, argv);
	free(name);
	free(argv);
	return rc;
}

static int run(struct start *st)
{
	if (st->ntargets == 0) {
		const char *file = eco_default();
		if (!file)
			die_usage("no script given, and no ecosystem.json or ecosystem.config.js here "
			          "(usage: tend start SCRIPT|FILE [OPTIONS])");
		st->targets[0] = (char *)file;
		st->ntargets = 1;
	}
	if (st->no_daemon && st->ntargets > 1)
		die_usage("--no-daemon: one script or file at a time");
	/* PM2 starts them one after another and stops at the first that fails. */
	int rc = EXIT_OK;
	for (int i = 0; i < st->ntargets && rc == EXIT_OK; i++) {
		st->target = st->targets[i];
		rc = start_one(st);
	}
	if (rc == EXIT_OK && !st->no_daemon)
		show_table(st);
	if (rc == EXIT_OK && st->attach && !st->no_daemon)
		return attach_logs(st);
	return rc;
}

static int start_as(const char *mode, bool rolling, int argc, char **argv)
{
	struct start st = {.mode = mode, .rolling = rolling};
	parse_args(&st, argc, argv);
	int rc = run(&st);
	buf_free(&st.ao.over);
	free(st.targets);
	return rc;
}

int start_main(int argc, char **argv) { return start_as("error", false, argc, argv); }
int start_or_restart_main(int argc, char **argv) { return start_as("restart", false, argc, argv); }
int start_or_reload_main(int argc, char **argv) { return start_as("restart", true, argc, argv); }
