/* Every process an app ever started is stopped with it, also those that left its
 * process tree (setsid, a double fork) and would otherwise outlive it, holding its port.
 *  - With cgroup v2 (root, or a delegated subtree): each process an instance runs gets
 *    a cgroup of its own under the daemon's, which it joins before exec. Whatever it
 *    forks stays inside, so its members are the app's processes, all of them.
 *  - Otherwise: the daemon is a child subreaper, so orphans are reparented to it. It
 *    looks at its children when one exits and every second, and attributes each one it
 *    did not start to the instance whose pm_id and name it carries in its environment.
 * Either way the members ("strays" when they escaped the leader's tree) are signalled
 * when the instance stops, and killed when its leader exits on its own. */
#ifndef TEND_STRAY_H
#define TEND_STRAY_H

#include "lib/loop.h"
#include "daemon/proc.h"

/* At daemon start: cgroups if they work here (logged), else orphan tracking. */
void stray_setup(void);
/* At exit: remove the daemon's cgroups that are empty. */
void stray_teardown(void);
bool stray_cgroups(void);

/* Before forking p's process: a fresh cgroup for it (the previous one's remains are
 * killed); the fd of its cgroup.procs for the child, or -1. The parent closes it. */
int stray_prepare(struct proc *p);
/* In the child, before exec: join the cgroup. */
void stray_join(int procs_fd);
/* The processes of a process that the leader's tree may not reach: its
 * cgroup's members, or the orphans attributed to it. Appends to *out (realloc'd). */
int stray_members(const struct process *pr, pid_t **out);
/* Signal all of them (SIGKILL through cgroup.kill, which also catches new forks). */
void stray_signal(struct process *pr, int sig);
/* Is any of them alive? */
bool stray_any(const struct process *pr);
/* The process and everything it started are gone: let go of its cgroup. */
void stray_release(struct process *pr);
/* What a previous daemon's process ran in: the members of its cgroup, if it had one. */
int stray_orphan_members(pid_t orphan, pid_t **out);

/* The loop (orphan tracking): look at our children now (a child exited), and every
 * STRAY_SCAN_MS while apps run. */
void stray_scan(void);
int64_t stray_next_deadline(void);
void stray_fire(int64_t now);
/* tend update: the cgroup numbering goes on where it was. */
void stray_save(struct buf *b);
void stray_restore(const struct jdoc *d, int obj);
/* A process the daemon reaped: no longer anyone's stray. */
void stray_reaped(pid_t pid);

extern const struct loop_source stray_source;
#endif
