/* Registering apps: the start command, smart start, new declarations for apps that
 * exist, and instances a killed daemon left running. Every app of a request is
 * checked before anything changes. */
#include "daemon/ctl.h"
#include "daemon/proc.h"
#include "daemon/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_up(const struct proc *p)
{
	return p->state == ST_ONLINE || p->state == ST_LAUNCHING || p->state == ST_STOPPING ||
	       p->state == ST_WAITING;
}

/* Instances of an app, not counting those on their way out (being deleted). */
static int count_named(const char *name, bool *any_up)
{
	int n = 0;
	*any_up = false;
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->want != WANT_GONE && strcmp(procs[i]->spec->name, name) == 0) {
			n++;
			*any_up |= is_up(procs[i]);
		}
	return n;
}

/* An app declared "stopped" (a saved stopped app, autostart: false) is registered
 * without running; a saved app's instances_status says it per instance. */
static bool declared_stopped(const struct jdoc *d, int app, const struct spec *s)
{
	int st = json_get(d, app, "status");
	return !s->autostart || (st >= 0 && json_eq(d, st, "stopped"));
}

static bool instance_declared_stopped(const struct jdoc *d, int app, int k)
{
	int per = json_get(d, app, "instances_status");
	if (per < 0 || d->tok[per].type != JSMN_ARRAY || k >= d->tok[per].size)
		return false;
	return json_eq(d, json_child(d, per, k), "stopped");
}

static bool instance_used(const char *name, int k)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->want != WANT_GONE && procs[i]->instance == k && !strcmp(procs[i]->spec->name, name))
			return true;
	return false;
}

/* count new instances of s, numbered from the lowest numbers the app does not use (a
 * forced copy counts from 0 again): replacing, first, whatever a previous daemon left
 * running. */
static void add_instances(struct spec *s, int count, bool copy, bool run, int **ids, int *n,
                          const struct jdoc *d, int app)
{
	for (int k = 0; count > 0; k++) {
		if (!copy && instance_used(s->name, k))
			continue;
		count--;
		struct proc *p = proc_new(s, k);
		char *record = NULL;
		pid_t orphan = orphan_take(s->name, p->record_path, &record);
		bool up = run && !(d && instance_declared_stopped(d, app, k));
		if (orphan > 0)
			proc_replace_orphan(p, orphan, record);
		proc_event(p, up ? EV_START : EV_STOP);   /* while replacing: what comes after */
		ctl_add_id(ids, n, p->id);
	}
}

/* An app that exists takes the new declaration; its instance count follows it. Its
 * instances restart, or with rolling, wait for a rolling reload (ctl.c). */
static void redeclare(struct spec *s, bool run, bool rolling, int **ids, int *n)
{
	int have = 0;
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->want == WANT_GONE || strcmp(p->spec->name, s->name) != 0)
			continue;   /* instances being deleted go on going */
		if (p->instance >= s->instances) {
			proc_event(p, EV_DELETE);   /* scaled down: the highest instances go */
			continue;
		}
		have++;
		proc_set_spec(p, s);
		if (!run)
			p->want = WANT_DOWN;   /* declared stopped: it runs on until stopped */
		if (run && rolling) {
			reload_request(p);
		} else if (run) {
			proc_event(p, EV_START);
		}
		ctl_add_id(ids, n, p->id);
	}
	if (have < s->instances)
		add_instances(s, s->instances - have, false, run, ids, n, NULL, -1);
}

/* Scaling down removes the oldest instances first (the lowest ids), as PM2 does. */
static struct proc *oldest_instance(const char *name)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->want != WANT_GONE && !strcmp(procs[i]->spec->name, name))
			return procs[i];   /* the table is sorted by id */
	return NULL;
}

static void scale_to(struct client *c, struct spec *s, int have, int want)
{
	char count[16], err[300];
	snprintf(count, sizeof count, "%d", want);
	const char *key = "instances", *val = count;
	struct spec *ns = spec_with(s, &key, &val, 1, err, sizeof err);
	if (!ns || !spec_bind(ns, err, sizeof err)) {
		reply_error(c, ns ? 1 : 2, "%s: %s", s->name, err);
		if (ns)
			spec_unref(ns);
		return;
	}
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->spec == s)
			proc_set_count(procs[i], ns);
	int *ids = NULL, n = 0;
	bool shrinking = want < have;
	for (struct proc *p; have > want && (p = oldest_instance(ns->name)); have--) {
		proc_event(p, EV_DELETE);
		ctl_add_id(&ids, &n, p->id);
	}
	if (have < want)
		add_instances(ns, want - have, false, true, &ids, &n, NULL, -1);
	spec_unref(ns);
	procs_collect_removed();
	/* Removals are done once gone, additions once spawned (and ready). */
	ctl_wait_on(c, shrinking ? WAIT_GONE : WAIT_SPAWNED, ids, n);
}

/* Is an instance of name being reloaded? */
static bool reloading(const char *name)
{
	for (int i = 0; i < nprocs; i++)
		if (!strcmp(procs[i]->spec->name, name) && reload_busy(procs[i]))
			return true;
	return false;
}

void apps_start(struct client *c, const struct jdoc *d, int apps, enum start_mode mode,
                bool force, int reload_parallel, const char *extra)
{
	if (daemon_shutting_down()) {
		reply_error(c, 1, "the daemon is shutting down");
		return;
	}
	if (apps < 0 || d->tok[apps].type != JSMN_ARRAY || d->tok[apps].size == 0) {
		reply_error(c, 2, "start: apps: expected a non-empty array");
		return;
	}
	int napps = d->tok[apps].size;
	struct spec **specs = xcalloc((size_t)napps, sizeof *specs);
	int *tok = xcalloc((size_t)napps, sizeof *tok);
	bool *forced = xcalloc((size_t)napps, sizeof *forced);
	char err[1024];
	struct buf skipped = {0};
	int *ids = NULL, n = 0;
	int e = apps + 1;
	for (int i = 0; i < napps; i++, e = json_next(d, e)) {
		tok[i] = e;
		specs[i] = spec_from_json(d, e, err, sizeof err);
		if (!specs[i]) {
			reply_error(c, 2, "apps[%d].%s", i, err);
			goto out;
		}
		forced[i] = force;
		json_as_bool(d, json_get(d, e, "force"), &forced[i]);
		for (int j = 0; j < i && !forced[i]; j++)
			if (strcmp(specs[j]->name, specs[i]->name) == 0) {
				reply_error(c, 2, "apps[%d].name: %s is declared twice", i, specs[i]->name);
				goto out;
			}
		bool up;
		int have = count_named(specs[i]->name, &up);
		if (mode == START_NEW && up && !forced[i]) {
			reply_error(c, 1, "%s: already running; use restart, or -f to start another",
			            specs[i]->name);
			goto out;
		}
		if (mode == START_UPDATE && have == 0) {
			reply_error(c, 1, "%s: not started yet; use startOrRestart to start it", specs[i]->name);
			goto out;
		}
		if (reload_parallel && reloading(specs[i]->name)) {
			reply_error(c, 1, "%s: a reload of it is already in progress", specs[i]->name);
			goto out;
		}
	}
	for (int i = 0; i < napps; i++)
		if (!spec_check_files(specs[i], err, sizeof err)) {
			reply_error(c, 1, "%s: %s", specs[i]->name, err);
			goto out;
		}
	for (int i = 0; i < napps; i++)
		if (!spec_bind(specs[i], err, sizeof err)) {
			reply_error(c, 1, "%s: cannot listen: %s", specs[i]->name, err);
			goto out;
		}
	json_open(&skipped, '[');
	for (int i = 0; i < napps; i++) {
		struct spec *s = specs[i];
		bool up, run = !declared_stopped(d, tok[i], s);
		int have = count_named(s->name, &up);
		if (have == 0 || forced[i])
			add_instances(s, s->instances, have > 0, run, &ids, &n, d, tok[i]);
		else if (mode == START_SKIP && up)
			json_str(&skipped, s->name);
		else
			redeclare(s, run, reload_parallel > 0, &ids, &n);
	}
	json_close(&skipped, ']');
	procs_collect_removed();
	ctl_wait_on(c, reload_parallel ? WAIT_RELOADED : WAIT_SPAWNED, ids, n);
	c->wait.parallel = reload_parallel;
	c->wait.extra = xasprintf("\"skipped\":%s%s%s", skipped.data, extra ? "," : "", extra ? extra : "");
out:
	for (int i = 0; i < napps; i++)
		if (specs[i])
			spec_unref(specs[i]);
	free(specs);
	free(tok);
	free(forced);
	buf_free(&skipped);
}

/* The number scale asks for: "N", "+N" or "-N" (a JSON string or number). */
static bool scale_count(const struct request *r, int have, int *want)
{
	int t = json_get(r->d, 0, "instances");
	char *text = t >= 0 ? json_dup(r->d, t) : NULL;
	long long v;
	bool rel = text && (text[0] == '+' || text[0] == '-');
	const char *digits = text ? text + rel : NULL;
	bool ok = digits && *digits >= '0' && *digits <= '9' &&   /* not "++1" nor "+-1" */
	          parse_int(text + (text[0] == '+'), -MAX_INSTANCES, MAX_INSTANCES, &v);
	free(text);
	if (!ok)
		return false;
	*want = (int)(rel ? have + v : v);
	return true;
}

/* scale: {"name", "instances": "N"|"+N"|"-N"}: add instances, or delete the highest,
 * leaving the others alone; the app's declaration keeps the new count (for save). */
void cmd_scale(struct request *r)
{
	int t = json_get(r->d, 0, "name");
	char *name = t >= 0 ? json_dup(r->d, t) : NULL;
	struct proc *first = NULL;
	int have = 0, want;
	for (int i = 0; name && i < nprocs; i++)
		if (procs[i]->want != WANT_GONE && !strcmp(procs[i]->spec->name, name)) {
			first = first ? first : procs[i];
			have++;
		}
	if (!name)
		reply_error(r->c, 2, "name: expected the name of an app");
	else if (!first)
		reply_error(r->c, 1, "%s: no such app", name);
	else if (!scale_count(r, have, &want))
		reply_error(r->c, 2, "instances: expected N, +N or -N (at most %d)", MAX_INSTANCES);
	else if (want < 1 || want > MAX_INSTANCES)
		reply_error(r->c, 2, "%s: %d instances: expected 1 to %d (stop or delete it instead)",
		            name, want, MAX_INSTANCES);
	else if (daemon_shutting_down())
		reply_error(r->c, 1, "the daemon is shutting down");
	else
		scale_to(r->c, first->spec, have, want);
	free(name);
}

/* start: {"apps":[app...], "existing":"error|skip|restart|update", "force":bool,
 * "reload":bool (running apps: a rolling reload, not a restart), "parallel":N} */
void cmd_start(struct request *r)
{
	static const char *const modes[] = {"error", "skip", "restart", "update"};
	enum start_mode mode = START_NEW;
	int m = json_get(r->d, 0, "existing");
	if (m >= 0) {
		size_t i = 0;
		while (i < ARRAY_LEN(modes) && !json_eq(r->d, m, modes[i]))
			i++;
		if (i == ARRAY_LEN(modes)) {
			reply_error(r->c, 2, "start: existing: expected error, skip, restart or update");
			return;
		}
		mode = (enum start_mode)i;
	}
	bool force = false, reload = false;
	json_as_bool(r->d, json_get(r->d, 0, "force"), &force);
	json_as_bool(r->d, json_get(r->d, 0, "reload"), &reload);
	int parallel;
	if (!request_parallel(r, &parallel))
		return;
	apps_start(r->c, r->d, json_get(r->d, 0, "apps"), mode, force, reload ? parallel : 0, NULL);
}
