/* A proc as JSON, in the shape of PM2's jlist, so tools written for it keep working:
 * PM2's keys in PM2's order, with PM2's types; keys PM2 leaves out when unset are left
 * out, never null. tend's own keys (kill_timeout, restart_reason, listen, ...) follow. */
#include "daemon/listener.h"
#include "daemon/proc.h"
#include "daemon/procjson.h"

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

static void kstr_if(struct buf *b, const char *key, const char *s)
{
	if (s)
		json_kstr(b, key, s);
}

static const char *instance_var(const struct spec *s)
{
	return s->instance_var ? s->instance_var : "NODE_APP_INSTANCE";
}

/* The variables PM2 shows as numbers: the increment_var's, and PORT from "port". */
static bool numeric_var(const struct proc *p, const char *name, size_t n, long long *v)
{
	const struct spec *s = p->spec;
	bool port = s->port && !s->proxy && n == 4 && !strncmp(name, "PORT", 4);
	bool inc = s->increment_var && strlen(s->increment_var) == n && !strncmp(name, s->increment_var, n);
	if (!port && !inc)
		return false;
	char own[PROC_OWN_MAX][256];
	int k = proc_own_vars(p, own);
	for (int i = 0; i < k; i++)
		if (!strncmp(own[i], name, n) && own[i][n] == '=')
			return parse_int(own[i] + n + 1, -(1LL << 53), 1LL << 53, v);
	return false;
}

/* One variable of the app's environment as PM2 shows it, under key, or false when PM2
 * does not show it (tend's own: pm_id, NOTIFY_SOCKET, the IPC channel, ...). */
static bool env_member(struct buf *b, const struct proc *p, const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq)
		return false;
	size_t n = (size_t)(eq - entry);
	long long v;
	if (numeric_var(p, entry, n, &v)) {
		json_keyn(b, entry, n);
		json_int(b, v);
		return true;
	}
	if (proc_is_own_var(p->spec, entry))
		return false;
	json_keyn(b, entry, n);
	json_str(b, eq + 1);
	return true;
}

/* The environment the process was started with, in the order proc_env() gives it. */
static void spawn_env_object(struct buf *b, const struct proc *p)
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

/* pm2_env.env: the caller's environment and the app's env, as PM2 keeps them, then
 * PM2's app-named key (its module configuration: none here, so {}). */
static void env_object(struct buf *b, const struct proc *p)
{
	const struct spec *s = p->spec;
	json_key(b, "env");
	json_open(b, '{');
	bool port_seen = false;
	for (char **e = s->env; e && *e; e++) {
		port_seen |= !strncmp(*e, "PORT=", 5);
		env_member(b, p, *e);
	}
	long long port;
	if (!port_seen && numeric_var(p, "PORT", 4, &port))
		json_kint(b, "PORT", port);   /* "port": declared, not inherited */
	json_key(b, s->name);
	buf_puts(b, "{}");
	json_close(b, '}');
}

/* The keys written into pm2_env before and after the copies of env's variables: a
 * variable of the same name is not copied (PM2's copy would overwrite them; a JSON
 * object with a key twice is worse). */
#define K(s) {s, sizeof s - 1}
static const struct { const char *name; size_t len; } fixed_keys[] = {
	K("name"), K("namespace"), K("env"), K("merge_logs"), K("vizion"), K("autostart"),
	K("autorestart"), K("watch"), K("instance_var"), K("pmx"), K("automation"), K("treekill"),
	K("username"), K("windowsHide"), K("kill_retry_time"), K("km_link"), K("vizion_running"),
	K("node_args"),
	K("pm_exec_path"), K("pm_cwd"), K("exec_interpreter"), K("exec_mode"), K("instances"),
	K("pm_out_log_path"), K("pm_err_log_path"), K("pm_log_path"), K("pm_pid_path"),
	K("increment_var"), K("status"), K("pm_uptime"), K("axm_actions"), K("axm_monitor"),
	K("axm_options"), K("axm_dynamic"), K("created_at"), K("pm_id"), K("restart_time"),
	K("unstable_restarts"), K("exit_code"), K("uid"), K("gid"), K("args"), K("time"),
	K("log_type"), K("log_date_format"), K("shutdown_with_message"), K("kill_timeout"),
	K("kill_signal"), K("max_restarts"), K("min_uptime"),
	K("restart_delay"), K("exp_backoff_restart_delay"), K("prev_restart_delay"),
	K("stop_exit_codes"), K("exit_signal"), K("port"), K("max_memory_restart"),
	K("memory_check_interval"), K("cron_restart"), K("next_cron_restart"), K("watch_paths"),
	K("ignore_watch"), K("watch_ext"), K("watch_delay"), K("restart_reason"), K("restart_reason_at"),
	K("listen"), K("lb"), K("proxy_port"), K("proxy_connections"), K("proxy_accepted"),
	K("wait_ready"), K("listen_timeout"), K("log_bytes_dropped"), K("last_error"),
};
#undef K

/* Asked for every variable of every instance of a list: lengths are kept, not counted. */
static bool fixed_key(const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (size_t i = 0; i < ARRAY_LEN(fixed_keys); i++)
		if (fixed_keys[i].len == n && !memcmp(fixed_keys[i].name, entry, n))
			return true;
	return false;
}

/* PM2 copies every variable of env to pm2_env itself (pm2_env.PORT, pm2_env.NODE_ENV). */
static void env_copies(struct buf *b, const struct proc *p)
{
	const char *ivar = instance_var(p->spec);
	size_t ivn = strlen(ivar);
	for (char **e = p->spec->env; e && *e; e++)
		if (!fixed_key(*e) && !(strncmp(*e, ivar, ivn) == 0 && (*e)[ivn] == '='))
			env_member(b, p, *e);
}

static void watchdog_fields(struct buf *b, const struct proc *p)
{
	const struct spec *s = p->spec;
	if (s->port)
		json_kint(b, "port", s->port);
	if (s->max_memory) {
		json_kint(b, "max_memory_restart", s->max_memory);
		json_kint(b, "memory_check_interval", s->memory_interval_ms);
	}
	kstr_if(b, "cron_restart", s->cron_text);
	if (p->watchdog.cron_at > 0)
		json_kint(b, "next_cron_restart", p->watchdog.cron_wall);
	if (s->watch) {
		strv(b, "watch_paths", s->watch);
		strv(b, "ignore_watch", s->ignore_watch);
		if (s->watch_ext)
			strv(b, "watch_ext", s->watch_ext);
		json_kint(b, "watch_delay", s->watch_delay_ms);
	}
	kstr_if(b, "restart_reason", p->restart_reason);
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
		if (p->run.pid > 0)
			json_kint(b, "proxy_port", p->run.proxy.port);
		json_kint(b, "proxy_connections", l->open);
		json_kint(b, "proxy_accepted", l->total);
	}
	json_kbool(b, "wait_ready", s->wait_ready);
	json_kint(b, "listen_timeout", s->listen_timeout_ms);
}

/* The keys PM2 has that tend adds nothing to, as a PM2 app without @pm2/io shows them;
 * a node app's module_name is its name, as PM2's agent reports it. */
static void axm_fields(struct buf *b, const struct spec *s)
{
	json_key(b, "axm_actions");
	buf_puts(b, "[]");
	json_key(b, "axm_monitor");
	buf_puts(b, "{}");
	json_key(b, "axm_options");
	json_open(b, '{');
	if (s->node)
		json_kstr(b, "module_name", s->name);
	json_close(b, '}');
	json_key(b, "axm_dynamic");
	buf_puts(b, "{}");
}

/* What tend knows that PM2 either omits when it is the default or does not have. */
static void tend_fields(struct buf *b, const struct proc *p)
{
	const struct spec *s = p->spec;
	strv(b, "args", s->args);
	json_kbool(b, "time", s->log_time != NULL);
	kstr_if(b, "log_date_format", s->log_date_format);
	if (s->shutdown_with_message)
		json_kbool(b, "shutdown_with_message", true);
	json_kstr(b, "log_type", s->log_json ? "json" : "raw");
	json_kint(b, "kill_timeout", s->kill_timeout_ms);
	json_kstr(b, "kill_signal", xsig(s->kill_signal ? s->kill_signal : default_kill_signal));
	json_kint(b, "max_restarts", s->max_restarts);
	json_kint(b, "min_uptime", s->min_uptime_ms);
	json_kint(b, "restart_delay", s->restart_delay_ms);
	json_kint(b, "exp_backoff_restart_delay", s->exp_backoff_ms);
	if (p->state == ST_WAITING)
		json_kint(b, "prev_restart_delay", p->backoff_ms ? p->backoff_ms : s->restart_delay_ms);
	json_key(b, "stop_exit_codes");
	json_open(b, '[');
	for (int i = 0; i < s->n_stop_exit_codes; i++)
		json_int(b, s->stop_exit_codes[i]);
	json_close(b, ']');
	if (p->exit_signal && p->run.pid <= 0)
		json_kstr(b, "exit_signal", xsig(p->exit_signal));
	if (s->has_uid)
		json_kint(b, "uid", s->uid);
	if (s->has_gid)
		json_kint(b, "gid", s->gid);
	watchdog_fields(b, p);
	cluster_fields(b, p);
	json_kint(b, "log_bytes_dropped", p->log.dropped);
	kstr_if(b, "last_error", p->last_error);
}

static const char *interpreter_name(const struct spec *s)
{
	if (s->shell)
		return "/bin/sh";
	if (!s->interpreter)
		return "none";
	const char *slash = strrchr(s->interpreter, '/');   /* PM2 shows "node", "python3" */
	return slash ? slash + 1 : s->interpreter;
}

void proc_to_json(struct buf *b, const struct proc *p, enum jl_env env, bool tree)
{
	const struct spec *s = p->spec;
	bool running = p->run.pid > 0;
	json_open(b, '{');
	json_kint(b, "pid", running ? p->run.pid : 0);
	json_kstr(b, "name", s->name);

	json_key(b, "pm2_env");
	json_open(b, '{');
	json_kstr(b, "name", s->name);
	json_kstr(b, "namespace", s->namespace);
	if (env == JL_PM2_ENV)
		env_object(b, p);
	else if (env == JL_SPAWN_ENV)
		spawn_env_object(b, p);
	if (s->merge_logs || (!s->cluster && s->instances == 1))   /* PM2's fork: one set of files */
		json_kbool(b, "merge_logs", true);
	json_kbool(b, "vizion", false);   /* no git metadata gathered */
	json_kbool(b, "autostart", s->autostart);
	json_kbool(b, "autorestart", s->autorestart);
	json_kbool(b, "watch", s->watching);
	json_kstr(b, "instance_var", instance_var(s));
	json_kbool(b, "pmx", false);          /* no agent injected into the app */
	json_kbool(b, "automation", false);   /* nor PM2's hosted service */
	json_kbool(b, "treekill", s->treekill);
	json_kstr(b, "username", s->user);
	json_kbool(b, "windowsHide", true);   /* PM2's defaults, meaningless on Linux */
	json_kint(b, "kill_retry_time", 100);
	strv(b, "node_args", s->interp_args);
	json_kstr(b, "pm_exec_path", s->script);
	json_kstr(b, "pm_cwd", s->cwd);
	json_kstr(b, "exec_interpreter", interpreter_name(s));
	json_kstr(b, "exec_mode", s->cluster ? "cluster_mode" : "fork_mode");
	json_kint(b, "instances", s->instances);
	json_kstr(b, "pm_out_log_path", p->log.out_path);
	json_kstr(b, "pm_err_log_path", p->log.err_path);
	kstr_if(b, "pm_log_path", p->log.comb_path);
	json_kstr(b, "pm_pid_path", p->pid_path);
	json_kbool(b, "km_link", false);
	json_kbool(b, "vizion_running", false);
	kstr_if(b, "increment_var", s->increment_var);
	json_kint(b, instance_var(s), p->instance);
	if (env == JL_PM2_ENV)
		env_copies(b, p);
	json_kstr(b, "status", pstate_name(p->state));
	json_kint(b, "pm_uptime", p->run.started_wall);
	axm_fields(b, s);
	json_kint(b, "created_at", p->created_wall);
	json_kint(b, "pm_id", p->id);
	json_kint(b, "restart_time", p->restarts);
	json_kint(b, "unstable_restarts", p->unstable_restarts);
	if (p->spawn_gen > 1 || (p->spawn_gen && !running))   /* once a run has ended */
		json_kint(b, "exit_code", p->exit_code);
	tend_fields(b, p);
	json_close(b, '}');

	json_kint(b, "pm_id", p->id);
	json_key(b, "monit");
	json_open(b, '{');
	json_kint(b, "memory", running ? p->run.rss_bytes : 0);
	json_key(b, "cpu");
	json_num(b, running ? (double)(int)(p->run.cpu_pct * 10 + 0.5) / 10 : 0);
	json_close(b, '}');
	if (tree) {
		const struct tree_sample *t = &p->run.tree_sample;
		json_key(b, "tree");
		json_open(b, '{');
		json_kint(b, "cpu_ms", t->ticks_ms);
		json_kint(b, "memory", t->rss);
		json_key(b, "cpu");
		json_num(b, (double)(int)(t->cpu_pct * 10 + 0.5) / 10);
		json_close(b, '}');
	}
	json_close(b, '}');
}
