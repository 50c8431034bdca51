/* What a streaming subscription of a control connection is, whatever it streams (app
 * output for `logs`, the daemon's events for `events`): the connection, the targets it
 * follows, and what it missed while it read too slowly. A subscriber never slows the
 * daemon: past a backlog cap it misses messages (it is told how many, {"missed":N}),
 * and one that misses everything for a minute is disconnected. */
#ifndef TEND_SUBSCRIPTION_H
#define TEND_SUBSCRIPTION_H

#include "daemon/ctl.h"
#include "daemon/proc.h"
#include "daemon/target.h"
#include "lib/json.h"

struct subscription {
	struct client *c;
	struct target *targets;   /* none: every app, present and future */
	char *cwd;                /* the subscriber's, for script-path targets; may be NULL */
	int ntargets;
	long long missed;         /* messages dropped since the last one sent */
	int64_t missing_since;    /* monotonic ms when it began to miss, or 0 */
};

/* Compile the "targets" of object obj of d (absent or null: every app) for c; "cwd" of
 * obj resolves script paths. obj is the request (0), or a subscription saved across
 * tend update. False with err on a bad target, and nothing to free. */
bool sub_init(struct subscription *s, struct client *c, const struct jdoc *d, int obj,
              char *err, size_t errlen);
void sub_fini(struct subscription *s);
bool sub_matches(const struct subscription *s, const struct proc *p);
/* Whether a message may be queued now; if not, count `messages` as missed (what names
 * them, for the log line if the subscriber is dropped). If it may and some were
 * missed, the {"missed":N} notice goes first. */
bool sub_room(struct subscription *s, long long messages, const char *what);
/* The connection sent some of its backlog: once it is under the cap again after a
 * miss, the {"missed":N} notice goes now, not with the next message, which may never
 * come (a crash loop that ended in errored). Only asked while c->missing says so. */
void sub_caught_up(struct subscription *s);
/* "targets":[...] or null, and "cwd", for tend update (sub_init reads them back). */
void sub_save_targets(struct buf *b, const struct subscription *s);

#endif
