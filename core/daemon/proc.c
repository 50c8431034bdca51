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

static void proc_set_state(struct proc *p, enum pstate to, const char *reason);
static void launch(struct proc *p);
static void roll_back(struct proc *p);

struct proc **procs;
int nprocs;
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
	free_strv(s->watch_ext);
	free(s->listen);
	free(s->listen_host);
	listener_unref(s->listener);
	watchdog_forget(s);
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

static void process_init(struct process *pr)
{
	*pr = (struct process){.out_fd = -1, .err_fd = -1, .exec_fd = -1, .ipc_fd = -1, .proxy.probe_fd = -1};
}

void process_clear(struct process *pr)
{
	close_fd(&pr->out_fd);
	close_fd(&pr->err_fd);
	close_fd(&pr->exec_fd);
	close_fd(&pr->ipc_fd);
	close_fd(&pr->proxy.probe_fd);
	buf_free(&pr->ipc_in);
	buf_free(&pr->partial[0]);
	buf_free(&pr->partial[1]);
	free(pr->strays);
	free(pr->tree.pids);
	process_init(pr);
}

struct proc *proc_adopt(struct spec *spec, int id, int instance)
{
	struct proc *p = xcalloc(1, sizeof *p);
	p->serial = next_serial++;
	p->id = id;
	p->instance = instance;
	p->spec = spec_ref(spec);
	p->state = ST_STOPPED;
	process_init(&p->run);
	p->log.out = p->log.err = p->log.comb = -1;
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

struct proc *proc_new(struct spec *spec, int instance)
{
	struct proc *p = proc_adopt(spec, nprocs ? procs[nprocs - 1]->id + 1 : 0, instance);
	p->created_wall = wall_ms();
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
	    p->run.pid > 0) {
		unlink(pid_path);
		unlink(record_path);
		proc_write_pid_file(p);
	}
	free(pid_path);
	free(record_path);
	/* New log paths take effect now; the pipes stay. */
	if (p->run.pid > 0)
		applog_reopen(p);
	p->watchdog.cron_at = 0;   /* re-armed from the new declaration */
	p->watchdog.memory_at = 0;
	spec_unref(old);
}

/* Unlinked now; released after the loop pass (procs_release_gone). */
static struct proc **graveyard;
static int ngraveyard;

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
	bool last = true;   /* of its app: the sockets it asked for go with it */
	for (int i = 0; i < nprocs && last; i++)
		last = strcmp(procs[i]->spec->name, p->spec->name) != 0;
	if (last)
		listeners_drop_app(p->spec->name);
	proxy_forget(p);
	p->gone = true;
	graveyard = xrealloc(graveyard, (size_t)(ngraveyard + 1) * sizeof *graveyard);
	graveyard[ngraveyard++] = p;
}

void procs_release_gone(void)
{
	for (int i = 0; i < ngraveyard; i++) {
		struct proc *p = graveyard[i];
		process_clear(&p->run);
		if (p->old)
			process_clear(p->old);   /* (only at the daemon's exit: else it waits for it) */
		free(p->old);
		applog_close(p);
		applog_free_paths(p);
		free(p->pid_path);
		free(p->record_path);
		free(p->orphan_record);
		free(p->last_error);
		free(p->restart_reason);
		spec_unref(p->spec);
		free(p);
	}
	ngraveyard = 0;
}

bool proc_settled(const struct proc *p)
{
	/* An exec that failed settles when its child is reaped (errored). */
	return p->state != ST_STOPPING && p->state != ST_LAUNCHING && p->run.exec_fd < 0 &&
	       !(p->run.exec_failed && p->run.pid > 0) && !p->run.main_due;
}

/* The node preload's word that the main module's top-level code has run: its signal
 * handlers are in place, so `start` and `restart` return now, not before. */
void proc_main_ran(struct proc *p)
{
	p->run.main_due = 0;
}

void proc_listening(struct proc *p)
{
	p->run.listening = true;
	if (!p->spec->wait_ready)
		proc_event(p, EV_READY);
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

/* ---- stopping a process ------------------------------------------------------- */

static void tree_add(struct process *pr, pid_t pid)
{
	for (int j = 0; j < pr->tree.n; j++)
		if (pr->tree.pids[j] == pid)
			return;
	pr->tree.pids = xrealloc(pr->tree.pids, (size_t)(pr->tree.n + 1) * sizeof *pr->tree.pids);
	pr->tree.pids[pr->tree.n++] = pid;
}

static void tree_add_descendants(struct process *pr, pid_t root)
{
	pid_t *found = NULL;
	int n = procfs_descendants(root, &found);
	for (int i = 0; i < n; i++)
		tree_add(pr, found[i]);
	free(found);
}

/* And what left the tree: the process's cgroup, or its adopted orphans. */
static void tree_add_strays(struct process *pr)
{
	pid_t *found = NULL;
	int n = stray_members(pr, &found);
	for (int i = 0; i < n; i++)
		if (found[i] != pr->pid)
			tree_add(pr, found[i]);
	free(found);
}

/* A tree member is gone when it no longer exists or is a zombie someone will reap. */
static bool tree_member_gone(pid_t pid)
{
	struct pstat st;
	return !procfs_stat(pid, &st) || st.state == 'Z' || st.state == 'X';
}

static void tree_prune(struct process *pr)
{
	int k = 0;
	for (int i = 0; i < pr->tree.n; i++)
		if (!tree_member_gone(pr->tree.pids[i]))
			pr->tree.pids[k++] = pr->tree.pids[i];
	pr->tree.n = k;
}

/* Signal a process: its process group, and (treekill) every descendant that left the
 * group with setsid/setpgid, so nothing of a stopped app keeps its port. */
static void signal_tree(struct proc *p, struct process *pr, int sig)
{
	if (pr->pid > 0)
		kill(p->spec->treekill ? -pr->pid : pr->pid, sig);
	if (!p->spec->treekill)
		return;
	if (sig == SIGKILL)
		stray_signal(pr, SIGKILL);   /* cgroup.kill: also what forks meanwhile */
	for (int i = 0; i < pr->tree.n; i++) {
		struct pstat st;
		if (procfs_stat(pr->tree.pids[i], &st) && (st.pgid != pr->pid || sig == SIGKILL))
			kill(pr->tree.pids[i], sig);
	}
}

struct proc_world proc_world = {.spawn = proc_spawn, .signal = signal_tree};

static int kill_signal(const struct spec *s)
{
	return s->kill_signal ? s->kill_signal : default_kill_signal;
}

void proc_stop_process(struct proc *p, struct process *pr)
{
	pr->tree.n = 0;
	if (p->spec->treekill) {
		tree_add_descendants(pr, pr->pid);
		tree_add_strays(pr);
	}
	if (!p->spec->shutdown_with_message || !ready_ipc_send(pr, "\"shutdown\""))
		proc_world.signal(p, pr, kill_signal(p->spec));
	pr->stopping = true;
	pr->kill_at = mono_ms() + p->spec->kill_timeout_ms;
	pr->kill_sent = false;
	pr->tree_poll = 0;
}

/* Its leader reaped or a timer due: is all of it gone now? */
static bool process_stopped(const struct proc *p, struct process *pr)
{
	if (!pr->stopping || pr->pid > 0)
		return false;
	if (p->spec->treekill)
		tree_add_strays(pr);   /* forked while it was stopping */
	tree_prune(pr);
	if (pr->tree.n > 0) {
		if (!pr->kill_at || pr->kill_at > mono_ms() + TREE_POLL_MS)
			pr->tree_poll = mono_ms() + TREE_POLL_MS;
		return false;
	}
	pr->stopping = false;
	pr->kill_at = pr->tree_poll = 0;
	stray_release(pr);
	return true;
}

/* kill_timeout passed: SIGKILL everything that is left, and again while it lasts. */
static void process_stop_timer(struct proc *p, struct process *pr, int64_t now)
{
	if (pr->tree_poll && pr->tree_poll <= now)
		pr->tree_poll = 0;   /* a tree re-check: process_stopped looks */
	if (!pr->kill_at || pr->kill_at > now)
		return;
	if (!pr->kill_sent)
		dlog("%s[%d]: still running after %lld ms: SIGKILL", p->spec->name, p->id,
		     (long long)p->spec->kill_timeout_ms);
	pr->kill_sent = true;
	if (p->spec->treekill && pr->pid > 0)
		tree_add_descendants(pr, pr->pid);
	proc_world.signal(p, pr, SIGKILL);
	pr->kill_at = now + REKILL_MS;
}

void proc_kill_now(struct proc *p)
{
	struct process *prs[2];
	for (int i = 0, n = proc_processes(p, prs); i < n; i++) {
		if (!prs[i]->stopping)
			continue;
		if (!prs[i]->kill_sent)
			dlog("%s[%d]: stop forced: SIGKILL", p->spec->name, p->id);
		prs[i]->kill_sent = true;
		prs[i]->kill_at = mono_ms();   /* the timer fires this pass */
	}
}

void proc_replace_orphan(struct proc *p, pid_t orphan, char *record)
{
	free(p->orphan_record);
	p->orphan_record = record;
	dlog("%s[%d]: stopping pid %d, left running by a previous daemon, to replace it",
	     p->spec->name, p->id, (int)orphan);
	struct process *pr = &p->run;
	pr->pid = 0;
	pr->tree.n = 0;
	tree_add(pr, orphan);
	tree_add_descendants(pr, orphan);
	pid_t *members = NULL;   /* its cgroup: also what escaped its tree */
	int nmembers = stray_orphan_members(orphan, &members);
	for (int i = 0; i < nmembers; i++)
		tree_add(pr, members[i]);
	free(members);
	int sig = kill_signal(p->spec);
	kill(-orphan, sig);   /* it ran in its own session and group */
	for (int i = 0; i < pr->tree.n; i++)
		kill(pr->tree.pids[i], sig);
	pr->stopping = true;
	pr->kill_at = mono_ms() + p->spec->kill_timeout_ms;
	pr->tree_poll = mono_ms() + TREE_POLL_MS;
	pr->kill_sent = false;
	char why[80];
	snprintf(why, sizeof why, "replacing pid %d, left running by a previous daemon", (int)orphan);
	proc_set_state(p, ST_STOPPING, why);
}

/* ---- the state machine ------------------------------------------------------ */

/* The instance's process is gone, all of it: stopped, and started again if wanted. */
static void stopped(struct proc *p)
{
	bool first = p->orphan_record != NULL;   /* a previous daemon's, replaced */
	if (p->orphan_record) {
		unlink(p->orphan_record);
		free(p->orphan_record);
		p->orphan_record = NULL;
	}
	bool again = p->want == WANT_UP;
	proc_set_state(p, ST_STOPPED, again ? "every process gone; starting again" : "every process gone");
	if (!again)
		return;
	if (!first)
		p->restarts++;
	const char *outer = cause;
	cause = first ? "start" : "restart";
	launch(p);
	cause = outer;
}

static void launch(struct proc *p)
{
	bool wait = false;
	if (!proc_world.spawn(p, &wait)) {
		p->deadline = 0;
		if (p->reload.phase == RL_LAUNCH && p->old)
			roll_back(p);
		else
			proc_set_state(p, ST_ERRORED, p->last_error ? p->last_error : "spawn failed");
		return;
	}
	p->deadline = wait ? mono_ms() + p->spec->listen_timeout_ms : 0;
	proc_set_state(p, wait ? ST_LAUNCHING : ST_ONLINE, NULL);
	if (!wait)
		reload_ready(p);
}

/* A reload's replacement failed: the old process takes its place again. */
static void roll_back(struct proc *p)
{
	if (!reload_roll_back(p))
		return;
	p->deadline = 0;
	proc_set_state(p, p->run.stopping ? ST_STOPPING : ST_ONLINE,
	               "reload failed: the old process goes on");
}

typedef void action_fn(struct proc *p);

static void act_none(struct proc *p) { (void)p; }

static void act_spawn(struct proc *p)
{
	int64_t now = mono_ms();
	if (p->leftover_until && now < p->leftover_until && stray_any(&p->run)) {
		p->deadline = now + TREE_POLL_MS;   /* its last run's processes are still dying */
		proc_set_state(p, ST_WAITING, "waiting for the last run's processes to go");
		return;
	}
	p->leftover_until = 0;
	launch(p);
}

static void act_start_fresh(struct proc *p)
{
	p->unstable_restarts = 0;
	p->backoff_ms = 0;
	act_spawn(p);
}

static void act_stop(struct proc *p)
{
	proc_stop_process(p, &p->run);
	p->deadline = 0;
	proc_set_state(p, ST_STOPPING, NULL);
}

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

/* The next restart's delay: restart_delay, or the exponential backoff. */
static int64_t restart_delay(struct proc *p, int64_t uptime)
{
	const struct spec *s = p->spec;
	if (s->exp_backoff_ms <= 0)
		return s->restart_delay_ms;
	if (uptime >= BACKOFF_RESET_UPTIME_MS || p->backoff_ms == 0) {
		p->backoff_ms = s->exp_backoff_ms;
	} else {
		/* Grows by half each time, up to 15 s (or the initial delay if larger). */
		int64_t cap = s->exp_backoff_ms > BACKOFF_CAP_MS ? s->exp_backoff_ms : BACKOFF_CAP_MS;
		p->backoff_ms = p->backoff_ms * 3 / 2 > cap ? cap : p->backoff_ms * 3 / 2;
	}
	return p->backoff_ms;
}

/* The leader exited on its own: decide between restart, wait, errored, stopped. */
static void act_exited(struct proc *p)
{
	const struct spec *s = p->spec;
	int64_t now = mono_ms();
	int64_t uptime = now - p->run.started_mono;
	if (p->reload.phase == RL_LAUNCH || p->reload.phase == RL_ROLLBACK) {
		if (!p->last_error)
			p->last_error = xasprintf("the replacement exited with %d before it was ready", p->exit_code);
		roll_back(p);
		return;
	}
	bool leftovers = false;
	if (s->treekill) {
		/* What is left of its group dies with it, and what left its tree too: an
		 * orphaned child holding its port would make every restart fail. */
		kill(-p->run.pid, SIGKILL);
		stray_signal(&p->run, SIGKILL);
		leftovers = stray_any(&p->run);
	}
	p->run.pid = 0;
	p->deadline = 0;
	char why[160];
	if (p->run.exec_failed) {   /* never ran: restarting would fail the same way */
		proc_set_state(p, ST_ERRORED, p->last_error ? p->last_error : "exec failed");
		return;
	}
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
	int64_t delay = restart_delay(p, uptime);
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
		launch(p);
		cause = NULL;
	}
}

/* The leader of a stopping process is gone: its children came to the daemon (the
 * subreaper). Those still in its process group took the kill signal and ignored it (a
 * shell's "cmd &" ignores SIGINT); the tree read at the stop may have come before they
 * were forked, and without a cgroup (none here, or none could be made: no fds left)
 * nothing else finds them. They join the tree, to be killed at kill_timeout. */
static void tree_add_group_orphans(struct process *pr, pid_t pgid)
{
	pid_t *kids = NULL;
	int n = procfs_children(getpid(), &kids);
	for (int i = 0; i < n; i++) {
		struct pstat st;
		if (kids[i] != pgid && procfs_stat(kids[i], &st) && st.pgid == pgid) {
			tree_add(pr, kids[i]);
			tree_add_descendants(pr, kids[i]);
		}
	}
	free(kids);
}

static void act_stopping_exited(struct proc *p)
{
	if (p->spec->treekill && p->run.pid > 0)
		tree_add_group_orphans(&p->run, p->run.pid);
	p->run.pid = 0;
	if (process_stopped(p, &p->run))
		stopped(p);
}

static void act_stop_timer(struct proc *p)
{
	process_stop_timer(p, &p->run, mono_ms());
	if (process_stopped(p, &p->run))
		stopped(p);
}

static void act_ready(struct proc *p)
{
	bool late = p->deadline && p->deadline <= mono_ms();
	p->deadline = 0;
	proxy_forget(p);
	proc_set_state(p, ST_ONLINE, late ? "not ready within listen_timeout: online anyway" : "ready");
	reload_ready(p);
}

/* listen_timeout passed without a word from the app: online anyway, as PM2 does; a
 * reload's replacement must be ready, though: it is killed, the old one stays. */
static void act_ready_timeout(struct proc *p)
{
	if (!p->deadline || p->deadline > mono_ms())
		return;
	if (p->reload.phase == RL_LAUNCH) {
		p->deadline = 0;
		reload_timed_out(p);
		proc_world.signal(p, &p->run, SIGKILL);
		return;
	}
	dlog("%s[%d]: not ready after %lld ms (listen_timeout): online anyway", p->spec->name,
	     p->id, (long long)p->spec->listen_timeout_ms);
	act_ready(p);
}

static void act_waited(struct proc *p)
{
	if (p->deadline && p->deadline <= mono_ms())
		act_spawn(p);
}

static void act_reload(struct proc *p)
{
	if (reload_begin(p))
		launch(p);
}

static action_fn *const fsm[ST_NSTATES][EV_NEVENTS] = {
	/*               START            STOP             DELETE           EXIT                 TIMER              READY      RELOAD */
	[ST_STOPPED]   = {act_start_fresh, act_none,        act_none,        act_none,            act_none,          act_none,  act_none},
	[ST_LAUNCHING] = {act_stop,        act_stop,        act_stop,        act_exited,          act_ready_timeout, act_ready, act_none},
	[ST_ONLINE]    = {act_stop,        act_stop,        act_stop,        act_exited,          act_none,          act_none,  act_reload},
	[ST_STOPPING]  = {act_none,        act_none,        act_none,        act_stopping_exited, act_stop_timer,    act_none,  act_none},
	[ST_WAITING]   = {act_start_fresh, act_cancel_wait, act_cancel_wait, act_none,            act_waited,        act_none,  act_none},
	[ST_ERRORED]   = {act_start_fresh, act_cancel_wait, act_cancel_wait, act_none,            act_none,          act_none,  act_none},
};

static void proc_set_state(struct proc *p, enum pstate to, const char *reason)
{
	enum pstate from = p->state;
	p->state = to;
	if (from == to && p->run.pid == p->told_pid)
		return;
	p->told_pid = p->run.pid;
	if (!reason && !cause && p->reload.phase == RL_LAUNCH)
		reason = "reload";
	events_state(p, from, reason ? reason : cause ? cause : "");
}

void proc_event(struct proc *p, enum pevent ev)
{
	const char *outer = cause;
	if (!cause) {
		bool up = p->state == ST_ONLINE || p->state == ST_LAUNCHING;
		cause = ev == EV_START ? (up ? "restart" : "start") : ev == EV_STOP ? "stop"
		      : ev == EV_DELETE ? "delete" : ev == EV_RELOAD ? "reload"
		      : ev == EV_TIMER && p->state == ST_WAITING ? "restart delay over" : NULL;
	}
	if (ev == EV_DELETE)
		p->want = WANT_GONE;
	else if (p->want != WANT_GONE && (ev == EV_START || ev == EV_STOP))
		p->want = ev == EV_START ? WANT_UP : WANT_DOWN;
	/* A stop or a restart ends a reload: the old process is stopped too. */
	if ((ev == EV_STOP || ev == EV_START || ev == EV_DELETE) && (p->old || p->reload.phase))
		reload_abandon(p);
	fsm[p->state][ev](p);
	cause = outer;
}

/* ---- reaping ------------------------------------------------------------------ */

static void process_reaped(struct proc *p, struct process *pr, int status)
{
	if (pr->exec_fd >= 0)
		proc_exec_status(p);   /* its record is in the pipe by now */
	applog_drain_exited(p, pr);
	if (pr->ipc_fd >= 0)
		ready_ipc_read(p, pr);   /* a last "ready" is still news for a reload */
	close_fd(&pr->ipc_fd);
	buf_free(&pr->ipc_in);
	pr->main_due = 0;
	if (pr != &p->run) {   /* a reload's old process */
		if (p->spec->treekill && pr->pid > 0) {
			if (pr->stopping)
				tree_add_group_orphans(pr, pr->pid);   /* killed at its kill_timeout */
			else
				kill(-pr->pid, SIGKILL);   /* what is left of its group dies with it */
		}
		pr->pid = 0;
		if (!pr->stopping || process_stopped(p, pr))
			reload_old_gone(p);
		return;
	}
	unlink_pid_files(p);
	if (WIFSIGNALED(status)) {
		p->exit_signal = WTERMSIG(status);
		p->exit_code = 128 + p->exit_signal;
	} else {
		p->exit_signal = 0;
		p->exit_code = WEXITSTATUS(status);
	}
	pid_t pid = pr->pid;
	events_exit(p, pid, mono_ms() - pr->started_mono);
	proxy_forget(p);
	proc_event(p, EV_EXIT);
	if (p->run.pid == pid)
		p->run.pid = 0;   /* reaped in a state that expects no exit */
}

void proc_reaped(pid_t pid, int status)
{
	for (int i = 0; i < nprocs; i++) {
		struct process *prs[2];
		for (int k = 0, n = proc_processes(procs[i], prs); k < n; k++)
			if (prs[k]->pid == pid) {
				process_reaped(procs[i], prs[k], status);
				return;
			}
	}
	/* An orphan that was reparented to us (we are a subreaper): part of some stopping
	 * tree, or a stray. Stops waiting on it re-check on their next poll. */
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->state == ST_STOPPING && p->run.pid == 0 && p->run.tree.n > 0)
			act_stopping_exited(p);
		if (p->old && p->old->stopping && process_stopped(p, p->old))
			reload_old_gone(p);
	}
}

/* ---- timers: each instance's earliest deadline, and what fires then ------------- */

static int64_t earlier(int64_t a, int64_t b)
{
	return b > 0 && (a == 0 || b < a) ? b : a;
}

static int64_t process_next_deadline(const struct process *pr)
{
	return earlier(earlier(earlier(pr->kill_at, pr->tree_poll), pr->partial_at),
	               earlier(pr->main_due, pr->proxy.probe_at));
}

/* When something of the instance is next due: its state's deadline, its processes'
 * stop and log timers, its watchdogs. */
int64_t proc_next_deadline(struct proc *p, int64_t now)
{
	int64_t next = earlier(process_next_deadline(&p->run), p->deadline);
	if (p->old)
		next = earlier(next, process_next_deadline(p->old));
	return earlier(next, watchdog_next_deadline(p, now));
}

int64_t procs_next_deadline(void)
{
	int64_t next = 0, now = mono_ms();
	for (int i = 0; i < nprocs; i++)
		next = earlier(next, proc_next_deadline(procs[i], now));
	return next;
}

static bool due(int64_t at, int64_t now) { return at && at <= now; }

static void proc_fire(struct proc *p, int64_t now)
{
	struct process *prs[2];
	for (int k = 0, n = proc_processes(p, prs); k < n; k++) {
		if (due(prs[k]->partial_at, now))
			applog_flush_partial(p, prs[k]);
		if (due(prs[k]->main_due, now))
			prs[k]->main_due = 0;   /* slow to load, or no preload: go on */
	}
	if (due(p->run.proxy.probe_at, now))
		proxy_probe(p, now);
	if (p->old && (due(p->old->kill_at, now) || due(p->old->tree_poll, now))) {
		process_stop_timer(p, p->old, now);
		if (process_stopped(p, p->old))
			reload_old_gone(p);
	}
	if (due(p->deadline, now) || due(p->run.kill_at, now) || due(p->run.tree_poll, now))
		proc_event(p, EV_TIMER);
	if (!p->gone)
		watchdog_fire(p, now);
}

void procs_fire_timers(int64_t now)
{
	for (int i = 0; i < nprocs; i++)
		proc_fire(procs[i], now);
}

void procs_collect_removed(void)
{
	for (int i = nprocs - 1; i >= 0; i--) {
		struct proc *p = procs[i];
		if (p->want == WANT_GONE && p->run.pid == 0 && p->state != ST_STOPPING && !p->old) {
			unlink_pid_files(p);
			proc_free(p);
		}
	}
}

/* ---- the loop: every instance's pipes, exec status and IPC channel, and timers ---- */

static size_t pipes_most(void) { return 8 * (size_t)nprocs; }

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
	size_t n = 0;
	for (int i = 0; i < nprocs; i++) {
		struct process *prs[2];
		for (int k = 0, np = proc_processes(procs[i], prs); k < np; k++) {
			int fd[] = {prs[k]->out_fd, prs[k]->err_fd, prs[k]->exec_fd, prs[k]->ipc_fd};
			for (size_t j = 0; j < ARRAY_LEN(fd); j++)
				n = add_fd(fds, tags, n, fd[j], procs[i]);
		}
	}
	return n;
}

static void pipes_ready(struct pollfd *pfd, void *tag)
{
	struct proc *p = tag;
	if (p->gone)
		return;   /* deleted by something earlier in this pass */
	struct process *prs[2];
	for (int k = 0, n = proc_processes(p, prs); k < n; k++) {
		struct process *pr = prs[k];
		if (pfd->fd == pr->exec_fd && pr == &p->run)
			proc_exec_status(p);
		else if (pfd->fd == pr->ipc_fd)
			ready_ipc_read(p, pr);
		else if (pfd->fd == pr->out_fd || pfd->fd == pr->err_fd)
			applog_drain(p, pr, pfd->fd);
		else
			continue;
		return;
	}
}

const struct loop_source procs_source = {
	.name = "procs", .fill = pipes_fill, .most = pipes_most, .ready = pipes_ready,
	.next_deadline = procs_next_deadline, .fire = procs_fire_timers,
};
