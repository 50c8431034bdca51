/* What monit knows of the apps: the daemon's list (names, states, paths, counters),
 * the samples of the event stream (CPU and memory of each instance's tree, kept two
 * minutes for the sparklines), and each instance's last log lines. */
#include "applets/monit.h"
#include "client/table.h"
#include "lib/procfs.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { BACKFILL_BYTES = 32768, BACKFILL_LINES = 60, LINE_MAX_SHOWN = 1024 };

void monit_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(M.status, sizeof M.status, fmt, ap);
	va_end(ap);
	M.status_until = mono_ms() + 5000;
	M.dirty = true;
}

struct inst *monit_find(int id)
{
	for (int i = 0; i < M.n; i++)
		if (M.v[i]->id == id)
			return M.v[i];
	return NULL;
}

struct inst *monit_selected(void)
{
	return M.sel_id >= 0 ? monit_find(M.sel_id) : NULL;
}

/* ---- log lines ------------------------------------------------------------------- */

const struct logline *monit_line(const struct inst *in, int k)
{
	return &in->ring[(in->head + k) % RING_LINES];
}

static void ring_add(struct inst *in, const char *text, size_t len, int64_t at, bool err)
{
	if (len > LINE_MAX_SHOWN)
		len = LINE_MAX_SHOWN;
	struct logline *l;
	if (in->nlines < RING_LINES) {
		l = &in->ring[(in->head + in->nlines++) % RING_LINES];
	} else {
		l = &in->ring[in->head];
		in->head = (in->head + 1) % RING_LINES;
		free(l->text);
	}
	*l = (struct logline){xstrndup(text, len), at, err};
}

static void ring_clear(struct inst *in)
{
	for (int k = 0; k < in->nlines; k++)
		free(in->ring[(in->head + k) % RING_LINES].text);
	in->nlines = in->head = 0;
}

/* The last lines of a log file, as the logs pane starts with them. */
static void backfill_file(struct inst *in, const char *path, bool err)
{
	if (!path || !*path || !strcmp(path, "/dev/null"))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	off_t from = st.st_size > BACKFILL_BYTES ? st.st_size - BACKFILL_BYTES : 0;
	char *text = xmalloc(BACKFILL_BYTES + 1);
	ssize_t n = pread(fd, text, BACKFILL_BYTES, from);
	close(fd);
	if (n <= 0) {
		free(text);
		return;
	}
	/* From the first whole line, the last BACKFILL_LINES of them. */
	size_t start = 0, len = (size_t)n;
	if (from > 0) {
		char *nl = memchr(text, '\n', len);
		start = nl ? (size_t)(nl - text) + 1 : len;
	}
	int lines = 0;
	size_t i = len;
	while (i > start && lines < BACKFILL_LINES) {
		i--;
		if (text[i] == '\n' && i + 1 < len)
			lines++;
	}
	if (lines == BACKFILL_LINES)
		start = i + 1;
	for (size_t p = start; p < len;) {
		char *nl = memchr(text + p, '\n', len - p);
		size_t l = nl ? (size_t)(nl - (text + p)) : len - p;
		ring_add(in, text + p, l, 0, err);
		p += l + 1;
	}
	free(text);
}

void monit_take_log(const struct jdoc *d)
{
	int m = json_get(d, 0, "log");
	long long id = -1, at = 0;
	json_as_ll(d, json_get(d, m, "id"), &id);
	json_as_ll(d, json_get(d, m, "at"), &at);
	struct inst *in = monit_find((int)id);
	char *data = json_dup(d, json_get(d, m, "data"));
	if (!in || !data) {
		free(data);
		return;
	}
	bool err = json_eq(d, json_get(d, m, "stream"), "err");
	size_t len = strlen(data);
	for (size_t p = 0; p < len;) {
		char *nl = memchr(data + p, '\n', len - p);
		size_t l = nl ? (size_t)(nl - (data + p)) : len - p;
		ring_add(in, data + p, l, at, err);
		p += l + 1;
	}
	free(data);
	if (in->id == M.sel_id)
		M.dirty = true;
}

/* ---- the list --------------------------------------------------------------------- */

static void set_str(char **field, const struct jdoc *d, int t)
{
	free(*field);
	*field = NULL;
	if (t < 0 || json_is_null(d, t))
		return;
	if (json_is_str(d, t)) {
		*field = json_dup(d, t);
	} else {   /* an array (args, watch): its words */
		struct buf b = {0};
		if (d->tok[t].type == JSMN_ARRAY) {
			for (int i = 0, e = t + 1; i < d->tok[t].size; i++, e = json_next(d, e)) {
				char *w = json_dup(d, e);
				if (w)
					buf_printf(&b, "%s%s", b.len ? " " : "", w);
				free(w);
			}
		} else {
			buf_add(&b, d->text + d->tok[t].start, (size_t)(d->tok[t].end - d->tok[t].start));
		}
		*field = b.data ? b.data : xstrdup("");
	}
}

static long long num(const struct jdoc *d, int obj, const char *key)
{
	long long v = 0;
	json_as_ll(d, json_get(d, obj, key), &v);
	return v;
}

/* The pm2_env strings monit shows, and where it keeps them. */
static const struct {
	const char *key;
	size_t off;
} env_strings[] = {
	{"namespace", offsetof(struct inst, ns)}, {"status", offsetof(struct inst, status)},
	{"pm_exec_path", offsetof(struct inst, script)}, {"args", offsetof(struct inst, args)},
	{"exec_interpreter", offsetof(struct inst, interp)}, {"exec_mode", offsetof(struct inst, mode)},
	{"pm_cwd", offsetof(struct inst, cwd)}, {"pm_out_log_path", offsetof(struct inst, out_path)},
	{"pm_err_log_path", offsetof(struct inst, err_path)}, {"listen", offsetof(struct inst, listen)},
	{"lb", offsetof(struct inst, lb)}, {"restart_reason", offsetof(struct inst, reason)},
	{"username", offsetof(struct inst, user)},
};

static struct inst *inst_new(int id)
{
	struct inst *in = xcalloc(1, sizeof *in);
	in->id = id;
	M.v = xrealloc(M.v, (size_t)(M.n + 1) * sizeof *M.v);
	M.v[M.n++] = in;
	return in;
}

static void inst_free(struct inst *in)
{
	ring_clear(in);
	for (size_t i = 0; i < ARRAY_LEN(env_strings); i++)
		free(*(char **)((char *)in + env_strings[i].off));
	free(in->name);
	free(in->watch);
	free(in);
}

static void inst_remove(int id)
{
	for (int i = 0; i < M.n; i++)
		if (M.v[i]->id == id) {
			inst_free(M.v[i]);
			M.v[i] = M.v[--M.n];
			return;
		}
}

static void take_app(const struct jdoc *d, int app)
{
	int env = json_get(d, app, "pm2_env");
	long long id = num(d, app, "pm_id");
	struct inst *in = monit_find((int)id);
	bool fresh = !in;
	if (fresh)
		in = inst_new((int)id);
	in->listed = true;
	set_str(&in->name, d, json_get(d, app, "name"));
	in->pid = (pid_t)num(d, app, "pid");
	for (size_t i = 0; i < ARRAY_LEN(env_strings); i++)
		set_str((char **)((char *)in + env_strings[i].off), d, json_get(d, env, env_strings[i].key));
	int watch = json_get(d, env, "watch");
	bool on = false;
	if (json_as_bool(d, watch, &on))
		set_str(&in->watch, d, on ? json_get(d, env, "watch") : -1);
	else
		set_str(&in->watch, d, watch);
	in->restarts = (int)num(d, env, "restart_time");
	in->unstable = (int)num(d, env, "unstable_restarts");
	in->instances = (int)num(d, env, "instances");
	in->conns = (int)num(d, env, "proxy_connections");
	json_as_bool(d, json_get(d, env, "wait_ready"), &in->wait_ready);
	bool running = in->pid > 0;
	in->started = running ? num(d, env, "pm_uptime") : 0;
	if (!running)
		in->cpu = 0, in->mem = 0;
	if (fresh) {   /* its files' last lines first; what the stream brings follows */
		backfill_file(in, in->out_path, false);
		backfill_file(in, in->err_path, true);
	}
}

void monit_take_list(const struct jdoc *d)
{
	for (int i = 0; i < M.n; i++)
		M.v[i]->listed = false;
	for (int i = 0, app = 1; i < d->tok[0].size; i++, app = json_next(d, app))
		if (d->tok[app].type == JSMN_OBJECT)
			take_app(d, app);
	for (int i = M.n - 1; i >= 0; i--)
		if (!M.v[i]->listed)
			inst_remove(M.v[i]->id);
	monit_order();
}

/* ---- events ------------------------------------------------------------------------ */

static void push_hist(struct inst *in, double cpu, double mem)
{
	if (in->nhist == HIST) {
		memmove(in->cpu_hist, in->cpu_hist + 1, (HIST - 1) * sizeof *in->cpu_hist);
		memmove(in->mem_hist, in->mem_hist + 1, (HIST - 1) * sizeof *in->mem_hist);
		in->nhist--;
	}
	in->cpu_hist[in->nhist] = cpu;
	in->mem_hist[in->nhist] = mem;
	in->nhist++;
}

static void take_sample(const struct jdoc *d, struct inst *in)
{
	double cpu = 0;
	long long v = 0;
	int t = json_get(d, 0, "cpu");
	if (t >= 0)
		cpu = strtod(d->text + d->tok[t].start, NULL);
	in->cpu = cpu;
	if (json_as_ll(d, json_get(d, 0, "memory"), &v))
		in->mem = v;
	if (json_as_ll(d, json_get(d, 0, "restarts"), &v))
		in->restarts = (int)v;
	if (json_as_ll(d, json_get(d, 0, "pid"), &v))
		in->pid = (pid_t)v;
	char *status = json_dup(d, json_get(d, 0, "status"));
	if (status) {
		free(in->status);
		in->status = status;
	}
	push_hist(in, cpu, (double)in->mem);
}

bool monit_take_event(const struct jdoc *d)
{
	long long id = -1;
	json_as_ll(d, json_get(d, 0, "id"), &id);
	int ev = json_get(d, 0, "event");
	struct inst *in = monit_find((int)id);
	if (json_eq(d, ev, "sample")) {
		if (in)
			take_sample(d, in);
		return false;
	}
	if (json_eq(d, ev, "state")) {
		if (!in)
			return true;   /* a new app: the list brings it */
		char *to = json_dup(d, json_get(d, 0, "to"));
		if (to) {
			free(in->status);
			in->status = to;
		}
		long long pid = 0;
		if (json_as_ll(d, json_get(d, 0, "pid"), &pid))
			in->pid = (pid_t)pid;
		return true;
	}
	if (json_eq(d, ev, "delete")) {
		inst_remove((int)id);
		monit_order();
		return true;
	}
	if (json_eq(d, ev, "daemon")) {
		char *what = json_dup(d, json_get(d, 0, "what"));
		if (what)
			monit_status("daemon: %s", what);
		free(what);
		return true;
	}
	return false;
}

/* ---- order and filter ------------------------------------------------------------- */

static const char *const sort_names[NSORTS] = {"name", "id", "cpu", "mem", "restarts", "uptime"};

const char *monit_sort_name(enum sortkey k) { return sort_names[k]; }

bool monit_sort_set(const char *spec)
{
	size_t n = strcspn(spec, ":");
	const char *dir = spec[n] ? spec + n + 1 : "";
	if (*dir && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
		return false;
	for (int k = 0; k < NSORTS; k++)
		if (strlen(sort_names[k]) == n && !strncmp(spec, sort_names[k], n)) {
			M.sort = (enum sortkey)k;
			M.desc = !strcmp(dir, "desc");
			return true;
		}
	if (n == 6 && !strncmp(spec, "memory", 6)) {
		M.sort = S_MEM;
		M.desc = !strcmp(dir, "desc");
		return true;
	}
	return false;
}

static int cmp3(double a, double b) { return (a > b) - (a < b); }

static int compare(const void *x, const void *y)
{
	const struct inst *a = M.v[*(const int *)x], *b = M.v[*(const int *)y];
	int c = 0;
	switch (M.sort) {
	case S_NAME: c = strcmp(a->name ? a->name : "", b->name ? b->name : ""); break;
	case S_ID: break;
	case S_CPU: c = cmp3(a->cpu, b->cpu); break;
	case S_MEM: c = cmp3((double)a->mem, (double)b->mem); break;
	case S_RESTARTS: c = cmp3(a->restarts, b->restarts); break;
	/* longest running first when ascending, as `list --sort uptime` */
	case S_UPTIME: c = cmp3((double)(a->started ? a->started : INT64_MAX),
	                        (double)(b->started ? b->started : INT64_MAX)); break;
	case NSORTS: break;
	}
	if (!c)
		c = cmp3(a->id, b->id);
	return M.desc ? -c : c;
}

void monit_order(void)
{
	M.order = xrealloc(M.order, (size_t)(M.n + 1) * sizeof *M.order);
	M.norder = 0;
	for (int i = 0; i < M.n; i++)
		if (!M.filter[0] || (M.v[i]->name && strcasestr(M.v[i]->name, M.filter)))
			M.order[M.norder++] = i;
	qsort(M.order, (size_t)M.norder, sizeof *M.order, compare);
	bool found = false;
	for (int i = 0; i < M.norder && !found; i++)
		found = M.v[M.order[i]]->id == M.sel_id;
	if (!found)
		M.sel_id = M.norder ? M.v[M.order[0]]->id : -1;
}

/* ---- the host ----------------------------------------------------------------------- */

void monit_host(struct host *h)
{
	memset(h, 0, sizeof *h);
	gethostname(h->name, sizeof h->name - 1);
	struct procfs_host ph;
	procfs_host(&ph);
	memcpy(h->load, ph.load, sizeof h->load);
	h->mem_total = ph.mem_total;
	h->mem_avail = ph.mem_avail;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	h->cpus = cpus > 0 ? (int)cpus : 1;
}

/* ---- --once --------------------------------------------------------------------------- */

void monit_print_snapshot(FILE *f)
{
	struct host h;
	monit_host(&h);
	monit_order();
	int64_t now = wall_ms();
	if (M.json) {
		struct buf b = {0};
		json_open(&b, '{');
		json_key(&b, "host");
		json_open(&b, '{');
		json_kstr(&b, "hostname", h.name);
		json_key(&b, "loadavg");
		json_open(&b, '[');
		for (int i = 0; i < 3; i++)
			json_num(&b, h.load[i]);
		json_close(&b, ']');
		json_kint(&b, "total_mem", h.mem_total);
		json_kint(&b, "free_mem", h.mem_avail);
		json_kint(&b, "cpus", h.cpus);
		json_close(&b, '}');
		json_key(&b, "processes");
		json_open(&b, '[');
		for (int i = 0; i < M.norder; i++) {
			const struct inst *in = M.v[M.order[i]];
			json_open(&b, '{');
			json_kint(&b, "id", in->id);
			json_kstr(&b, "name", in->name ? in->name : "");
			json_kstr(&b, "namespace", in->ns ? in->ns : "");
			json_kstr(&b, "status", in->status ? in->status : "");
			json_kint(&b, "pid", in->pid);
			json_key(&b, "cpu");
			json_num(&b, in->cpu);
			json_kint(&b, "memory", in->mem);
			json_kint(&b, "restarts", in->restarts);
			json_kint(&b, "unstable_restarts", in->unstable);
			json_kint(&b, "uptime", in->started ? now - in->started : 0);
			json_close(&b, '}');
		}
		json_close(&b, ']');
		json_close(&b, '}');
		fprintf(f, "%s\n", b.data);
		buf_free(&b);
		return;
	}
	char total[32], avail[32];
	format_bytes(total, sizeof total, h.mem_total);
	format_bytes(avail, sizeof avail, h.mem_avail);
	fprintf(f, "host %s  load %.2f %.2f %.2f  memory %s available of %s  cpus %d\n", h.name,
	        h.load[0], h.load[1], h.load[2], avail, total, h.cpus);
	fprintf(f, "%-4s %-20s %-15s %7s %9s %8s %8s %7s\n", "id", "name", "status", "cpu", "memory",
	        "restarts", "uptime", "pid");
	for (int i = 0; i < M.norder; i++) {
		const struct inst *in = M.v[M.order[i]];
		char mem[32], up[32];
		format_bytes(mem, sizeof mem, in->mem);
		if (in->started)
			format_duration(up, sizeof up, now - in->started);
		else
			snprintf(up, sizeof up, "0");
		fprintf(f, "%-4d %-20.20s %-15s %6.1f%% %9s %8d %8s %7d\n", in->id, in->name ? in->name : "",
		        in->status ? in->status : "", in->cpu, mem, in->restarts, up, (int)in->pid);
	}
}
