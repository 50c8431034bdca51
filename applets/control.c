/* stop, restart, delete, reset: act on targets, return once it has happened. */
#include "applets/applet.h"
#include "client.h"
#include "opt.h"
#include "table.h"

#include <stdio.h>
#include <string.h>

//applet: del delete_main delete_help a delete
//applet: delete delete_main delete_help - stop apps and forget them
//applet: reset reset_main reset_help c reset the restart counters of apps
//applet: restart restart_main restart_help - restart apps (stop, then start again)
//applet: stop stop_main stop_help - stop apps (their kill signal, then SIGKILL)

#define TARGETS_HELP \
	"TARGET is an id, a name, a namespace, \"all\", or /regex/ (matched against names);\n" \
	"several may be given. A target that matches nothing is an error and nothing is done.\n" \
	"\n" \
	"  -s, --silent     print nothing on success\n" \
	"  -m, --mini-list  print id, name, status, pid only\n" \
	"      --no-color   no colors in the table\n" \
	"\n" \
	"Exit status: 0 done, 1 target not found or action failed, 2 bad usage.\n"

const char stop_help[] =
	"usage: tend stop TARGET...\n"
	"\n"
	"Stop apps: send each its kill signal (SIGINT by default) and every descendant\n"
	"that left its process group, SIGKILL what is left after kill_timeout. Returns\n"
	"once every process of the targets is gone. They stay in the list, stopped.\n"
	"\n" TARGETS_HELP;

const char restart_help[] =
	"usage: tend restart TARGET...\n"
	"\n"
	"Stop apps as stop does, then start them again with the same declaration and\n"
	"environment. Returns once every target runs with a new pid.\n"
	"\n" TARGETS_HELP;

const char delete_help[] =
	"usage: tend delete TARGET...    (also: tend del)\n"
	"\n"
	"Stop apps as stop does and remove them from the list. Their log files stay.\n"
	"\n" TARGETS_HELP;

const char reset_help[] =
	"usage: tend reset TARGET...\n"
	"\n"
	"Reset the restart and unstable-restart counters of apps.\n"
	"\n" TARGETS_HELP;

enum { O_SILENT = 1, O_MINI, O_NO_COLOR };
static const struct opt options[] = {
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

static int act(const char *cmd, int argc, char **argv)
{
	struct optstate s;
	struct table_opts o = {0};
	bool silent = false, no_color = false;
	opt_init(&s, argc, argv);
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		if (id == O_SILENT)
			silent = true;
		else if (id == O_MINI)
			o.mini = true;
		else if (id == O_NO_COLOR)
			no_color = true;
	}
	if (s.npos == 0)
		die_usage("no target given (an id, a name, a namespace, all, or /regex/)");
	if (s.nrest)
		die_usage("unexpected argument '%s'", s.rest[0]);
	struct buf req = {0};
	req_begin(&req, cmd);
	req_targets(&req, s.pos, s.npos);
	req_end(&req);
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	if (!silent && rep.code != 2 && rep.code != 3) {
		o.color = want_color(1, no_color);
		table_show(stdout, &o);
	}
	reply_free(&rep);
	buf_free(&req);
	opt_free(&s);
	return rc;
}

int stop_main(int argc, char **argv) { return act("stop", argc, argv); }
int restart_main(int argc, char **argv) { return act("restart", argc, argv); }
int delete_main(int argc, char **argv) { return act("delete", argc, argv); }
int reset_main(int argc, char **argv) { return act("reset", argc, argv); }
