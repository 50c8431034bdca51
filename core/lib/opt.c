#include "lib/opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void opt_init(struct optstate *s, int argc, char **argv)
{
	memset(s, 0, sizeof *s);
	s->argc = argc;
	s->argv = argv;
	s->i = 1;
	s->pos = xcalloc((size_t)argc + 1, sizeof *s->pos);
}

void opt_free(struct optstate *s)
{
	free(s->pos);
	s->pos = NULL;
}

static const struct opt *closest_long(const struct opt *opts, const char *name)
{
	const struct opt *best = NULL;
	int best_d = 3;   /* suggest only near misses */
	for (const struct opt *o = opts; o->id; o++) {
		int d = edit_distance(name, o->name);
		if (d < best_d) {
			best_d = d;
			best = o;
		}
	}
	return best;
}

static int take(struct optstate *s, const struct opt *o, const char *inline_val, const char *shown)
{
	s->arg = NULL;
	if (o->arg == OPT_NONE) {
		if (inline_val) {
			snprintf(s->err, sizeof s->err, "option %s takes no value", shown);
			return OPT_ERROR;
		}
		return o->id;
	}
	if (inline_val) {
		s->arg = inline_val;
		return o->id;
	}
	const char *next = s->i < s->argc ? s->argv[s->i] : NULL;
	if (o->arg == OPT_INLINE)
		return o->id;
	if (o->arg == OPT_OPTIONAL) {
		if (next && next[0] != '-') {
			s->arg = next;
			s->i++;
		}
		return o->id;
	}
	if (!next) {
		snprintf(s->err, sizeof s->err, "option %s needs a value", shown);
		return OPT_ERROR;
	}
	s->arg = next;
	s->i++;
	return o->id;
}

int opt_next(struct optstate *s, const struct opt *opts)
{
	while (s->i < s->argc) {
		char *a = s->argv[s->i++];
		if (strcmp(a, "--") == 0) {
			s->rest = s->argv + s->i;
			s->nrest = s->argc - s->i;
			s->i = s->argc;
			return OPT_END;
		}
		if (a[0] != '-' || a[1] == 0) {   /* "-" alone is a positional (stdin) */
			s->pos[s->npos++] = a;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			for (const struct opt *o = opts; o->id; o++)
				if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
					return take(s, o, eq ? eq + 1 : NULL, a);
			char shown[64];
			snprintf(shown, sizeof shown, "%.*s", (int)(n < 60 ? n : 60), name);
			const struct opt *c = closest_long(opts, shown);
			if (c)
				snprintf(s->err, sizeof s->err, "unknown option --%s (did you mean --%s?)", shown, c->name);
			else
				snprintf(s->err, sizeof s->err, "unknown option --%s", shown);
			return OPT_ERROR;
		}
		for (const struct opt *o = opts; o->id; o++) {
			if (o->shortname != a[1])
				continue;
			if (a[2] == 0)
				return take(s, o, NULL, a);
			if (a[2] == '=' || o->arg != OPT_NONE)   /* -n=api, -napi */
				return take(s, o, a + 2 + (a[2] == '='), a);
		}
		/* A negative number is a value, not an option ("scale api -1"). */
		if (a[1] >= '0' && a[1] <= '9') {
			s->pos[s->npos++] = a;
			continue;
		}
		snprintf(s->err, sizeof s->err, "unknown option %.40s", a);
		return OPT_ERROR;
	}
	return OPT_END;
}

void opt_positionals(struct optstate *s, int argc, char **argv, int min, int max)
{
	static const struct opt none[] = {{0}};
	opt_init(s, argc, argv);
	opt_next_or_die(s, none);
	if (s->nrest)
		die_usage("unexpected argument '%s'", s->rest[0]);
	if (s->npos < min)
		die_usage("missing argument (see tend %s --help)", applet_name);
	if (s->npos > max)
		die_usage("unexpected argument '%s'", s->pos[max]);
}

int opt_next_or_die(struct optstate *s, const struct opt *opts)
{
	int id = opt_next(s, opts);
	if (id == OPT_ERROR)
		die_usage("%s", s->err);
	return id;
}

struct opt *opt_merge(const struct opt *a, const struct opt *b)
{
	size_t na = 0, nb = 0;
	while (a[na].id)
		na++;
	while (b[nb].id)
		nb++;
	struct opt *all = xcalloc(na + nb + 1, sizeof *all);
	memcpy(all, a, na * sizeof *all);
	memcpy(all + na, b, nb * sizeof *all);
	return all;
}
