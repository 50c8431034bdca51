#include "daemon/reload.h"
#include "daemon/applog.h"
#include "daemon/stray.h"

#include <stdlib.h>

bool reload_busy(const struct proc *p)
{
	return p->reload.phase != RL_NONE || p->reload.pending || p->old;
}

void reload_request(struct proc *p)
{
	p->reload.pending = true;
	p->reload.failed = false;
}

bool reload_begin(struct proc *p)
{
	if (p->run.pid <= 0 || p->old)
		return false;
	p->old = xmalloc(sizeof *p->old);
	*p->old = p->run;   /* the process as it is: its pipes, cgroup, buffers */
	p->run = (struct process){.out_fd = -1, .err_fd = -1, .exec_fd = -1, .ipc_fd = -1, .proxy.probe_fd = -1};
	p->reload.phase = RL_LAUNCH;
	return true;
}

void reload_ready(struct proc *p)
{
	if (p->reload.phase != RL_LAUNCH || !p->old)
		return;
	p->reload.phase = RL_RETIRE;
	p->restarts++;   /* as PM2 counts a reload */
	proc_stop_process(p, p->old);
}

bool reload_roll_back(struct proc *p)
{
	p->reload.phase = RL_NONE;
	if (!p->old)
		return false;
	dlog("%s[%d]: reload failed (%s): the old process %d goes on", p->spec->name, p->id,
	     p->last_error ? p->last_error : "the replacement failed", (int)p->old->pid);
	stray_release(&p->run);   /* the replacement's: it is gone */
	process_clear(&p->run);
	p->run = *p->old;
	free(p->old);
	p->old = NULL;
	p->reload.failed = true;
	return true;
}

void reload_timed_out(struct proc *p)
{
	free(p->last_error);
	p->last_error = xasprintf("the replacement was not ready within %lld ms",
	                          (long long)p->spec->listen_timeout_ms);
	p->reload.phase = RL_ROLLBACK;
}

void reload_abandon(struct proc *p)
{
	p->reload.phase = RL_NONE;
	if (p->old && !p->old->stopping)
		proc_stop_process(p, p->old);
}

void reload_old_gone(struct proc *p)
{
	if (!p->old)
		return;
	stray_release(p->old);
	process_clear(p->old);
	free(p->old);
	p->old = NULL;
	if (p->reload.phase == RL_RETIRE || p->reload.phase == RL_LAUNCH)
		p->reload.phase = RL_NONE;   /* (launching: it died first; nothing to go back to) */
}
