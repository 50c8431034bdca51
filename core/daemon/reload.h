/* Rolling reload: each instance gets a replacement process first; the old process
 * serves until the replacement is ready, then is stopped gracefully. A replacement
 * that exits or is not ready within listen_timeout is killed, and the old process
 * stays in place: the instance is as it was, and the reload reports the failure.
 *
 * While it is being replaced, the old process is the instance's p->old: its pipes
 * are still read, its exit still reaped, its stop timed, by proc.c. These are the
 * state machine's steps for it (proc.c calls them; they set no state). */
#ifndef TEND_RELOAD_H
#define TEND_RELOAD_H

#include "daemon/proc.h"

enum reload_phase {
	RL_NONE,
	RL_LAUNCH,     /* the replacement runs, not yet ready; the old one serves */
	RL_RETIRE,     /* the replacement is ready; the old one is stopping */
	RL_ROLLBACK,   /* the replacement failed and is being killed */
};

/* A reload of p is asked for or going on. */
bool reload_busy(const struct proc *p);
/* Ask for one: the reload wait (ctl.c) posts EV_RELOAD when its turn comes. */
void reload_request(struct proc *p);
/* Move p's running process aside to p->old, for a replacement to be launched. */
bool reload_begin(struct proc *p);
/* The replacement is ready: stop the old one. */
void reload_ready(struct proc *p);
/* The replacement failed: the old process is p's again. False: there is none. */
bool reload_roll_back(struct proc *p);
/* The replacement was not ready within listen_timeout (the caller kills it). */
void reload_timed_out(struct proc *p);
/* A stop, restart or delete of p: the old process is stopped too. */
void reload_abandon(struct proc *p);
/* The old process is gone, all of it. */
void reload_old_gone(struct proc *p);

#endif
