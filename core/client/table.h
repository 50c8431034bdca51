/* The process table shared by list and by the commands that print it afterwards. */
#ifndef TEND_TABLE_H
#define TEND_TABLE_H

#include "lib/json.h"

#include <stdio.h>

struct table_opts {
	bool color;
	bool mini;          /* -m: "id name status pid" lines */
	const char *sort;   /* "field[:asc|desc]" or NULL */
	char **targets;     /* list: only these (ids, names, a file...); NULL: every app */
	int ntargets;
};

/* array: the token of a jlist array in d. */
void table_print(FILE *f, const struct jdoc *d, int array, const struct table_opts *o);
/* Ask the daemon for the list and print it (after start, stop...). */
void table_show(FILE *f, const struct table_opts *o);
/* The same after a command that changed apps, unless silent (-s) or the request was
 * refused as such (code 2: bad input, 3: another build): then nothing changed. */
void table_show_after(int code, bool silent, struct table_opts o, bool no_color);
bool table_sort_valid(const char *spec);
bool want_color(int fd, bool no_color_flag);
void format_duration(char *out, size_t n, long long ms);

#endif
