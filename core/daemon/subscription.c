#include "daemon/subscription.h"
#include "daemon/clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

enum {
	PENDING_MAX = 1 << 20,   /* unsent bytes a subscriber may have before it misses */
	GIVE_UP_MS = 60000,      /* a subscriber missing everything this long is dropped */
	/* The kernel's share of a subscriber's backlog. Connections get a 4 MiB send buffer
	 * for big replies (clients.c); a stream needs no such thing, and a reader that
	 * stopped would pin that much kernel memory before PENDING_MAX even counts. */
	SUBSCRIBER_SNDBUF = 1 << 18,
};

bool sub_init(struct subscription *s, struct client *c, const struct jdoc *d, int obj,
              char *err, size_t errlen)
{
	int targets = json_get(d, obj, "targets");
	if (json_is_null(d, targets))
		targets = -1;
	*s = (struct subscription){.c = c};
	if (c->fd >= 0) {
		int sndbuf = SUBSCRIBER_SNDBUF;
		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	}
	int n = targets >= 0 ? d->tok[targets].size : 0;
	s->targets = xcalloc((size_t)n + 1, sizeof *s->targets);
	char *cwd = json_dup(d, json_get(d, obj, "cwd"));
	for (int i = 0, e = targets + 1; i < n; i++, e = json_next(d, e)) {
		char *word = json_dup(d, e);
		if (!word)
			snprintf(err, errlen, "targets: expected strings");
		bool ok = word && target_compile(&s->targets[i], word, cwd, err, errlen);
		free(word);
		if (!ok) {
			sub_fini(s);
			free(cwd);
			return false;
		}
		target_settle(&s->targets[i]);
		s->ntargets++;
	}
	s->cwd = cwd;
	return true;
}

void sub_fini(struct subscription *s)
{
	for (int i = 0; i < s->ntargets; i++)
		target_free(&s->targets[i]);
	free(s->targets);
	s->targets = NULL;
	free(s->cwd);
	s->cwd = NULL;
	s->ntargets = 0;
}

bool sub_matches(const struct subscription *s, const struct proc *p)
{
	if (s->c->closing)
		return false;
	if (s->ntargets == 0)
		return true;
	for (int i = 0; i < s->ntargets; i++)
		if (target_follows(&s->targets[i], p))
			return true;
	return false;
}

/* Once missing, it misses until half its backlog is gone: fewer, longer runs of misses
 * between notices. */
static size_t backlog_limit(const struct subscription *s)
{
	return s->missing_since ? PENDING_MAX / 2 : PENDING_MAX;
}

static void notice_missed(struct subscription *s)
{
	if (s->missed) {
		char line[64];
		int len = snprintf(line, sizeof line, "{\"missed\":%lld}\n", s->missed);
		client_send(s->c, line, (size_t)len);
	}
	s->missed = 0;
	s->missing_since = 0;
}

void sub_caught_up(struct subscription *s)
{
	if (!s->missed || s->c->closing)
		return;
	if (client_queued(s->c) <= backlog_limit(s))
		notice_missed(s);
	else
		s->c->missing = true;   /* still behind: ask again at its next write */
}

bool sub_room(struct subscription *s, long long messages, const char *what)
{
	if (client_queued(s->c) > backlog_limit(s)) {
		int64_t now = mono_ms();
		if (!s->missing_since)
			s->missing_since = now;
		s->missed += messages;
		s->c->missing = true;
		if (now - s->missing_since > GIVE_UP_MS) {
			dlog("a subscriber missed %lld %s in %d s: disconnected", s->missed, what,
			     GIVE_UP_MS / 1000);
			client_drop_output(s->c);
		}
		return false;
	}
	notice_missed(s);
	return true;
}

void sub_save_targets(struct buf *b, const struct subscription *s)
{
	if (s->cwd)
		json_kstr(b, "cwd", s->cwd);
	json_key(b, "targets");
	if (!s->ntargets) {
		json_null(b);
		return;
	}
	json_open(b, '[');
	for (int i = 0; i < s->ntargets; i++)
		json_str(b, s->targets[i].word);
	json_close(b, ']');
}
