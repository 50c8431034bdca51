/* Target words (`tend stop WORD`, and the protocol's "targets"): an id, a name, a
 * namespace, "all", or a /regular expression/ (rx.c). Compiled, then settled and
 * matched against a small table of apps with a step budget, as ctl.c does.
 *
 * Input: the word, optionally followed by a NUL and the name of one more app. */
#include "fuzz.h"
#include "daemon/target.h"

#include <limits.h>

/* The daemon's process table, which target.c reads (target_settle): a few apps of
 * our own stand in for proc.c here, and its lookup by id below. */
struct proc **procs;
int nprocs;

/* proc.c's lookup by id, over that table (target_settle asks whether a number is some
 * instance's id). */
struct proc *proc_find(int id)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->id == id)
			return procs[i];
	return NULL;
}

static struct spec specs[5];
static struct proc table[5], *table_ptrs[5];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[][2] = {
		{"api", "default"}, {"worker-1", "jobs"}, {"web.app", "default"}, {"42x", "jobs"},
	};
	for (int i = 0; i < 4; i++) {
		specs[i].name = (char *)names[i][0];
		specs[i].namespace = (char *)names[i][1];
		table[i].id = i;
		table[i].spec = &specs[i];
		table_ptrs[i] = &table[i];
	}
	procs = table_ptrs;
	nprocs = 4;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t restlen;
	char *word = fuzz_cstr(data, size, &rest, &restlen);
	/* The fifth app is named by the input (its own C string), or absent. */
	char *extra = restlen ? fuzz_cstr(rest, restlen, NULL, NULL) : NULL;
	if (extra) {
		specs[4].name = extra;
		specs[4].namespace = extra;
		table[4].id = 4;
		table[4].spec = &specs[4];
		table_ptrs[4] = &table[4];
	}
	nprocs = extra ? 5 : 4;

	struct target t;
	char err[300];
	err[0] = 0;
	if (!target_compile(&t, word, NULL, err, sizeof err)) {   /* no cwd: no script paths */
		FUZZ_ASSERT(!strncmp(err, "bad regular expression", 22));
		free(word);
		free(extra);
		return 0;
	}
	FUZZ_ASSERT(t.word && !strcmp(t.word, word));
	FUZZ_ASSERT(t.all == !strcmp(word, "all"));
	/* Digits make an id; anything else (" 1", "+1") is a name. */
	long long id;
	if (!t.re && !t.all && word[0] >= '0' && word[0] <= '9' && parse_int(word, 0, INT_MAX, &id))
		FUZZ_ASSERT(t.id == id);
	else if (!(word[0] >= '0' && word[0] <= '9'))
		FUZZ_ASSERT(t.id == -1);
	target_settle(&t);
	/* One budget for the whole table, as for one request. */
	long budget = TARGET_STEPS_MAX;
	int matched = 0;
	for (int i = 0; i < nprocs; i++) {
		int m = target_match(&t, procs[i], &budget);
		FUZZ_ASSERT(m == -1 || m == 0 || m == 1);
		FUZZ_ASSERT(m == -1 || budget >= 0);
		matched += m == 1;
		/* the same question again gets the same answer (target.c remembers it) */
		if (m >= 0)
			FUZZ_ASSERT(target_matches(&t, procs[i]) == (m == 1));
	}
	if (t.all)
		FUZZ_ASSERT(matched == nprocs);
	/* A word that names an app matches it (unless it is a number that is some
	 * instance's id: then it means that instance). */
	if (!t.re && !t.by_id)
		for (int i = 0; i < nprocs; i++)
			if (!strcmp(word, procs[i]->spec->name))
				FUZZ_ASSERT(target_matches(&t, procs[i]));
	target_free(&t);
	free(word);
	free(extra);
	return 0;
}
