/* Control requests: decode, check, act on the procs, reply (now or when done).
 * Every request is checked whole before anything changes: bad input changes nothing. */
#include "daemon/ctl.h"
#include "daemon/applog.h"
#include "lib/json.h"
#include "daemon/events.h"
#include "daemon/logstream.h"
#include "daemon/proc.h"
#include "daemon/target.h"
#include "daemon/procjson.h"
#include "daemon/reload.h"
#include "lib/version.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void reply_line(struct client *c, const struct buf *json)
{
	client_send(c, json->data, json->len);
	client_send(c, "\n", 1);
}

void reply_error(struct client *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Messages quote requests: no control character goes back to a terminal. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	struct buf b = {0};
	json_open(&b, '{');
	json_kbool(&b, "ok", false);
	json_kstr(&b, "error", msg);
	json_kint(&b, "code", code);
	json_close(&b, '}');
	reply_line(c, &b);
	buf_free(&b);
}

static void reply_ids(struct client *c, bool ok, const int *ids, int n, const char *error,
                      const char *extra)
{
	struct buf b = {0};
	json_open(&b, '{');
	json_kbool(&b, "ok", ok);
	if (error) {
		json_kstr(&b, "error", error);
		json_kint(&b, "code", 1);
	}
	json_key(&b, "ids");
	json_open(&b, '[');
	for (int i = 0; i < n; i++)
		json_int(&b, ids[i]);
	json_close(&b, ']');
	if (extra && *extra) {
		buf_putc(&b, ',');
		buf_puts(&b, extra);
	}
	json_close(&b, '}');
	reply_line(c, &b);
	buf_free(&b);
}

void ctl_reply_ok(struct client *c)
{
	client_send(c, "{\"ok\":true}\n", 12);
}

/* ---- targets: id, name, namespace, all, /regex/ ------------------------------ */

void ctl_add_id(int **ids, int *n, int id)
{
	for (int i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return;
	*ids = xrealloc(*ids, (size_t)(*n + 1) * sizeof **ids);
	(*ids)[(*n)++] = id;
}

/* Resolve one target word into the selection (a flag per proc, in table order): 0, or
 * the error code with err: 1 it names nothing, 2 a bad regex or one that costs too much. */
static int resolve_one(const char *word, const char *cwd, bool *sel, long *budget, char *err, size_t errlen)
{
	struct target t;
	if (!target_compile(&t, word, cwd, err, errlen))
		return 2;
	target_settle(&t);
	int matched = 0;
	bool spent = false;
	for (int i = 0; i < nprocs && !spent; i++) {
		int m = target_match(&t, procs[i], budget);
		spent = m < 0;
		if (m == 1)
			sel[i] = true, matched++;
	}
	bool all = t.all;
	target_free(&t);
	if (spent)
		snprintf(err, errlen, "%.200s: too costly to match against %d apps (simplify the "
		         "regular expression, or name fewer targets)", word, nprocs);
	else if (!matched && !all)   /* "all" of nothing is not an error */
		snprintf(err, errlen, "process or namespace not found: %s", word);
	return spent ? 2 : matched || all ? 0 : 1;
}

/* The "targets" array of a request → sorted unique ids. Replies the error itself. */
static bool resolve_targets(struct request *r, int **ids, int *n)
{
	*ids = NULL;
	*n = 0;
	int t = json_get(r->d, 0, "targets");
	if (t < 0 || r->d->tok[t].type != JSMN_ARRAY || r->d->tok[t].size == 0) {
		reply_error(r->c, 2, "%s: targets: expected a non-empty array", r->cmd);
		return false;
	}
	if (r->d->tok[t].size > TARGETS_MAX) {
		reply_error(r->c, 2, "%s: targets: %d words, at most %d", r->cmd, r->d->tok[t].size, TARGETS_MAX);
		return false;
	}
	char err[300];
	long budget = TARGET_STEPS_MAX;
	bool *sel = xcalloc((size_t)nprocs + 1, sizeof *sel);
	char *cwd = json_dup(r->d, json_get(r->d, 0, "cwd"));   /* for script-file targets */
	for (int i = 0, e = t + 1; i < r->d->tok[t].size; i++, e = json_next(r->d, e)) {
		char *word = json_is_str(r->d, e) ? json_dup(r->d, e) : NULL;
		int code = word ? resolve_one(word, cwd, sel, &budget, err, sizeof err) : 2;
		if (!word)
			snprintf(err, sizeof err, "targets: expected strings");
		free(word);
		if (code) {
			reply_error(r->c, code, "%s", err);
			free(sel);
			free(cwd);
			return false;
		}
	}
	free(cwd);
	/* The table is sorted by id: the selection comes out sorted and unique. */
	for (int i = 0; i < nprocs; i++)
		if (sel[i]) {
			if ((*n & 63) == 0)
				*ids = xrealloc(*ids, (size_t)(*n + 64) * sizeof **ids);
			(*ids)[(*n)++] = procs[i]->id;
		}
	free(sel);
	/* "all" of nothing: PM2's warning and failure for the verbs that act. */
	static const char *const acting[] = {"stop", "restart", "reload", "delete"};
	for (size_t i = 0; i < ARRAY_LEN(acting) && *n == 0; i++)
		if (!strcmp(r->cmd, acting[i])) {
			reply_error(r->c, 1, "no process found");
			return false;
		}
	return true;
}

/* ---- waits ------------------------------------------------------------------ */

void ctl_wait_on(struct client *c, enum wait_kind kind, int *ids, int n)
{
	c->wait.kind = kind;
	c->wait.ids = ids;
	c->wait.n = n;
	c->wait.gens = xcalloc((size_t)n + 1, sizeof *c->wait.gens);
	c->wait.serials = xcalloc((size_t)n + 1, sizeof *c->wait.serials);
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		c->wait.gens[i] = p ? p->spawn_gen : 0;
		c->wait.serials[i] = p ? p->serial : 0;
	}
}

static void wait_clear(struct client *c)
{
	if (c->wait.kind == WAIT_RELOADED)
		for (int i = 0; i < c->wait.n; i++) {
			struct proc *p = proc_find(c->wait.ids[i]);
			if (p && p->serial == c->wait.serials[i])
				p->reload.pending = false;   /* not begun: not to be begun */
		}
	free(c->wait.ids);
	free(c->wait.gens);
	free(c->wait.serials);
	free(c->wait.extra);
	c->wait = (struct wait){0};
}

void ctl_client_free(struct client *c)
{
	wait_clear(c);
	if (logstream_subscribers)
		logstream_unsubscribe(c);
	if (events_subscribers)
		events_unsubscribe(c);
}

void ctl_client_sent(struct client *c)
{
	if (!c->missing)
		return;   /* the usual case: nothing to tell */
	c->missing = false;
	if (logstream_subscribers)
		logstream_caught_up(c);
	if (events_subscribers)
		events_caught_up(c);
}

/* Target i of a wait, if it is still the instance the request named. */
static struct proc *wait_target(const struct wait *w, int i)
{
	struct proc *p = proc_find(w->ids[i]);
	return p && p->serial == w->serials[i] ? p : NULL;
}

/* Is the request done with target i? Another request may have acted on it meanwhile:
 * deleted it (and its id been given out again), restarted what was being stopped,
 * stopped what was being restarted. Each wait then ends: what it asked for was done,
 * and then overtaken. */
static bool target_done(const struct wait *w, int i)
{
	struct proc *p = wait_target(w, i);
	if (!p)
		return true;
	bool respawned = p->spawn_gen != w->gens[i];
	switch (w->kind) {
	case WAIT_STOPPED:
		return (p->run.pid == 0 && proc_settled(p) && p->state != ST_WAITING) ||
		       (respawned && proc_settled(p));
	case WAIT_GONE:
		return false;
	case WAIT_RESTARTED:
		return proc_settled(p) && (respawned || p->want != WANT_UP);
	case WAIT_SPAWNED:
		return proc_settled(p);
	case WAIT_RELOADED:
		return !p->reload.pending && p->reload.phase == RL_NONE && proc_settled(p);
	case WAIT_SHUTDOWN:
	case WAIT_NONE:
		break;
	}
	return true;
}

/* Begin replacing pending targets while fewer than `parallel` are being replaced. */
static void reload_step(struct wait *w)
{
	int active = 0;
	for (int i = 0; i < w->n; i++) {
		struct proc *p = wait_target(w, i);
		active += p && p->reload.phase != RL_NONE;
	}
	for (int i = 0; i < w->n && active < w->parallel; i++) {
		struct proc *p = wait_target(w, i);
		if (!p || !p->reload.pending || p->old)
			continue;   /* (an old process of an abandoned reload still stopping) */
		p->reload.pending = false;
		if (p->state == ST_ONLINE && p->run.pid > 0) {
			proc_event(p, EV_RELOAD);
			active += p->reload.phase != RL_NONE;
		} else if (p->state != ST_STOPPING && p->state != ST_LAUNCHING) {
			proc_event(p, EV_START);   /* not running: a reload starts it */
		}
	}
}

static void reply_reloaded(struct client *c)
{
	struct wait *w = &c->wait;
	char err[512] = "";
	size_t len = 0;
	for (int i = 0; i < w->n; i++) {
		struct proc *p = wait_target(w, i);
		bool failed = p && (p->reload.failed || p->state == ST_ERRORED);
		if (failed && len < sizeof err - 64)
			len += (size_t)snprintf(err + len, sizeof err - len, "%s%s[%d]: %s%s", len ? "; " : "",
				p->spec->name, p->id, p->last_error ? p->last_error : pstate_name(p->state),
				p->reload.failed ? " (the old process goes on)" : "");
	}
	reply_ids(c, len == 0, w->ids, w->n, len ? err : NULL, w->extra);
}

static bool all_down(void)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->run.pid != 0 || !proc_settled(procs[i]))
			return false;
	return true;
}

void ctl_check_wait(struct client *c)
{
	struct wait *w = &c->wait;
	if (w->kind == WAIT_SHUTDOWN) {
		if (!all_down())
			return;
		daemon_exit_when_flushed(c);   /* socket gone before the client hears ok */
		ctl_reply_ok(c);
		wait_clear(c);
		c->closing = true;
		return;
	}
	if (w->kind == WAIT_RELOADED)
		reload_step(w);
	for (int i = 0; i < w->n; i++)
		if (!target_done(w, i))
			return;
	if (w->kind == WAIT_RELOADED) {
		reply_reloaded(c);
	} else if (w->kind == WAIT_RESTARTED || w->kind == WAIT_SPAWNED) {
		/* Report the instances that did not come back. */
		char err[512] = "";
		size_t len = 0;
		for (int i = 0; i < w->n; i++) {
			struct proc *p = wait_target(w, i);
			if (p && (p->state == ST_ERRORED || (p->state == ST_STOPPED && p->last_error)) &&
			    len < sizeof err - 64)
				len += (size_t)snprintf(err + len, sizeof err - len, "%s%s[%d] %s%s%s",
					len ? "; " : "", p->spec->name, p->id, pstate_name(p->state),
					p->last_error ? ": " : "", p->last_error ? p->last_error : "");
		}
		reply_ids(c, len == 0, w->ids, w->n, len ? err : NULL, w->extra);
	} else {
		reply_ids(c, true, w->ids, w->n, NULL, w->extra);
	}
	wait_clear(c);
}

/* ---- commands ---------------------------------------------------------------- */

void reply_daemon_info(struct client *c, const char *previous_build)
{
	struct buf b = {0};
	json_open(&b, '{');
	json_kbool(&b, "ok", true);
	json_kint(&b, "pid", getpid());
	json_kstr(&b, "version", tend_version);
	json_kstr(&b, "build", tend_build_id);
	if (previous_build)
		json_kstr(&b, "previous_build", previous_build);
	json_kint(&b, "proto", PROTOCOL_VERSION);
	json_kint(&b, "procs", nprocs);
	json_close(&b, '}');
	reply_line(c, &b);
	buf_free(&b);
}

static void cmd_ping(struct request *r)
{
	reply_daemon_info(r->c, NULL);
}

enum { MAX_CHANGES = 128 };

/* What a restart or stop asks to change in a declaration: "set" (restart and reload
 * with app options: the members replace the declaration's, null ones go back to the
 * default, as PM2 applies its options), "shell_env" (restart --update-env: the
 * caller's environment instead of the one it was started with), "watch" (restart
 * --watch toggles watching; a stop turns it off, as in PM2 7, unless it says
 * "watch": true). Returns how many members are replaced. */
static int changes(const struct request *r, const struct spec *s, bool stop, char **keys, char **vals)
{
	int k = 0;
	int set = stop ? -1 : json_get(r->d, 0, "set");
	for (int i = 0, e = set + 1; set >= 0 && i < r->d->tok[set].size && k < MAX_CHANGES - 4; i++) {
		int val = e + 1;
		char *key = json_dup(r->d, e);
		if (key && strcmp(key, "script") && strcmp(key, "instances") && strcmp(key, "exec_mode")) {
			keys[k] = key;
			vals[k++] = json_text(r->d, val);
		} else {
			free(key);
		}
		e = json_next(r->d, val);
	}
	int env = stop ? -1 : json_get(r->d, 0, "shell_env");
	bool watch = false;
	if (env >= 0) {
		keys[k] = xstrdup("shell_env");
		vals[k++] = json_text(r->d, env);
	}
	if (stop) {
		json_as_bool(r->d, json_get(r->d, 0, "watch"), &watch);
		if (!watch && s->watching) {
			keys[k] = xstrdup("watching");
			vals[k++] = xstrdup("false");
		}
	} else if (json_as_bool(r->d, json_get(r->d, 0, "watch"), &watch) && watch) {
		keys[k] = xstrdup("watching");
		vals[k++] = xstrdup(s->watching ? "false" : "true");
		/* --watch on an app without paths watches its cwd, or (declared without one
		 * over the protocol) its script's directory; a command line without either
		 * has nothing to watch. */
		char *dir = s->cwd ? xstrdup(s->cwd) : NULL;
		if (!dir && s->script && !s->shell && s->script[0] == '/')
			dir = xstrndup(s->script, (size_t)(strrchr(s->script, '/') - s->script) + 1);
		if (!s->watch && dir) {
			struct buf b = {0};
			json_open(&b, '[');
			json_str(&b, dir);
			json_close(&b, ']');
			keys[k] = xstrdup("watch");
			vals[k++] = b.data;
		}
		free(dir);
	}
	return k;
}

/* Give the targets the changed declaration before acting on them; instances that
 * share one get one new one. Replies the error itself. */
static bool redeclare_targets(struct request *r, const int *ids, int n, bool stop)
{
	int env = json_get(r->d, 0, "shell_env");
	if (env >= 0 && r->d->tok[env].type != JSMN_OBJECT) {
		reply_error(r->c, 2, "%s: shell_env: expected an object", r->cmd);
		return false;
	}
	struct spec **olds = xcalloc((size_t)n, sizeof *olds), **news = xcalloc((size_t)n, sizeof *news);
	int nspecs = 0;
	bool ok = true;
	for (int i = 0; i < n && ok; i++) {
		struct spec *s = proc_find(ids[i])->spec;
		int j = 0;
		while (j < nspecs && olds[j] != s)
			j++;
		if (j < nspecs)
			continue;
		char *keys[MAX_CHANGES], *vals[MAX_CHANGES];
		int k = changes(r, s, stop, keys, vals);
		if (k == 0)
			continue;
		char err[300];
		olds[nspecs] = s;
		news[nspecs] = spec_with(s, (const char *const *)keys, (const char *const *)vals, k, err, sizeof err);
		for (int v = 0; v < k; v++) {
			free(keys[v]);
			free(vals[v]);
		}
		if (!news[nspecs]) {
			reply_error(r->c, 2, "%s: %s", r->cmd, err);
			ok = false;
		} else if (!spec_bind(news[nspecs], err, sizeof err)) {
			reply_error(r->c, 1, "%s: cannot listen: %s", r->cmd, err);
			ok = false;
		}
		nspecs++;
	}
	for (int i = 0; i < n && ok; i++) {
		struct proc *p = proc_find(ids[i]);
		for (int j = 0; j < nspecs; j++)
			if (olds[j] == p->spec) {
				proc_set_spec(p, news[j]);
				break;
			}
	}
	for (int j = 0; j < nspecs; j++)
		spec_unref(news[j]);
	free(olds);
	free(news);
	return ok;
}

/* "force": stops already under way (or begun by this request) do not wait for
 * kill_timeout: SIGKILL now. */
static bool forced(const struct request *r)
{
	bool force = false;
	json_as_bool(r->d, json_get(r->d, 0, "force"), &force);
	return force;
}

/* stop: {"targets", "watch": true to keep watching, "force"}. */
static void cmd_stop(struct request *r)
{
	int *ids, n;
	if (!resolve_targets(r, &ids, &n))
		return;
	if (!redeclare_targets(r, ids, n, true)) {
		free(ids);
		return;
	}
	bool force = forced(r);
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		proc_event(p, EV_STOP);
		if (force)
			proc_kill_now(p);
	}
	ctl_wait_on(r->c, WAIT_STOPPED, ids, n);
}

static void cmd_delete(struct request *r)
{
	int *ids, n;
	if (!resolve_targets(r, &ids, &n))
		return;
	bool force = forced(r);
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		proc_event(p, EV_DELETE);
		if (force)
			proc_kill_now(p);
	}
	procs_collect_removed();
	ctl_wait_on(r->c, WAIT_GONE, ids, n);
}

/* restart and reload start processes: not while the daemon is going away. */
static bool targets_to_start(struct request *r, int **ids, int *n)
{
	if (daemon_shutting_down()) {
		reply_error(r->c, 1, "the daemon is shutting down");
		return false;
	}
	return resolve_targets(r, ids, n);
}

static void cmd_restart(struct request *r)
{
	int *ids, n;
	if (!targets_to_start(r, &ids, &n))
		return;
	if (!redeclare_targets(r, ids, n, false)) {
		free(ids);
		return;
	}
	ctl_wait_on(r->c, WAIT_RESTARTED, ids, n);
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		proc_event(p, EV_START);
	}
}

bool request_parallel(struct request *r, int *parallel)
{
	long long v = 1;
	int t = json_get(r->d, 0, "parallel");
	if (t >= 0 && (!json_as_ll(r->d, t, &v) || v < 1 || v > 4096)) {
		reply_error(r->c, 2, "%s: parallel: expected a number from 1 to 4096", r->cmd);
		return false;
	}
	*parallel = (int)v;
	return true;
}

/* reload: {"targets","parallel"?,"env"?}: rolling replacement, see reload.c. */
static void cmd_reload(struct request *r)
{
	int *ids, n;
	if (!targets_to_start(r, &ids, &n))
		return;
	int parallel;
	if (!request_parallel(r, &parallel)) {
		free(ids);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		if (reload_busy(p)) {
			reply_error(r->c, 1, "%s[%d]: a reload of it is already in progress", p->spec->name, p->id);
			free(ids);
			return;
		}
	}
	if (!redeclare_targets(r, ids, n, false)) {
		free(ids);
		return;
	}
	for (int i = 0; i < n; i++)
		reload_request(proc_find(ids[i]));
	ctl_wait_on(r->c, WAIT_RELOADED, ids, n);
	r->c->wait.parallel = parallel;
}

/* flush: {"targets"?}: truncate the targets' log files (all apps without targets). */
static void cmd_flush(struct request *r)
{
	int *ids = NULL, n = nprocs;
	if (json_get(r->d, 0, "targets") >= 0 && !resolve_targets(r, &ids, &n))
		return;
	for (int i = 0; i < n; i++)
		applog_flush(ids ? proc_find(ids[i]) : procs[i]);
	reply_ids(r->c, true, ids, ids ? n : 0, NULL, NULL);
	free(ids);
}

/* reload_logs: close and open every log file (after an external rename). */
static void cmd_reload_logs(struct request *r)
{
	for (int i = 0; i < nprocs; i++)
		applog_reopen(procs[i]);
	dlog("log files reopened");
	ctl_reply_ok(r->c);
}

static void log_file_json(struct buf *b, const char *key, const char *path, int fd)
{
	struct stat st;
	bool known = path && (fd >= 0 ? fstat(fd, &st) : stat(path, &st)) == 0;
	json_key(b, key);
	json_open(b, '{');
	json_kstr(b, "path", path);
	/* Everything written so far is in the file (writes are synchronous): a reader
	 * that tails up to size, then takes the stream, neither misses nor repeats. */
	json_kint(b, "size", known ? (long long)st.st_size : 0);
	json_close(b, '}');
}

/* logs: {"targets"?,"out"?,"err"?,"stream"?}: a data line per instance with its log
 * files and their sizes now; then, with "stream", the connection stays subscribed to
 * their lines (see logstream.c). Without targets: every app, present and future. */
static void cmd_logs(struct request *r)
{
	int *ids = NULL, n = nprocs;
	int targets = json_get(r->d, 0, "targets");
	if (targets >= 0 && !resolve_targets(r, &ids, &n))
		return;
	bool out = true, err = true, stream = true;
	json_as_bool(r->d, json_get(r->d, 0, "out"), &out);
	json_as_bool(r->d, json_get(r->d, 0, "err"), &err);
	json_as_bool(r->d, json_get(r->d, 0, "stream"), &stream);
	char why[300];
	if (stream && !logstream_subscribe(r->c, r->d, 0, out, err, why, sizeof why)) {
		reply_error(r->c, 2, "%s", why);
		free(ids);
		return;
	}
	struct buf b = {0};
	for (int i = 0; i < n; i++) {
		const struct proc *p = ids ? proc_find(ids[i]) : procs[i];
		buf_reset(&b);
		json_open(&b, '{');
		json_kint(&b, "id", p->id);
		json_kstr(&b, "name", p->spec->name);
		log_file_json(&b, "out", p->log.out_path, p->log.out);
		log_file_json(&b, "err", p->log.err_path, p->log.err);
		json_close(&b, '}');
		reply_line(r->c, &b);
	}
	buf_free(&b);
	free(ids);
	ctl_reply_ok(r->c);
}

/* events: {"targets"?,"samples"?}: {"ok":true}, then the connection stays subscribed
 * to the daemon's events (see events.c), with samples every "samples" ms if asked. */
static void cmd_events(struct request *r)
{
	int targets = json_get(r->d, 0, "targets");
	if (targets >= 0 && (r->d->tok[targets].type != JSMN_ARRAY || r->d->tok[targets].size > TARGETS_MAX)) {
		reply_error(r->c, 2, "events: targets: expected an array of at most %d words", TARGETS_MAX);
		return;
	}
	long long samples = 0;
	int st = json_get(r->d, 0, "samples");
	if (st >= 0 && !json_as_ll(r->d, st, &samples)) {
		reply_error(r->c, 2, "events: samples: expected a number of milliseconds");
		return;
	}
	char why[300];
	if (!events_subscribe(r->c, r->d, 0, samples, why, sizeof why)) {
		reply_error(r->c, 2, "events: %s", why);
		return;
	}
	ctl_reply_ok(r->c);
}

static void cmd_reset(struct request *r)
{
	int *ids, n;
	if (!resolve_targets(r, &ids, &n))
		return;
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		p->restarts = 0;
		p->unstable_restarts = 0;
		p->backoff_ms = 0;
	}
	reply_ids(r->c, true, ids, n, NULL, NULL);
	free(ids);
}

static void cmd_signal(struct request *r)
{
	char *name = json_dup(r->d, json_get(r->d, 0, "signal"));
	int sig = name ? signal_from_name(name) : -1;
	if (sig <= 0) {
		reply_error(r->c, 2, "unknown signal: %s", name ? name : "(none)");
		free(name);
		return;
	}
	free(name);
	int *ids, n, sent = 0;
	if (!resolve_targets(r, &ids, &n))
		return;
	/* The running ones, as PM2 does: a stopped instance is skipped. */
	for (int i = 0; i < n; i++) {
		struct proc *p = proc_find(ids[i]);
		if (p->run.pid > 0 && kill(p->run.pid, sig) == 0)
			ids[sent++] = ids[i];
	}
	if (sent || n == 0)   /* "all" of no apps: nothing to signal, nothing wrong */
		reply_ids(r->c, true, ids, sent, NULL, NULL);
	else
		reply_error(r->c, 1, "%s: not running", proc_find(ids[0])->spec->name);
	free(ids);
}

/* list: a data line with PM2's jlist array; "targets" optional; "env" to include
 * each instance's environment (jlist does, the table does not need it); "tree" to add
 * each instance's process tree's CPU time and memory. */
static void cmd_list(struct request *r)
{
	int *ids = NULL, n = nprocs;
	if (json_get(r->d, 0, "targets") >= 0) {
		if (!resolve_targets(r, &ids, &n))
			return;
	}
	/* "env": true (PM2's env), false (none: list is quicker), "spawn" (the real one) */
	bool with_env = true;
	int envtok = json_get(r->d, 0, "env");
	json_as_bool(r->d, envtok, &with_env);
	enum jl_env env = json_eq(r->d, envtok, "spawn") ? JL_SPAWN_ENV : with_env ? JL_PM2_ENV : JL_NO_ENV;
	/* "tree": each instance's whole process tree too, sampled at most once a second */
	bool tree = false;
	json_as_bool(r->d, json_get(r->d, 0, "tree"), &tree);
	daemon_sample_procs();
	int64_t now = mono_ms();
	struct buf b = {0};
	buf_grow(&b, (size_t)n * (env != JL_NO_ENV ? 4096 : 1024));
	json_open(&b, '[');
	for (int i = 0; i < n; i++) {
		struct proc *p = ids ? proc_find(ids[i]) : procs[i];
		if (tree)
			daemon_sample_tree(p, now, 1000);
		proc_to_json(&b, p, env, tree);
	}
	json_close(&b, ']');
	reply_line(r->c, &b);
	buf_free(&b);
	free(ids);
	ctl_reply_ok(r->c);
}

/* update: {"exe":ABSOLUTE PATH}: the daemon executes that program in its place, its apps
 * running on (upgrade.h); the new program answers. */
static void cmd_update(struct request *r)
{
	char *exe = json_dup(r->d, json_get(r->d, 0, "exe"));
	struct stat st;
	errno = 0;
	if (!exe || exe[0] != '/')
		reply_error(r->c, 2, "update: exe: expected the absolute path of a tend binary");
	else if (stat(exe, &st) < 0 || !S_ISREG(st.st_mode) || access(exe, X_OK) < 0)
		reply_error(r->c, 1, "update: %s: %s", exe, errno ? strerror(errno) : "not an executable file");
	else
		daemon_update(r->c, exe);   /* returns only when it could not */
	free(exe);
}

static void cmd_kill(struct request *r)
{
	daemon_shutdown_begin();
	if (forced(r))
		daemon_kill_now();
	ctl_wait_on(r->c, WAIT_SHUTDOWN, NULL, 0);
}

static const struct {
	const char *name;
	void (*fn)(struct request *r);
} commands[] = {
	{"cleardump", cmd_cleardump},
	{"delete", cmd_delete},
	{"events", cmd_events},
	{"flush", cmd_flush},
	{"kill", cmd_kill},
	{"list", cmd_list},
	{"logs", cmd_logs},
	{"ping", cmd_ping},
	{"reload", cmd_reload},
	{"reload_logs", cmd_reload_logs},
	{"reset", cmd_reset},
	{"restart", cmd_restart},
	{"resurrect", cmd_resurrect},
	{"save", cmd_save},
	{"scale", cmd_scale},
	{"signal", cmd_signal},
	{"start", cmd_start},
	{"stop", cmd_stop},
	{"update", cmd_update},
};

void ctl_request(struct client *c, const char *line, size_t len)
{
	struct jdoc d;
	if (len == 0)
		return;
	if (!json_parse(&d, line, len)) {
		reply_error(c, 2, "bad request: %s", d.err);
		return;
	}
	if (d.tok[0].type != JSMN_OBJECT) {
		reply_error(c, 2, "bad request: expected an object");
		goto out;
	}
	char *cmd = json_dup(&d, json_get(&d, 0, "cmd"));
	if (!cmd) {
		reply_error(c, 2, "bad request: no \"cmd\"");
		goto out;
	}
	/* The protocol version decides, not the build: a client of another build speaks
	 * the same protocol (no "proto": one from before it was counted, also fine). kill
	 * and update work whatever the client speaks: they are how a daemon is replaced. */
	long long proto = PROTOCOL_VERSION;
	json_as_ll(&d, json_get(&d, 0, "proto"), &proto);
	char *build = NULL;
	if (proto < PROTOCOL_MIN && strcmp(cmd, "kill") != 0 && strcmp(cmd, "update") != 0) {
		build = json_dup(&d, json_get(&d, 0, "build"));
		reply_error(c, 3, "the daemon is build %s (protocol %d to %d), this client is build %s "
		            "(protocol %lld)", tend_build_id, PROTOCOL_MIN, PROTOCOL_VERSION,
		            build ? build : "?", proto);
	} else {
		size_t i = 0;
		while (i < ARRAY_LEN(commands) && strcmp(commands[i].name, cmd) != 0)
			i++;
		if (i == ARRAY_LEN(commands)) {
			reply_error(c, 2, "unknown command: %.64s", cmd);
		} else {
			struct request r = {c, &d, commands[i].name};
			commands[i].fn(&r);
			if (c->wait.kind != WAIT_NONE)
				ctl_check_wait(c);   /* it may be done already */
		}
	}
	free(build);
	free(cmd);
out:
	json_free(&d);
}
