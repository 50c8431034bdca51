/* logs: the last lines of each app's log files, then its output live from the daemon.
 *
 * The daemon answers with each instance's files and their sizes at the moment it
 * subscribed this connection; tailing up to those sizes, then printing the stream,
 * shows every line once: none missed between the two, none twice. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/logfmt.h"
#include "lib/opt.h"
#include "client/table.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//applet: logs logs_main logs_help o show app logs, then follow them live

const char logs_help[] =
	"usage: tend logs [TARGET...] [--lines N] [--out|--err] [--raw|--json]\n"
	"                 [--timestamp [FORMAT]] [--nostream] [--no-color]\n"
	"\n"
	"Print the last lines of the targets' log files (id, name, namespace, all,\n"
	"/regex/; every app without targets), then their output as it comes, as\n"
	"\"ID|NAME | line\" (colored per app on a terminal). Without targets, apps\n"
	"started later are followed too. Ends on Ctrl-C, or cleanly when the reader of\n"
	"its output goes away (tend logs | head).\n"
	"\n"
	"      --lines N          lines of each file to print first (default 15; 0: none)\n"
	"      --out              only standard output\n"
	"      --err              only standard error\n"
	"      --raw              the lines alone, without the ID|NAME prefix\n"
	"      --json             one JSON object per line: message, timestamp, type,\n"
	"                         process_id, app_name (PM2's keys)\n"
	"      --timestamp [FMT]  prefix lines with the time they were received, in\n"
	"                         dayjs tokens (default YYYY-MM-DD-HH:mm:ss)\n"
	"      --nostream         print the last lines and exit\n"
	"      --no-color         never use colors\n"
	"\n"
	"A reader too slow for the apps' output misses lines rather than slow them down;\n"
	"it is told on stderr how many. Lines read from files are shown as they are in\n"
	"the file (with the app's time or JSON format, if it has one).\n"
	"Exit status: 0; 1 when the daemon goes away or a target matches nothing;\n"
	"2 bad usage.\n";

enum { O_LINES = 1, O_OUT, O_ERR, O_RAW, O_JSON, O_TIMESTAMP, O_NOSTREAM, O_NO_COLOR };
static const struct opt options[] = {
	{"lines", 0, OPT_REQUIRED, O_LINES},
	{"out", 0, OPT_NONE, O_OUT},
	{"err", 0, OPT_NONE, O_ERR},
	{"raw", 0, OPT_NONE, O_RAW},
	{"json", 0, OPT_NONE, O_JSON},
	{"timestamp", 0, OPT_OPTIONAL, O_TIMESTAMP},
	{"nostream", 0, OPT_NONE, O_NOSTREAM},
	{"no-color", 0, OPT_NONE, O_NO_COLOR},
	{0},
};

struct logfile {
	char *path;
	long long size;
};

struct instance {
	int id;
	char *name;
	struct logfile file[2];   /* out, err */
};

static struct {
	long long lines;
	bool want[2], raw, json, nostream, color;
	bool timestamp;
	struct datefmt time;
	struct instance *inst;
	int ninst;
	int name_width;
	struct buf out;   /* what goes to stdout next */
} L = {.lines = 15, .want = {true, true}};

/* ---- output ------------------------------------------------------------------- */

/* Write what is pending; the reader went away (tend logs | head): a clean end. */
static void flush_out(void)
{
	if (L.out.len && !write_all(1, L.out.data, L.out.len)) {
		if (errno == EPIPE)
			exit(EXIT_OK);
		die("writing: %s", strerror(errno));
	}
	buf_reset(&L.out);
}

static const char *app_color(int id, int stream)
{
	static const char *const palette[] = {"\033[36m", "\033[32m", "\033[35m", "\033[34m", "\033[33m"};
	return stream ? "\033[31m" : palette[id % (int)ARRAY_LEN(palette)];
}

static void emit(int id, const char *name, int stream, int64_t at, const char *line, size_t len)
{
	if (L.json) {
		struct logline_opts o = {.time = L.timestamp ? &L.time : NULL, .json = true,
		                         .app_name = name, .process_id = id};
		logline_append(&L.out, &o, stream ? LOG_ERR : LOG_OUT, at, line, len);
	} else {
		if (!L.raw) {
			if (L.color)
				buf_puts(&L.out, app_color(id, stream));
			buf_printf(&L.out, "%d|%-*s |", id, L.name_width, name);
			buf_puts(&L.out, L.color ? "\033[0m " : " ");
		}
		if (L.timestamp) {
			char when[DATEFMT_OUT_MAX];
			size_t n = datefmt_format(&L.time, at, when, sizeof when);
			buf_add(&L.out, when, n);
			buf_putc(&L.out, ' ');
		}
		buf_add(&L.out, line, len);
		buf_putc(&L.out, '\n');
	}
	if (L.out.len >= 1 << 16)
		flush_out();
}

/* Lines in data, each ending in '\n' except perhaps the last one. */
static void emit_lines(int id, const char *name, int stream, int64_t at, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t len = nl ? (size_t)(nl - data) : n;
		emit(id, name, stream, at, data, len);
		if (!nl)
			break;
		n -= len + 1;
		data += len + 1;
	}
}

/* ---- the last lines of a file --------------------------------------------------- */

enum {
	TAIL_SCAN_MAX = 8 << 20,   /* bytes read back looking for line starts */
	LINE_PIECE = 64 << 10,     /* a longer line is shown in pieces, as the daemon writes it */
};

/* Where the last `lines` lines of fd's first `size` bytes begin; no further back than
 * TAIL_SCAN_MAX (a file whose last line is a gigabyte shows its last 8 MiB). */
static off_t tail_start(int fd, off_t size, long long lines)
{
	char block[65536];
	off_t end = size, floor = size > TAIL_SCAN_MAX ? size - TAIL_SCAN_MAX : 0;
	long long seen = 0;
	bool last_byte = true;
	while (end > floor) {
		off_t from = end - floor > (off_t)sizeof block ? end - (off_t)sizeof block : floor;
		ssize_t n = pread(fd, block, (size_t)(end - from), from);
		if (n <= 0)
			return 0;
		for (ssize_t i = n - 1; i >= 0; i--) {
			if (block[i] != '\n')
				continue;
			if (last_byte && from + i == size - 1)
				continue;   /* the newline that ends the last line */
			if (++seen == lines)
				return from + i + 1;
		}
		last_byte = false;
		end = from;
	}
	return floor;
}

static void tail_file(const struct instance *in, int stream)
{
	const struct logfile *f = &in->file[stream];
	if (!f->path || !strcmp(f->path, "/dev/null") || !strcmp(f->path, "NULL") || f->size <= 0)
		return;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;   /* not written yet, or gone: nothing to show */
	off_t pos = tail_start(fd, (off_t)f->size, L.lines);
	if (L.color && !L.raw && !L.json)
		buf_printf(&L.out, "\033[2m%s last %lld lines:\033[0m\n", f->path, L.lines);
	int64_t now = wall_ms();
	struct buf line = {0};
	char block[65536];
	while (pos < (off_t)f->size) {
		size_t want = (size_t)((off_t)f->size - pos) < sizeof block ? (size_t)((off_t)f->size - pos) : sizeof block;
		ssize_t n = pread(fd, block, want, pos);
		if (n <= 0)
			break;
		pos += n;
		const char *last = memrchr(block, '\n', (size_t)n);
		if (!last) {
			buf_add(&line, block, (size_t)n);
			if (line.len >= LINE_PIECE) {   /* a very long line: in pieces, not whole */
				emit_lines(in->id, in->name, stream, now, line.data, line.len);
				buf_reset(&line);
			}
			continue;
		}
		size_t head = (size_t)(last - block) + 1;
		buf_add(&line, block, head);
		emit_lines(in->id, in->name, stream, now, line.data, line.len);
		buf_reset(&line);
		buf_add(&line, last + 1, (size_t)n - head);
	}
	if (line.len)
		emit_lines(in->id, in->name, stream, now, line.data, line.len);
	buf_free(&line);
	close(fd);
}

/* ---- the daemon's answer and stream ---------------------------------------------- */

static void take_file(const struct jdoc *d, int obj, struct logfile *f)
{
	f->path = json_dup(d, json_get(d, obj, "path"));
	json_as_ll(d, json_get(d, obj, "size"), &f->size);
}

static void on_instance(const char *line, size_t len, void *arg)
{
	(void)arg;
	struct jdoc d;
	if (!json_parse(&d, line, len))
		die("bad reply from the daemon: %.80s", line);
	L.inst = xrealloc(L.inst, (size_t)(L.ninst + 1) * sizeof *L.inst);
	struct instance *in = &L.inst[L.ninst++];
	memset(in, 0, sizeof *in);
	long long id = 0;
	json_as_ll(&d, json_get(&d, 0, "id"), &id);
	in->id = (int)id;
	in->name = json_dup(&d, json_get(&d, 0, "name"));
	if (!in->name)
		in->name = xstrdup("?");
	take_file(&d, json_get(&d, 0, "out"), &in->file[0]);
	take_file(&d, json_get(&d, 0, "err"), &in->file[1]);
	if ((int)strlen(in->name) > L.name_width)
		L.name_width = (int)strlen(in->name);
	json_free(&d);
}

/* One message of the stream (see logstream.c in the daemon). */
static void on_message(char *line, size_t len)
{
	struct jdoc d;
	if (!json_parse(&d, line, len) || d.tok[0].type != JSMN_OBJECT)
		die("bad message from the daemon: %.80s", line);
	int log = json_get(&d, 0, "log");
	long long missed;
	if (log >= 0) {
		long long id = 0, at = 0;
		json_as_ll(&d, json_get(&d, log, "id"), &id);
		json_as_ll(&d, json_get(&d, log, "at"), &at);
		char *name = json_dup(&d, json_get(&d, log, "name"));
		int stream = json_eq(&d, json_get(&d, log, "stream"), "err");
		int data = json_get(&d, log, "data");
		if (name && data >= 0) {
			if ((int)strlen(name) > L.name_width)
				L.name_width = (int)strlen(name);
			const jsmntok_t *t = &d.tok[data];
			long n = json_unescape(line + t->start, (size_t)(t->end - t->start), line + t->start);
			if (n >= 0)
				emit_lines((int)id, name, stream, at, line + t->start, (size_t)n);
		}
		free(name);
	} else if (json_as_ll(&d, json_get(&d, 0, "missed"), &missed)) {
		flush_out();
		warn("missed %lld lines: this reader is slower than the apps' output", missed);
	}
	json_free(&d);
}

/* ---- options ------------------------------------------------------------------- */

/* --timestamp takes an optional format: `--timestamp web` means the app web. */
static bool looks_like_format(const char *s)
{
	static const char *const tokens[] = {"YY", "MM", "DD", "HH", "hh", "mm", "ss", "SSS"};
	for (size_t i = 0; i < ARRAY_LEN(tokens); i++)
		if (strstr(s, tokens[i]))
			return true;
	return false;
}

static void parse_options(struct optstate *s, int argc, char **argv, bool *no_color,
                          char ***targets, int *ntargets)
{
	const char *fmt = NULL;
	char *extra = NULL;
	int id;
	opt_init(s, argc, argv);
	while ((id = opt_next_or_die(s, options)) != OPT_END) {
		switch (id) {
		case O_LINES:
			if (!parse_int(s->arg, 0, 1000000000, &L.lines))
				die_usage("--lines: expected a number, got '%s'", s->arg);
			break;
		case O_OUT: L.want[1] = false; break;
		case O_ERR: L.want[0] = false; break;
		case O_RAW: L.raw = true; break;
		case O_JSON: L.json = true; break;
		case O_NOSTREAM: L.nostream = true; break;
		case O_NO_COLOR: *no_color = true; break;
		case O_TIMESTAMP:
			L.timestamp = true;
			if (s->arg && looks_like_format(s->arg))
				fmt = s->arg;
			else if (s->arg)
				extra = (char *)s->arg;
			break;
		}
	}
	if (!L.want[0] && !L.want[1])
		die_usage("--out and --err: choose one, or neither for both");
	if (L.raw && L.json)
		die_usage("--raw and --json: choose one");
	char err[160];
	if (L.timestamp && !datefmt_compile(&L.time, fmt ? fmt : "YYYY-MM-DD-HH:mm:ss", err, sizeof err))
		die_usage("--timestamp: %s", err);
	*targets = xcalloc((size_t)s->npos + 2, sizeof **targets);
	*ntargets = 0;
	if (extra)
		(*targets)[(*ntargets)++] = extra;
	for (int i = 0; i < s->npos; i++)
		(*targets)[(*ntargets)++] = s->pos[i];
}

int logs_main(int argc, char **argv)
{
	struct optstate s;
	bool no_color = false;
	char **targets;
	int ntargets;
	parse_options(&s, argc, argv, &no_color, &targets, &ntargets);
	L.color = want_color(1, no_color);

	struct buf req = {0};
	req_begin(&req, "logs");
	if (ntargets)
		req_targets(&req, targets, ntargets);
	json_kbool(&req, "out", L.want[0]);
	json_kbool(&req, "err", L.want[1]);
	json_kbool(&req, "stream", !L.nostream);
	req_end(&req);
	struct reply rep;
	struct buf in = {0};
	int fd = call_stream(&req, on_instance, NULL, &rep, &in);
	buf_free(&req);
	if (fd < 0)
		exit(reply_status(&rep));
	reply_free(&rep);

	for (int i = 0; L.lines > 0 && i < L.ninst; i++)
		for (int stream = 0; stream < 2; stream++)
			if (L.want[stream])
				tail_file(&L.inst[i], stream);
	flush_out();
	int status = L.nostream ? EXIT_OK : follow_stream(fd, &in, on_message, flush_out);
	close(fd);
	buf_free(&in);
	buf_free(&L.out);
	for (int i = 0; i < L.ninst; i++) {
		free(L.inst[i].name);
		free(L.inst[i].file[0].path);
		free(L.inst[i].file[1].path);
	}
	free(L.inst);
	free(targets);
	opt_free(&s);
	return status;
}
