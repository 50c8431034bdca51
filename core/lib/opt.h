/* Command-line options, PM2 spellings: --long, --long=value, --long value, -s value,
 * "--" ends options. Non-options are collected in order as positionals. */
#ifndef TEND_OPT_H
#define TEND_OPT_H

#include "lib/util.h"

/* OPT_OPTIONAL takes the next word as its value unless it starts with '-';
 * OPT_INLINE takes a value only as --name=value. */
enum { OPT_NONE = 0, OPT_REQUIRED = 1, OPT_OPTIONAL = 2, OPT_INLINE = 3 };

struct opt {
	const char *name;   /* long name without "--" */
	char shortname;     /* 0 if none */
	int arg;            /* OPT_NONE, OPT_REQUIRED, OPT_OPTIONAL */
	int id;             /* > 0, returned by opt_next */
};

struct optstate {
	int argc;
	char **argv;
	int i;
	const char *arg;    /* value of the option just returned, or NULL */
	char **pos;         /* positionals, in order */
	int npos;
	char **rest;        /* everything after "--" */
	int nrest;
	char err[160];
};

enum { OPT_END = 0, OPT_ERROR = -1 };

/* argv[0] is the applet name and is skipped. */
void opt_init(struct optstate *s, int argc, char **argv);
int opt_next(struct optstate *s, const struct opt *opts);
void opt_free(struct optstate *s);

/* For applets without options: parse anyway (so "--bogus" is an unknown option), and
 * die with a usage error unless there are min..max positionals. Free with opt_free. */
void opt_positionals(struct optstate *s, int argc, char **argv, int min, int max);

/* a's options then b's, in one table (malloc'd; free it). */
struct opt *opt_merge(const struct opt *a, const struct opt *b);

/* Parse all options, dying with a usage error (exit 2) on a bad one; for applets
 * whose options are all handled by one switch. */
int opt_next_or_die(struct optstate *s, const struct opt *opts);

#endif
