/* list, jlist, prettylist: the process table, or PM2's JSON. */
#include "applets/applet.h"
#include "client/client.h"
#include "client/ecosystem.h"
#include "lib/inspect.h"
#include "lib/opt.h"
#include "client/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//applet: jlist jlist_main jlist_help o print every app as JSON (PM2's jlist format)
//applet: l list_main list_help a list
//applet: list list_main list_help - print the process table
//applet: ls list_main list_help ac list
//applet: prettylist prettylist_main prettylist_help o print every app as PM2's prettylist does
//applet: ps list_main list_help ac list
//applet: status list_main list_help a list

const char list_help[] =
	"usage: tend list [TARGET...] [--sort FIELD[:asc|desc]] [-m] [--no-color]\n"
	"       (also: ls, l, ps, status)\n"
	"\n"
	"Print the process table: id, name, namespace, mode, pid, uptime, restarts,\n"
	"status, cpu, mem, user. CPU and memory are sampled from /proc by the daemon.\n"
	"With targets (ids, names, namespaces, all, /regex/, a declaration file), only\n"
	"their instances (exit status 1 when one matches nothing).\n"
	"Colors only when stdout is a terminal (and NO_COLOR is unset).\n"
	"\n"
	"      --sort FIELD  id, name, namespace, status, pid, uptime, restarts, cpu, mem;\n"
	"                    add :desc to reverse\n"
	"  -m, --mini-list   print \"id name status pid\" lines\n"
	"      --no-color    never use colors\n";

const char jlist_help[] =
	"usage: tend jlist\n"
	"\n"
	"Print every app as one JSON array in PM2's jlist format: pid, name, pm_id,\n"
	"monit {memory, cpu}, pm2_env {status, pm_uptime, restart_time, env, ...}.\n";

const char prettylist_help[] =
	"usage: tend prettylist\n"
	"\n"
	"Print the same list as jlist, laid out as PM2 prints it (node's util.inspect:\n"
	"single-quoted strings, bare keys, short objects on one line).\n";

enum { O_SORT = 1, O_MINI, O_NO_COLOR };
static const struct opt options[] = {
	{"sort", 0, OPT_REQUIRED, O_SORT},
	{"mini-list", 'm', OPT_NONE, O_MINI},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

int list_main(int argc, char **argv)
{
	struct optstate s;
	struct table_opts o = {0};
	bool no_color = false;
	opt_init(&s, argc, argv);
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		if (id == O_SORT) {
			if (!table_sort_valid(s.arg))
				die_usage("--sort: unknown field '%s' (id, name, namespace, status, pid, "
				          "uptime, restarts, cpu, mem; :asc or :desc)", s.arg);
			o.sort = s.arg;
		} else if (id == O_MINI) {
			o.mini = true;
		} else {
			no_color = true;
		}
	}
	if (s.nrest)
		die_usage("unexpected argument '%s'", s.rest[0]);
	/* a declaration file stands for its apps' names */
	char **targets = xcalloc((size_t)s.npos + 1, sizeof *targets);
	int n = 0;
	for (int i = 0; i < s.npos; i++) {
		if (!eco_is_file(s.pos[i])) {
			targets[n++] = xstrdup(s.pos[i]);
			continue;
		}
		int k;
		char **names = eco_app_names(s.pos[i], NULL, &k);
		targets = xrealloc(targets, ((size_t)n + (size_t)k + (size_t)(s.npos - i) + 1) * sizeof *targets);
		for (int j = 0; j < k; j++)
			targets[n++] = names[j];
		free(names);
	}
	o.targets = targets;
	o.ntargets = n;
	o.color = want_color(1, no_color);
	table_show(stdout, &o);
	for (int i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	opt_free(&s);
	return EXIT_OK;
}

static void print_line(const char *line, size_t len, void *arg)
{
	(void)arg;
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
}

/* As PM2 prints it: node's util.inspect of the list. */
static void pretty(const char *line, size_t len, void *arg)
{
	(void)arg;
	struct jdoc d;
	if (!json_parse(&d, line, len))
		die("the daemon's list is not JSON: %s", d.err);
	struct buf out = {0};
	js_inspect(&out, &d, 0);
	fwrite(out.data, 1, out.len, stdout);
	fputc('\n', stdout);
	buf_free(&out);
	json_free(&d);
}

static int dump_json(int argc, char **argv, data_fn *print)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, 0);
	opt_free(&s);
	struct buf req = {0};
	req_begin(&req, "list");
	req_end(&req);
	struct reply rep;
	call_or_die(&req, print, NULL, &rep);
	reply_free(&rep);
	buf_free(&req);
	return EXIT_OK;
}

int jlist_main(int argc, char **argv) { return dump_json(argc, argv, print_line); }
int prettylist_main(int argc, char **argv) { return dump_json(argc, argv, pretty); }
