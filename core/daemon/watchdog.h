/* The daemon's watchdogs: memory limit, cron restarts, file watching. Each restarts
 * instances on its own and says why (restart_reason, the daemon log). */
#ifndef TEND_WATCHDOG_H
#define TEND_WATCHDOG_H

#include "lib/loop.h"
#include "daemon/proc.h"

#include <poll.h>

/* An instance was spawned: arm its memory check, open its app's watcher. */
void watchdog_spawned(struct proc *p);
/* Arm what needs arming (cron); the instance's earliest watchdog deadline, or 0
 * (part of proc_next_deadline); fire what is due. */
int64_t watchdog_next_deadline(struct proc *p, int64_t now);
void watchdog_fire(struct proc *p, int64_t now);
/* The app's declaration is gone: close its watcher. */
void watchdog_forget(struct spec *s);
/* The watchers to poll: appends to fds/owners (at most max); returns how many. */
size_t watchdogs_poll(struct pollfd *fds, struct spec **owners, size_t max, unsigned pass);
/* A watcher is readable. */
void watchdog_watch_event(struct spec *s, int64_t now);

extern const struct loop_source watchdogs_source;
#endif
