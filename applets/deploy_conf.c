/* tend deploy's configuration: the env's part of an ecosystem file's deploy section,
 * read as real JSON (a numeric port, quotes in a hook, a list of hosts each with its
 * own port, user or key all mean what they say), and the script each host runs: its
 * settings, quoted for the shell, before the template core/client/templates/deploy.sh. */
#include "applets/deploy.h"
#include "client/ecosystem.h"
#include "lib/home.h"

#include "templates.h"

#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void quote(struct buf *b, const char *s);

static const char *const hook_keys[NHOOKS] = {"pre-setup", "post-setup", "pre-deploy-local", "pre-deploy",
                                              "post-deploy"};

static struct {
	const struct jdoc *d;
	const char *where;   /* "deploy.production" */
} C;

NORETURN static void bad(const char *key, const char *why)
{
	die_usage("%s: %s%s%s", C.where, key ? key : "", key ? ": " : "", why);
}

/* A string, or a number written as one (PM2 lost numeric ports: not here). */
static char *scalar(int tok, const char *key)
{
	if (tok < 0)
		return NULL;
	const jsmntok_t *t = &C.d->tok[tok];
	if (t->type == JSMN_STRING)
		return json_dup(C.d, tok);
	long long n;
	if (t->type == JSMN_PRIMITIVE && json_as_ll(C.d, tok, &n))
		return xasprintf("%lld", n);
	bad(key, "expected a string");
}

static bool flag(int tok, const char *key)
{
	if (tok < 0)
		return false;
	bool b;
	if (json_as_bool(C.d, tok, &b))
		return b;
	char *s = scalar(tok, key);
	bool on = s && *s && strcmp(s, "false") != 0 && strcmp(s, "no") != 0 && strcmp(s, "0") != 0;
	free(s);
	return on;
}

/* A string or a list of strings. */
static char **strings(int tok, const char *key, int *n)
{
	*n = 0;
	if (tok < 0)
		return NULL;
	if (C.d->tok[tok].type != JSMN_ARRAY) {
		char **one = xcalloc(2, sizeof *one);
		one[(*n)++] = scalar(tok, key);
		return one;
	}
	char **all = xcalloc((size_t)C.d->tok[tok].size + 1, sizeof *all);
	for (int i = 0, e = tok + 1; i < C.d->tok[tok].size; i++, e = json_next(C.d, e))
		all[(*n)++] = scalar(e, key);
	return all;
}

static char *tilde(char *path)
{
	if (!path || path[0] != '~' || (path[1] && path[1] != '/'))
		return path;
	const char *home = getenv("HOME");
	struct passwd *pw = home ? NULL : getpwuid(getuid());
	char *full = xasprintf("%s%s", home ? home : pw ? pw->pw_dir : "", path + 1);
	free(path);
	return full;
}

static void host_label(struct dhost *h)
{
	h->label = xasprintf("%s%s%s%s%s", h->user ? h->user : "", h->user ? "@" : "", h->host,
	                     h->port ? ":" : "", h->port ? h->port : "");
}

static void read_hosts(struct dtarget *t, int obj)
{
	int tok = json_get(C.d, obj, "host");
	if (tok < 0)
		bad("host", "missing");
	char *user = scalar(json_get(C.d, obj, "user"), "user");
	char *port = scalar(json_get(C.d, obj, "port"), "port");
	char *key = tilde(scalar(json_get(C.d, obj, "key"), "key"));
	bool list = C.d->tok[tok].type == JSMN_ARRAY;
	int n = list ? C.d->tok[tok].size : 1;
	if (n == 0)
		bad("host", "an empty list");
	t->hosts = xcalloc((size_t)n, sizeof *t->hosts);
	for (int i = 0, e = list ? tok + 1 : tok; i < n; i++, e = json_next(C.d, e)) {
		struct dhost *h = &t->hosts[t->nhosts++];
		if (C.d->tok[e].type == JSMN_OBJECT) {   /* {"host", "port", "user", "key"} */
			h->host = scalar(json_get(C.d, e, "host"), "host");
			h->port = scalar(json_get(C.d, e, "port"), "port");
			h->user = scalar(json_get(C.d, e, "user"), "user");
			h->key = tilde(scalar(json_get(C.d, e, "key"), "key"));
			if (!h->host)
				bad("host", "a host object without \"host\"");
		} else {
			h->host = scalar(e, "host");
		}
		if (!h->host || !*h->host || h->host[0] == '-')
			bad("host", "expected a host name");
		if (!h->user && user)
			h->user = xstrdup(user);
		if (!h->port && port)
			h->port = xstrdup(port);
		if (!h->key && key)
			h->key = xstrdup(key);
		long long p;
		if (h->port && !parse_int(h->port, 1, 65535, &p))
			bad("port", "expected a number from 1 to 65535");
		if (h->user && (!*h->user || h->user[0] == '-' || strpbrk(h->user, "@ \t\n")))
			bad("user", "expected a user name");
		h->out = h->err = -1;
		host_label(h);
	}
	free(user);
	free(port);
	free(key);
}

static const char *const known_keys[] = {
	"user", "host", "port", "key", "ref", "repo", "path", "ssh_options", "fetch", "env",
	"forward-agent", "needs_tty", "pre-setup", "post-setup", "pre-deploy-local", "pre-deploy",
	"post-deploy", "layout", "keep_releases", "shared", "health", "health_timeout", NULL,
};

void deploy_envs(const char *file, struct buf *out)
{
	struct eco e;
	char err[300];
	if (!eco_load_doc(file, &e, err, sizeof err))
		return;
	int dep = json_get(&e.doc, 0, "deploy");
	if (dep >= 0 && e.doc.tok[dep].type == JSMN_OBJECT)
		for (int i = 0, k = dep + 1; i < e.doc.tok[dep].size; i++, k = json_next(&e.doc, json_next(&e.doc, k))) {
			char *name = json_dup(&e.doc, k);
			buf_printf(out, "%s%s", out->len ? ", " : "", name);
			free(name);
		}
	eco_free(&e);
}

void deploy_load(struct dtarget *t, const char *file, const char *env)
{
	static struct eco e;
	char err[400];
	if (!eco_load_doc(file, &e, err, sizeof err))
		die_usage("%s", err);
	C.d = &e.doc;
	int dep = json_get(&e.doc, 0, "deploy");
	if (dep < 0 || e.doc.tok[dep].type != JSMN_OBJECT)
		die_usage("%s: no deploy section", file);
	int sec = json_get(&e.doc, dep, env);
	if (sec < 0 || e.doc.tok[sec].type != JSMN_OBJECT) {
		struct buf names = {0};
		deploy_envs(file, &names);
		die_usage("%s: no environment %s in its deploy section (there: %s)", file, env,
		          names.len ? names.data : "none");
	}
	static char where[256];
	snprintf(where, sizeof where, "%s: deploy.%s", file, env);
	C.where = where;
	for (int i = 0, k = sec + 1; i < e.doc.tok[sec].size; i++, k = json_next(&e.doc, json_next(&e.doc, k))) {
		bool known = false;
		for (int j = 0; known_keys[j] && !known; j++)
			known = json_eq(&e.doc, k, known_keys[j]);
		if (!known) {
			char *name = json_dup(&e.doc, k);
			warn("%s: %s: unknown key, ignored", where, name);
			free(name);
		}
	}
	t->file = xstrdup(file);
	char *slash = strrchr(file, '/');
	t->file_dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	t->env = xstrdup(env);
	t->repo = scalar(json_get(&e.doc, sec, "repo"), "repo");
	t->path = scalar(json_get(&e.doc, sec, "path"), "path");
	t->ref = scalar(json_get(&e.doc, sec, "ref"), "ref");
	t->fetch = scalar(json_get(&e.doc, sec, "fetch"), "fetch");
	if (!t->repo || !*t->repo)
		bad("repo", "missing");
	if (!t->path || !*t->path)
		bad("path", "missing");
	if (!t->ref || !*t->ref)
		bad("ref", "missing (PM2's: origin/main, a tag, a commit)");
	read_hosts(t, sec);
	t->ssh_options = strings(json_get(&e.doc, sec, "ssh_options"), "ssh_options", &t->nssh);
	t->forward_agent = flag(json_get(&e.doc, sec, "forward-agent"), "forward-agent");
	t->needs_tty = flag(json_get(&e.doc, sec, "needs_tty"), "needs_tty");
	for (int h = 0; h < NHOOKS; h++)
		t->hooks[h] = scalar(json_get(&e.doc, sec, hook_keys[h]), hook_keys[h]);
	char *layout = scalar(json_get(&e.doc, sec, "layout"), "layout");
	if (layout && strcmp(layout, "pm2") != 0 && strcmp(layout, "releases") != 0)
		bad("layout", "expected \"releases\" (the default) or \"pm2\"");
	t->pm2_layout = layout && !strcmp(layout, "pm2");
	free(layout);
	char *keep = scalar(json_get(&e.doc, sec, "keep_releases"), "keep_releases");
	t->keep_releases = 5;
	if (keep && !parse_int(keep, 1, 1000, &t->keep_releases))
		bad("keep_releases", "expected a number from 1 to 1000");
	free(keep);
	char *timeout = scalar(json_get(&e.doc, sec, "health_timeout"), "health_timeout");
	t->health_timeout = 30;
	if (timeout && !parse_int(timeout, 1, 3600, &t->health_timeout))
		bad("health_timeout", "expected seconds from 1 to 3600");
	free(timeout);
	t->shared = strings(json_get(&e.doc, sec, "shared"), "shared", &t->nshared);
	for (int i = 0; i < t->nshared; i++)
		if (!t->shared[i][0] || t->shared[i][0] == '/' || strstr(t->shared[i], ".."))
			bad("shared", "expected paths inside a release (no leading /, no ..)");
	/* PM2's default post-deploy; the health gate is the apps' when it is ours */
	const char *me = home_is_pm2() ? "pm2" : "tend";
	/* the gate: the file's apps (the default), a URL or a command; false or "" for none */
	int htok = json_get(&e.doc, sec, "health");
	bool hflag;
	if (htok >= 0 && json_as_bool(&e.doc, htok, &hflag))
		t->health = xstrdup(hflag ? "apps" : "");
	else
		t->health = htok >= 0 ? scalar(htok, "health") : xstrdup("apps");
	if (!t->hooks[HOOK_POST_DEPLOY] || !*t->hooks[HOOK_POST_DEPLOY]) {
		free(t->hooks[HOOK_POST_DEPLOY]);
		const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		struct buf hook = {0};
		buf_printf(&hook, "%s startOrRestart ", me);
		quote(&hook, base);
		buf_puts(&hook, " --env ");
		quote(&hook, env);
		t->hooks[HOOK_POST_DEPLOY] = hook.data;
	}
	int envtok = json_get(&e.doc, sec, "env");
	if (envtok >= 0 && e.doc.tok[envtok].type == JSMN_OBJECT) {
		int n = e.doc.tok[envtok].size;
		t->env_names = xcalloc((size_t)n + 1, sizeof *t->env_names);
		t->env_values = xcalloc((size_t)n + 1, sizeof *t->env_values);
		for (int i = 0, k = envtok + 1; i < n; i++, k = json_next(&e.doc, json_next(&e.doc, k))) {
			char *name = json_dup(&e.doc, k);
			bool ok = name && (isalpha((unsigned char)name[0]) || name[0] == '_');
			for (const char *c = name; ok && *c; c++)
				ok = isalnum((unsigned char)*c) || *c == '_';
			if (!ok)
				bad("env", "a variable name is letters, digits and _");
			t->env_names[t->nenv] = name;
			t->env_values[t->nenv++] = scalar(k + 1, name);
		}
	}
}

/* ---- the script -------------------------------------------------------------------------------- */

static void quote(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (const char *p = s ? s : ""; *p; p++)
		if (*p == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *p);
	buf_putc(b, '\'');
}

static void setting(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s=", name);
	quote(b, value);
	buf_putc(b, '\n');
}

static const char *cmd_name(enum deploy_cmd c)
{
	static const char *const names[] = {"setup", "update", "revert", "curr", "prev", "list", "exec"};
	return names[c];
}

char *deploy_script(const struct dtarget *t, const struct dwork *w)
{
	struct buf b = {0};
	buf_puts(&b, "# tend deploy\n");
	setting(&b, "CMD", cmd_name(w->cmd));
	setting(&b, "ARG", w->arg ? w->arg : "");
	setting(&b, "P", t->path);
	setting(&b, "REPO", t->repo);
	setting(&b, "REF", w->ref ? w->ref : t->ref);
	setting(&b, "LAYOUT", t->pm2_layout ? "pm2" : "releases");
	buf_printf(&b, "KEEP=%lld\nGATE_SECONDS=%lld\n", t->keep_releases, t->health_timeout);
	setting(&b, "DEPTH", t->fetch && !strcmp(t->fetch, "fast") ? "--depth=5" : "");
	const char *base = strrchr(t->file, '/') ? strrchr(t->file, '/') + 1 : t->file;
	setting(&b, "FILE", base);
	setting(&b, "TEND", home_is_pm2() ? "pm2" : "tend");
	setting(&b, "GATE", t->health);
	setting(&b, "FORCE_UNLOCK", w->force_unlock ? "1" : "");
	char host[256] = "?";
	gethostname(host, sizeof host - 1);
	const char *user = getenv("USER");
	struct passwd *pw = user ? NULL : getpwuid(getuid());
	char *who = xasprintf("%s@%s", user ? user : pw ? pw->pw_name : "?", host);
	setting(&b, "WHO", who);
	free(who);
	static const char *const vars[NHOOKS] = {"HOOK_PRE_SETUP", "HOOK_POST_SETUP", "HOOK_PRE_DEPLOY_LOCAL",
	                                         "HOOK_PRE_DEPLOY", "HOOK_POST_DEPLOY"};
	for (int h = 0; h < NHOOKS; h++)
		setting(&b, vars[h], t->hooks[h]);
	for (int i = 0; i < t->nenv; i++) {
		buf_printf(&b, "export %s=", t->env_names[i]);
		quote(&b, t->env_values[i]);
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "set --");
	for (int i = 0; i < t->nshared; i++) {
		buf_putc(&b, ' ');
		quote(&b, t->shared[i]);
	}
	buf_putc(&b, '\n');
	buf_puts(&b, tmpl_deploy_sh);
	return b.data;
}
