/* Small helpers every part of tend uses: errors, memory, growable buffers, time,
 * fds, and the unit parsers (durations, sizes). */
#ifndef TEND_UTIL_H
#define TEND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))

/* Exit codes shared by every applet. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The applet running now, for "tend: APPLET: ..." messages. */
extern const char *applet_name;
extern const char *invoked_as;   /* argv[0] of the process, as it was run */

/* Short-lived commands: print "tend: APPLET: message" and exit. */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);        /* exit 1 */
NORETURN void die_usage(const char *fmt, ...) PRINTF_LIKE(1, 2);  /* exit 2 */
/* One line, and nothing a terminal would act on: a message may quote what a request,
 * a file or another program said (a newline, an escape sequence): each control
 * character of s[0..n) becomes '?'. */
void blank_controls(char *s, size_t n);
void warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
void vwarn(const char *fmt, va_list ap);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_consume(struct buf *b, size_t n);   /* drop n bytes from the front */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Time in milliseconds: monotonic for deadlines, wall clock for display. */
int64_t mono_ms(void);
int64_t wall_ms(void);

/* fd helpers: EINTR handled here, once. */
ssize_t read_retry(int fd, void *p, size_t n);
bool write_all(int fd, const void *p, size_t n);
int set_nonblock(int fd, bool on);
/* Close *fd if open, and mark it closed (-1). */
void close_fd(int *fd);
char *read_file(const char *path, size_t max, size_t *len); /* NULL + errno on error */
int mkdir_p(const char *path, mode_t mode);
/* Mark every fd >= lowest close-on-exec: what a process inherited stays out of the
 * programs it starts. */
void cloexec_from(int lowest);

/* Unit parsers, PM2's spellings. Return false on bad input. */
bool parse_duration_ms(const char *s, int64_t *out);  /* 1500, 10s, 5m, 1h, 2d, 250ms */
bool parse_size(const char *s, int64_t *out);          /* 1024, 10K, 200M, 1G */
bool parse_int(const char *s, long long min, long long max, long long *out);
int signal_from_name(const char *s);                   /* "SIGINT", "INT", "2"; -1 bad */
const char *signal_name(int sig);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one (s[0] >=
 * 0x80); and whether s[0..n) is valid UTF-8 throughout. */
size_t utf8_char_len(const unsigned char *s, size_t n);
bool utf8_valid(const char *s, size_t n);
/* Why name cannot name an app (it makes file names and log lines), or NULL: 1 to 200
 * bytes of UTF-8, no '/', no control characters, not "." or "..". */
const char *app_name_problem(const char *name);
#define NUL_IN_STRING "contains \\u0000 (a NUL character, which no argument or environment can hold)"

/* The edit distance, for "did you mean" suggestions. */
int edit_distance(const char *a, const char *b);
/* A byte count as PM2 shows memory: 512b, 1.5kb, 42.0mb, 1.2gb. */
void format_bytes(char *out, size_t n, long long bytes);

#endif
