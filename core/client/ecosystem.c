/* Loading declaration files. Every format ends as one JSON document whose apps are
 * listed in e->apps; line:col in messages refer to the user's own file. */
#include "client/ecosystem.h"
#include "client/decl.h"
#include "lib/jsonc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_FILE = 16 << 20 };

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static bool is_js_config(const char *arg)
{
	return ends_with(arg, ".config.js") || ends_with(arg, ".config.cjs") ||
	       ends_with(arg, ".config.mjs");
}

static bool is_procfile(const char *arg)
{
	const char *b = base(arg);
	return !strcmp(b, "Procfile") || !strncmp(b, "Procfile.", 9);
}

bool eco_is_file(const char *arg)
{
	return !strcmp(arg, "-") || ends_with(arg, ".json") || is_js_config(arg) || is_procfile(arg);
}

const char *eco_default(void)
{
	static const char *const names[] = {"ecosystem.json", "ecosystem.config.js", "ecosystem.config.cjs"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (access(names[i], R_OK) == 0)
			return names[i];
	return NULL;
}

static bool failf(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
static bool failf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* node writes the evaluated module.exports as JSON to fd 3, so that what the config
 * itself prints (console.log) cannot garble it: that goes to our stderr. import() takes
 * CommonJS and ES modules alike; a config exporting a promise is awaited. */
static const char node_eval[] =
	"const p=require('path').resolve(process.argv[1]);"
	"import(require('url').pathToFileURL(p).href).then(async m=>{"
	"let c=m.default!==undefined?m.default:m;c=await c;"
	"require('fs').writeFileSync(3,JSON.stringify(c===undefined?null:c));process.exit(0)"
	"}).catch(e=>{process.stderr.write(String(e&&e.stack||e).split('\\n')[0]+'\\n');process.exit(1)})";

enum { EVAL_TIMEOUT_S = 20 };

/* How long a config may take: TEND_CONFIG_TIMEOUT seconds, else EVAL_TIMEOUT_S. */
static int eval_timeout_ms(void)
{
	const char *v = getenv("TEND_CONFIG_TIMEOUT");
	long long s;
	return v && parse_int(v, 1, 86400, &s) ? (int)s * 1000 : EVAL_TIMEOUT_S * 1000;
}

/* What PM2 does with a .json file: evaluate it as one JavaScript expression (comments,
 * unquoted keys, single quotes, expressions). The text comes on fd 4. */
static const char node_eval_json[] =
	"const fs=require('fs');"
	"try{const c=require('vm').runInThisContext('('+fs.readFileSync(4,'utf8')+'\\n)',"
	"{filename:process.argv[1]});"
	"fs.writeFileSync(3,JSON.stringify(c===undefined?null:c));process.exit(0)"
	"}catch(e){process.stderr.write(String(e&&e.message||e).split('\\n')[0]+'\\n');process.exit(1)}";

static NORETURN void exec_node(const char *node, const char *code, const char *file, int result_w,
                               int err_w, int text_fd)
{
	/* Its own group, to be killed whole on a timeout; and dead with us. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int r = fcntl(result_w, F_DUPFD, 10), e = fcntl(err_w, F_DUPFD, 10);
	int t = text_fd >= 0 ? fcntl(text_fd, F_DUPFD, 10) : -1;
	if (r < 0 || e < 0 || dup2(2, 1) < 0 || dup2(r, 3) < 0 || dup2(e, 2) < 0 ||
	    (text_fd >= 0 && (t < 0 || dup2(t, 4) < 0)))
		_exit(127);
	execl(node, "node", "-e", code, file, (char *)NULL);
	_exit(127);
}

/* Read the result and the messages until node exits or the time is up. */
static bool collect(int result_r, int err_r, struct buf *text, struct buf *msg, int64_t deadline)
{
	struct pollfd pf[2] = {{.fd = result_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
	char chunk[8192];
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0 || poll(pf, 2, (int)left) == 0)
			return false;
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !pf[k].revents)
				continue;
			ssize_t r = read_retry(pf[k].fd, chunk, sizeof chunk);
			if (r <= 0) {
				pf[k].fd = -1;
				continue;
			}
			struct buf *b = k == 0 ? text : msg;
			if (b->len < (k == 0 ? (size_t)MAX_FILE : 4096))
				buf_add(b, chunk, (size_t)r);
		}
	}
	return true;
}

/* The JSON text of what node makes of file (code node_eval) or of text (node_eval_json,
 * handed over in a memfd), or NULL with the reason in err. */
static char *run_node(const char *code, const char *file, const char *text, size_t textlen,
                      const char *label, char *err, size_t errlen)
{
	char *node = decl_which("node");
	if (!node) {
		failf(err, errlen, "%s: evaluating a .js config needs node, which is not in PATH "
		      "(install nodejs, or write the apps as ecosystem.json)", label);
		return NULL;
	}
	int res[2] = {-1, -1}, errp[2] = {-1, -1}, text_fd = -1;
	if (text) {
		text_fd = memfd_create("tend-ecosystem", MFD_CLOEXEC);
		if (text_fd < 0 || !write_all(text_fd, text, textlen) || lseek(text_fd, 0, SEEK_SET) != 0) {
			failf(err, errlen, "memfd: %s", strerror(errno));
			goto fail;
		}
	}
	if (pipe2(res, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		failf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_node(node, code, file, res[1], errp[1], text_fd);
	free(node);
	if (text_fd >= 0)
		close(text_fd);
	close(res[1]);
	close(errp[1]);
	struct buf out = {0}, msg = {0};
	int timeout = eval_timeout_ms();
	bool finished = pid > 0 && collect(res[0], errp[0], &out, &msg, mono_ms() + timeout);
	close(res[0]);
	close(errp[0]);
	if (pid > 0 && !finished)
		kill(-pid, SIGKILL);
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!finished || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out.len) {
		char *nl = msg.data ? strchr(msg.data, '\n') : NULL;
		if (nl)
			*nl = 0;
		if (pid > 0 && !finished)
			failf(err, errlen, "%s: node did not finish evaluating it within %d s "
			      "(TEND_CONFIG_TIMEOUT)", label, timeout / 1000);
		else
			failf(err, errlen, "%s: node could not evaluate it: %s", label,
			      msg.data && *msg.data ? msg.data : pid < 0 ? strerror(errno)
			      : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "it exited before the config was read"
			      : "node failed");
		buf_free(&out);
		buf_free(&msg);
		return NULL;
	}
	buf_free(&msg);
	buf_puts(&out, "");
	return out.data;
fail:
	free(node);
	int fds[] = {text_fd, res[0], res[1], errp[0], errp[1]};
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

/* "name: command" lines (foreman, honcho, Heroku) → {"apps":[{name, script}]}. */
static char *procfile_json(const char *text, const char *label, char *err, size_t errlen)
{
	struct buf b = {0};
	json_open(&b, '{');
	json_key(&b, "apps");
	json_open(&b, '[');
	int line = 0, napps = 0;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char *l = xstrndup(p, n);
		p += n + (p[n] == '\n');
		line++;
		char *s = l + strspn(l, " \t\r");
		s[strcspn(s, "\r")] = 0;
		if (*s == 0 || *s == '#') {
			free(l);
			continue;
		}
		char *colon = strchr(s, ':');
		size_t namelen = colon ? strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") : 0;
		if (!colon || namelen == 0 || s + namelen != colon) {
			failf(err, errlen, "%s:%d: expected \"name: command\"", label, line);
			free(l);
			buf_free(&b);
			return NULL;
		}
		char *cmd = colon + 1 + strspn(colon + 1, " \t");
		if (!*cmd) {
			failf(err, errlen, "%s:%d: %.*s: no command", label, line, (int)namelen, s);
			free(l);
			buf_free(&b);
			return NULL;
		}
		json_open(&b, '{');
		json_keyn(&b, "name", 4);
		json_strn(&b, s, namelen);
		json_kstr(&b, "script", cmd);
		json_close(&b, '}');
		napps++;
		free(l);
	}
	json_close(&b, ']');
	json_close(&b, '}');
	if (napps == 0) {
		buf_free(&b);
		failf(err, errlen, "%s: no \"name: command\" lines", label);
		return NULL;
	}
	return b.data;
}

/* The apps of the document: {"apps":[...]} (or PM2's "pm2"), an array, one app. */
static bool find_apps(struct eco *e, char *err, size_t errlen)
{
	const struct jdoc *d = &e->doc;
	int list = -1;
	if (d->tok[0].type == JSMN_ARRAY) {
		list = 0;
	} else if (d->tok[0].type == JSMN_OBJECT) {
		int apps = json_get(d, 0, "apps");
		if (apps < 0)
			apps = json_get(d, 0, "pm2");
		if (apps >= 0) {
			for (int i = 0, k = 1; i < d->tok[0].size; i++, k = json_next(d, k + 1)) {
				if (json_eq(d, k, "apps") || json_eq(d, k, "pm2") || json_eq(d, k, "deploy"))
					continue;
				/* PM2 reads what it knows and drops the rest: a warning, as for app keys */
				char *key = json_dup(d, k);
				const char *strict = getenv("TEND_STRICT");
				bool refuse = strict && !strcmp(strict, "1");
				if (refuse)
					failf(err, errlen, "%s: %s: unknown top-level key (expected apps, pm2 or deploy)",
					      e->label, key ? key : "?");
				else if (json_eq(d, k, "static"))
					warn("%s: static: pm2 serve's key, not served by tend: ignored", e->label);
				else
					warn("%s: %s: unknown top-level key, ignored", e->label, key ? key : "?");
				free(key);
				if (refuse)
					return false;
			}
			if (d->tok[apps].type == JSMN_OBJECT) {
				e->apps = xmalloc(sizeof *e->apps);
				e->apps[e->napps++] = apps;
				return true;
			}
			if (d->tok[apps].type != JSMN_ARRAY)
				return failf(err, errlen, "%s: apps: expected an array of apps", e->label);
			list = apps;
		} else if (json_get(d, 0, "script") >= 0 || json_get(d, 0, "exec") >= 0) {
			e->apps = xmalloc(sizeof *e->apps);
			e->apps[e->napps++] = 0;
			return true;
		} else {
			return failf(err, errlen, "%s: expected {\"apps\": [...]}, an array of apps, or one app with a script",
			             e->label);
		}
	} else {
		return failf(err, errlen, "%s: expected {\"apps\": [...]}, an array of apps, or one app", e->label);
	}
	int n = d->tok[list].size;
	if (n == 0)
		return failf(err, errlen, "%s: no apps declared", e->label);
	e->apps = xcalloc((size_t)n, sizeof *e->apps);
	for (int i = 0, t = list + 1; i < n; i++, t = json_next(d, t))
		e->apps[e->napps++] = t;
	return true;
}

/* JSON, comments and trailing commas allowed. Failing that, what PM2 makes of a .json
 * file: a JavaScript expression, evaluated by node (with a warning, since no other
 * tool reads such a file as JSON). Where node cannot make sense of it either, the
 * message is JSON's: it says where. */
static bool parse(struct eco *e, size_t len, char *err, size_t errlen)
{
	char *copy = xstrndup(e->text, len);
	char why[160];
	bool ok = jsonc_clean(e->text, len, why, sizeof why);
	if (ok && !(ok = json_parse(&e->doc, e->text, len)))
		snprintf(why, sizeof why, "%s", e->doc.err);
	char ignored[256];
	char *js = ok ? NULL : run_node(node_eval_json, e->label, copy, len, e->label, ignored, sizeof ignored);
	free(copy);
	if (ok)
		return true;
	if (!js || !json_parse(&e->doc, js, strlen(js))) {
		free(js);
		return failf(err, errlen, "%s:%s", e->label, why);
	}
	static char *warned;   /* the same file is often read twice by one command */
	if (!warned || strcmp(warned, e->label)) {
		warn("%s:%s: not JSON; read as JavaScript, as PM2 does", e->label, why);
		free(warned);
		warned = xstrdup(e->label);
	}
	free(e->text);
	e->text = js;
	return true;
}

bool eco_load(const char *arg, struct eco *e, char *err, size_t errlen)
{
	return eco_load_doc(arg, e, err, errlen) && find_apps(e, err, errlen);
}

bool eco_load_doc(const char *arg, struct eco *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	bool stdin_ = !strcmp(arg, "-");
	e->label = xstrdup(stdin_ ? "stdin" : arg);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return failf(err, errlen, "getcwd: %s", strerror(errno));
	if (stdin_) {
		e->dir = xstrdup(cwd);
	} else {
		char *real = realpath(arg, NULL);
		if (!real)
			return failf(err, errlen, "%s: %s", arg, strerror(errno));
		char *slash = strrchr(real, '/');
		e->dir = slash == real ? xstrdup("/") : xstrndup(real, (size_t)(slash - real));
		free(real);
	}
	size_t len = 0;
	char *raw = NULL;
	if (is_js_config(arg)) {
		raw = run_node(node_eval, arg, NULL, 0, e->label, err, errlen);
		if (!raw)
			return false;
		len = strlen(raw);
	} else {
		raw = read_file(stdin_ ? "/dev/stdin" : arg, MAX_FILE, &len);
		if (!raw)
			return failf(err, errlen, "%s: %s", e->label,
			             errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		if (is_procfile(arg)) {
			char *json = procfile_json(raw, e->label, err, errlen);
			free(raw);
			if (!json)
				return false;
			raw = json;
			len = strlen(raw);
		}
	}
	e->text = raw;
	return parse(e, len, err, errlen);
}

void eco_free(struct eco *e)
{
	json_free(&e->doc);
	free(e->text);
	free(e->label);
	free(e->dir);
	free(e->apps);
	memset(e, 0, sizeof *e);
}

bool eco_selected(const char *only, const char *name)
{
	if (!only)
		return true;
	size_t n = strlen(name);
	for (const char *p = only; *p;) {
		size_t m = strcspn(p, ", ");
		if (m == n && !strncmp(p, name, n))
			return true;
		p += m + (p[m] != 0);
	}
	return false;
}

static void load_or_die(const char *file, struct eco *e)
{
	char err[512];
	if (!eco_load(file, e, err, sizeof err))
		die_usage("%s", err);
}

int eco_append_apps(struct buf *req, const char *file, const char *only, const char *env_name,
                    const struct buf *over, bool has_name)
{
	struct eco e;
	load_or_die(file, &e);
	struct jdoc od;
	if (!json_parse(&od, over->data, over->len))
		die("options: %s", od.err);
	if (has_name && e.napps > 1)
		die_usage("--name: %s declares %d apps; name them in the file", e.label, e.napps);
	int chosen = 0;
	char err[512];
	for (int i = 0; i < e.napps; i++) {
		char *name = decl_name(&e.doc, e.apps[i]);
		bool want = eco_selected(only, name ? name : "");
		free(name);
		if (!want)
			continue;
		char where[PATH_MAX + 32];
		snprintf(where, sizeof where, "%s: apps[%d]", e.label, i);
		struct decl_opts o = {.where = where, .base_dir = e.dir, .env_name = env_name,
		                      .shell_env = true};
		if (!decl_normalize(&e.doc, e.apps[i], &od, 0, &o, req, err, sizeof err))
			die_usage("%s", err);
		chosen++;
	}
	if (chosen == 0)
		die_usage("--only %s: no such app in %s", only, e.label);
	json_free(&od);
	eco_free(&e);
	return chosen;
}

char **eco_app_names(const char *file, const char *only, int *n)
{
	struct eco e;
	load_or_die(file, &e);
	char **names = xcalloc((size_t)e.napps + 1, sizeof *names);
	*n = 0;
	for (int i = 0; i < e.napps; i++) {
		char *name = decl_name(&e.doc, e.apps[i]);
		if (!name)
			die_usage("%s: apps[%d]: no name and no script", e.label, i);
		if (eco_selected(only, name))
			names[(*n)++] = name;
		else
			free(name);
	}
	if (*n == 0)
		die_usage("--only %s: no such app in %s", only ? only : "", e.label);
	eco_free(&e);
	return names;
}
