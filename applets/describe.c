/* describe: everything tend knows about the instances of a target. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"
#include "client/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//applet: desc describe_main describe_help a describe
//applet: describe describe_main describe_help - show everything about an app's instances
//applet: info describe_main describe_help ac describe
//applet: show describe_main describe_help a describe

const char describe_help[] =
	"usage: tend describe TARGET...    (also: desc, info, show)\n"
	"\n"
	"Print, for every instance of the targets (id, name, namespace, all, /regex/),\n"
	"its status, pid, paths, policies and counters, one \"key: value\" line each.\n"
	"Exit status: 0, 1 when a target matches nothing, 2 bad usage.\n";

static void field(const struct jdoc *d, int obj, const char *key, const char *label)
{
	int t = json_get(d, obj, key);
	if (t < 0)
		return;
	printf("  %-22s ", label);
	if (d->tok[t].type == JSMN_ARRAY) {
		for (int i = 0, e = t + 1; i < d->tok[t].size; i++, e = json_next(d, e)) {
			char *s = json_dup(d, e);
			printf("%s%s", i ? " " : "", s ? s : "");
			free(s);
		}
		putchar('\n');
		return;
	}
	char *s = json_dup(d, t);
	puts(s ? s : "-");
	free(s);
}

static void time_field(const struct jdoc *d, int obj, const char *key, const char *label, bool ago)
{
	long long v = 0;
	if (!json_as_ll(d, json_get(d, obj, key), &v) || v <= 0)
		return;
	char when[32];
	int64_t delta = wall_ms() - v;
	format_duration(when, sizeof when, delta < 0 ? -delta : delta);   /* past or future */
	printf("  %-22s %s%s\n", label, when, ago ? " ago" : "");
}

int describe_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 1, argc);
	struct jdoc d;
	char *json = call_list(s.pos, s.npos, NULL, &d);
	for (int i = 0, p = 1; i < d.tok[0].size; i++, p = json_next(&d, p)) {
		int env = json_get(&d, p, "pm2_env");
		int monit = json_get(&d, p, "monit");
		char *name = json_dup(&d, json_get(&d, p, "name"));
		char *status = json_dup(&d, json_get(&d, env, "status"));
		long long id = 0, mem = 0;
		json_as_ll(&d, json_get(&d, p, "pm_id"), &id);
		json_as_ll(&d, json_get(&d, monit, "memory"), &mem);
		printf("%s[%lld] %s\n", name ? name : "?", id, status ? status : "?");
		field(&d, p, "pid", "pid");
		field(&d, env, "namespace", "namespace");
		field(&d, env, "exec_mode", "mode");
		field(&d, env, "instances", "instances");
		field(&d, env, "NODE_APP_INSTANCE", "instance");
		long long pid = 0;
		json_as_ll(&d, json_get(&d, p, "pid"), &pid);
		if (pid > 0)
			time_field(&d, env, "pm_uptime", "uptime", false);
		time_field(&d, env, "created_at", "created", true);
		field(&d, env, "restart_time", "restarts");
		field(&d, env, "unstable_restarts", "unstable restarts");
		field(&d, env, "exit_code", "last exit code");
		field(&d, env, "exit_signal", "last exit signal");
		field(&d, env, "last_error", "last error");
		field(&d, env, "pm_exec_path", "script");
		field(&d, env, "exec_interpreter", "interpreter");
		field(&d, env, "node_args", "interpreter args");
		field(&d, env, "args", "args");
		field(&d, env, "pm_cwd", "cwd");
		field(&d, env, "pm_out_log_path", "out log");
		field(&d, env, "pm_err_log_path", "error log");
		field(&d, env, "log_bytes_dropped", "log bytes dropped");
		field(&d, env, "pm_pid_path", "pid file");
		field(&d, env, "autorestart", "autorestart");
		field(&d, env, "max_restarts", "max restarts");
		field(&d, env, "min_uptime", "min uptime (ms)");
		field(&d, env, "restart_delay", "restart delay (ms)");
		field(&d, env, "exp_backoff_restart_delay", "exp backoff (ms)");
		field(&d, env, "stop_exit_codes", "stop exit codes");
		field(&d, env, "kill_signal", "kill signal");
		field(&d, env, "kill_timeout", "kill timeout (ms)");
		field(&d, env, "treekill", "treekill");
		field(&d, env, "username", "user");
		field(&d, env, "port", "port");
		field(&d, env, "listen", "listen");
		field(&d, env, "lb", "load balancing");
		field(&d, env, "proxy_port", "private port");
		field(&d, env, "proxy_connections", "proxy connections");
		field(&d, env, "proxy_accepted", "proxy accepted");
		field(&d, env, "max_memory_restart", "max memory (bytes)");
		field(&d, env, "cron_restart", "cron restart");
		time_field(&d, env, "next_cron_restart", "next cron restart in", false);
		field(&d, env, "watch", "watch");
		field(&d, env, "watch_paths", "watch paths");
		field(&d, env, "ignore_watch", "ignore watch");
		field(&d, env, "watch_ext", "watch extensions");
		field(&d, env, "restart_reason", "last restart reason");
		time_field(&d, env, "restart_reason_at", "restarted for it", true);
		field(&d, monit, "cpu", "cpu %");
		char membuf[32];
		format_bytes(membuf, sizeof membuf, mem);
		printf("  %-22s %s\n", "memory", membuf);
		free(name);
		free(status);
	}
	json_free(&d);
	free(json);
	opt_free(&s);
	return EXIT_OK;
}
