/* Watchdogs: the memory limit (RSS of the instance's whole tree, checked every
 * memory_check_interval), cron restarts, and file watching with a debounce. All
 * run off the daemon's loop: deadlines here, readiness of inotify fds there. */
#include "daemon/watchdog.h"
#include "lib/home.h"
#include "lib/procfs.h"
#include "lib/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	WATCH_MAX_WAIT_FACTOR = 10,   /* a steady stream of changes still restarts by then */
	CRON_CLOCK_SLACK_MS = 50,
};

static bool is_up(const struct proc *p)
{
	return p->state == ST_ONLINE || p->state == ST_LAUNCHING || p->state == ST_WAITING;
}

/* ---- memory -------------------------------------------------------------------- */

static void check_memory(struct proc *p, int64_t now)
{
	const struct spec *s = p->spec;
	p->watchdog.memory_at = s->max_memory && p->run.pid > 0 ? now + s->memory_interval_ms : 0;
	/* Not while launching: a restart then would start the wait for readiness over,
	 * again and again, and a `start` waiting for it would never hear back. The wait
	 * ends within listen_timeout, and the limit applies from there. */
	if (p->state != ST_ONLINE)
		return;
	int64_t ticks, rss;
	procfs_tree(p->run.pid, &ticks, &rss);
	if (rss <= s->max_memory)
		return;
	char used[32], limit[32];
	format_bytes(used, sizeof used, rss);
	format_bytes(limit, sizeof limit, s->max_memory);
	p->watchdog.memory_at = 0;
	proc_restart_because(p, "memory %s over max_memory_restart %s", used, limit);
}

/* ---- cron ---------------------------------------------------------------------- */

static void arm_cron(struct proc *p, int64_t now, int64_t from_wall_ms)
{
	time_t next = cron_next(&p->spec->cron, (time_t)(from_wall_ms / 1000));
	if (next < 0) {
		p->watchdog.cron_at = -1;   /* never again: do not recompute on every pass */
		return;
	}
	p->watchdog.cron_wall = (int64_t)next * 1000;
	int64_t wait = p->watchdog.cron_wall - wall_ms();
	p->watchdog.cron_at = now + (wait > 0 ? wait : 0);
}

static void fire_cron(struct proc *p, int64_t now)
{
	int64_t wall = wall_ms();
	if (wall + CRON_CLOCK_SLACK_MS < p->watchdog.cron_wall) {
		arm_cron(p, now, wall - 1000);   /* the wall clock moved back: aim again */
		return;
	}
	arm_cron(p, now, p->watchdog.cron_wall);
	/* A job-style app (autorestart off) that finished runs again; one the user
	 * stopped stays stopped. */
	if (p->want != WANT_UP)
		return;
	proc_restart_because(p, "cron_restart \"%s\"", p->spec->cron_text);
}

/* ---- watch --------------------------------------------------------------------- */

/* An app's file watching, from the first spawn while watching is on. */
struct app_watch {
	struct watcher *watcher;   /* NULL: it could not be opened (said once) */
	int64_t first, due;        /* debounce: the first change, the restart time */
	unsigned poll_pass;        /* the loop's pass that polled it */
};

void watchdog_forget(struct spec *s)
{
	if (!s->watch_rt)
		return;
	if (s->watch_rt->watcher)
		watch_close(s->watch_rt->watcher);
	free(s->watch_rt);
	s->watch_rt = NULL;
}

static void open_watcher(struct spec *s)
{
	if ((s->watch_rt && s->watch_rt->watcher) || !s->watching || !s->watch)
		return;
	bool failed_before = s->watch_rt != NULL;
	if (!s->watch_rt)
		s->watch_rt = xcalloc(1, sizeof *s->watch_rt);
	/* Changes tend makes itself must not restart the app: its home (pid files, logs)
	 * and the instances' log files wherever they are. */
	int n = 0;
	for (int i = 0; i < nprocs; i++)
		n += procs[i]->spec == s;
	char **exclude = xcalloc((size_t)n * 2 + 2, sizeof *exclude);
	int k = 0;
	exclude[k++] = (char *)home_dir();
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->spec == s) {
			exclude[k++] = procs[i]->log.out_path;
			exclude[k++] = procs[i]->log.err_path;
		}
	struct watcher *w = watch_open(s->watch, s->ignore_watch, exclude, 0);
	free(exclude);
	if (w && s->watch_ext)
		watch_only_extensions(w, s->watch_ext);
	s->watch_rt->watcher = w;
	if (!w) {
		if (!failed_before)
			dlog("%s: cannot watch %s: %s", s->name, s->watch[0], strerror(errno));
		return;
	}
	if (watch_overflowed(w))
		dlog("%s: watching only the first %d directories", s->name, watch_count(w));
}

void watchdog_watch_event(struct spec *s, int64_t now)
{
	char what[256];
	struct app_watch *aw = s->watch_rt;
	if (!aw || !aw->watcher || watch_read(aw->watcher, what, sizeof what) <= 0)
		return;
	bool any_up = false;
	for (int i = 0; i < nprocs && !any_up; i++)
		any_up = procs[i]->spec == s && is_up(procs[i]);
	if (!any_up)
		return;   /* stopped apps are not started by a file change */
	if (!aw->first) {
		aw->first = now;
		dlog("%s: %s changed; restarting in %lld ms unless more changes come", s->name,
		     *what ? what : "a watched file", (long long)s->watch_delay_ms);
	}
	/* Trailing debounce: a burst of writes restarts once, after it ends, but a steady
	 * stream cannot postpone the restart for ever. */
	int64_t latest = aw->first + s->watch_delay_ms * WATCH_MAX_WAIT_FACTOR;
	aw->due = now + s->watch_delay_ms;
	if (aw->due > latest)
		aw->due = latest;
}

static int64_t watch_due(const struct spec *s)
{
	return s->watch_rt ? s->watch_rt->due : 0;
}

static void fire_watch(struct spec *s)
{
	s->watch_rt->first = s->watch_rt->due = 0;
	spec_ref(s);   /* the restarts may swap specs around */
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->spec == s && is_up(procs[i]))
			proc_restart_because(procs[i], "watched files changed");
	spec_unref(s);
}

size_t watchdogs_poll(struct pollfd *fds, struct spec **owners, size_t max, unsigned pass)
{
	size_t n = 0;
	for (int i = 0; i < nprocs && n < max; i++) {
		struct spec *s = procs[i]->spec;
		struct app_watch *aw = s->watch_rt;
		if (!aw || !aw->watcher || aw->poll_pass == pass)
			continue;
		aw->poll_pass = pass;
		fds[n] = (struct pollfd){.fd = watch_fd(aw->watcher), .events = POLLIN};
		owners[n++] = s;
	}
	return n;
}

/* ---- together ------------------------------------------------------------------ */

void watchdog_spawned(struct proc *p)
{
	if (p->spec->max_memory)
		p->watchdog.memory_at = mono_ms() + p->spec->memory_interval_ms;
	open_watcher(p->spec);
}

static int64_t earlier(int64_t a, int64_t b)
{
	return b > 0 && (a == 0 || b < a) ? b : a;
}

int64_t watchdog_next_deadline(struct proc *p, int64_t now)
{
	if (p->spec->has_cron && p->watchdog.cron_at == 0)
		arm_cron(p, now, wall_ms());
	return earlier(earlier(p->watchdog.memory_at, p->watchdog.cron_at), watch_due(p->spec));
}

void watchdog_fire(struct proc *p, int64_t now)
{
	if (p->watchdog.memory_at > 0 && p->watchdog.memory_at <= now)
		check_memory(p, now);
	if (p->watchdog.cron_at > 0 && p->watchdog.cron_at <= now)
		fire_cron(p, now);
	if (watch_due(p->spec) > 0 && watch_due(p->spec) <= now)
		fire_watch(p->spec);
}

/* ---- the loop: inotify fds of watching apps, and the watchdogs' timers ------------ */

static unsigned watch_pass;

static size_t watch_most(void) { return (size_t)nprocs; }

/* The specs tagged in this pass's fds, each with a reference held until the next
 * fill: a request that redeclares an app cannot free one under its watcher's event. */
static struct spec **owners;
static size_t nowners, cap;

static size_t watch_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)now;
	for (size_t i = 0; i < nowners; i++)
		spec_unref(owners[i]);
	if (room > cap) {
		cap = room;
		owners = xrealloc(owners, cap * sizeof *owners);
	}
	nowners = watchdogs_poll(fds, owners, room, ++watch_pass);
	for (size_t i = 0; i < nowners; i++)
		tags[i] = spec_ref(owners[i]);
	return nowners;
}

static void watch_ready(struct pollfd *pfd, void *tag)
{
	(void)pfd;
	watchdog_watch_event(tag, mono_ms());
}

const struct loop_source watchdogs_source = {
	.name = "watchdogs", .fill = watch_fill, .most = watch_most, .ready = watch_ready,
};
