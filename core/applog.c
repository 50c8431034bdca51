/* App logs. Two ways through:
 *  - as it comes: bytes from the pipe are appended to the file unchanged (the common
 *    case, and the fastest);
 *  - line by line, when lines need a timestamp, a JSON record, or must not interleave
 *    in the combined log_file: a partial line is held until its newline, or written
 *    as a line after PARTIAL_HOLD_MS, or split once it is PARTIAL_MAX long.
 * A write that fails (full disk, read-only file, deleted directory) drops those bytes
 * and counts them (log_bytes_dropped in describe); the failure is logged once, and the
 * next write that works logs the recovery. */
#include "applog.h"
#include "home.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	PARTIAL_HOLD_MS = 500,
	PARTIAL_MAX = 64 << 10,
	READS_PER_WAKE = 4,     /* so one chatty app cannot starve the others */
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

static char *log_path(const struct spec *s, const char *given, const char *kind, int id)
{
	if (!given || !*given)
		return default_path(s, kind, id);
	return s->merge_logs ? xstrdup(given) : applog_instance_path(given, s, id);
}

void applog_set_paths(struct proc *p)
{
	const struct spec *s = p->spec;
	p->out_path = log_path(s, s->out_file, "out", p->id);
	p->err_path = log_path(s, s->err_file, "error", p->id);
	p->comb_path = s->log_file ? log_path(s, s->log_file, "", p->id) : NULL;
}

void applog_free_paths(struct proc *p)
{
	free(p->out_path);
	free(p->err_path);
	free(p->comb_path);
	p->out_path = p->err_path = p->comb_path = NULL;
}

static int open_log(const char *path)
{
	if (!path || discarded(path))
		return -1;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
	if (fd < 0 && errno == ENOENT) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			mkdir_p(dir, 0750);
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
		}
	}
	if (fd < 0)
		dlog("app log %s: %s", path, strerror(errno));
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
	if (p->out_log < 0)
		p->out_log = open_log(p->out_path);
	if (p->err_log < 0)
		p->err_log = open_log(p->err_path);
	if (p->comb_log < 0)
		p->comb_log = open_log(p->comb_path);
}

void applog_close(struct proc *p)
{
	close_log(&p->out_log);
	close_log(&p->err_log);
	close_log(&p->comb_log);
	buf_free(&p->partial[0]);
	buf_free(&p->partial[1]);
	p->partial_at = 0;
}

void applog_reopen(struct proc *p)
{
	close_log(&p->out_log);
	close_log(&p->err_log);
	close_log(&p->comb_log);
	if (p->pid > 0)
		applog_open(p);
}

static void write_log(struct proc *p, int fd, const char *data, size_t n)
{
	if (fd < 0 || n == 0)
		return;
	if (write_all(fd, data, n)) {
		if (p->log_failing) {
			dlog("%s[%d]: log writes work again (%lld bytes were dropped)", p->spec->name,
			     p->id, (long long)p->log_dropped);
			p->log_failing = false;
		}
		return;
	}
	if (!p->log_failing)
		dlog("%s[%d]: log write failed: %s; dropping output until it works", p->spec->name,
		     p->id, strerror(errno));
	p->log_failing = true;
	p->log_dropped += (int64_t)n;
}

/* Complete lines → formatted records in both files that take them. */
static void write_lines(struct proc *p, int stream, const char *data, size_t n)
{
	static struct buf out;
	const struct spec *s = p->spec;
	struct logline_opts o = {.time = s->log_time, .json = s->log_json,
	                         .app_name = s->name, .process_id = p->id};
	int64_t now = wall_ms();
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
	write_log(p, stream ? p->err_log : p->out_log, out.data, out.len);
	write_log(p, p->comb_log, out.data, out.len);
	if (out.cap > 1 << 20)
		buf_free(&out);   /* a huge burst does not keep its buffer */
}

static void take_lines(struct proc *p, int stream, const char *chunk, size_t n)
{
	struct buf *part = &p->partial[stream];
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
	if (p->partial[0].len || p->partial[1].len) {
		if (!p->partial_at)
			p->partial_at = mono_ms() + PARTIAL_HOLD_MS;
	} else {
		p->partial_at = 0;
	}
}

void applog_flush_partial(struct proc *p)
{
	for (int stream = 0; stream < 2; stream++) {
		struct buf *part = &p->partial[stream];
		if (part->len)
			write_lines(p, stream, part->data, part->len);
		buf_free(part);
	}
	p->partial_at = 0;
}

void applog_drain(struct proc *p, int fd)
{
	static char chunk[65536];
	int stream = fd == p->out_fd ? 0 : 1;
	int *pipe_fd = stream ? &p->err_fd : &p->out_fd;
	for (int round = 0; round < READS_PER_WAKE; round++) {
		ssize_t n = read_retry(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_log(pipe_fd);
			return;
		}
		if (p->spec->log_lines)
			take_lines(p, stream, chunk, (size_t)n);
		else
			write_log(p, stream ? p->err_log : p->out_log, chunk, (size_t)n);
		if ((size_t)n < sizeof chunk)
			return;
	}
}
