/* The supervisor: one state machine per instance, driven by events.
 *
 *   state × event → action, in fsm[][] below. Actions set the next state and at most
 *   one deadline; nothing here blocks except the few microseconds between fork and
 *   exec, which the spawn waits for so that a bad exec is reported at once. */
#include "daemon/proc.h"
#include "lib/home.h"
#include "daemon/applog.h"
#include "daemon/events.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "daemon/ready.h"
#include "daemon/reload.h"
#include "lib/procfs.h"
#include "daemon/stray.h"
#include "lib/watch.h"
#include "daemon/watchdog.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Why the event being handled happens: the reason its state changes give. */
static const char *cause;

struct proc **procs;
int nprocs;
unsigned procs_freed;
int default_kill_signal = SIGINT;

/* The restart policy's fixed numbers, PM2's. */
enum {
	BACKOFF_CAP_MS = 15000,
	BACKOFF_RESET_UPTIME_MS = 30000,
	TREE_POLL_MS = 20,     /* how often a stop re-checks escaped descendants */
	REKILL_MS = 1000,      /* SIGKILL again while something survives */
};

static const char *const state_names[ST_NSTATES] = {
	[ST_STOPPED] = "stopped",
	[ST_LAUNCHING] = "launching",
	[ST_ONLINE] = "online",
	[ST_STOPPING] = "stopping",
	[ST_WAITING] = "waiting restart",
	[ST_ERRORED] = "errored",
};

const char *pstate_name(enum pstate s)
{
	return s < ST_NSTATES ? state_names[s] : "unknown";
}

struct spec *spec_ref(struct spec *s)
{
	s->refs++;
	return s;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void spec_unref(struct spec *s)
{
	if (!s || --s->refs > 0)
		return;
	free(s->name);
	free(s->namespace);
	free(s->script);
	free(s->interpreter);
	free_strv(s->interp_args);
	free_strv(s->args);
	free_strv(s->env);
	free(s->env_json);
	free(s->cwd);
	free(s->out_file);
	free(s->err_file);
	free(s->pid_file);
	free(s->exec_mode);
	free(s->user);
	free(s->json);
	free(s->log_file);
	free(s->log_time);
	free(s->log_date_format);
	free(s->instance_var);
	free(s->increment_var);
	free(s->cron_text);
	free_strv(s->watch);
	free_strv(s->ignore_watch);
	free(s->listen);
	free(s->listen_host);
	listener_unref(s->listener);
	if (s->watcher)
		watch_close(s->watcher);
	free(s);
}

static int cmp_id(const void *key, const void *elem)
{
	int id = *(const int *)key;
	int other = (*(struct proc *const *)elem)->id;
	return (id > other) - (id < other);
}

struct proc *proc_find(int id)
{
	if (!nprocs)
		return NULL;   /* bsearch must not see a NULL table */
	struct proc **p = bsearch(&id, procs, (size_t)nprocs, sizeof *procs, cmp_id);
	return p ? *p : NULL;
}


/* PM2's pid file name for an instance: "app.pid" and "app-3.pid" become "app-ID.pid",
 * one instance or many; a name that does not end in .pid is shared, as in PM2. */
static char *pid_instance_path(const char *path, int id)
{
	size_t n = strlen(path);
	if (n < 4 || strcmp(path + n - 4, ".pid") != 0)
		return xstrdup(path);
	size_t base = n - 4, d = base;
	while (d > 0 && path[d - 1] >= '0' && path[d - 1] <= '9')
		d--;
	if (d < base && d > 0 && path[d - 1] == '-')   /* an -N.pid suffix already */
		base = d - 1;
	return xasprintf("%.*s-%d.pid", (int)base, path, id);
}

/* The pid file the user sees (pid_file, or the home's), and the daemon's own record in
 * the home, which a later daemon reads to find what this one left running. */
static void set_paths(struct proc *p)
{
	const struct spec *spec = p->spec;
	applog_set_paths(p);
	p->record_path = xasprintf("%s/%s-%d.pid", home_path(HOME_PIDS), spec->name, p->id);
	p->pid_path = spec->pid_file ? pid_instance_path(spec->pid_file, p->id) : xstrdup(p->record_path);
}

static void unlink_pid_files(const struct proc *p)
{
	unlink(p->record_path);
	if (strcmp(p->pid_path, p->record_path) != 0)
		unlink(p->pid_path);
}

static unsigned long next_serial = 1;

struct proc *proc_new(struct spec *spec, int instance)
{
	struct proc *p = xcalloc(1, sizeof *p);
	p->serial = next_serial++;
	p->id = nprocs ? procs[nprocs - 1]->id + 1 : 0;
	p->instance = instance;
	p->spec = spec_ref(spec);
	p->state = ST_STOPPED;
	p->out_fd = p->err_fd = p->out_log = p->err_log = p->comb_log = p->exec_fd = p->ipc_fd = -1;
	p->probe_fd = -1;
	p->created_wall = wall_ms();
	set_paths(p);
	procs = xrealloc(procs, (size_t)(nprocs + 1) * sizeof *procs);
	procs[nprocs++] = p;
	return p;
}

struct proc *proc_adopt(struct spec *spec, int id, int instance)
{
	struct proc *p = xcalloc(1, sizeof *p);
	p->serial = next_serial++;
	p->id = id;
	p->instance = instance;
	p->spec = spec_ref(spec);
	p->state = ST_STOPPED;
	p->out_fd = p->err_fd = p->out_log = p->err_log = p->comb_log = p->exec_fd = p->ipc_fd = -1;
	p->probe_fd = -1;
	set_paths(p);
	int at = nprocs;
	while (at > 0 && procs[at - 1]->id > id)
		at--;
	procs = xrealloc(procs, (size_t)(nprocs + 1) * sizeof *procs);
	memmove(procs + at + 1, procs + at, (size_t)(nprocs - at) * sizeof *procs);
	procs[at] = p;
	nprocs++;
	return p;
}

void proc_set_count(struct proc *p, struct spec *s)
{
	struct spec *old = p->spec;
	p->spec = spec_ref(s);
	spec_unref(old);
}

void proc_set_spec(struct proc *p, struct spec *s)
{
	struct spec *old = p->spec;
	p->spec = spec_ref(s);
	char *pid_path = p->pid_path, *record_path = p->record_path;
	applog_free_paths(p);
	set_paths(p);
	if ((strcmp(pid_path, p->pid_path) != 0 || strcmp(record_path, p->record_path) != 0) &&
	    p->pid > 0) {
		unlink(pid_path);
		unlink(record_path);
		proc_write_pid_file(p);
	}
	free(pid_path);
	free(record_path);
	/* New log paths take effect now; the pipes stay. */
	if (p->pid > 0)
		applog_reopen(p);
	p->cron_at = 0;   /* re-armed from the new declaration */
	p->memory_at = 0;
	spec_unref(old);
}

void proc_free(struct proc *p)
{
	events_delete(p);
	for (int i = 0; i < nprocs; i++) {
		if (procs[i] != p)
			continue;
		memmove(procs + i, procs + i + 1, (size_t)(nprocs - i - 1) * sizeof *procs);
		nprocs--;
		break;
	}
	procs_freed++;
	reload_abandon(p);
	bool last = true;   /* of its app: the sockets it asked for go with it */
	for (int i = 0; i < nprocs && last; i++)
		last = strcmp(procs[i]->spec->name, p->spec->name) != 0;
	if (last)
		listeners_drop_app(p->spec->name);
	proc_release(p);
}

void proc_release(struct proc *p)
{
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	close_fd(&p->exec_fd);
	close_fd(&p->ipc_fd);
	buf_free(&p->ipc_in);
	proxy_forget(p);
	applog_close(p);
	applog_free_paths(p);
	free(p->pid_path);
	free(p->record_path);
	free(p->orphan_record);
	stray_release(p);
	free(p->strays);
	free(p->tree.pids);
	free(p->last_error);
	free(p->restart_reason);
	spec_unref(p->spec);
	free(p);
}

bool proc_settled(const struct proc *p)
{
	/* An exec that failed settles when its child is reaped (errored). */
	return p->state != ST_STOPPING && p->state != ST_LAUNCHING && p->exec_fd < 0 &&
	       !(p->exec_failed && p->pid > 0) && !p->main_due;
}

/* The node preload's word that the main module's top-level code has run: its signal
 * handlers are in place, so `start` and `restart` return now, not before. */
void proc_main_ran(struct proc *p)
{
	p->main_due = 0;
}

void proc_ready(struct proc *p)
{
	if (p->state != ST_LAUNCHING)
		return;
	proxy_forget(p);
	proc_set_state(p, ST_ONLINE, p->ready_at && p->ready_at <= mono_ms() ? "not ready within listen_timeout: online anyway" : "ready");
	p->ready_at = 0;
	reload_ready(p);
}

void proc_listening(struct proc *p)
{
	p->listening = true;
	if (!p->spec->wait_ready)
		proc_ready(p);
}

/* listen_timeout passed without a word from the app: online anyway, as PM2 does. */
static void ready_timed_out(struct proc *p)
{
	if (p->reload == RL_LAUNCH) {
		reload_timed_out(p);   /* a replacement must be ready: the old one stays */
		p->ready_at = 0;
		return;
	}
	dlog("%s[%d]: not ready after %lld ms (listen_timeout): online anyway", p->spec->name,
	     p->id, (long long)p->spec->listen_timeout_ms);
	proc_ready(p);
}

void proc_restart_because(struct proc *p, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	free(p->restart_reason);
	p->restart_reason = xstrdup(why);
	p->restart_reason_wall = wall_ms();
	dlog("%s[%d]: %s: restarting", p->spec->name, p->id, why);
	cause = why;
	proc_event(p, EV_START);
	cause = NULL;
}

/* ---- stopping -------------------------------------------------------------- */

static void tree_add(struct proc *p, pid_t pid)
{
	for (int j = 0; j < p->tree.n; j++)
		if (p->tree.pids[j] == pid)
			return;
	p->tree.pids = xrealloc(p->tree.pids, (size_t)(p->tree.n + 1) * sizeof *p->tree.pids);
	p->tree.pids[p->tree.n++] = pid;
}

static void tree_add_descendants(struct proc *p, pid_t root)
{
	pid_t *found = NULL;
	int n = procfs_descendants(root, &found);
	for (int i = 0; i < n; i++)
		tree_add(p, found[i]);
	free(found);
}

/* And what left the tree: the process's cgroup, or its adopted orphans. */
static void tree_add_strays(struct proc *p)
{
	pid_t *found = NULL;
	int n = stray_members(p, &found);
	for (int i = 0; i < n; i++)
		if (found[i] != p->pid)
			tree_add(p, found[i]);
	free(found);
}

/* A tree member is gone when it no longer exists or is a zombie someone will reap. */
static bool tree_member_gone(pid_t pid)
{
	struct pstat st;
	return !procfs_stat(pid, &st) || st.state == 'Z' || st.state == 'X';
}

static void tree_prune(struct proc *p)
{
	int k = 0;
	for (int i = 0; i < p->tree.n; i++)
		if (!tree_member_gone(p->tree.pids[i]))
			p->tree.pids[k++] = p->tree.pids[i];
	p->tree.n = k;
}

/* Signal the instance: its process group, and (treekill) every descendant that left
 * the group with setsid/setpgid, so nothing of a stopped app keeps its port. */
static void signal_tree(struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(p->spec->treekill ? -p->pid : p->pid, sig);
	if (!p->spec->treekill)
		return;
	if (sig == SIGKILL)
		stray_signal(p, SIGKILL);   /* cgroup.kill: also what forks meanwhile */
	for (int i = 0; i < p->tree.n; i++) {
		struct pstat st;
		if (procfs_stat(p->tree.pids[i], &st) && (st.pgid != p->pid || sig == SIGKILL))
			kill(p->tree.pids[i], sig);
	}
}

struct proc_world proc_world = {.spawn = proc_spawn, .signal = signal_tree};

void proc_begin_stop(struct proc *p)
{
	int64_t now = mono_ms();
	p->tree.n = 0;
	if (p->spec->treekill) {
		tree_add_descendants(p, p->pid);
		tree_add_strays(p);
	}
	if (!p->spec->shutdown_with_message || !ready_ipc_send(p, "\"shutdown\""))
		proc_world.signal(p, p->spec->kill_signal ? p->spec->kill_signal : default_kill_signal);
	proc_set_state(p, ST_STOPPING, NULL);
	p->ready_at = 0;
	p->deadline = now + p->spec->kill_timeout_ms;
	p->kill_sent = false;
}

void proc_kill_now(struct proc *p)
{
	if (p->state != ST_STOPPING)
		return;
	if (!p->kill_sent)
		dlog("%s[%d]: stop forced: SIGKILL", p->spec->name, p->id);
	p->kill_sent = true;
	p->deadline = mono_ms();   /* the timer fires this pass: act_kill_now */
	p->tree_poll = 0;
	if (p->retiree)
		proc_kill_now(p->retiree);
}

void proc_replace_orphan(struct proc *p, pid_t orphan, char *record, bool respawn)
{
	free(p->orphan_record);
	p->orphan_record = record;
	int64_t now = mono_ms();
	dlog("%s[%d]: stopping pid %d, left running by a previous daemon, to replace it",
	     p->spec->name, p->id, (int)orphan);
	p->pid = 0;
	p->tree.n = 0;
	tree_add(p, orphan);
	tree_add_descendants(p, orphan);
	pid_t *members = NULL;   /* its cgroup: also what escaped its tree */
	int nmembers = stray_orphan_members(orphan, &members);
	for (int i = 0; i < nmembers; i++)
		tree_add(p, members[i]);
	free(members);
	int sig = p->spec->kill_signal ? p->spec->kill_signal : default_kill_signal;
	kill(-orphan, sig);   /* it ran in its own session and group */
	for (int i = 0; i < p->tree.n; i++)
		kill(p->tree.pids[i], sig);
	char why[80];
	snprintf(why, sizeof why, "replacing pid %d, left running by a previous daemon", (int)orphan);
	proc_set_state(p, ST_STOPPING, why);
	p->respawn = respawn;
	p->replacing = true;   /* a first start, not a restart */
	p->deadline = now + p->spec->kill_timeout_ms;
	p->tree_poll = now + TREE_POLL_MS;
	p->kill_sent = false;
}

/* The leader is gone; the stop is over once the rest of the tree is too. */
void proc_finish_stop(struct proc *p)
{
	if (p->spec->treekill)
		tree_add_strays(p);   /* forked while it was stopping */
	tree_prune(p);
	if (p->tree.n > 0) {
		if (p->deadline == 0 || p->deadline > mono_ms() + TREE_POLL_MS)
			p->tree_poll = mono_ms() + TREE_POLL_MS;
		return;
	}
	p->deadline = 0;
	p->tree_poll = 0;
	stray_release(p);
	if (p->orphan_record) {   /* the previous daemon's process is gone at last */
		unlink(p->orphan_record);
		free(p->orphan_record);
		p->orphan_record = NULL;
	}
	proc_set_state(p, ST_STOPPED, p->respawn ? "every process gone; starting again"
	                                         : "every process gone");
	if (p->respawn) {
		p->respawn = false;
		if (!p->replacing)
			p->restarts++;
		const char *outer = cause;
		cause = p->replacing ? "start" : "restart";
		p->replacing = false;
		proc_world.spawn(p);
		cause = outer;
	}
}

/* ---- the state machine ------------------------------------------------------ */

typedef void action_fn(struct proc *p);

static void act_none(struct proc *p) { (void)p; }

static void act_spawn(struct proc *p)
{
	int64_t now = mono_ms();
	if (p->leftover_until && now < p->leftover_until && stray_any(p)) {
		p->deadline = now + TREE_POLL_MS;   /* its last run's processes are still dying */
		return;
	}
	p->leftover_until = 0;
	p->deadline = 0;
	proc_world.spawn(p);
}

static void act_start_fresh(struct proc *p)
{
	p->unstable_restarts = 0;
	p->backoff_ms = 0;
	act_spawn(p);
}

static void act_restart(struct proc *p)
{
	p->respawn = true;
	proc_begin_stop(p);
}

static void act_stop(struct proc *p)
{
	p->respawn = false;
	proc_begin_stop(p);
}

static void act_set_respawn(struct proc *p) { p->respawn = true; }
static void act_clear_respawn(struct proc *p) { p->respawn = false; }

static void act_cancel_wait(struct proc *p)
{
	p->deadline = 0;
	proc_set_state(p, ST_STOPPED, NULL);
}

static bool is_stop_exit_code(const struct spec *s, int code)
{
	for (int i = 0; i < s->n_stop_exit_codes; i++)
		if (s->stop_exit_codes[i] == code)
			return true;
	return false;
}

/* The leader exited on its own: decide between restart, wait, errored, stopped. */
static void act_exited(struct proc *p)
{
	const struct spec *s = p->spec;
	int64_t now = mono_ms();
	int64_t uptime = now - p->started_mono;
	bool leftovers = false;
	if (s->treekill) {
		/* What is left of its group dies with it, and what left its tree too: an
		 * orphaned child holding its port would make every restart fail. */
		kill(-p->pid, SIGKILL);
		stray_signal(p, SIGKILL);
		leftovers = stray_any(p);
	}
	p->pid = 0;
	char why[160];
	if (!s->autorestart || (p->exit_signal == 0 && is_stop_exit_code(s, p->exit_code))) {
		snprintf(why, sizeof why, "exited with %d: %s", p->exit_code,
		         s->autorestart ? "one of stop_exit_codes" : "autorestart is off");
		proc_set_state(p, ST_STOPPED, why);
		return;
	}
	if (uptime < s->min_uptime_ms)
		p->unstable_restarts++;
	else
		p->unstable_restarts = 0;
	if (p->unstable_restarts > s->max_restarts) {
		snprintf(why, sizeof why, "exited before min_uptime (%lld ms) %d times in a row",
		         (long long)s->min_uptime_ms, p->unstable_restarts);
		dlog("%s[%d]: %s: errored", s->name, p->id, why);
		proc_set_state(p, ST_ERRORED, why);
		return;
	}
	int64_t delay = s->restart_delay_ms;
	if (s->exp_backoff_ms > 0) {
		if (uptime >= BACKOFF_RESET_UPTIME_MS || p->backoff_ms == 0)
			p->backoff_ms = s->exp_backoff_ms;
		else {
			/* Grows by half each time, up to 15 s (or the initial delay if larger). */
			int64_t cap = s->exp_backoff_ms > BACKOFF_CAP_MS ? s->exp_backoff_ms : BACKOFF_CAP_MS;
			p->backoff_ms = p->backoff_ms * 3 / 2 > cap ? cap : p->backoff_ms * 3 / 2;
		}
		delay = p->backoff_ms;
	}
	p->restarts++;
	if (leftovers) {   /* restart once they are gone (bounded: they were SIGKILLed) */
		p->leftover_until = now + REKILL_MS;
		if (delay < TREE_POLL_MS)
			delay = TREE_POLL_MS;
	}
	if (p->exit_signal)
		snprintf(why, sizeof why, "killed by SIG%s", signal_name(p->exit_signal));
	else
		snprintf(why, sizeof why, "exited with %d", p->exit_code);
	if (delay > 0) {
		size_t n = strlen(why);
		snprintf(why + n, sizeof why - n, "; restart in %lld ms", (long long)delay);
		p->deadline = now + delay;
		proc_set_state(p, ST_WAITING, why);
	} else {
		cause = why;
		proc_world.spawn(p);
		cause = NULL;
	}
}

static void act_stopping_exited(struct proc *p)
{
	p->pid = 0;
	proc_finish_stop(p);
}

/* kill_timeout passed: SIGKILL everything that is left, and again while it lasts. */
static void act_kill_now(struct proc *p)
{
	int64_t now = mono_ms();
	if (p->tree_poll && p->tree_poll <= now && p->deadline > now) {
		p->tree_poll = 0;   /* just a tree re-check */
		if (p->pid == 0)
			proc_finish_stop(p);
		return;
	}
	if (!p->kill_sent)
		dlog("%s[%d]: still running after %lld ms: SIGKILL", p->spec->name, p->id,
		     (long long)p->spec->kill_timeout_ms);
	p->kill_sent = true;
	if (p->spec->treekill && p->pid > 0)
		tree_add_descendants(p, p->pid);
	proc_world.signal(p, SIGKILL);
	p->deadline = now + REKILL_MS;
	if (p->pid == 0)
		proc_finish_stop(p);
}

static action_fn *const fsm[ST_NSTATES][EV_NEVENTS] = {
	/*                 EV_START          EV_STOP            EV_EXIT              EV_TIMER */
	[ST_STOPPED]   = {act_start_fresh, act_none,          act_none,            act_none},
	[ST_LAUNCHING] = {act_restart,     act_stop,          act_exited,          act_none},
	[ST_ONLINE]    = {act_restart,     act_stop,          act_exited,          act_none},
	[ST_STOPPING]  = {act_set_respawn, act_clear_respawn, act_stopping_exited, act_kill_now},
	[ST_WAITING]   = {act_start_fresh, act_cancel_wait,   act_none,            act_spawn},
	[ST_ERRORED]   = {act_start_fresh, act_cancel_wait,   act_none,            act_none},
};

void proc_set_state(struct proc *p, enum pstate to, const char *reason)
{
	enum pstate from = p->state;
	p->state = to;
	if (p->reload_of)
		return;   /* a reload's old process: the instance speaks for itself */
	if (from == to && p->pid == p->told_pid)
		return;
	p->told_pid = p->pid;
	if (!reason && !cause && p->reload == RL_LAUNCH)
		reason = "reload";
	events_state(p, from, reason ? reason : cause ? cause : "");
}

void proc_event(struct proc *p, enum pevent ev)
{
	const char *outer = cause;
	if (!cause) {
		bool up = p->state == ST_ONLINE || p->state == ST_LAUNCHING;
		cause = ev == EV_START ? (up ? "restart" : "start") : ev == EV_STOP ? "stop"
		      : ev == EV_TIMER && p->state == ST_WAITING ? "restart delay over" : NULL;
	}
	/* A stop or a restart ends a reload: the old process is stopped too. */
	if ((ev == EV_STOP || ev == EV_START) && (p->retiree || p->reload))
		reload_abandon(p);
	fsm[p->state][ev](p);
	cause = outer;
}

void proc_reaped(pid_t pid, int status)
{
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->pid == pid) {
			unlink_pid_files(p);
			if (p->exec_fd >= 0)
				proc_exec_status(p);   /* its record is in the pipe by now */
			if (WIFSIGNALED(status)) {
				p->exit_signal = WTERMSIG(status);
				p->exit_code = 128 + p->exit_signal;
			} else {
				p->exit_signal = 0;
				p->exit_code = WEXITSTATUS(status);
			}
			events_exit(p, pid, mono_ms() - p->started_mono);
			applog_drain_exited(p);
			if (p->ipc_fd >= 0)
				ready_ipc_read(p);   /* a last "ready" is still news for a reload */
			close_fd(&p->ipc_fd);
			buf_free(&p->ipc_in);
			p->ready_at = 0;
			p->main_due = 0;
			proxy_forget(p);
			if (reload_exited(p))
				return;
			if (p->exec_failed && p->state != ST_STOPPING) {
				/* Never ran: restarting would fail the same way. */
				p->pid = 0;
				p->deadline = 0;
				proc_set_state(p, ST_ERRORED, p->last_error ? p->last_error : "exec failed");
				return;
			}
			proc_event(p, EV_EXIT);
			return;
		}
	}
	if (reload_reaped(pid, status))
		return;
	/* An orphan that was reparented to us (we are a subreaper): part of some stopping
	 * tree, or a stray. Stops waiting on it re-check on their next poll. */
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->state == ST_STOPPING && p->pid == 0 && p->tree.n > 0)
			proc_finish_stop(p);
	}
}

int64_t procs_next_deadline(void)
{
	int64_t next = 0;
	for (int i = 0; i < nprocs; i++) {
		int64_t d = procs[i]->deadline;
		if (procs[i]->tree_poll && (!d || procs[i]->tree_poll < d))
			d = procs[i]->tree_poll;
		if (procs[i]->partial_at && (!d || procs[i]->partial_at < d))
			d = procs[i]->partial_at;
		if (procs[i]->ready_at && (!d || procs[i]->ready_at < d))
			d = procs[i]->ready_at;
		if (procs[i]->main_due && (!d || procs[i]->main_due < d))
			d = procs[i]->main_due;
		if (d && (!next || d < next))
			next = d;
	}
	int64_t r = retirees_next_deadline();
	return r && (!next || r < next) ? r : next;
}

void procs_fire_timers(int64_t now)
{
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->partial_at && p->partial_at <= now)
			applog_flush_partial(p);
		if (p->ready_at && p->ready_at <= now && p->state == ST_LAUNCHING)
			ready_timed_out(p);
		if (p->main_due && p->main_due <= now)
			p->main_due = 0;   /* slow to load, or the preload was not there: go on */
		bool due = (p->deadline && p->deadline <= now) || (p->tree_poll && p->tree_poll <= now);
		if (due)
			proc_event(p, EV_TIMER);
	}
	retirees_fire_timers(now);
}

void procs_collect_removed(void)
{
	for (int i = nprocs - 1; i >= 0; i--) {
		struct proc *p = procs[i];
		if (p->remove && p->pid == 0 && p->state != ST_STOPPING) {
			unlink_pid_files(p);
			proc_free(p);
		}
	}
}

/* ---- the loop: every instance's pipes, exec status and IPC channel, and timers ---- */

static unsigned freed_at_fill;   /* procs_freed when the fds were added */

static size_t pipes_most(void) { return 4 * (size_t)nprocs + 3 * (size_t)nretirees; }

static size_t add_fd(struct pollfd *fds, void **tags, size_t n, int fd, struct proc *p)
{
	if (fd < 0)
		return n;
	fds[n] = (struct pollfd){.fd = fd, .events = POLLIN};
	tags[n] = p;
	return n + 1;
}

static size_t pipes_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	freed_at_fill = procs_freed;
	size_t n = 0;
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		int fd[] = {p->out_fd, p->err_fd, p->exec_fd, p->ipc_fd};
		for (size_t k = 0; k < ARRAY_LEN(fd); k++)
			n = add_fd(fds, tags, n, fd[k], p);
	}
	for (int i = 0; i < nretirees; i++) {   /* a reload's old processes: no exec_fd */
		struct proc *r = retirees[i];
		int fd[] = {r->out_fd, r->err_fd, r->ipc_fd};
		for (size_t k = 0; k < ARRAY_LEN(fd); k++)
			n = add_fd(fds, tags, n, fd[k], r);
	}
	return n;
}

static void pipes_ready(struct pollfd *pfd, void *tag)
{
	struct proc *p = tag;
	/* A request earlier in this pass may have deleted the proc, or closed the fd. */
	if (freed_at_fill != procs_freed && !proc_is_live(p))
		return;
	if (pfd->fd == p->exec_fd)
		proc_exec_status(p);
	else if (pfd->fd == p->ipc_fd)
		ready_ipc_read(p);
	else if (pfd->fd == p->out_fd || pfd->fd == p->err_fd)
		applog_drain(p, pfd->fd);
}

const struct loop_source procs_source = {
	.name = "procs", .fill = pipes_fill, .most = pipes_most, .ready = pipes_ready,
	.next_deadline = procs_next_deadline, .fire = procs_fire_timers,
};
