/* Live app output for `logs` subscribers: complete lines, as the apps wrote them, sent
 * to every control connection that asked for them. A subscriber that reads too slowly
 * loses lines (it is told how many) rather than growing the daemon or slowing an app. */
#ifndef TEND_LOGSTREAM_H
#define TEND_LOGSTREAM_H

#include "daemon/ctl.h"
#include "lib/json.h"
#include "daemon/proc.h"

/* Subscribers now: the log pipeline splits lines for them only when there are some. */
extern int logstream_subscribers;

/* Subscribe c to the instances that the "targets" of object obj of d match (see
 * sub_init; none: all apps, present and future); out/err: which streams. False with
 * err on a bad target. */
bool logstream_subscribe(struct client *c, const struct jdoc *d, int obj, bool out, bool err,
                         char *errbuf, size_t errlen);
void logstream_unsubscribe(struct client *c);
void logstream_caught_up(struct client *c);   /* c sent some backlog (sub_caught_up) */
/* tend update: c's subscriptions, and back. */
void logstream_save(struct buf *b, const struct client *c);
void logstream_restore(struct client *c, const struct jdoc *d, int arr);
/* Lines of p's stream (0 out, 1 err): n bytes of lines separated by '\n', the last one
 * without it; received at wall-clock ms. */
void logstream_lines(const struct proc *p, int stream, const char *data, size_t n, int64_t ms);

#endif
