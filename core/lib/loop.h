/* One poll(2) loop for the daemon and for the client applets that wait on several
 * things at once. A program registers sources, and each pass:
 *   1. every source adds the fds it waits on now (fill), each with a tag of its own;
 *   2. poll waits until one is ready or the earliest deadline of any source is due
 *      (absolute, monotonic ms; no source due: no timeout);
 *   3. every ready fd goes back to the source that added it (ready);
 *   4. every source's timers fire (fire), then the after-pass hooks run, in order;
 *      a hook that returns true has work left: the next pass looks but does not wait.
 * Sources that own no fds (timers only) leave fill NULL. Nothing here blocks but
 * poll itself, and the loop owns no fd: closing them is the sources' business.
 * A source that may free what a tag points to during a pass checks it itself (tags
 * of one pass are only used in that pass). */
#ifndef TEND_LOOP_H
#define TEND_LOOP_H

#include "lib/util.h"

#include <poll.h>

struct loop_source {
	const char *name;
	/* Add up to room fds to fds[] (tags[] alongside); returns how many. */
	size_t (*fill)(struct pollfd *fds, void **tags, size_t room, int64_t now);
	/* The most fds fill may add now (the loop makes room for them first). */
	size_t (*most)(void);
	/* fd (with revents) that fill added with tag is ready. */
	void (*ready)(struct pollfd *fd, void *tag);
	/* The source's whole batch at once, after the single ready calls, for sources
	 * that handle their fds together (n: how many it added this pass). */
	void (*ready_all)(struct pollfd *fds, size_t n);
	int64_t (*next_deadline)(void);   /* monotonic ms; 0: none */
	void (*fire)(int64_t now);
};

struct loop {
	const struct loop_source **sources;
	size_t nsources;
	bool (**after)(void);
	size_t nafter;
	struct pollfd *fds;
	void **tags;
	size_t *owner;      /* fds[i] was added by sources[owner[i]] */
	size_t *first;      /* sources[i]'s fds begin at fds[first[i]] (nsources + 1) */
	size_t cap;
	bool busy;          /* a hook has work left: look, do not sleep */
};

void loop_add_source(struct loop *l, const struct loop_source *s);
void loop_after_pass(struct loop *l, bool (*fn)(void));
/* One pass; returns poll's result (-1 with errno on an error other than EINTR). */
int loop_pass(struct loop *l);
/* The timeout a pass would wait now, in ms (-1: none), for tests and for logging. */
int loop_timeout(const struct loop *l, int64_t now);
void loop_free(struct loop *l);

#endif
