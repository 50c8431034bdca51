/* A proc as JSON, in the shape of PM2's jlist, so tools written for it keep working. */
#include "listener.h"
#include "proc.h"
#include "procjson.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *xsig(int sig)
{
	static char name[24];
	snprintf(name, sizeof name, "SIG%s", signal_name(sig));
	return name;
}

static void strv(struct buf *b, const char *key, char **v)
{
	json_key(b, key);
	json_open(b, '[');
	for (; v && *v; v++)
		json_str(b, *v);
	json_close(b, ']');
}

/* The same variables, in the same order, as proc_env() gives the app. */
static void env_object(struct buf *b, const struct proc *p)
{
	json_key(b, "env");
	json_open(b, '{');
	buf_puts(b, p->spec->env_json);
	char own[PROC_OWN_MAX][256];
	int n = proc_own_vars(p, own);
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(own[i], '=');
		json_keyn(b, own[i], (size_t)(eq - own[i]));
		json_str(b, eq + 1);
	}
	json_close(b, '}');
}

static void watchdog_fields(struct buf *b, const struct proc *p)
{
	const struct spec *s = p->spec;
	json_kbool(b, "autostart", s->autostart);
	if (s->port)
		json_kint(b, "port", s->port);
	if (s->max_memory) {
		json_kint(b, "max_memory_restart", s->max_memory);
		json_kint(b, "memory_check_interval", s->memory_interval_ms);
	}
	if (s->cron_text)
		json_kstr(b, "cron_restart", s->cron_text);
	if (p->cron_at > 0)
		json_kint(b, "next_cron_restart", p->cron_wall);
	json_kbool(b, "watch", s->watching);
	if (s->watch) {
		strv(b, "watch_paths", s->watch);
		strv(b, "ignore_watch", s->ignore_watch);
		json_kint(b, "watch_delay", s->watch_delay_ms);
	}
	json_kstr(b, "restart_reason", p->restart_reason);
	if (p->restart_reason)
		json_kint(b, "restart_reason_at", p->restart_reason_wall);
}

static void cluster_fields(struct buf *b, const struct proc *p)
{
	const struct spec *s = p->spec;
	const struct listener *l = s->listener;
	if (l) {
		json_kstr(b, "listen", l->addr);
		json_kstr(b, "lb", s->proxy ? "proxy" : "fd");
	}
	if (l && s->proxy) {
		if (p->pid > 0)
			json_kint(b, "proxy_port", p->proxy_port);
		json_kint(b, "proxy_connections", l->open);
		json_kint(b, "proxy_accepted", l->total);
	}
	json_kbool(b, "wait_ready", s->wait_ready);
	json_kint(b, "listen_timeout", s->listen_timeout_ms);
}

void proc_to_json(struct buf *b, const struct proc *p, bool with_env)
{
	const struct spec *s = p->spec;
	bool running = p->pid > 0;
	json_open(b, '{');
	json_kint(b, "pid", running ? p->pid : 0);
	json_kstr(b, "name", s->name);
	json_kint(b, "pm_id", p->id);
	json_key(b, "monit");
	json_open(b, '{');
	json_kint(b, "memory", running ? p->rss_bytes : 0);
	json_key(b, "cpu");
	json_num(b, running ? (double)(int)(p->cpu_pct * 10 + 0.5) / 10 : 0);
	json_close(b, '}');

	json_key(b, "pm2_env");
	json_open(b, '{');
	json_kstr(b, "name", s->name);
	json_kstr(b, "namespace", s->namespace);
	json_kint(b, "pm_id", p->id);
	json_kstr(b, "status", pstate_name(p->state));
	json_kint(b, "pm_uptime", p->started_wall);
	json_kint(b, "created_at", p->created_wall);
	json_kint(b, "restart_time", p->restarts);
	json_kint(b, "unstable_restarts", p->unstable_restarts);
	json_key(b, "exec_mode");
	buf_puts(b, strcmp(s->exec_mode, "cluster") == 0 ? "\"cluster_mode\"" : "\"fork_mode\"");
	json_kint(b, "instances", s->instances);
	json_kint(b, "NODE_APP_INSTANCE", p->instance);
	json_kstr(b, "pm_exec_path", s->script);
	json_kstr(b, "pm_cwd", s->cwd);
	json_kstr(b, "exec_interpreter", s->shell ? "/bin/sh" : s->interpreter ? s->interpreter : "none");
	strv(b, "node_args", s->interp_args);
	strv(b, "args", s->args);
	json_kstr(b, "pm_out_log_path", p->out_path);
	json_kstr(b, "pm_err_log_path", p->err_path);
	json_kstr(b, "pm_log_path", p->comb_path);
	json_kbool(b, "merge_logs", s->merge_logs);
	json_kbool(b, "time", s->log_time != NULL);
	json_kstr(b, "log_type", s->log_json ? "json" : "raw");
	json_kstr(b, "pm_pid_path", p->pid_path);
	json_kbool(b, "autorestart", s->autorestart);
	json_kbool(b, "treekill", s->treekill);
	json_kint(b, "kill_timeout", s->kill_timeout_ms);
	json_kstr(b, "kill_signal", xsig(s->kill_signal ? s->kill_signal : default_kill_signal));
	json_kint(b, "max_restarts", s->max_restarts);
	json_kint(b, "min_uptime", s->min_uptime_ms);
	json_kint(b, "restart_delay", s->restart_delay_ms);
	json_kint(b, "exp_backoff_restart_delay", s->exp_backoff_ms);
	json_key(b, "prev_restart_delay");
	json_int(b, p->state == ST_WAITING ? (p->backoff_ms ? p->backoff_ms : s->restart_delay_ms) : 0);
	json_key(b, "stop_exit_codes");
	json_open(b, '[');
	for (int i = 0; i < s->n_stop_exit_codes; i++)
		json_int(b, s->stop_exit_codes[i]);
	json_close(b, ']');
	json_key(b, "exit_code");
	if (p->spawn_gen && !running)
		json_int(b, p->exit_code);
	else
		json_null(b);
	json_kstr(b, "exit_signal", p->exit_signal ? xsig(p->exit_signal) : NULL);
	json_kstr(b, "username", s->user);
	if (s->has_uid)
		json_kint(b, "uid", s->uid);
	if (s->has_gid)
		json_kint(b, "gid", s->gid);
	json_kstr(b, "instance_var", s->instance_var ? s->instance_var : "NODE_APP_INSTANCE");
	watchdog_fields(b, p);
	cluster_fields(b, p);
	json_kbool(b, "vizion", false);
	json_kint(b, "log_bytes_dropped", p->log_dropped);
	json_kstr(b, "last_error", p->last_error);
	if (with_env)
		env_object(b, p);
	json_close(b, '}');
	json_close(b, '}');
}
