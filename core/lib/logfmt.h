/* What goes into an app's log file for one line of its output: an optional timestamp
 * in PM2's log_date_format (dayjs tokens), or PM2's log_type "json" record.
 *
 * This is on the log pipeline's hot path: a date format is compiled once into a short
 * list of operations, and localtime_r's answer is cached for the current second. The
 * cache is one static per process, so none of this is thread-safe (the daemon is
 * single-threaded). */
#ifndef TEND_LOGFMT_H
#define TEND_LOGFMT_H

#include "lib/util.h"

#define DATEFMT_MAX 128       /* bytes in a format */
#define DATEFMT_OUT_MAX 2600  /* an output buffer this big is never truncated */

struct datefmt_op {
	uint8_t tok;          /* 0: literal bytes lit[off, off + len) */
	uint8_t len;
	uint8_t off;
};

/* A compiled date format. Fixed size, nothing allocated, copyable. */
struct datefmt {
	struct datefmt_op op[DATEFMT_MAX];
	uint8_t nop;
	bool utc;             /* gmtime instead of localtime (the JSON default) */
	char lit[DATEFMT_MAX];
};

/* Compile fmt; NULL or "" means ISO-8601 with milliseconds and offset,
 * "YYYY-MM-DDTHH:mm:ss.SSSZ" (2026-11-21T14:12:01.123+00:00). Tokens, longest first:
 * YYYY YY  M MM MMM MMMM  D DD  d dd ddd dddd  H HH h hh  m mm  s ss SSS  A a
 * Z (+05:00) ZZ (+0500)  X (unix seconds) x (unix ms). Text in [brackets] is literal
 * and anything else is copied as it is. Unlike dayjs, a lone Y or YYY stays literal
 * (dayjs prints the offset there, an accident of its implementation).
 * False with a reason in err for a format longer than DATEFMT_MAX; *f is then unchanged. */
bool datefmt_compile(struct datefmt *f, const char *fmt, char *err, size_t errlen);

/* Format the wall-clock time ms (since the epoch) in local time (TZ applies) into out,
 * NUL-terminated and truncated to outlen - 1 bytes; returns the length written.
 * 0 for a time localtime_r cannot represent. */
size_t datefmt_format(const struct datefmt *f, int64_t ms, char *out, size_t outlen);

/* Drop the cached local time; call after changing TZ (setenv + tzset). */
void datefmt_tz_changed(void);

enum log_kind { LOG_OUT, LOG_ERR };

struct logline_opts {
	const struct datefmt *time;   /* NULL: no timestamp prefix */
	bool json;                    /* log_type json */
	const char *app_name;
	int process_id;               /* pm_id */
};

/* Append the log line for `line` (len bytes without its newline, any bytes) to out,
 * newline-terminated:
 *  - plain: "<line>\n", or "<timestamp>: <line>\n" with a time format (PM2's ": ").
 *  - json:  {"message":"<line>","timestamp":"<ts>","type":"out"|"err",
 *            "process_id":N,"app_name":"..."}\n  in PM2's key order. Without a time
 *            format ts is PM2's toISOString(): UTC, "2026-11-21T14:12:01.123Z".
 *    The message is a JSON string with invalid UTF-8 replaced by U+FFFD. PM2 writes
 *    whole output chunks, so its message usually ends in "\n"; ours is one line and
 *    carries no newline. */
void logline_append(struct buf *out, const struct logline_opts *o, enum log_kind kind,
                    int64_t ms, const char *line, size_t len);

#endif
