#include "daemon/reload.h"
#include "daemon/applog.h"
#include "daemon/ready.h"
#include "daemon/stray.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc **retirees;
int nretirees;

static void move_buf(struct buf *to, struct buf *from)
{
	buf_free(to);
	*to = *from;
	*from = (struct buf){0};
}

/* Everything that belongs to a running process rather than to the instance. */
static void move_process(struct proc *to, struct proc *from)
{
	to->pid = from->pid;
	to->out_fd = from->out_fd;
	to->err_fd = from->err_fd;
	to->exec_fd = from->exec_fd;
	to->exec_failed = from->exec_failed;
	to->ipc_fd = from->ipc_fd;
	move_buf(&to->ipc_in, &from->ipc_in);
	move_buf(&to->partial[0], &from->partial[0]);
	move_buf(&to->partial[1], &from->partial[1]);
	to->partial_at = from->partial_at;
	to->started_mono = from->started_mono;
	to->started_wall = from->started_wall;
	to->listening = from->listening;
	to->main_due = from->main_due;
	to->proxy_port = from->proxy_port;
	to->cpu_ticks = from->cpu_ticks;
	to->sample_mono = from->sample_mono;
	to->cpu_pct = from->cpu_pct;
	to->rss_bytes = from->rss_bytes;
	if (to->cg_leaf)
		stray_release(to);   /* a failed replacement's: it is gone */
	stray_move(to, from);
	from->pid = 0;
	from->out_fd = from->err_fd = from->exec_fd = from->ipc_fd = -1;
	from->partial_at = 0;
	from->exec_failed = false;
	from->listening = false;
	from->main_due = 0;
	from->proxy_port = 0;
}

static void retiree_free(struct proc *r)
{
	for (int i = 0; i < nretirees; i++)
		if (retirees[i] == r)
			retirees[i] = retirees[--nretirees];
	if (r->reload_of && r->reload_of->retiree == r)
		r->reload_of->retiree = NULL;
	procs_freed++;
	proc_release(r);
}

/* The old process is down: the instance's reload is over. */
static void retiree_stopped(struct proc *r)
{
	if (r->reload_of && r->reload_of->reload == RL_RETIRE)
		r->reload_of->reload = RL_NONE;
	retiree_free(r);
}

bool reload_busy(const struct proc *p)
{
	return p->reload != RL_NONE || p->reload_pending;
}

void reload_request(struct proc *p)
{
	p->reload_pending = true;
	p->reload_failed = false;
}

bool reload_begin(struct proc *p)
{
	if (p->pid <= 0 || p->state != ST_ONLINE)
		return false;
	struct proc *r = xcalloc(1, sizeof *r);
	r->id = p->id;
	r->instance = p->instance;
	r->spec = spec_ref(p->spec);
	r->out_log = r->err_log = r->comb_log = r->probe_fd = -1;
	move_process(r, p);
	r->reload_of = p;   /* from here on r's states are its own, not the instance's */
	proc_set_state(r, ST_ONLINE, NULL);
	applog_set_paths(r);
	applog_open(r);
	retirees = xrealloc(retirees, (size_t)(nretirees + 1) * sizeof *retirees);
	retirees[nretirees++] = r;
	p->retiree = r;
	p->reload = RL_LAUNCH;
	p->deadline = 0;
	if (!proc_spawn(p)) {
		reload_exited(p);   /* nothing ran: the old one takes its place again */
		return false;
	}
	if (p->state == ST_ONLINE)
		reload_ready(p);    /* ready at once: no readiness signal to wait for */
	return true;
}

void reload_ready(struct proc *p)
{
	if (p->reload != RL_LAUNCH || !p->retiree)
		return;
	p->reload = RL_RETIRE;
	p->restarts++;   /* as PM2 counts a reload */
	proc_begin_stop(p->retiree);
}

/* The replacement is gone: give the instance its old process back. */
static void roll_back(struct proc *p)
{
	struct proc *r = p->retiree;
	dlog("%s[%d]: reload failed (%s): the old process %d goes on", p->spec->name, p->id,
	     p->last_error ? p->last_error : "the replacement failed", (int)r->pid);
	int *fds[] = {&p->out_fd, &p->err_fd, &p->exec_fd, &p->ipc_fd};
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	move_process(p, r);
	proc_set_state(p, r->state == ST_STOPPING ? ST_STOPPING : ST_ONLINE,
	               "reload failed: the old process goes on");
	p->deadline = r->deadline;
	p->reload = RL_NONE;
	p->reload_failed = true;
	r->reload_of = NULL;
	p->retiree = NULL;
	retiree_free(r);
}

bool reload_exited(struct proc *p)
{
	if (p->reload != RL_LAUNCH && p->reload != RL_ROLLBACK)
		return false;
	if (!p->last_error)
		p->last_error = xasprintf("the replacement exited with %d before it was ready", p->exit_code);
	p->pid = 0;
	roll_back(p);
	return true;
}

void reload_timed_out(struct proc *p)
{
	if (p->reload != RL_LAUNCH)
		return;
	free(p->last_error);
	p->last_error = xasprintf("the replacement was not ready within %lld ms",
	                          (long long)p->spec->listen_timeout_ms);
	p->reload = RL_ROLLBACK;
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
}

void reload_abandon(struct proc *p)
{
	struct proc *r = p->retiree;
	p->reload = RL_NONE;
	if (!r)
		return;
	r->reload_of = NULL;
	p->retiree = NULL;
	if (r->state != ST_STOPPING)
		proc_begin_stop(r);
}

bool reload_reaped(pid_t pid, int status)
{
	(void)status;
	for (int i = 0; i < nretirees; i++) {
		struct proc *r = retirees[i];
		if (r->pid != pid)
			continue;
		applog_drain_exited(r);
		r->pid = 0;
		struct proc *p = r->reload_of;
		if (r->state != ST_STOPPING && p && p->reload == RL_LAUNCH) {
			/* The old one died while its replacement starts: nothing to go back to. */
			p->reload = RL_NONE;
			retiree_free(r);
			return true;
		}
		proc_finish_stop(r);
		if (r->state == ST_STOPPED)
			retiree_stopped(r);
		return true;
	}
	return false;
}

int64_t retirees_next_deadline(void)
{
	int64_t next = 0;
	for (int i = 0; i < nretirees; i++) {
		int64_t d = retirees[i]->deadline;
		if (retirees[i]->tree_poll && (!d || retirees[i]->tree_poll < d))
			d = retirees[i]->tree_poll;
		if (d && (!next || d < next))
			next = d;
	}
	return next;
}

void retirees_fire_timers(int64_t now)
{
	for (int i = nretirees - 1; i >= 0 && i < nretirees; i--) {
		struct proc *r = retirees[i];
		if ((r->deadline && r->deadline <= now) || (r->tree_poll && r->tree_poll <= now)) {
			proc_event(r, EV_TIMER);
			if (r->state == ST_STOPPED)
				retiree_stopped(r);
		}
	}
}

bool retirees_all_down(void)
{
	return nretirees == 0;
}

bool proc_is_live(const struct proc *ptr)
{
	for (int k = 0; k < nprocs; k++)
		if (procs[k] == ptr)
			return true;
	for (int k = 0; k < nretirees; k++)
		if (retirees[k] == ptr)
			return true;
	return false;
}
