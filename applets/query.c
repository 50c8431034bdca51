/* Small questions scripts ask: id, pid, env; and sendSignal. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//applet: env env_main env_help co print the environment an instance was started with
//applet: id id_main id_help co print the ids of the apps with this name
//applet: pid pid_main pid_help o print the pids of apps (all apps without a name)
//applet: sendSignal signal_main signal_help - send a signal to apps

const char id_help[] =
	"usage: tend id NAME\n"
	"\n"
	"Print the pm_id of every instance named NAME, one per line (nothing if none).\n";

const char pid_help[] =
	"usage: tend pid [TARGET]\n"
	"\n"
	"Print the pid of every instance of TARGET (all apps without one), one per line;\n"
	"0 for an instance that is not running.\n";

const char env_help[] =
	"usage: tend env ID\n"
	"\n"
	"Print the environment instance ID was started with (or will be started with),\n"
	"one VAR=value per line, sorted.\n";

const char signal_help[] =
	"usage: tend sendSignal SIGNAL TARGET\n"
	"\n"
	"Send SIGNAL (SIGUSR2, USR2 or 12) to the main process of each running instance of\n"
	"TARGET (an id, a name, a namespace, all, /regex/, or a script file: the apps started\n"
	"from it). Words after TARGET are ignored, as PM2 ignores them. Instances that are not\n"
	"running are skipped; exit status 1 if none runs.\n";

int id_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 1, 1);
	struct jdoc d;
	char *json = call_list(NULL, 0, NULL, &d);
	for (int i = 0, p = 1; i < d.tok[0].size; i++, p = json_next(&d, p)) {
		long long id;
		if (json_eq(&d, json_get(&d, p, "name"), s.pos[0]) &&
		    json_as_ll(&d, json_get(&d, p, "pm_id"), &id))
			printf("%lld\n", id);
	}
	json_free(&d);
	free(json);
	opt_free(&s);
	return EXIT_OK;
}

int pid_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, 1);
	struct jdoc d;
	char *json = call_list(s.pos, s.npos, NULL, &d);
	for (int i = 0, p = 1; i < d.tok[0].size; i++, p = json_next(&d, p)) {
		long long pid = 0;
		json_as_ll(&d, json_get(&d, p, "pid"), &pid);
		printf("%lld\n", pid);
	}
	json_free(&d);
	free(json);
	opt_free(&s);
	return EXIT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int env_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 1, 1);
	long long id;
	if (!parse_int(s.pos[0], 0, 0x7fffffff, &id))
		die_usage("expected an id, got '%s'", s.pos[0]);
	struct jdoc d;
	char *json = call_list(s.pos, 1, "spawn", &d);
	int p = json_child(&d, 0, 0);
	for (int i = 0; i < d.tok[0].size; i++, p = json_next(&d, p)) {
		long long pid_id = -1;
		json_as_ll(&d, json_get(&d, p, "pm_id"), &pid_id);
		if (pid_id == id)
			break;
	}
	int env = json_get(&d, json_get(&d, p, "pm2_env"), "env");
	if (env < 0)
		die("%lld: no such id", id);
	int n = d.tok[env].size;
	char **lines = xcalloc((size_t)n + 1, sizeof *lines);
	for (int i = 0, k = env + 1; i < n; i++, k = json_next(&d, k + 1)) {
		char *name = json_dup(&d, k), *value = json_dup(&d, k + 1);
		lines[i] = xasprintf("%s=%s", name ? name : "", value ? value : "");
		free(name);
		free(value);
	}
	qsort(lines, (size_t)n, sizeof *lines, cmp_str);
	for (int i = 0; i < n; i++) {
		puts(lines[i]);
		free(lines[i]);
	}
	free(lines);
	json_free(&d);
	free(json);
	opt_free(&s);
	return EXIT_OK;
}

int signal_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 2, argc);
	if (signal_from_name(s.pos[0]) <= 0)
		die_usage("unknown signal '%s'", s.pos[0]);
	struct buf req = {0};
	req_begin(&req, "signal");
	json_kstr(&req, "signal", s.pos[0]);
	req_targets(&req, s.pos + 1, 1);   /* PM2 takes one target and ignores the rest */
	req_end(&req);
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	int rc = reply_status(&rep);
	reply_free(&rep);
	buf_free(&req);
	opt_free(&s);
	return rc;
}
