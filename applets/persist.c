/* save, resurrect, cleardump: the app list kept in $TEND_HOME/dump.json. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"
#include "client/table.h"
#include "daemon/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//applet: cleardump cleardump_main cleardump_help s empty the saved app list
//applet: dump save_main save_help a save
//applet: resurrect resurrect_main resurrect_help s bring back the saved apps, in their saved state
//applet: save save_main save_help s save the app list for resurrect (and boot)

const char save_help[] =
	"usage: tend save [--force] [-s]    (also: tend dump)\n"
	"\n"
	"Write every app's declaration, environment and state (running or stopped) to\n"
	"$TEND_HOME/dump.json (.new, fsync, rename); the previous file is kept as\n"
	"dump.json.bak. Saving an empty list over a dump that holds apps needs --force.\n"
	"Nothing else writes the dump: kill and shutdown leave it alone. -s (--silent):\n"
	"print nothing on success.\n"
	"\n"
	"Exit status: 0 saved, 1 not saved (empty list without --force, disk error).\n";

const char resurrect_help[] =
	"usage: tend resurrect [-s] [-m] [--no-color] [--no-daemon]\n"
	"\n"
	"Start every app saved by tend save, as it was saved: running apps run, stopped\n"
	"apps are registered stopped. Apps already running are left alone, so resurrect\n"
	"twice changes nothing. Instances a killed daemon left running are stopped and\n"
	"replaced, not duplicated. A corrupt dump.json falls back to dump.json.bak with a\n"
	"warning.\n"
	"\n"
	"  --no-daemon   be the daemon, in the foreground, and resurrect in it: what the\n"
	"                boot services of tend startup run. Under systemd (Type=notify) it\n"
	"                says READY=1 once the saved apps are started; without a dump it\n"
	"                runs with no apps. SIGTERM or SIGINT stop the apps, then it exits;\n"
	"                the dump is left as it is.\n"
	"\n"
	"Exit status: 0 done, 1 no readable dump or an app failed to start.\n";

const char cleardump_help[] =
	"usage: tend cleardump [-s]\n"
	"\n"
	"Replace the saved app list with an empty one (the previous one is kept as\n"
	"dump.json.bak). Running apps are not touched.\n";

enum { O_FORCE = 1, O_SILENT, O_MINI, O_NO_COLOR, O_NO_DAEMON };

static int save_request(const char *cmd, bool force, bool silent)
{
	struct buf req = {0};
	req_begin(&req, cmd);
	json_kbool(&req, "force", force);
	req_end(&req);
	struct reply rep;
	call_or_die(&req, NULL, NULL, &rep);
	long long n = 0;
	json_as_ll(&rep.doc, json_get(&rep.doc, 0, "apps"), &n);
	char *path = json_dup(&rep.doc, json_get(&rep.doc, 0, "path"));
	if (!silent)
		printf("%s %lld app%s to %s\n", force && n == 0 ? "wrote" : "saved", n, n == 1 ? "" : "s",
		       path ? path : "the dump");
	free(path);
	reply_free(&rep);
	buf_free(&req);
	return EXIT_OK;
}

/* save [--force] [-s], cleardump [-s] (-s: PM2's --silent, which every PM2 command takes) */
static int save_options(int argc, char **argv, const char *cmd)
{
	static const struct opt options[] = {
		{"force", 'f', OPT_NONE, O_FORCE},
		{"silent", 's', OPT_NONE, O_SILENT},
		{0},
	};
	struct optstate s;
	opt_init(&s, argc, argv);
	bool force = !strcmp(cmd, "cleardump"), silent = false;
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		if (id == O_SILENT)
			silent = true;
		else if (!strcmp(cmd, "save"))
			force = true;
		else
			die_usage("unknown option --force");
	}
	if (s.npos || s.nrest)
		die_usage("unexpected argument '%s'", s.npos ? s.pos[0] : s.rest[0]);
	opt_free(&s);
	return save_request(cmd, force, silent);
}

int save_main(int argc, char **argv)
{
	return save_options(argc, argv, "save");
}

int cleardump_main(int argc, char **argv)
{
	return save_options(argc, argv, "cleardump");
}

int resurrect_main(int argc, char **argv)
{
	static const struct opt options[] = {
		{"silent", 's', OPT_NONE, O_SILENT},
		{"mini-list", 'm', OPT_NONE, O_MINI},
		{"no-color", 0, OPT_NONE, O_NO_COLOR},
		{"no-daemon", 0, OPT_NONE, O_NO_DAEMON},
		{0},
	};
	struct optstate s;
	opt_init(&s, argc, argv);
	bool silent = false, no_color = false, no_daemon = false;
	struct table_opts o = {0};
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		silent |= id == O_SILENT;
		o.mini |= id == O_MINI;
		no_color |= id == O_NO_COLOR;
		no_daemon |= id == O_NO_DAEMON;
	}
	if (s.npos || s.nrest)
		die_usage("unexpected argument '%s'", s.npos ? s.pos[0] : s.rest[0]);
	opt_free(&s);
	struct buf req = {0};
	req_begin(&req, "resurrect");
	req_end(&req);
	if (no_daemon) {
		int rc = daemon_run(true, req.data, req.len - 1);
		buf_free(&req);
		return rc;
	}
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	char *warning = json_dup(&rep.doc, json_get(&rep.doc, 0, "warning"));
	if (warning)
		warn("warning: %s", warning);
	free(warning);
	int rc = reply_status(&rep);
	table_show_after(rep.code, silent, o, no_color);
	reply_free(&rep);
	buf_free(&req);
	return rc;
}
