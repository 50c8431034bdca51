#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool target_compile(struct target *t, const char *word, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	size_t len = strlen(word);
	t->id = -1;
	if (strcmp(word, "all") == 0) {
		t->all = true;
	} else if (len >= 2 && word[0] == '/' && word[len - 1] == '/') {
		char *pat = xstrndup(word + 1, len - 2);
		int rc = regcomp(&t->re, pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc != 0) {
			snprintf(err, errlen, "bad regular expression: %s", word);
			return false;
		}
		t->is_regex = true;
	} else if (!parse_int(word, 0, 0x7fffffff, &t->id)) {
		t->id = -1;
	}
	t->word = xstrdup(word);
	return true;
}

void target_free(struct target *t)
{
	if (t->is_regex)
		regfree(&t->re);
	free(t->word);
	memset(t, 0, sizeof *t);
}

static bool matches_name(const struct target *t, const struct proc *p)
{
	if (t->all)
		return true;
	if (t->is_regex)
		return regexec(&t->re, p->spec->name, 0, NULL, 0) == 0;
	return p->id == t->id || strcmp(p->spec->name, t->word) == 0;
}

void target_settle(struct target *t)
{
	t->by_namespace = false;
	if (t->all || t->is_regex)
		return;
	for (int i = 0; i < nprocs; i++)
		if (matches_name(t, procs[i]))
			return;
	t->by_namespace = true;
}

bool target_matches(const struct target *t, const struct proc *p)
{
	if (t->by_namespace)
		return strcmp(p->spec->namespace, t->word) == 0;
	return matches_name(t, p);
}
