/* Rolling reload: each instance gets a replacement process first; the old process
 * serves until the replacement is ready, then is stopped gracefully. A replacement
 * that exits or is not ready within listen_timeout is killed, and the old process
 * stays in place: the instance is as it was, and the reload reports the failure.
 *
 * While it is being replaced, the old process lives in a "retiree": a proc outside
 * the table (no id of its own in lists), whose pipes the loop still reads and whose
 * exit the reaper still sees. */
#ifndef TEND_RELOAD_H
#define TEND_RELOAD_H

#include "daemon/proc.h"

enum reload_phase {
	RL_NONE,
	RL_LAUNCH,     /* the replacement runs, not yet ready; the old one serves */
	RL_RETIRE,     /* the replacement is ready; the old one is stopping */
	RL_ROLLBACK,   /* the replacement failed and is being killed */
};

extern struct proc **retirees;
extern int nretirees;

/* A reload of p is asked for or going on. */
bool reload_busy(const struct proc *p);
/* Ask for one: the reload wait (ctl.c) begins it when its turn comes. */
void reload_request(struct proc *p);
/* Begin replacing p's process; false (with p->last_error) if it has none to replace
 * or the spawn failed at once. */
bool reload_begin(struct proc *p);
/* Hooks from the state machine. */
void reload_ready(struct proc *p);          /* p's replacement is ready */
bool reload_exited(struct proc *p);         /* p's process was reaped; true: handled here */
void reload_timed_out(struct proc *p);      /* not ready within listen_timeout */
void reload_abandon(struct proc *p);        /* a stop or delete of p: stop the old one too */
/* A retiree's process was reaped; false if pid is none of theirs. */
bool reload_reaped(pid_t pid, int status);
/* Earliest deadline of the retirees; fire theirs. */
int64_t retirees_next_deadline(void);
void retirees_fire_timers(int64_t now);
bool retirees_all_down(void);
/* Is ptr a live proc or retiree (the loop's stale-pointer check)? */
bool proc_is_live(const struct proc *ptr);

#endif
