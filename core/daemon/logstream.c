/* Each message is one JSON line on the subscriber's connection:
 *   {"log":{"id":0,"name":"web","stream":"out","at":MS,"data":"line\nline\n"}}
 *   {"missed":N}   N lines were dropped before the next message: the reader was slow.
 * The lines of one pipe read go out as one message, so a flood costs one JSON string
 * per 64 KiB, not one per line. */
#include "daemon/logstream.h"
#include "daemon/clients.h"
#include "daemon/subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct logsub {
	struct subscription sub;
	bool want[2];             /* out, err */
	struct logsub *next;
};

static struct logsub *subs;
int logstream_subscribers;

bool logstream_subscribe(struct client *c, const struct jdoc *d, int obj, bool out, bool err,
                         char *errbuf, size_t errlen)
{
	struct logsub *s = xcalloc(1, sizeof *s);
	if (!sub_init(&s->sub, c, d, obj, errbuf, errlen)) {
		free(s);
		return false;
	}
	s->want[0] = out;
	s->want[1] = err;
	s->next = subs;
	subs = s;
	logstream_subscribers++;
	return true;
}

/* Every subscription of c: a connection may have asked more than once. */
void logstream_unsubscribe(struct client *c)
{
	for (struct logsub **pp = &subs; *pp;) {
		struct logsub *s = *pp;
		if (s->sub.c != c) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		sub_fini(&s->sub);
		free(s);
		logstream_subscribers--;
	}
}

void logstream_caught_up(struct client *c)
{
	for (struct logsub *s = subs; s; s = s->next)
		if (s->sub.c == c)
			sub_caught_up(&s->sub);
}

static long long count_lines(const char *data, size_t n)
{
	long long lines = 1;
	for (const char *q = data; (q = memchr(q, '\n', n - (size_t)(q - data))); q++)
		lines++;
	return lines;
}

void logstream_lines(const struct proc *p, int stream, const char *data, size_t n, int64_t ms)
{
	static struct buf msg;
	buf_reset(&msg);
	for (struct logsub *s = subs; s; s = s->next) {
		if (!s->want[stream] || !sub_matches(&s->sub, p))
			continue;
		if (!sub_room(&s->sub, count_lines(data, n), "log lines"))
			continue;
		if (!msg.len) {
			json_open(&msg, '{');
			json_key(&msg, "log");
			json_open(&msg, '{');
			json_kint(&msg, "id", p->id);
			json_kstr(&msg, "name", p->spec->name);
			json_kstr(&msg, "stream", stream ? "err" : "out");
			json_kint(&msg, "at", ms);
			json_key(&msg, "data");
			json_strn(&msg, data, n);
			/* data's last line has no newline of its own: give it one inside the
			 * string ("...\"" becomes "...\n\""). */
			msg.len--;
			buf_puts(&msg, "\\n\"");
			json_close(&msg, '}');
			json_close(&msg, '}');
			buf_putc(&msg, '\n');
		}
		client_send(s->sub.c, msg.data, msg.len);
	}
	if (msg.cap > 1 << 20)
		buf_free(&msg);
}

void logstream_save(struct buf *b, const struct client *c)
{
	json_key(b, "subs");
	json_open(b, '[');
	for (const struct logsub *s = subs; s; s = s->next) {
		if (s->sub.c != c)
			continue;
		json_open(b, '{');
		sub_save_targets(b, &s->sub);
		json_kbool(b, "out", s->want[0]);
		json_kbool(b, "err", s->want[1]);
		json_kint(b, "missed", s->sub.missed);
		json_close(b, '}');
	}
	json_close(b, ']');
}

void logstream_restore(struct client *c, const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		bool out = true, err = true;
		json_as_bool(d, json_get(d, o, "out"), &out);
		json_as_bool(d, json_get(d, o, "err"), &err);
		char why[200];
		if (!logstream_subscribe(c, d, o, out, err, why, sizeof why))
			continue;
		long long missed = 0;
		json_as_ll(d, json_get(d, o, "missed"), &missed);
		subs->sub.missed = missed;   /* the newest subscription is first */
		sub_caught_up(&subs->sub);   /* the notice now, if there is room for it */
	}
}
