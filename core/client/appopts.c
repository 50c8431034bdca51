#include "client/appopts.h"
#include "lib/cron.h"
#include "client/decl.h"
#include "lib/json.h"
#include "lib/schema.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Option ids: A_KEY + i is app_keys[i]'s option; the rest are not app keys. */
enum { A_NOOP = APPOPT_FIRST, A_KEY };

/* PM2's, about its own runtime and hosted service (Keymetrics, source maps, tracing,
 * git metadata), or about startup: accepted, nothing to do here. */
static const struct opt noop_options[] = {
	{"no-automation", 0, OPT_NONE, A_NOOP},
	{"no-pmx", 0, OPT_NONE, A_NOOP},
	{"no-vizion", 0, OPT_NONE, A_NOOP},
	{"trace", 0, OPT_NONE, A_NOOP},
	{"disable-trace", 0, OPT_NONE, A_NOOP},
	{"v8", 0, OPT_NONE, A_NOOP},
	{"event-loop-inspector", 0, OPT_NONE, A_NOOP},
	{"deep-monitoring", 0, OPT_NONE, A_NOOP},
	{"source-map-support", 0, OPT_NONE, A_NOOP},
	{"disable-source-map-support", 0, OPT_NONE, A_NOOP},
	{"hp", 0, OPT_REQUIRED, A_NOOP},
	{"wait-ip", 0, OPT_NONE, A_NOOP},
	{"service-name", 0, OPT_REQUIRED, A_NOOP},
};

static int arg_kind(const char *arg)
{
	return !arg ? OPT_NONE : !strncmp(arg, "[=", 2) ? OPT_INLINE : arg[0] == '[' ? OPT_OPTIONAL
	     : OPT_REQUIRED;
}

const struct opt *appopt_table(void)
{
	static struct opt *table;
	if (table)
		return table;
	size_t n = 0, cap = ARRAY_LEN(noop_options) + 2;
	for (size_t k = 0; k < napp_keys; k++)
		for (const char *f = app_keys[k].flags; f && *f; f += strcspn(f, " "), f += *f == ' ')
			cap++;
	table = xcalloc(cap, sizeof *table);
	for (size_t k = 0; k < napp_keys; k++) {
		const struct app_key *key = &app_keys[k];
		bool first = true;
		for (const char *f = key->flags; f && *f; f += *f == ' ') {
			size_t len = strcspn(f, " ");
			table[n++] = (struct opt){xstrndup(f, len), first ? key->short_flag : 0,
			                          arg_kind(key->arg), A_KEY + (int)k};
			first = false;
			f += len;
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(noop_options); i++)
		table[n++] = noop_options[i];
	return table;
}

/* One help line per key with an option: the left column from its flags, the text from
 * its help, its default (a number) from the table. */
void appopts_help(FILE *f)
{
	for (size_t k = 0; k < napp_keys; k++) {
		const struct app_key *key = &app_keys[k];
		if (!key->flags)
			continue;
		char left[80];
		size_t main_len = strcspn(key->flags, " ");
		const char *arg = key->arg ? key->arg : "";
		snprintf(left, sizeof left, "  %c%c%s--%.*s%s%s", key->short_flag ? '-' : ' ',
		         key->short_flag ? key->short_flag : ' ', key->short_flag ? ", " : "  ",
		         (int)main_len, key->flags, *arg && strncmp(arg, "[=", 2) != 0 ? " " : "", arg);
		fprintf(f, "%-28s%s", left, strlen(left) < 28 ? "" : "  ");
		for (const char *h = key->help; *h;) {
			size_t len = strcspn(h, "\n");
			bool last = !h[len];
			bool numeric = key->type == KT_MS || key->type == KT_INT;
			if (last && numeric && key->def > 0)
				fprintf(f, "%.*s (%lld)\n", (int)len, h, key->def);
			else
				fprintf(f, "%.*s\n", (int)len, h);
			h += len + !last;
			if (!last)
				fprintf(f, "%28s", "");
		}
	}
	fputs("  PM2's options about its own runtime and services are accepted and do nothing:\n ", f);
	size_t col = 1;
	for (size_t i = 0; i < ARRAY_LEN(noop_options); i++) {
		const struct opt *o = &noop_options[i];
		size_t w = strlen(o->name) + 3 + (o->arg == OPT_REQUIRED ? 4 : 0);
		if (col + w > 80) {
			fputs("\n ", f);
			col = 1;
		}
		fprintf(f, " --%s%s", o->name, o->arg == OPT_REQUIRED ? " ARG" : "");
		col += w;
	}
	fputc('\n', f);
}

/* A number of the key's kind and in its range, or a usage error (exit 2). */
static long long number(const struct app_key *k, const char *opt, const char *v)
{
	long long n;
	int64_t n64;
	bool ok;
	if (k->type == KT_MS)
		ok = parse_duration_ms(v, &n64), n = n64;
	else if (k->type == KT_BYTES)
		ok = parse_size(v, &n64) && n64 > 0, n = n64;
	else
		ok = parse_int(v, LLONG_MIN, LLONG_MAX, &n);
	const char *what = k->type == KT_MS ? "a duration (1500, 10s, 5m, 1h)"
	                 : k->type == KT_BYTES ? "a size (1024, 10K, 200M, 1G)" : "a number";
	if (!ok)
		die_usage("--%s: expected %s, got '%s'", opt, what, v);
	if (!app_key_in_range(k, n))
		die_usage("--%s: expected %s from %lld to %lld%s, got '%s'", opt,
		          k->type == KT_INT || k->type == KT_PORT ? "a number" : k->type == KT_MS ? "a duration"
		          : "a size", k->min, k->max, k->type == KT_MS ? " ms" : k->type == KT_BYTES ? " bytes" : "", v);
	return n;
}

static bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == 0;
}

static void list_of(struct buf *b, const char *key, const char *v)
{
	json_key(b, key);
	json_open(b, '[');
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ", ");
		if (n)
			json_strn(b, p, n);
		p += n + (p[n] != 0);
	}
	json_close(b, ']');
}

/* A path on the command line is relative to where the command runs, not to --cwd. */
static void path_option(struct buf *b, const char *key, const char *v)
{
	char cwd[PATH_MAX];
	if (v[0] == '/' || !strcmp(v, "NULL") || !getcwd(cwd, sizeof cwd)) {
		json_kstr(b, key, v);
		return;
	}
	char *abs = xasprintf("%s/%s", cwd, v);
	json_kstr(b, key, abs);
	free(abs);
}

static void user_option(struct buf *b, bool user, const char *v)
{
	long long n;
	if (user && !getpwnam(v) && !(parse_int(v, 0, 0x7fffffff, &n)))
		die_usage("--uid: no such user: %s", v);
	if (!user && !getgrnam(v) && !parse_int(v, 0, 0x7fffffff, &n))
		die_usage("--gid: no such group: %s", v);
	if (geteuid() != 0)
		die_usage("--uid/--gid: only root can run apps as another user");
	json_kstr(b, user ? "uid" : "gid", v);
}

/* --stop-exit-codes takes "0 3", "0,3", or codes as separate words after it. */
static void stop_codes(struct buf *b, const struct app_key *k, struct optstate *s, const char *v)
{
	json_key(b, "stop_exit_codes");
	json_open(b, '[');
	int count = 0;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ", ");
		char code[16];
		snprintf(code, sizeof code, "%.*s", (int)(n < 15 ? n : 15), p);
		if (n)
			json_int(b, number(k, "stop-exit-codes", code)), count++;
		p += n + (p[n] != 0);
	}
	while (s->i < s->argc && all_digits(s->argv[s->i]))
		json_int(b, number(k, "stop-exit-codes", s->argv[s->i++])), count++;
	if (count > 16)
		die_usage("--stop-exit-codes: at most 16 codes");
	json_close(b, ']');
}

void appopts_begin(struct appopts *a)
{
	memset(a, 0, sizeof *a);
	json_open(&a->over, '{');
}

void appopts_end(struct appopts *a)
{
	if (a->filter.len)
		list_of(&a->over, "filter_env", a->filter.data);
	buf_free(&a->filter);
	json_close(&a->over, '}');
}

static void take_name(struct appopts *a, const char *v)
{
	const char *bad = app_name_problem(v);
	if (bad && strstr(bad, "control"))   /* not echoed: one line */
		die_usage("--name: %s", bad);
	if (bad)
		die_usage("--name: '%s' %s", v, bad);
	json_kstr(&a->over, "name", v);
	a->has_name = true;
}

/* Values checked here for a clear message at once; the rest by decl_changes. */
static void take_string(struct buf *b, const struct app_key *k, const char *v)
{
	if (!strcmp(k->name, "log_type") && strcmp(v, "json") != 0 && strcmp(v, "raw") != 0)
		die_usage("--log-type: expected json or raw, got '%s'", v);
	if (!strcmp(k->name, "lb") && strcmp(v, "fd") != 0 && strcmp(v, "proxy") != 0)
		die_usage("--lb: expected fd or proxy, got '%s'", v);
	json_kstr(b, k->name, v);
}

static void take_key(struct appopts *a, struct optstate *s, const struct app_key *k, const char *v)
{
	struct buf *b = &a->over;
	struct cron c;
	char why[160];
	char opt[40];
	snprintf(opt, sizeof opt, "%.*s", (int)strcspn(k->flags, " "), k->flags);
	switch (k->type) {
	case KT_SPECIAL:
		if (!strcmp(k->name, "name")) {
			take_name(a, v);
		} else if (!strcmp(k->name, "cwd")) {
			struct stat sb;
			if (stat(v, &sb) < 0 || !S_ISDIR(sb.st_mode))
				die_usage("--cwd %s: not a directory", v);
			json_kstr(b, "cwd", v);
		} else {
			json_kstr(b, k->name, v);   /* exec_interpreter */
		}
		break;
	case KT_STR: take_string(b, k, v); break;
	case KT_INSTANCES:
		if (strcmp(v, "max") != 0)
			number(k, opt, v);
		json_kstr(b, k->name, v);
		a->instances = true;
		break;
	case KT_MODE: json_kstr(b, k->name, "fork"); break;
	case KT_ARGS:
		json_key(b, k->name);
		if (!strcmp(v, "null"))
			json_null(b);   /* PM2's way to remove them */
		else
			json_str(b, v);
		break;
	case KT_ID: user_option(b, !strcmp(k->name, "uid"), v); break;
	case KT_PATH: path_option(b, k->name, v); break;
	case KT_LOGPATH:
		if (v)
			path_option(b, k->name, v);
		else
			json_kbool(b, k->name, true);
		break;
	case KT_BOOL: json_kbool(b, k->name, strncmp(opt, "no-", 3) != 0); break;
	case KT_INT:
	case KT_MS:
	case KT_BYTES:
	case KT_PORT: json_kint(b, k->name, number(k, opt, v)); break;
	case KT_SIGNAL:
		if (signal_from_name(v) <= 0)
			die_usage("--%s: unknown signal '%s'", opt, v);
		json_kstr(b, k->name, v);
		break;
	case KT_CODES: stop_codes(b, k, s, v); break;
	case KT_CRON:
		if (!cron_parse(v, &c, why, sizeof why))
			die_usage("--%s: %s", opt, why);
		json_kstr(b, k->name, v);
		break;
	case KT_WATCH:
		if (v)
			list_of(b, k->name, v);
		else
			json_kbool(b, k->name, true);
		break;
	case KT_STRS: list_of(b, k->name, v); break;
	case KT_FILTER:
		/* PM2 collects them; a bare --filter-env filters nothing there (its value is
		 * the word "true"), unlike filter_env: true in a file. */
		if (v) {
			if (a->filter.len)
				buf_putc(&a->filter, ',');
			buf_puts(&a->filter, v);
		}
		break;
	case KT_ACCEPTED:
		break;
	}
}

bool appopts_take(struct appopts *a, struct optstate *s, int id, const char *v)
{
	if (id < APPOPT_FIRST)
		return false;
	if (id == A_NOOP)
		return true;
	take_key(a, s, &app_keys[id - A_KEY], v);
	a->count++;
	return true;
}

bool appopts_set(const struct appopts *a, struct buf *req)
{
	if (!a->count)
		return false;
	char cwd[PATH_MAX], err[512];
	if (!getcwd(cwd, sizeof cwd))
		die("getcwd: %s", strerror(errno));
	struct jdoc od;
	if (!json_parse(&od, a->over.data, a->over.len))
		die("options: %s", od.err);
	struct decl_opts o = {.base_dir = cwd};
	json_key(req, "set");
	json_open(req, '{');
	if (!decl_changes(&od, 0, &o, req, err, sizeof err))
		die_usage("%s", err);
	json_close(req, '}');
	json_free(&od);
	return true;
}
