/* App logs. Two ways through:
 *  - as it comes: bytes from the pipe are appended to the file unchanged (the common
 *    case, and the fastest);
 *  - line by line, when lines need a timestamp, a JSON record, or must not interleave
 *    in the combined log_file: a partial line is held until its newline, or written
 *    as a line after PARTIAL_HOLD_MS, or split once it is PARTIAL_MAX long.
 * Lines also go to `logs` subscribers (logstream.c) when there are any.
 * A write that fails (full disk, read-only file, deleted directory) drops those bytes
 * and counts them (log_bytes_dropped in describe); the failure is logged once, and the
 * next write that works logs the recovery. */
#include "daemon/applog.h"
#include "lib/home.h"
#include "daemon/logstream.h"
#include "lib/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	PARTIAL_HOLD_MS = 500,
	PARTIAL_MAX = 64 << 10,
	READS_PER_WAKE = 4,     /* so one chatty app cannot starve the others */
	LOG_CHECK_MS = 1000,
};

static bool discarded(const char *path)
{
	return !strcmp(path, "/dev/null") || !strcmp(path, "NULL");
}

static bool separate(const struct spec *s)
{
	return s->instances > 1 && !s->merge_logs;
}

static char *default_path(const struct spec *s, const char *kind, int id)
{
	const char *dash = *kind ? "-" : "";
	if (separate(s))
		return xasprintf("%s/%s%s%s-%d.log", home_path(HOME_LOGS), s->name, dash, kind, id);
	return xasprintf("%s/%s%s%s.log", home_path(HOME_LOGS), s->name, dash, kind);
}

/* A path given for an app with several instances gets "-ID" before its extension,
 * so instances do not share one pid file or log: out.log → out-3.log. */
char *applog_instance_path(const char *path, const struct spec *s, int id)
{
	if (s->instances <= 1 || discarded(path))
		return xstrdup(path);
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path))
		return xasprintf("%s-%d", path, id);
	return xasprintf("%.*s-%d%s", (int)(dot - path), path, id, dot);
}

bool applog_no_default_files;

static char *log_path(const struct spec *s, const char *given, const char *kind, int id)
{
	if (!given && applog_no_default_files)   /* tend runtime: the output is the container's */
		return xstrdup("/dev/null");
	if (!given || !*given)
		return default_path(s, kind, id);
	return s->merge_logs ? xstrdup(given) : applog_instance_path(given, s, id);
}

void applog_set_paths(struct proc *p)
{
	const struct spec *s = p->spec;
	p->log.out_path = log_path(s, s->out_file, "out", p->id);
	p->log.err_path = log_path(s, s->err_file, "error", p->id);
	p->log.comb_path = s->log_file ? log_path(s, s->log_file, "", p->id) : NULL;
}

void applog_free_paths(struct proc *p)
{
	free(p->log.out_path);
	free(p->log.err_path);
	free(p->log.comb_path);
	p->log.out_path = p->log.err_path = p->log.comb_path = NULL;
}

static int *fd_of(struct proc *p, int which)
{
	return which == 0 ? &p->log.out : which == 1 ? &p->log.err : &p->log.comb;
}

static const char *path_of(const struct proc *p, int which)
{
	return which == 0 ? p->log.out_path : which == 1 ? p->log.err_path : p->log.comb_path;
}

static int open_log(const char *path, bool report)
{
	if (!path || discarded(path))
		return -1;
	char why[PATH_MAX + 300];
	int fd = safe_open_append(path, O_NONBLOCK, 0640, why, sizeof why);
	if (fd < 0 && report)
		dlog("app log %s", why);
	return fd;
}

static void close_log(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void applog_open(struct proc *p)
{
	for (int which = 0; which < 3; which++) {
		int *fd = fd_of(p, which);
		if (*fd >= 0)
			continue;
		*fd = open_log(path_of(p, which), true);
		struct stat st;
		p->log.size[which] = *fd >= 0 && fstat(*fd, &st) == 0 ? st.st_size : 0;
	}
}

static void close_files(struct proc *p)
{
	for (int which = 0; which < 3; which++)
		close_log(fd_of(p, which));
}

void applog_close(struct proc *p)
{
	close_files(p);
}

void applog_flush(struct proc *p)
{
	const char *paths[] = {p->log.out_path, p->log.err_path, p->log.comb_path};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		if (paths[i] && !discarded(paths[i]) && truncate(paths[i], 0) < 0 && errno != ENOENT)
			dlog("flush %s: %s", paths[i], strerror(errno));
	memset(p->log.size, 0, sizeof p->log.size);
	/* Open files are O_APPEND: their next write lands at the new end. */
}

void applog_reopen(struct proc *p)
{
	close_files(p);
	if (p->run.pid > 0)
		applog_open(p);
}

int64_t applog_default_max_size;   /* TEND_LOG_MAX_SIZE: for apps that set none */
int applog_default_retain = 10;    /* TEND_LOG_RETAIN */

struct rotated {
	char *name;
	int64_t mtime_ns;
};

static int cmp_age(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;
	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep the newest `retain` rotated files: by modification time, which is when each
 * stopped being written (several rotations within a second share a name's time). */
static void prune(const char *dir, const char *prefix, const char *ext, int retain)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct rotated *files = NULL;
	int n = 0;
	struct dirent *de;
	size_t plen = strlen(prefix), elen = strlen(ext);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= plen + elen || strncmp(de->d_name, prefix, plen) != 0 ||
		    strcmp(de->d_name + len - elen, ext) != 0)
			continue;
		char *full = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(full, &st) == 0) {
			files = xrealloc(files, (size_t)(n + 1) * sizeof *files);
			files[n++] = (struct rotated){full, (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
		} else {
			free(full);
		}
	}
	closedir(d);
	if (n > 1)
		qsort(files, (size_t)n, sizeof *files, cmp_age);
	for (int i = 0; i < n; i++) {
		if (i < n - retain)
			unlink(files[i].name);
		free(files[i].name);
	}
	free(files);
}

/* Rename the file aside with its time in the name, then drop the oldest rotated
 * ones: out.log → out__2026-11-21_14-25-03.log. Rename, never copy. */
bool logfile_rotate(const char *path, int retain)
{
	size_t len = strlen(path);
	const char *ext = len > 4 && !strcmp(path + len - 4, ".log") ? ".log" : "";
	size_t base = len - strlen(ext);
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d_%H-%M-%S", &tm);
	char *to = xasprintf("%.*s__%s%s", (int)base, path, when, ext);
	for (int i = 1; access(to, F_OK) == 0 && i < 1000; i++) {
		free(to);
		to = xasprintf("%.*s__%s.%03d%s", (int)base, path, when, i, ext);
	}
	int r = rename(path, to);
	free(to);
	if (r < 0)
		return false;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	char *prefix = xasprintf("%.*s__", (int)(base - (size_t)(slash ? slash + 1 - path : 0)),
	                         slash ? slash + 1 : path);
	prune(dir, prefix, ext, retain);
	free(dir);
	free(prefix);
	return true;
}

static void rotate(struct proc *p, int which)
{
	const char *path = path_of(p, which);
	int retain = p->spec->log_retain >= 0 ? p->spec->log_retain : applog_default_retain;
	p->log.size[which] = 0;   /* on failure: try again after another max_size */
	if (!logfile_rotate(path, retain)) {
		dlog("%s[%d]: rotate %s: %s", p->spec->name, p->id, path, strerror(errno));
		return;
	}
	int *fd = fd_of(p, which);
	close_log(fd);
	*fd = open_log(path, true);
}

/* Once a second while an app writes: open again the files that could not be opened
 * (the failure was counted), and recreate those deleted under us (writes to a deleted
 * file succeed, into nothing). */
static void check_files(struct proc *p)
{
	for (int which = 0; which < 3; which++) {
		const char *path = path_of(p, which);
		int *fd = fd_of(p, which);
		struct stat st;
		if (!path || discarded(path))
			continue;
		if (*fd >= 0 && fstat(*fd, &st) == 0 && st.st_nlink == 0) {
			dlog("%s[%d]: log file %s was deleted: writing a new one", p->spec->name, p->id, path);
			close_log(fd);
		}
		if (*fd < 0) {
			*fd = open_log(path, !(p->log.failing & 1u << which));
			p->log.size[which] = 0;
		}
	}
}

static void log_failed(struct proc *p, int which, size_t n, const char *why)
{
	if (!(p->log.failing & 1u << which))
		dlog("%s[%d]: writing %s failed: %s; dropping its output until it works",
		     p->spec->name, p->id, path_of(p, which), why);
	p->log.failing |= 1u << which;
	p->log.dropped += (int64_t)n;
}

static void write_log(struct proc *p, int which, const char *data, size_t n)
{
	if (n == 0 || !path_of(p, which) || discarded(path_of(p, which)))
		return;
	int64_t now = mono_ms();
	if (now >= p->log.check_at) {
		check_files(p);
		p->log.check_at = now + LOG_CHECK_MS;
	}
	int fd = *fd_of(p, which);
	if (fd < 0) {
		log_failed(p, which, n, "the file could not be opened");
		return;
	}
	int64_t max = p->spec->log_max_size ? p->spec->log_max_size : applog_default_max_size;
	if (max > 0 && p->log.size[which] > 0 && p->log.size[which] + (int64_t)n > max) {
		rotate(p, which);
		if ((fd = *fd_of(p, which)) < 0) {
			log_failed(p, which, n, "the file could not be opened");
			return;
		}
	}
	if (write_all(fd, data, n)) {
		p->log.size[which] += (int64_t)n;
		if (p->log.failing & 1u << which) {
			dlog("%s[%d]: writing %s works again (%lld bytes were dropped in all)",
			     p->spec->name, p->id, path_of(p, which), (long long)p->log.dropped);
			p->log.failing &= ~(1u << which);
		}
		return;
	}
	log_failed(p, which, n, strerror(errno));
}

/* Complete lines → formatted records in both files that take them. */
static void write_lines(struct proc *p, int stream, const char *data, size_t n)
{
	static struct buf out;
	const struct spec *s = p->spec;
	struct logline_opts o = {.time = s->log_time, .json = s->log_json,
	                         .app_name = s->name, .process_id = p->id};
	int64_t now = wall_ms();
	if (logstream_subscribers)
		logstream_lines(p, stream, data, n, now);
	if (!s->log_lines)
		return;   /* split only for the subscribers: the files got the bytes as they came */
	buf_reset(&out);
	/* data holds lines separated by '\n', the last one without it: "" is one line. */
	for (size_t i = 0;;) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : n - i;
		logline_append(&out, &o, stream ? LOG_ERR : LOG_OUT, now, data + i, len);
		if (!nl)
			break;
		i += len + 1;
	}
	write_log(p, stream, out.data, out.len);
	write_log(p, 2, out.data, out.len);
	if (out.cap > 1 << 20)
		buf_free(&out);   /* a huge burst does not keep its buffer */
}

static void take_lines(struct proc *p, struct process *pr, int stream, const char *chunk, size_t n)
{
	struct buf *part = &pr->partial[stream];
	const char *last = memrchr(chunk, '\n', n);
	if (!last) {
		buf_add(part, chunk, n);
		if (part->len >= PARTIAL_MAX) {   /* a very long line is split, not lost */
			write_lines(p, stream, part->data, part->len);
			buf_reset(part);
		}
	} else {
		size_t head = (size_t)(last - chunk);   /* complete lines, without the last \n */
		if (part->len) {
			buf_add(part, chunk, head);
			write_lines(p, stream, part->data, part->len);
			buf_reset(part);
		} else {
			write_lines(p, stream, chunk, head);
		}
		buf_add(part, last + 1, n - head - 1);
	}
	if (pr->partial[0].len || pr->partial[1].len) {
		if (!pr->partial_at)
			pr->partial_at = mono_ms() + PARTIAL_HOLD_MS;
	} else {
		pr->partial_at = 0;
	}
}

void applog_flush_partial(struct proc *p, struct process *pr)
{
	for (int stream = 0; stream < 2; stream++) {
		struct buf *part = &pr->partial[stream];
		if (part->len)
			write_lines(p, stream, part->data, part->len);
		buf_free(part);
	}
	pr->partial_at = 0;
}

void applog_drain_exited(struct proc *p, struct process *pr)
{
	if (pr->out_fd >= 0)
		applog_drain(p, pr, pr->out_fd);
	if (pr->err_fd >= 0)
		applog_drain(p, pr, pr->err_fd);
	applog_flush_partial(p, pr);
}

void applog_drain(struct proc *p, struct process *pr, int fd)
{
	static char chunk[65536];
	int stream = fd == pr->out_fd ? 0 : 1;
	int *pipe_fd = stream ? &pr->err_fd : &pr->out_fd;
	for (int round = 0; round < READS_PER_WAKE; round++) {
		ssize_t n = read_retry(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_log(pipe_fd);
			return;
		}
		if (!p->spec->log_lines)
			write_log(p, stream, chunk, (size_t)n);
		if (p->spec->log_lines || logstream_subscribers)
			take_lines(p, pr, stream, chunk, (size_t)n);
		if ((size_t)n < sizeof chunk)
			return;
	}
}
