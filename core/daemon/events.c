/* Each message is one JSON line on the subscriber's connection, "at" in wall-clock ms:
 *   {"event":"state","id":0,"name":"web","from":"online","to":"stopping","reason":"stop","pid":4301,"at":MS}
 *   {"event":"exit","id":0,"name":"web","pid":4301,"exit_code":0,"signal":"SIGINT","uptime":MS,"at":MS}
 *   {"event":"delete","id":0,"name":"web","at":MS}
 *   {"event":"daemon","what":"save","detail":"...","pid":DAEMON,"at":MS}
 *   {"event":"sample","id":0,"name":"web","status":"online","pid":4301,"cpu":1.5,
 *    "memory":52428800,"restarts":0,"uptime":MS,"at":MS}
 *   {"missed":N}   N messages were dropped before the next one: the reader was slow.
 * Samples are of the instance's whole process tree, read from /proc when a subscriber's
 * interval comes, at most once per instance per SAMPLE_MIN_MS whoever asks. */
#include "daemon/events.h"
#include "daemon/clients.h"
#include "daemon/subscription.h"
#include "lib/procfs.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SAMPLE_MIN_MS = 100, SAMPLE_MAX_MS = 3600000 };

struct eventsub {
	struct subscription sub;
	int64_t samples_ms;   /* 0: no samples */
	int64_t next_sample;  /* monotonic ms */
	struct eventsub *next;
};

static struct eventsub *subs;
int events_subscribers;

bool events_subscribe(struct client *c, const struct jdoc *d, int obj, int64_t samples_ms,
                      char *err, size_t errlen)
{
	if (samples_ms && (samples_ms < SAMPLE_MIN_MS || samples_ms > SAMPLE_MAX_MS)) {
		snprintf(err, errlen, "samples: %lld ms: expected %d to %d", (long long)samples_ms,
		         SAMPLE_MIN_MS, SAMPLE_MAX_MS);
		return false;
	}
	struct eventsub *s = xcalloc(1, sizeof *s);
	if (!sub_init(&s->sub, c, d, obj, err, errlen)) {
		free(s);
		return false;
	}
	s->samples_ms = samples_ms;
	s->next_sample = samples_ms ? mono_ms() : 0;   /* the first at once */
	s->next = subs;
	subs = s;
	events_subscribers++;
	return true;
}

void events_unsubscribe(struct client *c)
{
	for (struct eventsub **pp = &subs; *pp;) {
		struct eventsub *s = *pp;
		if (s->sub.c != c) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		sub_fini(&s->sub);
		free(s);
		events_subscribers--;
	}
}

void events_caught_up(struct client *c)
{
	for (struct eventsub *s = subs; s; s = s->next)
		if (s->sub.c == c)
			sub_caught_up(&s->sub);
}

/* msg (one complete line) to every subscriber following p (NULL: every subscriber). */
static void publish(const struct proc *p, const struct buf *msg)
{
	for (struct eventsub *s = subs; s; s = s->next) {
		if (p ? !sub_matches(&s->sub, p) : s->sub.c->closing)
			continue;
		if (sub_room(&s->sub, 1, "events"))
			client_send(s->sub.c, msg->data, msg->len);
	}
}

static void begin(struct buf *b, const char *event, const struct proc *p)
{
	buf_reset(b);
	json_open(b, '{');
	json_kstr(b, "event", event);
	if (p) {
		json_kint(b, "id", p->id);
		json_kstr(b, "name", p->spec->name);
	}
}

static void finish(struct buf *b)
{
	json_kint(b, "at", wall_ms());
	json_close(b, '}');
	buf_putc(b, '\n');
}

void events_state(const struct proc *p, enum pstate from, const char *reason)
{
	static struct buf b;
	if (!events_subscribers)
		return;
	begin(&b, "state", p);
	json_kstr(&b, "from", pstate_name(from));
	json_kstr(&b, "to", pstate_name(p->state));
	json_kstr(&b, "reason", reason ? reason : "");
	json_kint(&b, "pid", p->run.pid > 0 ? p->run.pid : 0);
	finish(&b);
	publish(p, &b);
}

void events_exit(const struct proc *p, pid_t pid, int64_t uptime_ms)
{
	static struct buf b;
	if (!events_subscribers)
		return;
	begin(&b, "exit", p);
	json_kint(&b, "pid", pid);
	json_kint(&b, "exit_code", p->exit_code);
	if (p->exit_signal) {
		char sig[32];
		snprintf(sig, sizeof sig, "SIG%s", signal_name(p->exit_signal));
		json_kstr(&b, "signal", sig);
	}
	json_kint(&b, "uptime", uptime_ms);
	finish(&b);
	publish(p, &b);
}

void events_delete(const struct proc *p)
{
	static struct buf b;
	if (!events_subscribers)
		return;
	begin(&b, "delete", p);
	finish(&b);
	publish(p, &b);
}

void events_daemon(const char *what, const char *detail)
{
	static struct buf b;
	if (!events_subscribers)
		return;
	begin(&b, "daemon", NULL);
	json_kstr(&b, "what", what);
	if (detail)
		json_kstr(&b, "detail", detail);
	json_kint(&b, "pid", getpid());
	finish(&b);
	publish(NULL, &b);
}

/* ---- samples --------------------------------------------------------------------- */

/* One write for the whole round (a hundred instances: one syscall, not a hundred). */
static void send_samples(struct eventsub *s, int64_t now)
{
	static struct buf b, round;
	long long lines = 0;
	buf_reset(&round);
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (!sub_matches(&s->sub, p))
			continue;
		daemon_sample_tree(p, now, SAMPLE_MIN_MS);
		begin(&b, "sample", p);
		json_kstr(&b, "status", pstate_name(p->state));
		json_kint(&b, "pid", p->run.pid > 0 ? p->run.pid : 0);
		json_key(&b, "cpu");
		json_num(&b, (double)(int)(p->run.tree_sample.cpu_pct * 10 + 0.5) / 10);
		json_kint(&b, "memory", p->run.tree_sample.rss);
		json_kint(&b, "restarts", p->restarts);
		json_kint(&b, "uptime", p->run.pid > 0 ? now - p->run.started_mono : 0);
		finish(&b);
		buf_add(&round, b.data, b.len);
		lines++;
	}
	if (lines && sub_room(&s->sub, lines, "events"))
		client_send(s->sub.c, round.data, round.len);
	if (round.cap > 1 << 20)
		buf_free(&round);
}

int64_t events_next_deadline(void)
{
	int64_t next = 0;
	for (const struct eventsub *s = subs; s; s = s->next)
		if (s->next_sample && (!next || s->next_sample < next))
			next = s->next_sample;
	return next;
}

void events_fire(int64_t now)
{
	for (struct eventsub *s = subs; s; s = s->next) {
		if (!s->next_sample || s->next_sample > now || s->sub.c->closing)
			continue;
		send_samples(s, now);
		/* On the interval's grid; a late pass does not make a burst. */
		s->next_sample += s->samples_ms;
		if (s->next_sample <= now)
			s->next_sample = now + s->samples_ms;
	}
}

/* ---- tend update --------------------------------------------------------------- */

void events_save(struct buf *b, const struct client *c)
{
	json_key(b, "events");
	json_open(b, '[');
	for (const struct eventsub *s = subs; s; s = s->next) {
		if (s->sub.c != c)
			continue;
		json_open(b, '{');
		sub_save_targets(b, &s->sub);
		json_kint(b, "samples", s->samples_ms);
		json_kint(b, "missed", s->sub.missed);
		json_close(b, '}');
	}
	json_close(b, ']');
}

void events_restore(struct client *c, const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		long long samples = 0, missed = 0;
		json_as_ll(d, json_get(d, o, "samples"), &samples);
		char why[200];
		if (!events_subscribe(c, d, o, samples, why, sizeof why))
			continue;
		json_as_ll(d, json_get(d, o, "missed"), &missed);
		subs->sub.missed = missed;   /* the newest subscription is first */
		sub_caught_up(&subs->sub);   /* the notice now, if there is room for it */
	}
}

const struct loop_source events_source = {
	.name = "events", .next_deadline = events_next_deadline, .fire = events_fire,
};
