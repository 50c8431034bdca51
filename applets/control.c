/* stop, restart, reload, delete, reset: act on targets, return once it has happened.
 * A declaration file as the target means the apps it declares; restart and reload
 * through a file take the file's declarations anew. */
#include "applets/applet.h"
#include "client/appopts.h"
#include "client/client.h"
#include "client/decl.h"
#include "client/ecosystem.h"
#include "lib/opt.h"
#include "client/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//applet: del delete_main delete_help a delete
//applet: delete delete_main delete_help s stop apps and forget them
//applet: reset reset_main reset_help cs reset the restart counters of apps
//applet: gracefulReload reload_main reload_help a reload
//applet: reload reload_main reload_help s replace apps' processes without downtime
//applet: restart restart_main restart_help s restart apps (stop, then start again)
//applet: stop stop_main stop_help s stop apps (their kill signal, then SIGKILL)

#define TARGETS_HELP \
	"TARGET is an id, a name, a namespace, \"all\", /regex/ (matched against names), or\n" \
	"a script file (the apps started from it: stop app.js); several may be given. A\n" \
	"target that matches nothing is an error and nothing is done (\"all\" of no apps:\n" \
	"PM2's \"no process found\", exit status 1).\n" \
	"A declaration file (*.json, *.config.js, Procfile) means the apps it declares;\n" \
	"--only A,B selects some of them.\n" \
	"\n" \
	"  -s, --silent     print nothing on success\n" \
	"  -m, --mini-list  print id, name, status, pid only\n" \
	"      --no-color   no colors in the table\n" \
	"\n" \
	"Exit status: 0 done, 1 target not found or action failed, 2 bad usage.\n"

const char stop_help[] =
	"usage: tend stop TARGET... [--watch] [--force]\n"
	"\n"
	"Stop apps: send each its kill signal (SIGINT by default) and every descendant\n"
	"that left its process group, SIGKILL what is left after kill_timeout. Returns\n"
	"once every process of the targets is gone. They stay in the list, stopped; a\n"
	"stopped app is not restarted by its cron, and stops watching its files, as in\n"
	"PM2 7 (a later restart does not watch unless --watch asks).\n"
	"\n"
	"      --watch      (accepted, PM2's way to ask for that; it is the default)\n"
	"      --force      SIGKILL now, also processes already stopping (no kill_timeout)\n"
	"\n" TARGETS_HELP;

const char restart_help[] =
	"usage: tend restart TARGET... [--update-env] [--watch] [APP OPTIONS] [-- ARGS]\n"
	"\n"
	"Stop apps as stop does, then start them again with the same declaration and\n"
	"environment, changed by the app options given (as start takes them: --node-args,\n"
	"--name, --max-memory-restart...; --node-args=null removes them; -- ARGS replaces the\n"
	"arguments), which stay. Returns once every target runs with a new pid. Through a\n"
	"file, the file is read again (env, env_NAME with --env NAME, every key), and its\n"
	"apps that are not running are started.\n"
	"\n"
	"  -a, --update-env  take this shell's environment instead of the one the app was\n"
	"                    started with (variables no longer set disappear)\n"
	"      --watch       toggle watching\n"
	"      --env NAME    with a file: use its env_NAME\n"
	"\n" TARGETS_HELP "\nApp options (see tend start --help):\n" APPOPT_HELP;

const char reload_help[] =
	"usage: tend reload TARGET... [--update-env] [--env NAME] [--parallel N] [APP OPTIONS]\n"
	"       (also: gracefulReload)\n"
	"\n"
	"Replace each instance without downtime, one at a time (N with --parallel): start\n"
	"the new process, wait until it is ready (see --wait-ready in start), then stop the\n"
	"old one gracefully (the shutdown message with --shutdown-with-message, else the\n"
	"kill signal; SIGKILL after kill_timeout). A replacement that exits or is not ready\n"
	"within listen_timeout is killed and the old process goes on: exit status 1.\n"
	"Instances that are not running are started. A reload of an app already being\n"
	"reloaded is refused. With a declaration file: each app takes the file's\n"
	"declaration and is reloaded with it; the file's apps that are not running are\n"
	"started. App options apply as with restart.\n"
	"\n"
	"  -a, --update-env  the new processes take this shell's environment instead of\n"
	"                    the one the app was started with\n"
	"      --env NAME    with a file: use its env_NAME\n"
	"      --parallel N  replace N instances at a time (1 to 4096; default 1)\n"
	"\n" TARGETS_HELP "\nApp options (see tend start --help):\n" APPOPT_HELP;

const char delete_help[] =
	"usage: tend delete TARGET... [--force]    (also: tend del)\n"
	"\n"
	"Stop apps as stop does and remove them from the list. Their log files stay.\n"
	"\n"
	"      --force      SIGKILL now, also processes already stopping (no kill_timeout)\n"
	"\n" TARGETS_HELP;

const char reset_help[] =
	"usage: tend reset TARGET...\n"
	"\n"
	"Reset the restart and unstable-restart counters of apps.\n"
	"\n" TARGETS_HELP;

enum { O_SILENT = 1, O_MINI, O_NO_COLOR, O_UPDATE_ENV, O_WATCH, O_ONLY, O_ENV, O_PARALLEL, O_FORCE, O_STRICT };
static const struct opt options[] = {
	{"strict", 0, OPT_NONE, O_STRICT},
	{"force", 0, OPT_NONE, O_FORCE},
	{"parallel", 0, OPT_REQUIRED, O_PARALLEL},
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{"update-env", 'a', OPT_NONE, O_UPDATE_ENV},
	{"watch", 0, OPT_NONE, O_WATCH},
	{"only", 0, OPT_REQUIRED, O_ONLY},
	{"env", 0, OPT_REQUIRED, O_ENV},
	{0},
};

struct action {
	const char *cmd;
	bool silent, no_color, update_env, watch, force;
	const char *only, *env_name;
	struct table_opts table;
};

static int finish(const struct action *a, struct buf *req)
{
	struct reply rep;
	call(req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	table_show_after(rep.code, a->silent, a->table, a->no_color);
	reply_free(&rep);
	buf_free(req);
	return rc;
}

/* The names of a file's apps, split into those the daemon knows and the others. */
static char **file_names(const char *file, const char *only, int *n, char ***missing, int *nmissing)
{
	char **names = eco_app_names(file, only, n);
	struct jdoc d;
	char *json = call_list(NULL, 0, NULL, &d);
	*missing = xcalloc((size_t)*n + 1, sizeof **missing);
	*nmissing = 0;
	int k = 0;
	for (int i = 0; i < *n; i++) {
		bool known = false;
		for (int j = 0, p = 1; j < d.tok[0].size && !known; j++, p = json_next(&d, p))
			known = json_eq(&d, json_get(&d, p, "name"), names[i]);
		if (known)
			names[k++] = names[i];
		else
			(*missing)[(*nmissing)++] = names[i];
	}
	names[k] = NULL;
	json_free(&d);
	free(json);
	*n = k;
	return names;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* restart/reload FILE: the file's declarations (and the options over them), each app
 * restarted (or reloaded, parallel at a time) with its own; the apps of the file that
 * are not running are started, as PM2 does. */
static int redeclare(const struct action *a, const char *file, long long parallel, const struct buf *over,
                     bool has_name)
{
	int n, nmissing;
	char **missing, **known = file_names(file, a->only, &n, &missing, &nmissing);
	for (int i = 0; i < nmissing; i++)
		warn("%s: not running, starting it", missing[i]);
	free_names(known, n);
	free_names(missing, nmissing);
	struct buf req = {0};
	req_begin(&req, "start");
	json_kstr(&req, "existing", "restart");
	if (!strcmp(a->cmd, "reload")) {
		json_kbool(&req, "reload", true);
		if (parallel)
			json_kint(&req, "parallel", parallel);
	}
	json_key(&req, "apps");
	json_open(&req, '[');
	eco_append_apps(&req, file, a->only, a->env_name, over, has_name);
	json_close(&req, ']');
	req_end(&req);
	return finish(a, &req);
}

static void take_option(struct action *a, int id, const char *arg, bool restarting, long long *parallel)
{
	switch (id) {
	case O_SILENT: a->silent = true; break;
	case O_MINI: a->table.mini = true; break;
	case O_NO_COLOR: a->no_color = true; break;
	case O_UPDATE_ENV: a->update_env = true; break;
	case O_WATCH: a->watch = true; break;
	case O_FORCE: a->force = true; break;
	case O_ONLY: a->only = arg; break;
	case O_ENV: a->env_name = arg; break;
	case O_STRICT: setenv("TEND_STRICT", "1", 1); break;
	case O_PARALLEL:
		if (strcmp(a->cmd, "reload") != 0)
			die_usage("--parallel: not an option of %s", applet_name);
		if (!parse_int(arg, 1, 4096, parallel))
			die_usage("--parallel: expected a number from 1 to 4096, got '%s'", arg);
		break;
	}
	if (id == O_FORCE && strcmp(a->cmd, "stop") != 0 && strcmp(a->cmd, "delete") != 0)
		die_usage("--force: not an option of %s", applet_name);
	if (id == O_UPDATE_ENV && !restarting)
		die_usage("--update-env: not an option of %s", applet_name);
}

static int act(const char *cmd, int argc, char **argv)
{
	struct optstate s;
	struct action a = {.cmd = cmd};
	struct appopts ao;
	struct opt *all = opt_merge(options, appopt_table());
	opt_init(&s, argc, argv);
	appopts_begin(&ao);
	bool restarting = !strcmp(cmd, "restart") || !strcmp(cmd, "reload");
	long long parallel = 0;
	int id;
	/* PM2 takes every option with every verb: app options change the apps a restart or
	 * reload starts again; the other verbs have nothing to apply them to. */
	while ((id = opt_next_or_die(&s, all)) != OPT_END)
		if (!appopts_take(&ao, &s, id, s.arg))
			take_option(&a, id, s.arg, restarting, &parallel);
	free(all);
	if (s.npos == 0)
		die_usage("no target given (an id, a name, a namespace, all, /regex/, or a file)");
	if (s.nrest && !restarting)
		die_usage("unexpected argument '%s'", s.rest[0]);
	if (s.nrest) {   /* -- ARGS: the apps' new arguments */
		json_key(&ao.over, "args");
		json_open(&ao.over, '[');
		for (int i = 0; i < s.nrest; i++)
			json_bytes(&ao.over, s.rest[i]);
		json_close(&ao.over, ']');
		ao.count++;
	}
	appopts_end(&ao);
	bool file = s.npos == 1 && eco_is_file(s.pos[0]);
	if ((a.only || a.env_name) && !file)
		die_usage("--only/--env: need a declaration file as the target");
	int rc;
	if (file && restarting && !a.watch) {
		rc = redeclare(&a, s.pos[0], parallel, &ao.over, ao.has_name);
	} else {
		int n = s.npos, nmissing = 0;
		char **missing = NULL, **targets = file ? file_names(s.pos[0], a.only, &n, &missing, &nmissing) : s.pos;
		if (file && n == 0) {   /* PM2: nothing of the file runs, nothing to do */
			warn("none of the apps of %s is known to the daemon", s.pos[0]);
			free_names(targets, n);
			free_names(missing, nmissing);
			opt_free(&s);
			buf_free(&ao.over);
			table_show_after(0, a.silent, a.table, a.no_color);
			return EXIT_OK;
		}
		struct buf req = {0};
		req_begin(&req, cmd);
		req_targets(&req, targets, n);
		if (restarting)
			appopts_set(&ao, &req);
		if (a.update_env)
			decl_shell_env(&req);
		if (a.watch)
			json_kbool(&req, "watch", restarting);
		if (parallel)
			json_kint(&req, "parallel", parallel);
		if (a.force)
			json_kbool(&req, "force", true);
		req_end(&req);
		if (file) {
			free_names(targets, n);
			free_names(missing, nmissing);
		}
		rc = finish(&a, &req);
	}
	opt_free(&s);
	buf_free(&ao.over);
	return rc;
}

int stop_main(int argc, char **argv) { return act("stop", argc, argv); }
int restart_main(int argc, char **argv) { return act("restart", argc, argv); }
int reload_main(int argc, char **argv) { return act("reload", argc, argv); }
int delete_main(int argc, char **argv) { return act("delete", argc, argv); }
int reset_main(int argc, char **argv) { return act("reset", argc, argv); }
