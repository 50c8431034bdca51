/* Target words on the command line: an id, an app name, a namespace, "all", or a
 * /regular expression/ over names. Compiled once, matched against instances. */
#ifndef TEND_TARGET_H
#define TEND_TARGET_H

#include "proc.h"

#include <regex.h>

struct target {
	char *word;
	bool all, is_regex, by_namespace;
	regex_t re;
	long long id;         /* -1: the word is not a number */
};

/* False with a reason in err for a bad regular expression. */
bool target_compile(struct target *t, const char *word, char *err, size_t errlen);
void target_free(struct target *t);
/* A word that names an app (or an id) matches those; one that names no app, but a
 * namespace, matches the namespace: target_settle decides which, from the procs now. */
void target_settle(struct target *t);
bool target_matches(const struct target *t, const struct proc *p);

#endif
