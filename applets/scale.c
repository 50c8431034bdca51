/* scale: change how many instances an app runs, leaving the running ones alone. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"
#include "client/table.h"

#include <stdio.h>
#include <string.h>

//applet: scale scale_main scale_help s add or remove instances of an app

const char scale_help[] =
	"usage: tend scale NAME N|+N|-N\n"
	"\n"
	"Run N instances of the app NAME, or N more (+N), or N fewer (-N). New instances\n"
	"take the lowest free instance numbers and start like the others (in cluster mode\n"
	"they share the app's socket, or the proxy sends them connections once ready);\n"
	"removed ones are the highest numbers, stopped as stop does and deleted. The other\n"
	"instances are not touched. Returns once the new ones run (and are ready) or the\n"
	"removed ones are gone; the new count is what save records.\n"
	"\n"
	"  -s, --silent     print nothing on success\n"
	"  -m, --mini-list  print id, name, status, pid only\n"
	"      --no-color   no colors in the table\n"
	"\n"
	"Exit status: 0 done, 1 no such app or an instance failed to start, 2 bad usage.\n";

enum { O_SILENT = 1, O_MINI, O_NO_COLOR };
static const struct opt options[] = {
	{"silent", 's', OPT_NONE, O_SILENT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

int scale_main(int argc, char **argv)
{
	struct optstate s;
	struct table_opts table = {0};
	bool silent = false, no_color = false;
	opt_init(&s, argc, argv);
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		switch (id) {
		case O_SILENT: silent = true; break;
		case O_MINI: table.mini = true; break;
		case O_NO_COLOR: no_color = true; break;
		}
	}
	/* "-2" is a count: opt takes a minus sign and a digit as an argument. */
	if (s.nrest || s.npos != 2)
		die_usage("expected NAME and a count (N, +N or -N)");
	const char *name = s.pos[0], *count = s.pos[1];
	long long v;
	if (!parse_int(count + (count[0] == '+' || count[0] == '-'), 0, 4096, &v))
		die_usage("expected a count N, +N or -N, got '%s'", count);
	struct buf req = {0};
	req_begin(&req, "scale");
	json_kstr(&req, "name", name);
	json_kstr(&req, "instances", count);
	req_end(&req);
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	table_show_after(rep.code, silent, table, no_color);
	reply_free(&rep);
	buf_free(&req);
	opt_free(&s);
	return rc;
}
