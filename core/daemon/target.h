/* Target words on the command line: an id, an app name, a namespace, "all", or a
 * /regular expression/ over names (JavaScript syntax, see rx.h). Compiled once,
 * matched against instances. */
#ifndef TEND_TARGET_H
#define TEND_TARGET_H

#include "daemon/proc.h"
#include "lib/rx.h"

enum {
	TARGETS_MAX = 1024,             /* words in one request */
	TARGET_STEPS_MAX = 4000000,     /* regex steps one request may spend (a few ms) */
};

struct target {
	char *word;
	bool all, by_namespace;
	bool by_id;           /* a number that is some instance's id: that one, not a name */
	struct rx *re;
	long long id;         /* -1: the word is not a number */
	char *path;           /* the word as a file, from the caller's cwd: apps started from
	                       * that script match too, as in PM2 ("stop app.js") */
	char *seen_name;      /* regex: the last name matched, and the answer (log streams */
	bool seen_match;      /* ask again for every message of the same app) */
};

/* False with a reason in err for a bad regular expression. cwd: the caller's, for words
 * that name a script file (NULL: none). */
bool target_compile(struct target *t, const char *word, const char *cwd, char *err, size_t errlen);
void target_free(struct target *t);
/* A word that names an app (or an id) matches those; one that names no app, but a
 * namespace, matches the namespace: target_settle decides which, from the procs now. */
void target_settle(struct target *t);
/* 1 matches, 0 does not, -1 when *budget (regex steps) ran out. */
int target_match(struct target *t, const struct proc *p, long *budget);
/* The same with a budget of its own, for one instance at a time (no: out of budget). */
/* For a subscription, which lasts: an app or script of that name, also one started
 * later, or a namespace of that name (what the word meant when settled may change). */
bool target_follows(struct target *t, const struct proc *p);
bool target_matches(struct target *t, const struct proc *p);

#endif
