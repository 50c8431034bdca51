/* An app declaration as the daemon receives it: a JSON object with PM2's key names,
 * already resolved by the client (absolute paths, numbers in ms). The daemon checks
 * it again, since any program may speak the protocol. */
#include "daemon/listener.h"
#include "daemon/proc.h"
#include "lib/safefile.h"
#include "lib/schema.h"

#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_STRV = 65536 };

struct reader {
	const struct jdoc *d;
	int obj;
	char *err;
	size_t errlen;
	bool failed;
};

static void bad(struct reader *r, const char *key, const char *what)
{
	if (!r->failed)
		snprintf(r->err, r->errlen, "%s: %s", key, what);
	r->failed = true;
}

static char *get_str(struct reader *r, const char *key, bool required)
{
	int t = json_get(r->d, r->obj, key);
	if (t < 0 || json_is_null(r->d, t)) {
		if (required)
			bad(r, key, "missing");
		return NULL;
	}
	if (!json_is_str(r->d, t)) {
		bad(r, key, "expected a string");
		return NULL;
	}
	char *s = json_dup(r->d, t);
	if (!s)
		bad(r, key, json_has_nul(r->d, t) ? NUL_IN_STRING : "bad string");
	return s;
}

static long long get_int(struct reader *r, const char *key, long long def, long long min, long long max)
{
	int t = json_get(r->d, r->obj, key);
	if (t < 0 || json_is_null(r->d, t))
		return def;
	long long v;
	if (!json_as_ll(r->d, t, &v)) {
		bad(r, key, "expected an integer");
		return def;
	}
	if (v < min || v > max) {
		char why[80];
		snprintf(why, sizeof why, "out of range (%lld to %lld)", min, max);
		bad(r, key, why);
		return def;
	}
	return v;
}

/* A number key of the app schema: its range and default are the table's. The default
 * itself is accepted too (0 port, size or limit: none), as the protocol always did. */
static long long get_key(struct reader *r, const char *key)
{
	const struct app_key *k = app_key(key);
	return get_int(r, key, k->def, k->def < k->min ? k->def : k->min, k->max);
}

static bool get_bool(struct reader *r, const char *key, bool def)
{
	int t = json_get(r->d, r->obj, key);
	if (t < 0 || json_is_null(r->d, t))
		return def;
	bool v;
	if (!json_as_bool(r->d, t, &v)) {
		bad(r, key, "expected true or false");
		return def;
	}
	return v;
}

/* An array of strings → NULL-terminated vector. */
static char **get_strv(struct reader *r, const char *key)
{
	int t = json_get(r->d, r->obj, key);
	if (t < 0 || json_is_null(r->d, t))
		return NULL;
	if (r->d->tok[t].type != JSMN_ARRAY || r->d->tok[t].size > MAX_STRV) {
		bad(r, key, "expected an array of strings");
		return NULL;
	}
	int n = r->d->tok[t].size;
	char **v = xcalloc((size_t)n + 1, sizeof *v);
	for (int i = 0, e = t + 1; i < n; i++, e = json_next(r->d, e)) {
		if (!json_is_str(r->d, e) || !(v[i] = json_dup(r->d, e))) {
			bad(r, key, json_has_nul(r->d, e) ? NUL_IN_STRING : "expected an array of strings");
			break;
		}
	}
	return v;
}

/* The environment being built: "K=V" strings in order, and a hash of the names to
 * their place, so that a layer of tens of thousands of variables costs linear time. A
 * removed variable leaves a hole (NULL), squeezed out at the end. */
struct envb {
	char **v;
	int n;
	int *slot;        /* index in v + 1; 0: empty */
	unsigned cap;     /* slots, a power of two */
};

static unsigned name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h;
}

static bool same_name(const char *entry, const char *name, size_t len)
{
	return entry && !strncmp(entry, name, len) && entry[len] == '=';
}

static void env_grow(struct envb *e)
{
	if ((unsigned)(e->n + 1) * 2 <= e->cap)
		return;
	unsigned cap = e->cap ? e->cap * 2 : 64;
	int *slot = xcalloc(cap, sizeof *slot);
	for (int i = 0; i < e->n; i++) {
		if (!e->v[i])
			continue;
		size_t len = strcspn(e->v[i], "=");
		unsigned h = name_hash(e->v[i], len) & (cap - 1);
		while (slot[h])
			h = (h + 1) & (cap - 1);
		slot[h] = i + 1;
	}
	free(e->slot);
	e->slot = slot;
	e->cap = cap;
	e->v = xrealloc(e->v, cap / 2 * sizeof *e->v + sizeof *e->v);
}

/* Set name=value (value NULL: remove name). */
static void env_set(struct envb *e, const char *name, size_t len, const char *value)
{
	env_grow(e);
	unsigned h = name_hash(name, len) & (e->cap - 1);
	for (; e->slot[h]; h = (h + 1) & (e->cap - 1)) {
		int i = e->slot[h] - 1;
		if (!same_name(e->v[i], name, len))
			continue;
		free(e->v[i]);
		/* Removed: the slot stays, pointing at the hole, so probing goes on past it. */
		e->v[i] = value ? xasprintf("%.*s=%s", (int)len, name, value) : NULL;
		return;
	}
	if (!value)
		return;
	e->v[e->n] = xasprintf("%.*s=%s", (int)len, name, value);
	e->slot[h] = ++e->n;
}

/* Lay the object `key` ({"K":"V",...}; null removes K) over the environment. */
static void env_layer(struct reader *r, struct envb *e, const char *key)
{
	int t = json_get(r->d, r->obj, key);
	if (t < 0 || json_is_null(r->d, t))
		return;
	if (r->d->tok[t].type != JSMN_OBJECT || r->d->tok[t].size > MAX_STRV) {
		bad(r, key, "expected an object");
		return;
	}
	for (int i = 0, k = t + 1; i < r->d->tok[t].size; i++) {
		int val = k + 1;
		char *name = json_dup(r->d, k);
		const jsmntok_t *vt = &r->d->tok[val];
		char *value = vt->type == JSMN_STRING || (vt->type == JSMN_PRIMITIVE && !json_is_null(r->d, val))
			? json_dup(r->d, val) : NULL;
		if (!name || !*name || strchr(name, '='))
			bad(r, key, "bad variable name");
		else if (json_has_nul(r->d, val))
			bad(r, key, NUL_IN_STRING);
		else if (value || json_is_null(r->d, val))
			env_set(e, name, strlen(name), value);
		else
			bad(r, key, "values must be strings");
		free(name);
		free(value);
		k = json_next(r->d, val);
	}
}

static char **get_env(struct reader *r, const struct spec *s)
{
	struct envb e = {0};
	env_grow(&e);
	env_layer(r, &e, "shell_env");
	env_layer(r, &e, "env");
	/* Python buffers stdout when it is a pipe; logs would arrive in lumps. */
	bool unbuffered = false;
	for (int i = 0; i < e.n && !unbuffered; i++)
		unbuffered = same_name(e.v[i], "PYTHONUNBUFFERED", 16);
	if (s->interpreter && strstr(s->interpreter, "python") && !unbuffered)
		env_set(&e, "PYTHONUNBUFFERED", 16, "1");
	int k = 0;
	for (int i = 0; i < e.n; i++)
		if (e.v[i])
			e.v[k++] = e.v[i];
	e.v[k] = NULL;
	free(e.slot);
	return e.v;
}

/* "js,json" as --ext writes it, in a file too: one extension per entry, none empty;
 * NULL (every file) when none is left. Takes v. */
static char **extension_list(char **v)
{
	size_t n = 0;
	for (char **e = v; e && *e; e++)
		n += strlen(*e) + 1;
	char **out = xcalloc(n + 1, sizeof *out);
	size_t k = 0;
	for (char **e = v; e && *e; e++) {
		for (const char *p = *e; *p;) {
			size_t len = strcspn(p, ", ");
			if (len && !(len == 1 && *p == '.'))
				out[k++] = xstrndup(p, len);
			p += len + (p[len] != 0);
		}
		free(*e);
	}
	free(v);
	if (!k) {
		free(out);
		return NULL;
	}
	return out;
}

static void get_watchdogs(struct reader *r, struct spec *s)
{
	s->max_memory = get_key(r, "max_memory_restart");
	s->memory_interval_ms = get_key(r, "memory_check_interval");
	s->cron_text = get_str(r, "cron_restart", false);
	if (s->cron_text) {
		char why[160];
		s->has_cron = cron_parse(s->cron_text, &s->cron, why, sizeof why);
		if (!s->has_cron)
			bad(r, "cron_restart", why);
	}
	s->watch = get_strv(r, "watch");
	s->ignore_watch = get_strv(r, "ignore_watch");
	s->watch_ext = extension_list(get_strv(r, "watch_ext"));
	s->watch_delay_ms = get_key(r, "watch_delay");
	s->watching = s->watch && get_bool(r, "watching", true);
	for (char **w = s->watch; w && *w; w++)
		if (**w != '/')
			bad(r, "watch", "paths must be absolute");
}

/* Log keys: files, merging, timestamps, JSON records. */
static void get_log_options(struct reader *r, struct spec *s)
{
	int lf = json_get(r->d, r->obj, "log_file");
	bool flag = false;
	if (lf >= 0 && r->d->tok[lf].type == JSMN_PRIMITIVE && json_as_bool(r->d, lf, &flag))
		s->log_file = flag ? xstrdup("") : NULL;   /* true: the default path */
	else
		s->log_file = get_str(r, "log_file", false);
	s->merge_logs = get_bool(r, "merge_logs", false);
	if (get_bool(r, "disable_logs", false)) {
		free(s->out_file);
		free(s->err_file);
		s->out_file = xstrdup("/dev/null");
		s->err_file = xstrdup("/dev/null");
	}
	char *fmt = get_str(r, "log_date_format", false);
	if (get_bool(r, "time", false) || fmt) {
		char why[128];
		s->log_time = xmalloc(sizeof *s->log_time);
		/* time alone: PM2's format for it (Common.js), local time, no zone */
		if (!datefmt_compile(s->log_time, fmt ? fmt : "YYYY-MM-DDTHH:mm:ss", why, sizeof why))
			bad(r, "log_date_format", why);
		s->log_date_format = fmt ? fmt : xstrdup("YYYY-MM-DDTHH:mm:ss");   /* for jlist */
	} else {
		free(fmt);
	}
	char *type = get_str(r, "log_type", false);
	if (type && strcmp(type, "json") != 0 && strcmp(type, "raw") != 0)
		bad(r, "log_type", "expected \"json\" or \"raw\"");
	s->log_json = type && !strcmp(type, "json");
	free(type);
	s->log_lines = s->log_time || s->log_json || s->log_file;
	s->log_max_size = get_key(r, "log_max_size");
	s->log_retain = (int)get_key(r, "log_retain");
}

/* A port from the environment the app is given, for cluster mode without "port". */
static int env_port(const struct spec *s)
{
	for (char **e = s->env; e && *e; e++) {
		long long v;
		if (!strncmp(*e, "PORT=", 5) && parse_int(*e + 5, 1, 65535, &v))
			return (int)v;
	}
	return 0;
}

static bool is_node(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	return base && (!strcmp(base, "node") || !strcmp(base, "nodejs") || !strncmp(base, "node-", 5) ||
	                !strncmp(base, "node2", 5));
}

static void get_cluster_options(struct reader *r, struct spec *s)
{
	s->cluster = !strcmp(s->exec_mode, "cluster");
	s->listen = get_str(r, "listen", false);
	s->wait_ready = get_bool(r, "wait_ready", false);
	s->listen_timeout_ms = get_key(r, "listen_timeout");
	s->shutdown_with_message = get_bool(r, "shutdown_with_message", false);
	s->node = !s->shell && is_node(s->interpreter);
	char *lb = get_str(r, "lb", false);
	if (lb && strcmp(lb, "fd") != 0 && strcmp(lb, "proxy") != 0)
		bad(r, "lb", "expected \"fd\" or \"proxy\"");
	s->proxy = lb && !strcmp(lb, "proxy");
	if (s->listen) {
		char host[128], err[160];
		int port;
		if (!listen_addr_parse(s->listen, host, sizeof host, &port, err, sizeof err))
			bad(r, "listen", err);
		else if (s->port && s->port != port)
			bad(r, "listen", "its port differs from \"port\"");
		else
			s->port = port;
		if (host[0])
			s->listen_host = xstrdup(host);
	}
	if (s->cluster && !s->port)
		s->port = env_port(s);
	if (s->proxy && !s->port)
		bad(r, "lb", "\"proxy\" needs a port (port, listen, or PORT in env)");
	/* fd handoff: cluster mode with a port, or asked for by lb. */
	s->handoff = s->port && (s->cluster || lb) && !s->proxy;
	free(lb);
}

/* Bind (or share) the app's listening socket; false with the reason in err. Done
 * apart from parsing: a declaration that is only checked binds nothing. */
bool spec_check_files(const struct spec *s, char *err, size_t errlen)
{
	const char *paths[] = {s->out_file, s->err_file, s->log_file, s->pid_file};
	const char *keys[] = {"out_file", "error_file", "log_file", "pid_file"};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		const char *p = paths[i];
		char why[PATH_MAX + 300];
		if (!p || !*p || !strcmp(p, "/dev/null") || !strcmp(p, "NULL"))
			continue;
		if (!safe_target(p, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", keys[i], why);
			return false;
		}
	}
	return true;
}

bool spec_bind(struct spec *s, char *err, size_t errlen)
{
	if (!(s->handoff || s->proxy) || s->listener)
		return true;
	s->listener = listener_get(s->listen_host, s->port, s->proxy, err, errlen);
	return s->listener != NULL;
}

struct spec *spec_from_json(const struct jdoc *d, int obj, char *err, size_t errlen)
{
	struct reader r = {d, obj, err, errlen, false};
	if (obj < 0 || d->tok[obj].type != JSMN_OBJECT) {
		snprintf(err, errlen, "app: expected an object");
		return NULL;
	}
	struct spec *s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->script = get_str(&r, "script", true);
	s->name = get_str(&r, "name", true);
	s->namespace = get_str(&r, "namespace", false);
	if (!s->namespace)
		s->namespace = xstrdup("default");
	s->interpreter = get_str(&r, "exec_interpreter", false);
	s->interp_args = get_strv(&r, "interpreter_args");
	s->args = get_strv(&r, "args");
	s->env = get_env(&r, s);
	s->autostart = get_bool(&r, "autostart", true);
	s->instance_var = get_str(&r, "instance_var", false);
	s->increment_var = get_str(&r, "increment_var", false);
	s->port = (int)get_key(&r, "port");
	get_watchdogs(&r, s);
	s->cwd = get_str(&r, "cwd", false);
	s->out_file = get_str(&r, "out_file", false);
	s->err_file = get_str(&r, "error_file", false);
	get_log_options(&r, s);
	s->pid_file = get_str(&r, "pid_file", false);
	s->exec_mode = get_str(&r, "exec_mode", false);
	if (!s->exec_mode)
		s->exec_mode = xstrdup("fork");
	get_cluster_options(&r, s);
	s->user = get_str(&r, "username", false);
	s->instances = (int)get_int(&r, "instances", 1, 1, MAX_INSTANCES);   /* resolved by the client */
	s->kill_timeout_ms = get_key(&r, "kill_timeout");
	s->min_uptime_ms = get_key(&r, "min_uptime");
	s->restart_delay_ms = get_key(&r, "restart_delay");
	s->exp_backoff_ms = get_key(&r, "exp_backoff_restart_delay");
	s->max_restarts = (int)get_key(&r, "max_restarts");
	s->autorestart = get_bool(&r, "autorestart", true);
	s->treekill = get_bool(&r, "treekill", true);
	s->shell = get_bool(&r, "shell", false);
	long long uid = get_int(&r, "uid", -1, -1, 0x7fffffff);
	long long gid = get_int(&r, "gid", -1, -1, 0x7fffffff);
	s->has_uid = uid >= 0;
	s->has_gid = gid >= 0;
	s->uid = (uid_t)(uid >= 0 ? uid : 0);
	s->gid = (gid_t)(gid >= 0 ? gid : 0);
	char *sig = get_str(&r, "kill_signal", false);
	if (sig) {
		s->kill_signal = signal_from_name(sig);
		if (s->kill_signal <= 0)
			bad(&r, "kill_signal", "unknown signal");
		free(sig);
	}
	int codes = json_get(d, obj, "stop_exit_codes");
	if (codes >= 0 && !json_is_null(d, codes)) {
		if (d->tok[codes].type != JSMN_ARRAY || d->tok[codes].size > (int)ARRAY_LEN(s->stop_exit_codes)) {
			bad(&r, "stop_exit_codes", "expected an array of at most 16 exit codes");
		} else {
			for (int i = 0, e = codes + 1; i < d->tok[codes].size; i++, e = json_next(d, e)) {
				long long v;
				if (!json_as_ll(d, e, &v) || v < 0 || v > 255) {
					bad(&r, "stop_exit_codes", "exit codes are 0..255");
					break;
				}
				s->stop_exit_codes[s->n_stop_exit_codes++] = (int)v;
			}
		}
	}
	const char *why = r.failed || !s->name ? NULL : app_name_problem(s->name);
	if (why)
		bad(&r, "name", why);
	if (!r.failed && s->script && s->script[0] != '/' && !s->shell)
		bad(&r, "script", "must be an absolute path");
	if (!r.failed && s->interpreter && s->interpreter[0] != '/')
		bad(&r, "exec_interpreter", "must be an absolute path");
	if (r.failed) {
		spec_unref(s);
		return NULL;
	}
	/* Every jlist shows the environment of every instance: encode it once. */
	struct buf b = {0};
	for (char **e = s->env; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || proc_is_own_var(s, *e))
			continue;
		json_keyn(&b, *e, (size_t)(eq - *e));
		json_str(&b, eq + 1);
	}
	s->env_json = b.data ? b.data : xstrdup("");
	const jsmntok_t *t = &d->tok[obj];
	s->json = xstrndup(d->text + t->start, (size_t)(t->end - t->start));
	return s;
}

struct spec *spec_with(const struct spec *s, const char *const *keys, const char *const *values,
                       int n, char *err, size_t errlen)
{
	struct jdoc d;
	if (!json_parse(&d, s->json, strlen(s->json))) {
		snprintf(err, errlen, "stored declaration: %s", d.err);
		return NULL;
	}
	struct buf b = {0};
	json_open(&b, '{');
	json_copy_members(&b, &d, 0, keys, n);
	for (int j = 0; j < n; j++)
		if (values[j]) {
			json_key(&b, keys[j]);
			json_raw(&b, values[j], strlen(values[j]));
		}
	json_close(&b, '}');
	json_free(&d);
	struct jdoc nd;
	struct spec *ns = NULL;
	if (json_parse(&nd, b.data, b.len))
		ns = spec_from_json(&nd, 0, err, errlen);
	else
		snprintf(err, errlen, "%s", nd.err);
	json_free(&nd);
	buf_free(&b);
	return ns;
}
