/* The command-line options that declare an app, PM2's `start` options, shared by start,
 * startOrRestart, restart and reload (which apply them to apps that exist, as PM2's
 * do). Each becomes a PM2 key of an app object, checked as it is read; the table, the
 * parser and the help lines live here together, so they cannot drift apart. */
#ifndef TEND_APPOPTS_H
#define TEND_APPOPTS_H

#include "lib/opt.h"

#include <stdio.h>

enum { APPOPT_FIRST = 1000 };   /* app option ids; an applet's own stay below */

/* The options (terminated by {0}), made from the app schema (lib/schema.h) once;
 * merge them with an applet's own (opt_merge). */
const struct opt *appopt_table(void);
/* Their help lines, from the same table. */
void appopts_help(FILE *f);
/* In an applet's help string: where main prints appopts_help. */
#define APPOPT_HELP "\001\n"

struct appopts {
	struct buf over;   /* the app object being written: {"key":value,...} */
	bool instances;    /* -i was given */
	bool has_name;     /* -n was given */
	int count;         /* keys written */
	struct buf filter; /* --filter-env words, comma-separated: repeated flags add up */
};

void appopts_begin(struct appopts *a);
/* Take option id (with its value v) if it is an app option; false if it is not. Dies
 * with a usage error (exit 2) on a bad value. */
bool appopts_take(struct appopts *a, struct optstate *s, int id, const char *v);
/* Close the object. */
void appopts_end(struct appopts *a);
/* The options as the "set" member of a restart or reload (what they change in apps
 * that exist), appended to req; false (nothing written) when none was given. Dies
 * with a usage error on a value that does not check. */
bool appopts_set(const struct appopts *a, struct buf *req);

#endif
