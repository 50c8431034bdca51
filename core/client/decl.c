/* App declarations → the daemon's app objects. One table lists every key of PM2's
 * app schema with its type and aliases; everything else follows from it: lookup,
 * "did you mean", type checks and the output. */
#include "client/decl.h"
#include "lib/cron.h"
#include "lib/schema.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>



/* ---- small shared helpers ---------------------------------------------------- */

char *decl_which(const char *name)
{
	if (strchr(name, '/')) {
		char *abs = realpath(name, NULL);
		if (abs && access(abs, X_OK) == 0)
			return abs;
		free(abs);
		return NULL;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char full[PATH_MAX];
		snprintf(full, sizeof full, "%.*s/%s", (int)(n ? n : 1), n ? p : ".", name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return n && full[0] == '/' ? xstrdup(full) : realpath(full, NULL);
		p += n + (p[n] == ':');
	}
	return NULL;
}

char *decl_base_name(const char *script)
{
	const char *b = strrchr(script, '/');
	b = b ? b + 1 : script;
	size_t n = strcspn(b, " ");
	char *name = xstrndup(b, n);
	char *dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = 0;
	return name;
}

long long decl_instances(long long n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	if (n <= 0)
		n += cpus;
	return n < 1 ? 1 : n;
}

/* Split like a shell would, minus expansions: blanks separate, quotes group. */
void decl_words(struct buf *b, const char *words)
{
	json_open(b, '[');
	const char *p = words ? words : "";
	for (;;) {
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		struct buf w = {0};
		buf_puts(&w, "");
		char quote = 0;
		for (; *p && (quote || !strchr(" \t\n", *p)); p++) {
			if (quote && *p == quote)
				quote = 0;
			else if (!quote && (*p == '"' || *p == '\''))
				quote = *p;
			else if (*p == '\\' && quote != '\'' && p[1])
				buf_putc(&w, *++p);
			else
				buf_putc(&w, *p);
		}
		json_bytes(b, w.data);
		buf_free(&w);
	}
	json_close(b, ']');
}

static const char *const interpreters[][2] = {
	{".js", "node"}, {".mjs", "node"}, {".cjs", "node"}, {".py", "python3"}, {".sh", "bash"},
	{".rb", "ruby"}, {".php", "php"}, {".pl", "perl"}, {".coffee", "coffee"},
};

static const char *interpreter_for(const char *script)
{
	size_t n = strlen(script);
	for (size_t i = 0; i < ARRAY_LEN(interpreters); i++) {
		size_t e = strlen(interpreters[i][0]);
		if (n > e && strcmp(script + n - e, interpreters[i][0]) == 0)
			return interpreters[i][1];
	}
	return NULL;
}

static char *absolute(const char *path, const char *base)
{
	if (path[0] == '/')
		return xstrdup(path);
	if (!strcmp(path, "."))
		return xstrdup(base);
	return xasprintf("%s/%s", base, path[0] == '.' && path[1] == '/' ? path + 2 : path);
}

extern char **environ;

/* The caller's environment, without the variables whose names start with one of
 * the prefixes in drop (NULL-terminated; NULL drops nothing). */
/* drop: words; a variable goes when its name contains one of them (PM2's rule for a
 * list), or, exact, when its name is the one word (PM2's rule for a string). */
static void shell_env_except(struct buf *b, char *const *drop, bool exact)
{
	json_key(b, "shell_env");
	json_open(b, '{');
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		bool dropped = !eq || eq == *e || !strncmp(*e, "TEND_READY_FD=", 14);
		for (char *const *w = drop; w && *w && !dropped; w++) {
			size_t n = (size_t)(eq - *e), wn = strlen(*w);
			dropped = exact ? n == wn && !memcmp(*e, *w, n) : wn && memmem(*e, n, *w, wn);
		}
		if (dropped)
			continue;
		json_keyn(b, *e, (size_t)(eq - *e));
		json_bytes(b, eq + 1);
	}
	json_close(b, '}');
}

void decl_shell_env(struct buf *b)
{
	shell_env_except(b, NULL, false);
}

/* ---- the normalizer ---------------------------------------------------------- */

struct norm {
	const struct decl_opts *o;
	const struct jdoc *d[APP_KEYS_MAX];   /* where each key's value is (app or override) */
	int tok[APP_KEYS_MAX];                /* -1 = absent */
	const struct jdoc *envd;       /* env_NAME, when selected */
	int envtok;
	char *err;
	size_t errlen;
	bool failed;
};

static void failf(struct norm *n, const char *key, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void failf(struct norm *n, const char *key, const char *fmt, ...)
{
	if (n->failed)
		return;
	n->failed = true;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *w = n->o->where;
	snprintf(n->err, n->errlen, "%s%s%s: %s", w ? w : "", w && key ? "." : "", key ? key : "", msg);
}

/* The value as written, for "got ...": short, on one line. */
static const char *shown(const struct jdoc *d, int t)
{
	static char text[48];
	const jsmntok_t *k = &d->tok[t];
	int len = k->end - k->start;
	if (k->type == JSMN_STRING)
		snprintf(text, sizeof text, "\"%.*s%s\"", len > 30 ? 30 : len, d->text + k->start, len > 30 ? "..." : "");
	else if (k->type == JSMN_OBJECT)
		snprintf(text, sizeof text, "an object");
	else if (k->type == JSMN_ARRAY)
		snprintf(text, sizeof text, "an array");
	else
		snprintf(text, sizeof text, "%.*s", len > 30 ? 30 : len, d->text + k->start);
	return text;
}

static void expected(struct norm *n, int k, const char *what)
{
	failf(n, app_keys[k].name, "expected %s, got %s", what, shown(n->d[k], n->tok[k]));
}

/* maxMemoryRestart → max_memory_restart */
static void snake_case(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 2 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (isupper(c) && i > 0) {
			out[o++] = '_';
			c = (unsigned char)tolower(c);
		}
		out[o++] = (char)c;
	}
	out[o] = 0;
}

static int find_key(const char *name)
{
	const struct app_key *k = app_key_spelled(name);
	return k ? (int)(k - app_keys) : -1;
}

static const char *closest_key(const char *name)
{
	const char *best = NULL;
	int bestd = 4;
	for (size_t i = 0; i < napp_keys; i++) {
		if (app_keys[i].type == KT_ACCEPTED)
			continue;
		int dist = edit_distance(name, app_keys[i].name);
		if (dist < bestd)
			bestd = dist, best = app_keys[i].name;
	}
	return best;
}

/* A key PM2 does not know: PM2 drops it silently; tend says so, once per key, and goes
 * on, unless asked to be strict (--strict, TEND_STRICT=1). */
static void unknown_key(struct norm *n, const char *raw, const char *near)
{
	static char **warned;
	static int nwarned;
	const char *env = getenv("TEND_STRICT");
	if (n->o->strict || (env && !strcmp(env, "1"))) {
		if (near)
			failf(n, raw, "unknown key (did you mean %s?)", near);
		else
			failf(n, raw, "unknown key");
		return;
	}
	for (int i = 0; i < nwarned; i++)
		if (!strcmp(warned[i], raw))
			return;
	warned = xrealloc(warned, (size_t)(nwarned + 1) * sizeof *warned);
	warned[nwarned++] = xstrdup(raw);
	const char *w = n->o->where;
	if (near)
		warn("%s%s%s: unknown key, ignored (did you mean %s?)", w ? w : "", w ? "." : "", raw, near);
	else
		warn("%s%s%s: unknown key, ignored", w ? w : "", w ? "." : "", raw);
}

/* Which schema key a member's name stands for: as written, or camelCase spelled snake. */
static int member_key(const struct jdoc *d, int k, char *raw, size_t rawlen, char *name, size_t namelen)
{
	int len = d->tok[k].end - d->tok[k].start;
	snprintf(raw, rawlen, "%.*s", len > 90 ? 90 : len, d->text + d->tok[k].start);
	snake_case(raw, strlen(raw), name, namelen);
	int key = find_key(raw);
	return key >= 0 ? key : find_key(name);
}

static void collect(struct norm *n, const struct jdoc *d, int obj)
{
	if (obj < 0)
		return;
	for (int i = 0, k = obj + 1; i < d->tok[obj].size && !n->failed; i++) {
		int val = k + 1;
		char raw[96], name[128];
		int key = member_key(d, k, raw, sizeof raw, name, sizeof name);
		if (!strncmp(name, "env_", 4) && name[4]) {
			/* env_production, or envProduction spelled the camelCase way */
			const char *env = !strncmp(raw, "env_", 4) ? raw + 4 : name + 4;
			if (d->tok[val].type != JSMN_OBJECT)
				failf(n, raw, "expected an object of variables, got %s", shown(d, val));
			else if (n->o->env_name && !strcmp(env, n->o->env_name))
				n->envd = d, n->envtok = val;
		} else if (key < 0) {
			unknown_key(n, raw, closest_key(name));
		} else {
			n->d[key] = d;
			n->tok[key] = val;
		}
		k = json_next(d, val);
	}
}

/* The value collect() would keep for a key: the last member spelling it any way. */
static int last_value(const struct jdoc *d, int obj, int want)
{
	int found = -1;
	for (int i = 0, k = obj + 1; i < d->tok[obj].size; i++) {
		char raw[96], name[128];
		if (member_key(d, k, raw, sizeof raw, name, sizeof name) == want)
			found = k + 1;
		k = json_next(d, k + 1);
	}
	return found;
}

static bool present(const struct norm *n, int k)
{
	return k >= 0 && n->tok[k] >= 0 && !json_is_null(n->d[k], n->tok[k]);
}

static char *str_of(struct norm *n, int k)
{
	if (!present(n, k))
		return NULL;
	if (!json_is_str(n->d[k], n->tok[k])) {
		expected(n, k, "a string");
		return NULL;
	}
	char *s = json_dup(n->d[k], n->tok[k]);
	if (!s && json_has_nul(n->d[k], n->tok[k]))
		failf(n, app_keys[k].name, NUL_IN_STRING);
	else if (!s)
		expected(n, k, "a string");
	return s;
}

/* Numbers may come as JSON numbers or as strings ("10", "10s"): both are common. */
static char *scalar_text(struct norm *n, int k)
{
	const jsmntok_t *t = &n->d[k]->tok[n->tok[k]];
	if (t->type != JSMN_STRING && t->type != JSMN_PRIMITIVE)
		return NULL;
	return json_dup(n->d[k], n->tok[k]);
}

/* A value in the key's range (the schema's), or an error that gives the range. */
static bool in_range(struct norm *n, int k, long long v)
{
	const struct app_key *key = &app_keys[k];
	if (app_key_in_range(key, v))
		return true;
	char what[80];
	snprintf(what, sizeof what, "%s from %lld to %lld", key->type == KT_MS ? "a duration in ms"
	         : key->type == KT_BYTES ? "a size in bytes" : "a number", key->min, key->max);
	expected(n, k, what);
	return false;
}

static bool int_of(struct norm *n, int k, long long *out)
{
	char *s = scalar_text(n, k);
	bool ok = s && parse_int(s, LLONG_MIN, LLONG_MAX, out);
	free(s);
	if (!ok)
		expected(n, k, "a number");
	return ok && in_range(n, k, *out);
}

static bool bool_of(struct norm *n, int k, bool *out)
{
	char *s = scalar_text(n, k);
	bool ok = s && (!strcmp(s, "true") || !strcmp(s, "false"));
	if (ok)
		*out = !strcmp(s, "true");
	free(s);
	if (!ok)
		expected(n, k, "true or false");
	return ok;
}

static void emit_strs(struct norm *n, struct buf *b, int k, bool allow_one, const char *base)
{
	const struct jdoc *d = n->d[k];
	int t = n->tok[k];
	json_key(b, app_keys[k].name);
	json_open(b, '[');
	if (allow_one && json_is_str(d, t)) {
		char *s = json_dup(d, t);
		char *p = base && s ? absolute(s, base) : NULL;
		json_bytes(b, p ? p : s ? s : "");
		free(p);
		free(s);
	} else if (d->tok[t].type == JSMN_ARRAY) {
		for (int i = 0, e = t + 1; i < d->tok[t].size; i++, e = json_next(d, e)) {
			char *s = json_is_str(d, e) ? json_dup(d, e) : NULL;
			if (!s) {
				if (json_has_nul(d, e))
					failf(n, app_keys[k].name, NUL_IN_STRING);
				else
					expected(n, k, "an array of strings");
				break;
			}
			char *p = base ? absolute(s, base) : NULL;
			json_bytes(b, p ? p : s);
			free(p);
			free(s);
		}
	} else {
		expected(n, k, allow_one ? "a string or an array of strings" : "an array of strings");
	}
	json_close(b, ']');
}

static void emit_args(struct norm *n, struct buf *b, int k)
{
	const struct jdoc *d = n->d[k];
	if (json_is_str(d, n->tok[k])) {
		char *s = json_dup(d, n->tok[k]);
		json_key(b, app_keys[k].name);
		decl_words(b, s);
		free(s);
		return;
	}
	emit_strs(n, b, k, false, NULL);
}

static void emit_env_members(struct norm *n, struct buf *b, const struct jdoc *d, int obj, const char *what)
{
	for (int i = 0, e = obj + 1; i < d->tok[obj].size; i++) {
		int val = e + 1;
		char *name = json_dup(d, e);
		const jsmntok_t *v = &d->tok[val];
		if (!name || !*name || strchr(name, '=')) {
			failf(n, what, "bad variable name %s", shown(d, e));
		} else if (json_has_nul(d, val)) {
			failf(n, what, "%s: " NUL_IN_STRING, name);
		} else if (v->type == JSMN_OBJECT || v->type == JSMN_ARRAY) {
			/* as PM2 passes it: the value as JSON text */
			struct buf text = {0};
			json_pretty(&text, d, val, 0, NULL, 0);
			buf_puts(&text, "");
			json_key(b, name);
			json_bytes(b, text.data);
			buf_free(&text);
		} else {
			json_key(b, name);
			if (json_is_null(d, val)) {
				json_null(b);   /* null removes an inherited variable */
			} else {
				char *s = json_dup(d, val);
				json_bytes(b, s ? s : "");
				free(s);
			}
		}
		free(name);
		e = json_next(d, val);
	}
}

/* script, exec_interpreter, shell: how to run it, decided here where PATH is the
 * caller's. A missing script or interpreter is an error before anything starts.
 * Whether node runs it goes to *node. */
static void emit_program(struct norm *n, struct buf *b, const char *script, const char *cwd, bool *node)
{
	char *interp = str_of(n, find_key("exec_interpreter"));
	char *path = absolute(script, cwd);
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if (!exists && strchr(script, ' ') && !interp) {
		json_kstr(b, "script", script);   /* a command string: the shell finds it */
		json_kbool(b, "shell", true);
		goto out;
	}
	if (!exists && !strchr(script, '/')) {
		char *found = decl_which(script);
		if (found) {
			free(path);
			path = found;
			exists = stat(path, &sb) == 0;
		}
	}
	if (!exists) {
		failf(n, "script", "%s: %s", script, strerror(ENOENT));
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		failf(n, "script", "%s: is a directory", script);
		goto out;
	}
	char *real = realpath(path, NULL);
	json_kstr(b, "script", real ? real : path);
	free(real);
	const char *want = interp && strcmp(interp, "none") ? interp : interp ? NULL : interpreter_for(path);
	if (!want && access(path, X_OK) != 0) {
		failf(n, "script", "%s: not executable, and no interpreter for its extension", script);
		goto out;
	}
	if (want) {
		char *ipath = decl_which(want);
		/* .sh is bash's, as PM2 has it; a system without bash (BusyBox, Alpine) has sh */
		if (!ipath && !interp && !strcmp(want, "bash"))
			ipath = decl_which("sh");
		if (!ipath) {
			failf(n, interp ? "exec_interpreter" : "script", "interpreter %s not found in PATH", want);
			goto out;
		}
		json_kstr(b, "exec_interpreter", ipath);
		const char *base = strrchr(ipath, '/') ? strrchr(ipath, '/') + 1 : ipath;
		*node = !strcmp(base, "node") || !strcmp(base, "nodejs") || !strcmp(base, "bun") ||
		        (strlen(base) > 4 && !strcmp(base + strlen(base) - 4, "node"));
		free(ipath);
	}
out:
	free(path);
	free(interp);
}

static void emit_id(struct norm *n, struct buf *b, int k, bool user, char **username)
{
	char *s = scalar_text(n, k);
	long long v = -1;
	if (user) {
		struct passwd *pw = s ? getpwnam(s) : NULL;
		if (!pw && s && parse_int(s, 0, 0x7fffffff, &v))
			pw = getpwuid((uid_t)v);
		if (pw) {
			v = pw->pw_uid;
			free(*username);
			*username = xstrdup(pw->pw_name);
			/* Without a gid, the user's own primary group, as su and login do. */
			if (!present(n, find_key("gid")) && geteuid() == 0)
				json_kint(b, "gid", pw->pw_gid);
		}
	} else {
		struct group *gr = s ? getgrnam(s) : NULL;
		if (gr)
			v = gr->gr_gid;
		else if (s)
			parse_int(s, 0, 0x7fffffff, &v);
	}
	if (v < 0)
		failf(n, app_keys[k].name, "no such %s: %s", user ? "user" : "group", s ? s : shown(n->d[k], n->tok[k]));
	else if (geteuid() != 0)
		failf(n, app_keys[k].name, "only root can run apps as another user");
	else
		json_kint(b, app_keys[k].name, v);
	free(s);
}

static void emit_typed(struct norm *n, struct buf *b, int k, const char *cwd, char **username)
{
	const struct jdoc *d = n->d[k];
	int t = n->tok[k];
	const char *key = app_keys[k].name;
	long long v;
	int64_t ms;
	bool flag;
	char *s;
	switch (app_keys[k].type) {
	case KT_STR:
		if ((s = str_of(n, k)))
			json_kstr(b, key, s);
		free(s);
		break;
	case KT_LOGPATH:
		if (d->tok[t].type == JSMN_PRIMITIVE && json_as_bool(d, t, &flag)) {
			/* true: the default path; out and error files have one anyway. */
			if (flag && !strcmp(key, "log_file"))
				json_kbool(b, key, true);
			break;
		}
		/* fall through */
	case KT_PATH:
		if ((s = str_of(n, k))) {
			bool keep = !strcmp(s, "/dev/null") || !strcmp(s, "NULL");
			char *p = keep ? xstrdup(s) : absolute(s, cwd);
			json_kstr(b, key, p);
			free(p);
		}
		free(s);
		break;
	case KT_ARGS:
		emit_args(n, b, k);
		break;
	case KT_INT:
	case KT_PORT:
		if (int_of(n, k, &v))
			json_kint(b, key, v);
		break;
	case KT_MS:
		s = scalar_text(n, k);
		if (!s || !parse_duration_ms(s, &ms))
			expected(n, k, "a duration (1500, 10s, 5m, 1h)");
		else if (in_range(n, k, ms))
			json_kint(b, key, ms);
		free(s);
		break;
	case KT_BYTES:
		s = scalar_text(n, k);
		if (!s || !parse_size(s, &ms) || ms <= 0)
			expected(n, k, "a size (1024, 10K, 200M, 1G)");
		else if (in_range(n, k, ms))
			json_kint(b, key, ms);
		free(s);
		break;
	case KT_BOOL:
		if (bool_of(n, k, &flag))
			json_kbool(b, key, flag);
		break;
	case KT_INSTANCES:
		s = scalar_text(n, k);
		if (s && !strcmp(s, "max"))
			json_kint(b, key, decl_instances(0));
		else if (s && parse_int(s, LLONG_MIN, LLONG_MAX, &v) && in_range(n, k, v))
			json_kint(b, key, decl_instances(v));
		else if (n->failed)
			;   /* out of range, said so */
		else
			expected(n, k, "a number");   /* or "max" */
		free(s);
		break;
	case KT_MODE:
		s = str_of(n, k);
		if (s && (!strcmp(s, "fork") || !strcmp(s, "fork_mode")))
			json_kstr(b, key, "fork");
		else if (s && (!strcmp(s, "cluster") || !strcmp(s, "cluster_mode")))
			json_kstr(b, key, "cluster");
		else if (s)
			expected(n, k, "\"fork\" or \"cluster\"");
		free(s);
		break;
	case KT_WATCH:
		if (d->tok[t].type == JSMN_PRIMITIVE && json_as_bool(d, t, &flag)) {
			if (flag) {
				json_key(b, key);
				json_open(b, '[');
				json_str(b, cwd);
				json_close(b, ']');
			}
		} else if (d->tok[t].type == JSMN_ARRAY && d->tok[t].size == 0) {
			json_key(b, key);   /* PM2: an empty list means the app's directory */
			json_open(b, '[');
			json_str(b, cwd);
			json_close(b, ']');
		} else {
			emit_strs(n, b, k, true, cwd);
		}
		break;
	case KT_STRS:
		emit_strs(n, b, k, true, NULL);
		break;
	case KT_CODES:
		json_key(b, key);
		json_open(b, '[');
		for (int i = 0, e = d->tok[t].type == JSMN_ARRAY ? t + 1 : t,
		         cnt = d->tok[t].type == JSMN_ARRAY ? d->tok[t].size : 1; i < cnt; i++, e = json_next(d, e)) {
			if (!json_as_ll(d, e, &v) || !app_key_in_range(&app_keys[k], v)) {
				expected(n, k, "exit codes (0 to 255)");
				break;
			}
			json_int(b, v);
		}
		json_close(b, ']');
		break;
	case KT_CRON: {
		s = scalar_text(n, k);
		if (!s) {
			expected(n, k, "a cron expression");
			break;
		}
		struct cron c;
		char why[160];
		if (!strcmp(s, "0") || !strcmp(s, "false") || !*s)
			;   /* disabled */
		else if (!cron_parse(s, &c, why, sizeof why))
			failf(n, key, "%s", why);
		else
			json_kstr(b, key, s);
		free(s);
		break;
	}
	case KT_ID:
		emit_id(n, b, k, !strcmp(key, "uid"), username);
		break;
	case KT_SIGNAL:
		if ((s = str_of(n, k)) && signal_from_name(s) <= 0)
			failf(n, key, "unknown signal %s", s);
		else if (s)
			json_kstr(b, key, s);
		free(s);
		break;
	case KT_FILTER:
	case KT_ACCEPTED:
	case KT_SPECIAL:
		break;
	}
}

/* The caller's environment, minus what filter_env removes (true: all of it; a string:
 * that variable; a list: every variable whose name contains one of its words). */
static void emit_shell_env(struct norm *n, struct buf *b)
{
	int k = find_key("filter_env");
	if (!present(n, k)) {
		decl_shell_env(b);
		return;
	}
	const struct jdoc *d = n->d[k];
	int t = n->tok[k];
	bool all;
	if (d->tok[t].type == JSMN_PRIMITIVE && json_as_bool(d, t, &all)) {
		if (!all)
			decl_shell_env(b);
		return;
	}
	bool one = json_is_str(d, t);
	int count = one ? 1 : d->tok[t].type == JSMN_ARRAY ? d->tok[t].size : 0;
	char **drop = xcalloc((size_t)count + 1, sizeof *drop);
	if (!one && d->tok[t].type != JSMN_ARRAY)
		expected(n, k, "a string or an array of strings");
	for (int i = 0, e = one ? t : t + 1; i < count; i++, e = json_next(d, e))
		if (!json_is_str(d, e) || !(drop[i] = json_dup(d, e))) {
			expected(n, k, "a string or an array of strings");
			break;
		}
	if (!n->failed)
		shell_env_except(b, drop, one);
	for (int i = 0; i < count; i++)
		free(drop[i]);
	free(drop);
}

bool decl_changes(const struct jdoc *od, int over, const struct decl_opts *o, struct buf *out,
                  char *err, size_t errlen)
{
	struct norm n = {.o = o, .err = err, .errlen = errlen, .envtok = -1};
	for (size_t i = 0; i < napp_keys; i++)
		n.tok[i] = -1;
	collect(&n, od, over);
	char *username = NULL;
	for (int k = 0; k < (int)napp_keys && !n.failed; k++) {
		if (n.tok[k] < 0)
			continue;
		const char *key = app_keys[k].name;
		char *s = NULL;
		if (!strcmp(key, "name")) {
			const char *why;
			if ((s = str_of(&n, k)) && (why = app_name_problem(s)))
				failf(&n, "name", "%s", why);
			else if (s)
				json_kstr(out, "name", s);
		} else if (!strcmp(key, "exec_interpreter")) {
			char *ipath = (s = str_of(&n, k)) && strcmp(s, "none") ? decl_which(s) : NULL;
			json_key(out, key);
			if (s && !strcmp(s, "none"))
				json_null(out);   /* run the script itself */
			else if (ipath)
				json_str(out, ipath);
			else
				failf(&n, key, "interpreter %s not found in PATH", s ? s : "?");
			free(ipath);
		} else if (!strcmp(key, "cwd")) {
			struct stat sb;
			char *dir = (s = str_of(&n, k)) ? absolute(s, o->base_dir) : NULL;
			if (dir && (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)))
				failf(&n, "cwd", "%s: not a directory", dir);
			else if (dir)
				json_kstr(out, "cwd", dir);
			free(dir);
		} else if (json_is_null(n.d[k], n.tok[k])) {
			json_key(out, key);
			json_null(out);   /* back to the default (--node-args=null) */
		} else if (app_keys[k].type != KT_SPECIAL && app_keys[k].type != KT_INSTANCES && app_keys[k].type != KT_MODE) {
			emit_typed(&n, out, k, o->base_dir, &username);
		}
		free(s);
	}
	if (username && !n.failed)
		json_kstr(out, "username", username);
	free(username);
	return !n.failed;
}

char *decl_name(const struct jdoc *d, int obj)
{
	if (obj < 0 || d->tok[obj].type != JSMN_OBJECT)
		return NULL;
	int t = last_value(d, obj, find_key("name"));
	if (t >= 0 && json_is_str(d, t))
		return json_dup(d, t);
	t = last_value(d, obj, find_key("script"));   /* or exec, cmd, command: the last given */
	char *script = t >= 0 && json_is_str(d, t) ? json_dup(d, t) : NULL;
	char *name = script && *script ? decl_base_name(script) : NULL;
	free(script);
	return name;
}

bool decl_normalize(const struct jdoc *d, int obj, const struct jdoc *od, int over,
                    const struct decl_opts *o, struct buf *out, char *err, size_t errlen)
{
	struct norm n = {.o = o, .err = err, .errlen = errlen, .envtok = -1};
	for (size_t i = 0; i < napp_keys; i++)
		n.tok[i] = -1;
	if (obj < 0 || d->tok[obj].type != JSMN_OBJECT) {
		failf(&n, NULL, "expected an app object, got %s", obj < 0 ? "nothing" : shown(d, obj));
		return false;
	}
	collect(&n, d, obj);
	collect(&n, od, over);
	char *script = str_of(&n, find_key("script"));
	char *name = str_of(&n, find_key("name"));
	char *cwd_decl = str_of(&n, find_key("cwd"));
	char *username = NULL;
	bool append = false;
	if (present(&n, find_key("append_env_to_name")))
		bool_of(&n, find_key("append_env_to_name"), &append);
	if (!n.failed && !script)
		failf(&n, "script", "missing (the program to run)");
	char *cwd = cwd_decl ? absolute(cwd_decl, o->base_dir) : xstrdup(o->base_dir);
	char *real = realpath(cwd, NULL);
	if (real) {
		free(cwd);
		cwd = real;
	}
	struct stat sb;
	if (!n.failed && (stat(cwd, &sb) < 0 || !S_ISDIR(sb.st_mode)))
		failf(&n, "cwd", "%s: not a directory", cwd);
	if (!n.failed && !name)
		name = decl_base_name(script);
	if (!n.failed && append && o->env_name) {
		char *longer = xasprintf("%s-%s", name, o->env_name);
		free(name);
		name = longer;
	}
	const char *why = n.failed ? NULL : app_name_problem(name);
	if (why)
		failf(&n, "name", "%s", why);
	if (n.failed)
		goto out;
	json_open(out, '{');
	json_kstr(out, "name", name);
	bool node = false;
	emit_program(&n, out, script, cwd, &node);
	json_kstr(out, "cwd", cwd);
	int env = find_key("env");
	json_key(out, "env");
	json_open(out, '{');
	if (present(&n, env)) {
		if (n.d[env]->tok[n.tok[env]].type != JSMN_OBJECT)
			expected(&n, env, "an object of variables");
		else
			emit_env_members(&n, out, n.d[env], n.tok[env], "env");
	}
	if (n.envtok >= 0) {
		char what[80];
		snprintf(what, sizeof what, "env_%s", o->env_name);
		emit_env_members(&n, out, n.envd, n.envtok, what);
	}
	json_close(out, '}');
	if (o->shell_env)
		emit_shell_env(&n, out);
	for (int k = 0; k < (int)napp_keys && !n.failed; k++)
		if (present(&n, k))
			emit_typed(&n, out, k, cwd, &username);
	/* instances without exec_mode: cluster mode for node, as PM2 decides, and for any app
	 * given a port to share; otherwise that many fork instances. */
	if (present(&n, find_key("instances")) && !present(&n, find_key("exec_mode")))
		json_kstr(out, "exec_mode", node || present(&n, find_key("port")) ||
		          present(&n, find_key("listen")) ? "cluster" : "fork");
	if (!present(&n, find_key("username")) && !username) {
		struct passwd *pw = getpwuid(geteuid());
		if (pw)
			username = xstrdup(pw->pw_name);
	}
	if (username && !present(&n, find_key("username")))
		json_kstr(out, "username", username);
	json_close(out, '}');
out:
	free(script);
	free(name);
	free(cwd_decl);
	free(cwd);
	free(username);
	return !n.failed;
}
