/* The process table that list, start, stop... print: PM2's columns, plain text, colors
 * only on a terminal. Rows come from the daemon's jlist JSON. */
#include "client/table.h"
#include "client/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct row {
	long long id, pid, uptime_ms, restarts, mem;
	double cpu;
	char *name, *ns, *mode, *status, *user;
};

static long long num(const struct jdoc *d, int obj, const char *key)
{
	long long v = 0;
	json_as_ll(d, json_get(d, obj, key), &v);
	return v;
}

static double fnum(const struct jdoc *d, int tok)
{
	if (tok < 0 || d->tok[tok].type != JSMN_PRIMITIVE)
		return 0;
	return strtod(d->text + d->tok[tok].start, NULL);
}

static char *str(const struct jdoc *d, int obj, const char *key, const char *def)
{
	char *s = json_dup(d, json_get(d, obj, key));
	return s ? s : xstrdup(def);
}

static void row_read(struct row *r, const struct jdoc *d, int p, int64_t now)
{
	int env = json_get(d, p, "pm2_env");
	int monit = json_get(d, p, "monit");
	r->id = num(d, p, "pm_id");
	r->pid = num(d, p, "pid");
	r->name = str(d, p, "name", "?");
	r->ns = str(d, env, "namespace", "default");
	char *mode = str(d, env, "exec_mode", "fork_mode");
	char *us = strchr(mode, '_');
	if (us)
		*us = 0;
	r->mode = mode;
	r->status = str(d, env, "status", "?");
	r->user = str(d, env, "username", "");
	if (!*r->user) {
		free(r->user);
		r->user = xstrdup(getenv("USER") ? getenv("USER") : "");
	}
	r->restarts = num(d, env, "restart_time");
	long long up = num(d, env, "pm_uptime");
	r->uptime_ms = r->pid > 0 && up > 0 ? now - up : 0;
	r->mem = num(d, monit, "memory");
	r->cpu = fnum(d, json_get(d, monit, "cpu"));
}

static void row_free(struct row *r)
{
	free(r->name);
	free(r->ns);
	free(r->mode);
	free(r->status);
	free(r->user);
}

static const char *sort_field;
static bool sort_desc;

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = 0;
	const char *f = sort_field;
	if (!strcmp(f, "name"))
		c = strcmp(x->name, y->name);
	else if (!strcmp(f, "namespace"))
		c = strcmp(x->ns, y->ns);
	else if (!strcmp(f, "status"))
		c = strcmp(x->status, y->status);
	else if (!strcmp(f, "pid"))
		c = (x->pid > y->pid) - (x->pid < y->pid);
	else if (!strcmp(f, "uptime"))
		c = (x->uptime_ms > y->uptime_ms) - (x->uptime_ms < y->uptime_ms);
	else if (!strcmp(f, "restarts") || !strcmp(f, "restart"))
		c = (x->restarts > y->restarts) - (x->restarts < y->restarts);
	else if (!strcmp(f, "cpu"))
		c = (x->cpu > y->cpu) - (x->cpu < y->cpu);
	else if (!strcmp(f, "mem") || !strcmp(f, "memory"))
		c = (x->mem > y->mem) - (x->mem < y->mem);
	if (c == 0)
		c = (x->id > y->id) - (x->id < y->id);
	return sort_desc ? -c : c;
}

bool table_sort_valid(const char *spec)
{
	static const char *const fields[] = {"id", "name", "namespace", "status", "pid", "uptime",
	                                     "restarts", "restart", "cpu", "mem", "memory"};
	size_t n = strcspn(spec, ":");
	const char *dir = spec[n] ? spec + n + 1 : "asc";
	if (strcmp(dir, "asc") && strcmp(dir, "desc"))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (strlen(fields[i]) == n && !strncmp(fields[i], spec, n))
			return true;
	return false;
}

void format_duration(char *out, size_t n, long long ms)
{
	long long s = ms / 1000;
	if (s < 60)
		snprintf(out, n, "%llds", s < 0 ? 0 : s);
	else if (s < 3600)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh", s / 3600);
	else
		snprintf(out, n, "%lldD", s / 86400);
}

bool want_color(int fd, bool no_color_flag)
{
	const char *nc = getenv("NO_COLOR");
	return !no_color_flag && !(nc && *nc) && isatty(fd);
}

static const char *status_color(const char *status)
{
	if (!strcmp(status, "online"))
		return "\033[32m";
	if (!strcmp(status, "errored") || !strcmp(status, "stopped"))
		return "\033[31m";
	return "\033[33m";
}

enum { NCOLS = 11 };

void table_print(FILE *f, const struct jdoc *d, int array, const struct table_opts *o)
{
	int n = array >= 0 && d->tok[array].type == JSMN_ARRAY ? d->tok[array].size : 0;
	struct row *rows = xcalloc((size_t)n + 1, sizeof *rows);
	int64_t now = wall_ms();
	for (int i = 0, e = array + 1; i < n; i++, e = json_next(d, e))
		row_read(&rows[i], d, e, now);
	if (o->sort) {
		static char field[32];
		size_t k = strcspn(o->sort, ":");
		snprintf(field, sizeof field, "%.*s", (int)(k < 31 ? k : 31), o->sort);
		sort_field = field;
		sort_desc = o->sort[k] && !strcmp(o->sort + k + 1, "desc");
		qsort(rows, (size_t)n, sizeof *rows, row_cmp);
	}
	if (o->mini) {
		for (int i = 0; i < n; i++)
			fprintf(f, "%lld %s %s %lld\n", rows[i].id, rows[i].name, rows[i].status, rows[i].pid);
		goto out;
	}
	static const char *const head[NCOLS] = {"id", "name", "namespace", "mode", "pid", "uptime",
	                                        "restarts", "status", "cpu", "mem", "user"};
	char (*cells)[NCOLS][64] = xcalloc((size_t)n + 1, sizeof *cells);
	size_t width[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		width[c] = strlen(head[c]);
	for (int i = 0; i < n; i++) {
		struct row *r = &rows[i];
		char *cell[NCOLS];
		for (int c = 0; c < NCOLS; c++)
			cell[c] = cells[i][c];
		snprintf(cell[0], 64, "%lld", r->id);
		snprintf(cell[1], 64, "%.63s", r->name);
		snprintf(cell[2], 64, "%.63s", r->ns);
		snprintf(cell[3], 64, "%.63s", r->mode);
		snprintf(cell[4], 64, "%lld", r->pid);
		format_duration(cell[5], 64, r->uptime_ms);
		snprintf(cell[6], 64, "%lld", r->restarts);
		snprintf(cell[7], 64, "%.63s", r->status);
		snprintf(cell[8], 64, "%.1f%%", r->cpu);
		format_bytes(cell[9], 64, r->mem);
		snprintf(cell[10], 64, "%.63s", r->user);
		if (r->pid <= 0) {
			strcpy(cell[4], "0");
			strcpy(cell[5], "0");
			strcpy(cell[8], "0%");
			strcpy(cell[9], "0b");
		}
		for (int c = 0; c < NCOLS; c++)
			if (strlen(cell[c]) > width[c])
				width[c] = strlen(cell[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		fprintf(f, "%s%-*s", c ? "  " : "", c == NCOLS - 1 ? 0 : (int)width[c], head[c]);
	fputc('\n', f);
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < NCOLS; c++) {
			const char *pad = c ? "  " : "";
			int w = c == NCOLS - 1 ? 0 : (int)width[c];
			if (c == 7 && o->color)
				fprintf(f, "%s%s%-*s\033[0m", pad, status_color(rows[i].status), w, cells[i][c]);
			else
				fprintf(f, "%s%-*s", pad, w, cells[i][c]);
		}
		fputc('\n', f);
	}
	free(cells);
out:
	for (int i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
}

void table_show(FILE *f, const struct table_opts *o)
{
	struct jdoc d;
	char *json = call_list(o->targets, o->ntargets, NULL, &d);
	table_print(f, &d, 0, o);
	json_free(&d);
	free(json);
}

void table_show_after(int code, bool silent, struct table_opts o, bool no_color)
{
	if (silent || code == 2 || code == 3)
		return;
	o.color = want_color(1, no_color);
	table_show(stdout, &o);
}
