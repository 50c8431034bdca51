#include "daemon/upgrade.h"
#include "daemon/applog.h"
#include "daemon/clients.h"
#include "lib/home.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "daemon/reload.h"
#include "daemon/stray.h"
#include "lib/version.h"
#include "daemon/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { STATE_VERSION = 1, STATE_MAX = 256 << 20, EXE_MAX = 256 << 20 };

/* Every program that can resume a daemon carries this: update refuses to execute one
 * that does not (it would end the daemon, leaving its apps unsupervised). */
const char upgrade_marker[] = "tend:resumable-daemon-state:v1";

bool upgrade_can_resume(const char *exe, char *why, size_t whylen)
{
	size_t len;
	char *bin = read_file(exe, EXE_MAX, &len);
	if (!bin) {
		snprintf(why, whylen, "%s: %s", exe, strerror(errno));
		return false;
	}
	bool found = memmem(bin, len, upgrade_marker, sizeof upgrade_marker - 1) != NULL;
	free(bin);
	if (!found)
		snprintf(why, whylen, "%s is not a tend that can take over a running daemon", exe);
	return found;
}

int upgrade_keep(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
	return fd;
}

bool upgrade_possible(const struct client *updater, char *why, size_t whylen)
{
	if (daemon_shutting_down()) {
		snprintf(why, whylen, "the daemon is shutting down");
		return false;
	}
	for (int i = 0; i < nprocs; i++)
		if (reload_busy(procs[i])) {
			snprintf(why, whylen, "%s[%d] is being reloaded; update once it is done",
			         procs[i]->spec->name, procs[i]->id);
			return false;
		}
	return !clients_busy(updater, why, whylen);
}

/* ---- an instance: its scalar fields by table, the rest by hand -------------------- */

/* Keys stay as older builds wrote them: a daemon resumes from its predecessor's state
 * (see legacy_fields for what an older one kept otherwise). */
#define FIELD(f) {#f, offsetof(struct proc, f), sizeof(((struct proc *)0)->f)}
#define RUN(f) {#f, offsetof(struct proc, run.f), sizeof(((struct proc *)0)->run.f)}
#define AS(key, f) {key, offsetof(struct proc, f), sizeof(((struct proc *)0)->f)}
static const struct field {
	const char *key;
	size_t off, size;
} fields[] = {
	FIELD(state), FIELD(want), RUN(pid), RUN(exec_failed), RUN(partial_at), FIELD(deadline),
	RUN(kill_at), RUN(stopping), RUN(tree_poll), RUN(kill_sent), RUN(started_mono),
	RUN(started_wall), FIELD(created_wall), FIELD(restarts), FIELD(unstable_restarts),
	FIELD(backoff_ms), FIELD(exit_code), FIELD(exit_signal), FIELD(spawn_gen), RUN(cg_leaf),
	FIELD(leftover_until), RUN(cpu_ticks), RUN(sample_mono), RUN(rss_bytes), AS("log_dropped", log.dropped),
	AS("log_failing", log.failing), FIELD(restart_reason_wall), RUN(listening), AS("proxy_port", run.proxy.port),
	RUN(main_due), AS("reload_failed", reload.failed),
};
/* The fds that go across as they are. */
static const struct field fd_fields[] = {RUN(out_fd), RUN(err_fd), RUN(exec_fd), RUN(ipc_fd)};

static long long get_field(const struct proc *p, const struct field *f)
{
	const char *at = (const char *)p + f->off;
	if (f->size == 1)
		return *(const bool *)at;
	if (f->size == 4) {
		int32_t v;
		memcpy(&v, at, 4);
		return v;
	}
	int64_t v;
	memcpy(&v, at, 8);
	return v;
}

static void set_field(struct proc *p, const struct field *f, long long v)
{
	char *at = (char *)p + f->off;
	if (f->size == 1) {
		*(bool *)at = v != 0;
	} else if (f->size == 4) {
		int32_t w = (int32_t)v;
		memcpy(at, &w, 4);
	} else {
		int64_t w = v;
		memcpy(at, &w, 8);
	}
}

static void save_pids(struct buf *b, const char *key, const pid_t *pids, int n)
{
	json_key(b, key);
	json_open(b, '[');
	for (int i = 0; i < n; i++)
		json_int(b, pids[i]);
	json_close(b, ']');
}

static int restore_pids(const struct jdoc *d, int arr, pid_t **out)
{
	int n = arr >= 0 && d->tok[arr].type == JSMN_ARRAY ? d->tok[arr].size : 0;
	*out = n ? xcalloc((size_t)n, sizeof **out) : NULL;
	for (int i = 0; i < n; i++) {
		long long v = 0;
		json_as_ll(d, json_child(d, arr, i), &v);
		(*out)[i] = (pid_t)v;
	}
	return n;
}

/* Builds before the instance/process split kept the intent in three flags, the
 * readiness deadline apart, and a stop's SIGKILL time in the deadline; the flags are
 * written too, so that an older binary can still take over. */
static void legacy_save(struct buf *b, const struct proc *p)
{
	json_kbool(b, "held", p->want == WANT_DOWN);
	json_kbool(b, "remove", p->want == WANT_GONE);
	json_kbool(b, "respawn", p->state == ST_STOPPING && p->want == WANT_UP);
	json_kbool(b, "replacing", p->orphan_record != NULL);
	json_kint(b, "ready_at", p->state == ST_LAUNCHING ? p->deadline : 0);
}

static void legacy_restore(const struct jdoc *d, int o, struct proc *p)
{
	bool held = false, remove = false;
	long long ready_at = 0;
	json_as_bool(d, json_get(d, o, "held"), &held);
	json_as_bool(d, json_get(d, o, "remove"), &remove);
	json_as_ll(d, json_get(d, o, "ready_at"), &ready_at);
	p->want = remove ? WANT_GONE : held ? WANT_DOWN : WANT_UP;
	if (p->state == ST_LAUNCHING)
		p->deadline = ready_at;
	if (p->state == ST_STOPPING) {
		p->run.stopping = true;
		p->run.kill_at = p->deadline;
		p->deadline = 0;
	}
}

static void save_proc(struct buf *b, const struct proc *p, int spec_index)
{
	json_open(b, '{');
	json_kint(b, "id", p->id);
	json_kint(b, "instance", p->instance);
	json_kint(b, "spec", spec_index);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		json_kint(b, fields[i].key, get_field(p, &fields[i]));
	for (size_t i = 0; i < ARRAY_LEN(fd_fields); i++)
		json_kint(b, fd_fields[i].key, upgrade_keep((int)get_field(p, &fd_fields[i])));
	legacy_save(b, p);
	json_khex(b, "partial0", p->run.partial[0].data, p->run.partial[0].len);
	json_khex(b, "partial1", p->run.partial[1].data, p->run.partial[1].len);
	json_khex(b, "ipc_in", p->run.ipc_in.data, p->run.ipc_in.len);
	json_kstr(b, "last_error", p->last_error);
	json_kstr(b, "restart_reason", p->restart_reason);
	json_kstr(b, "orphan_record", p->orphan_record);
	save_pids(b, "tree", p->run.tree.pids, p->run.tree.n);
	save_pids(b, "strays", p->run.strays, p->run.nstrays);
	json_close(b, '}');
}

static void restore_proc(const struct jdoc *d, int o, struct spec **specs, int nspecs)
{
	long long id = -1, instance = 0, si = -1, v;
	json_as_ll(d, json_get(d, o, "id"), &id);
	json_as_ll(d, json_get(d, o, "instance"), &instance);
	json_as_ll(d, json_get(d, o, "spec"), &si);
	if (id < 0 || si < 0 || si >= nspecs || !specs[si] || proc_find((int)id))
		return;
	struct proc *p = proc_adopt(specs[si], (int)id, (int)instance);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (json_as_ll(d, json_get(d, o, fields[i].key), &v))
			set_field(p, &fields[i], v);
	for (size_t i = 0; i < ARRAY_LEN(fd_fields); i++)
		if (json_as_ll(d, json_get(d, o, fd_fields[i].key), &v))
			set_field(p, &fd_fields[i], v);
	if (json_get(d, o, "want") < 0)
		legacy_restore(d, o, p);
	json_hex(d, json_get(d, o, "partial0"), &p->run.partial[0]);
	json_hex(d, json_get(d, o, "partial1"), &p->run.partial[1]);
	json_hex(d, json_get(d, o, "ipc_in"), &p->run.ipc_in);
	p->last_error = json_dup(d, json_get(d, o, "last_error"));
	p->restart_reason = json_dup(d, json_get(d, o, "restart_reason"));
	p->orphan_record = json_dup(d, json_get(d, o, "orphan_record"));
	p->run.tree.n = restore_pids(d, json_get(d, o, "tree"), &p->run.tree.pids);
	p->run.nstrays = restore_pids(d, json_get(d, o, "strays"), &p->run.strays);
	if ((p->run.partial[0].len || p->run.partial[1].len) && !p->run.partial_at)
		p->run.partial_at = mono_ms();
	if (p->run.pid > 0) {
		applog_open(p);         /* the same files, opened anew */
		watchdog_spawned(p);    /* its memory check and its app's watcher */
		if (p->state == ST_LAUNCHING)
			proxy_spawned(p, true);   /* probe its port again, if it is proxied */
	}
}

/* ---- the whole state -------------------------------------------------------------- */

static void save_state(struct buf *b, const struct client *updater, const struct daemon_state *ds)
{
	json_open(b, '{');
	json_kint(b, "state_version", STATE_VERSION);
	json_kstr(b, "marker", upgrade_marker);
	json_kstr(b, "build", tend_build_id);
	json_kint(b, "listen_fd", upgrade_keep(ds->listen_fd));
	json_kint(b, "lock_fd", upgrade_keep(ds->lock_fd));
	json_kint(b, "notify_fd", upgrade_keep(ds->notify_fd));
	json_kbool(b, "foreground", ds->foreground);
	json_kint(b, "log_size", ds->log_size);
	json_kint(b, "started_wall", ds->started_wall);
	json_kint(b, "child_nofile", ds->child_nofile);
	listeners_save(b, upgrade_keep);
	/* Specs are shared by instances: each once, by index. */
	struct spec **specs = xcalloc((size_t)nprocs + 1, sizeof *specs);
	int *index = xcalloc((size_t)nprocs + 1, sizeof *index);
	int nspecs = 0;
	json_key(b, "specs");
	json_open(b, '[');
	for (int i = 0; i < nprocs; i++) {
		int k = 0;
		while (k < nspecs && specs[k] != procs[i]->spec)
			k++;
		if (k == nspecs) {
			specs[nspecs++] = procs[i]->spec;
			json_str(b, procs[i]->spec->json);
		}
		index[i] = k;
	}
	json_close(b, ']');
	json_key(b, "procs");
	json_open(b, '[');
	for (int i = 0; i < nprocs; i++)
		save_proc(b, procs[i], index[i]);
	json_close(b, ']');
	free(specs);
	free(index);
	proxy_save(b, upgrade_keep);
	clients_save(b, updater, upgrade_keep);
	orphans_save(b);
	stray_save(b);
	json_close(b, '}');
}

void upgrade_exec(const char *exe, const struct client *updater, const struct daemon_state *ds,
                  char *why, size_t whylen)
{
	struct buf b = {0};
	save_state(&b, updater, ds);
	int fd = memfd_create("tend-state", 0);   /* no MFD_CLOEXEC: it goes across */
	if (fd < 0 || !write_all(fd, b.data, b.len) || lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(why, whylen, "cannot keep the state for the new program: %s", strerror(errno));
	} else {
		char arg[16];
		snprintf(arg, sizeof arg, "%d", fd);
		dlog("update: executing %s (state %zu bytes, %d instance(s))", exe, b.len, nprocs);
		char *argv[] = {home_is_pm2() ? "pm2" : "tend", "daemon", "--resume", arg, NULL};
		execv(exe, argv);
		snprintf(why, whylen, "exec %s: %s", exe, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	cloexec_from(3);   /* nothing went across: every fd is the daemon's own again */
	dlog("update failed: %s", why);
}

bool upgrade_restore(int fd, struct daemon_state *ds, struct client **updater, char *previous_build,
                     size_t buildlen, char *why, size_t whylen)
{
	struct buf text = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read_retry(fd, chunk, sizeof chunk)) > 0 && text.len < STATE_MAX)
		buf_add(&text, chunk, (size_t)r);
	close(fd);
	struct jdoc d;
	if (!text.len || !json_parse(&d, text.data, text.len) || d.tok[0].type != JSMN_OBJECT) {
		snprintf(why, whylen, "the state handed over is unreadable%s%s", text.len ? ": " : "",
		         text.len ? d.err : "");
		if (text.len)
			json_free(&d);
		buf_free(&text);
		return false;
	}
	long long v;
	ds->listen_fd = json_as_ll(&d, json_get(&d, 0, "listen_fd"), &v) ? (int)v : -1;
	ds->lock_fd = json_as_ll(&d, json_get(&d, 0, "lock_fd"), &v) ? (int)v : -1;
	ds->notify_fd = json_as_ll(&d, json_get(&d, 0, "notify_fd"), &v) ? (int)v : -1;
	json_as_bool(&d, json_get(&d, 0, "foreground"), &ds->foreground);
	if (json_as_ll(&d, json_get(&d, 0, "log_size"), &v))
		ds->log_size = v;
	if (json_as_ll(&d, json_get(&d, 0, "started_wall"), &v))
		ds->started_wall = v;
	if (json_as_ll(&d, json_get(&d, 0, "child_nofile"), &v))
		ds->child_nofile = v;
	char *build = json_dup(&d, json_get(&d, 0, "build"));
	snprintf(previous_build, buildlen, "%s", build ? build : "?");
	free(build);
	listeners_restore(&d, json_get(&d, 0, "listeners"));
	listeners_restore_owned(&d, json_get(&d, 0, "owned_listeners"));
	int sarr = json_get(&d, 0, "specs");
	int nspecs = sarr >= 0 && d.tok[sarr].type == JSMN_ARRAY ? d.tok[sarr].size : 0;
	struct spec **specs = xcalloc((size_t)nspecs + 1, sizeof *specs);
	for (int i = 0; i < nspecs; i++) {
		char *json = json_dup(&d, json_child(&d, sarr, i));
		struct jdoc sd;
		char err[300];
		if (json && json_parse(&sd, json, strlen(json))) {
			specs[i] = spec_from_json(&sd, 0, err, sizeof err);
			if (specs[i] && !spec_bind(specs[i], err, sizeof err))
				dlog("update: %s: listening socket: %s", specs[i]->name, err);
			else if (!specs[i])
				dlog("update: a declaration no longer checks: %s", err);
			json_free(&sd);
		}
		free(json);
	}
	int parr = json_get(&d, 0, "procs");
	for (int i = 0; parr >= 0 && i < d.tok[parr].size; i++)
		restore_proc(&d, json_child(&d, parr, i), specs, nspecs);
	for (int i = 0; i < nspecs; i++)
		if (specs[i])
			spec_unref(specs[i]);   /* the instances hold theirs */
	free(specs);
	listeners_restored();
	proxy_restore(&d, json_get(&d, 0, "conns"));
	*updater = clients_restore(&d, json_get(&d, 0, "clients"));
	orphans_restore(&d, json_get(&d, 0, "orphans"));
	stray_restore(&d, 0);
	json_free(&d);
	buf_free(&text);
	return true;
}
