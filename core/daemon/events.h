/* The event stream: what the daemon does, as it happens, to every control connection
 * that asked ({"cmd":"events"}): instance transitions with their reason, exits, daemon
 * events, and per-instance samples at the rate each subscriber chose. Bounded per
 * subscriber like `logs` (see subscription.h). The format is in tend-protocol(7). */
#ifndef TEND_EVENTS_H
#define TEND_EVENTS_H

#include "lib/loop.h"
#include "daemon/ctl.h"
#include "daemon/proc.h"
#include "lib/json.h"

/* Subscribers now: the hooks below cost nothing without any. */
extern int events_subscribers;

/* Subscribe c to what the "targets" of object obj of d match (see sub_init; none: every
 * app); samples_ms: 0 for no samples. False with err on a bad target. */
bool events_subscribe(struct client *c, const struct jdoc *d, int obj, int64_t samples_ms,
                      char *err, size_t errlen);
void events_unsubscribe(struct client *c);
void events_caught_up(struct client *c);   /* c sent some backlog (sub_caught_up) */
/* p went from `from` to its state now (or got a new pid), because of reason. */
void events_state(const struct proc *p, enum pstate from, const char *reason);
/* p's process pid ended: p->exit_code / p->exit_signal, after uptime_ms. */
void events_exit(const struct proc *p, pid_t pid, int64_t uptime_ms);
/* p is gone from the list. */
void events_delete(const struct proc *p);
/* The daemon's own: "start", "shutdown", "save", "resurrect", "update"; detail or NULL. */
void events_daemon(const char *what, const char *detail);
/* Samples: when the next is due (monotonic ms, 0: none), and sending those due. */
int64_t events_next_deadline(void);
void events_fire(int64_t now);
/* tend update: c's subscriptions, and back. */
void events_save(struct buf *b, const struct client *c);
void events_restore(struct client *c, const struct jdoc *d, int arr);

extern const struct loop_source events_source;
#endif
