/* Each message is one JSON line on the subscriber's connection:
 *   {"log":{"id":0,"name":"web","stream":"out","at":MS,"data":"line\nline\n"}}
 *   {"missed":N}   N lines were dropped before the next message: the reader was slow.
 * The lines of one pipe read go out as one message, so a flood costs one JSON string
 * per 64 KiB, not one per line. */
#include "logstream.h"
#include "clients.h"
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	PENDING_MAX = 1 << 20,     /* unsent bytes a subscriber may have before it misses lines */
	GIVE_UP_MS = 60000,        /* a subscriber missing everything this long is dropped */
};

struct logsub {
	struct client *c;
	struct target *targets;   /* none: every app */
	int ntargets;
	bool want[2];             /* out, err */
	long long missed;         /* lines dropped since the last message sent */
	int64_t missing_since;    /* monotonic ms when it began to miss, or 0 */
	struct logsub *next;
};

static struct logsub *subs;
int logstream_subscribers;

bool logstream_subscribe(struct client *c, const struct jdoc *d, int targets, bool out, bool err,
                         char *errbuf, size_t errlen)
{
	struct logsub *s = xcalloc(1, sizeof *s);
	s->c = c;
	s->want[0] = out;
	s->want[1] = err;
	int n = targets >= 0 ? d->tok[targets].size : 0;
	s->targets = xcalloc((size_t)n + 1, sizeof *s->targets);
	char *cwd = json_dup(d, json_get(d, 0, "cwd"));
	for (int i = 0, e = targets + 1; i < n; i++, e = json_next(d, e)) {
		char *word = json_dup(d, e);
		bool ok = word && target_compile(&s->targets[i], word, cwd, errbuf, errlen);
		free(word);
		if (!ok) {
			while (--i >= 0)
				target_free(&s->targets[i]);
			free(s->targets);
			free(s);
			free(cwd);
			return false;
		}
		target_settle(&s->targets[i]);
		s->ntargets++;
	}
	free(cwd);
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
		if (s->c != c) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		for (int i = 0; i < s->ntargets; i++)
			target_free(&s->targets[i]);
		free(s->targets);
		free(s);
		logstream_subscribers--;
	}
}

static bool wants(struct logsub *s, const struct proc *p, int stream)
{
	if (!s->want[stream] || s->c->closing)
		return false;
	if (s->ntargets == 0)
		return true;
	for (int i = 0; i < s->ntargets; i++)
		if (target_matches(&s->targets[i], p))
			return true;
	return false;
}

static long long count_lines(const char *data, size_t n)
{
	long long lines = 1;
	for (const char *q = data; (q = memchr(q, '\n', n - (size_t)(q - data))); q++)
		lines++;
	return lines;
}

static void send_notice(struct logsub *s)
{
	char line[64];
	int len = snprintf(line, sizeof line, "{\"missed\":%lld}\n", s->missed);
	client_send(s->c, line, (size_t)len);
	s->missed = 0;
	s->missing_since = 0;
}

void logstream_lines(const struct proc *p, int stream, const char *data, size_t n, int64_t ms)
{
	static struct buf msg;
	buf_reset(&msg);
	for (struct logsub *s = subs; s; s = s->next) {
		if (!wants(s, p, stream))
			continue;
		/* Once missing, it misses until half its backlog is gone: fewer, longer runs
		 * of lines between notices. */
		size_t limit = s->missing_since ? PENDING_MAX / 2 : PENDING_MAX;
		if (client_queued(s->c) > limit) {
			int64_t now = mono_ms();
			if (!s->missing_since)
				s->missing_since = now;
			s->missed += count_lines(data, n);
			if (now - s->missing_since > GIVE_UP_MS) {
				dlog("logs subscriber missed %lld lines in %d s: disconnected", s->missed,
				     GIVE_UP_MS / 1000);
				client_drop_output(s->c);
			}
			continue;
		}
		if (s->missed)
			send_notice(s);
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
		client_send(s->c, msg.data, msg.len);
	}
	if (msg.cap > 1 << 20)
		buf_free(&msg);
}

void logstream_save(struct buf *b, const struct client *c)
{
	json_key(b, "subs");
	json_open(b, '[');
	for (const struct logsub *s = subs; s; s = s->next) {
		if (s->c != c)
			continue;
		json_open(b, '{');
		json_key(b, "targets");
		if (s->ntargets) {
			json_open(b, '[');
			for (int i = 0; i < s->ntargets; i++)
				json_str(b, s->targets[i].word);
			json_close(b, ']');
		} else {
			json_null(b);
		}
		json_kbool(b, "out", s->want[0]);
		json_kbool(b, "err", s->want[1]);
		json_kint(b, "missed", s->missed);
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
		int t = json_get(d, o, "targets");
		char why[200];
		if (!logstream_subscribe(c, d, t >= 0 && !json_is_null(d, t) ? t : -1, out, err, why, sizeof why))
			continue;
		long long missed = 0;
		json_as_ll(d, json_get(d, o, "missed"), &missed);
		subs->missed = missed;   /* the newest subscription is first */
	}
}
