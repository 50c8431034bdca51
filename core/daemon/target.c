#include "daemon/target.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* word resolved from cwd, symlinks too: the daemon keeps scripts by their real path. */
static char *script_path(const char *word, const char *cwd)
{
	if (!cwd || !*word)
		return NULL;
	char *joined = word[0] == '/' ? xstrdup(word) : xasprintf("%s/%s", cwd, word);
	char *real = realpath(joined, NULL);
	free(joined);
	return real;   /* NULL when there is no such file: then it is no script */
}

bool target_compile(struct target *t, const char *word, const char *cwd, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	size_t len = strlen(word);
	t->id = -1;
	if (strcmp(word, "all") == 0) {
		t->all = true;
	} else if (len >= 2 && word[0] == '/' && word[len - 1] == '/') {
		char *pat = xstrndup(word + 1, len - 2);
		char why[160];
		t->re = rx_compile(pat, why, sizeof why);
		free(pat);
		if (!t->re) {
			snprintf(err, errlen, "bad regular expression %.200s: %s", word, why);
			return false;
		}
	} else if (word[0] >= '0' && word[0] <= '9' && !parse_int(word, 0, 0x7fffffff, &t->id)) {
		t->id = -1;   /* digits only make an id: not " 1" nor "+1" */
	}
	t->word = xstrdup(word);
	if (!t->all && !t->re)
		t->path = script_path(word, cwd);
	return true;
}

void target_free(struct target *t)
{
	rx_free(t->re);
	free(t->word);
	free(t->path);
	free(t->seen_name);
	memset(t, 0, sizeof *t);
}

static int matches_name(struct target *t, const struct proc *p, long *budget)
{
	if (t->all)
		return 1;
	if (t->by_id)
		return p->id == t->id;
	if (!t->re)
		return strcmp(p->spec->name, t->word) == 0 ||
		       (t->path && !p->spec->shell && p->spec->script && !strcmp(p->spec->script, t->path));
	const char *name = p->spec->name;
	if (t->seen_name && !strcmp(t->seen_name, name))
		return t->seen_match;
	int m = rx_search(t->re, name, strlen(name), budget);
	if (m >= 0) {
		free(t->seen_name);
		t->seen_name = xstrdup(name);
		t->seen_match = m;
	}
	return m;
}

void target_settle(struct target *t)
{
	t->by_namespace = false;
	if (t->all || t->re)
		return;
	/* A number is an id when an instance has it (an app named "455" is reached by
	 * name only while no instance has id 455), as tend always did. */
	t->by_id = t->id >= 0 && proc_find((int)t->id);
	if (t->by_id)
		return;
	for (int i = 0; i < nprocs; i++)
		if (matches_name(t, procs[i], NULL) == 1)
			return;
	t->by_namespace = true;
}

int target_match(struct target *t, const struct proc *p, long *budget)
{
	if (t->by_namespace)
		return strcmp(p->spec->namespace, t->word) == 0;
	return matches_name(t, p, budget);
}

bool target_follows(struct target *t, const struct proc *p)
{
	long budget = TARGET_STEPS_MAX;
	if (matches_name(t, p, &budget) == 1)
		return true;
	return !t->all && !t->re && !t->by_id && strcmp(p->spec->namespace, t->word) == 0;
}

bool target_matches(struct target *t, const struct proc *p)
{
	long budget = TARGET_STEPS_MAX;
	return target_match(t, p, &budget) == 1;
}
