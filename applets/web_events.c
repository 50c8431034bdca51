/* GET /api/events: server-sent events. The server follows the daemon's event stream
 * (with samples) and its log lines once a client asks, numbers each message, keeps the
 * last ones, and sends every client what comes; a client that reconnects with
 * Last-Event-ID (or ?lastEventId=) first gets what it missed that is still kept. */
#include "applets/web.h"
#include "client/client.h"
#include "client/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	KEEP_EVENTS = 2048,        /* kept for reconnects */
	KEEP_BYTES = 4 << 20,
	SAMPLE_MS = 2000,
	PING_MS = 15000,           /* a comment now and then: proxies keep the stream */
	RETRY_MS = 1000,           /* the daemon gone: try again */
};

struct event {
	unsigned long long id;
	char *text;                /* "id: N\nevent: T\ndata: {...}\n\n" */
	size_t len;
};

static struct event ring[KEEP_EVENTS];
static int nring, head;        /* head: the oldest */
static size_t ring_bytes;
static unsigned long long next_id = 1;
static struct conn events_conn = {.fd = -1}, logs_conn = {.fd = -1};
static bool wanted;            /* a client has asked: follow the daemon from now on */
static int64_t ping_at, retry_at;

static void drop_oldest(void)
{
	ring_bytes -= ring[head].len;
	free(ring[head].text);
	ring[head].text = NULL;
	head = (head + 1) % KEEP_EVENTS;
	nring--;
}

static void send_to(struct http_conn *c, void *arg)
{
	const struct event *e = arg;
	http_stream_send(c, e->text, e->len);
}

/* A message of the daemon's stream, as an event to every client. */
static void publish(const char *type, const char *json, size_t len)
{
	while (nring && (nring == KEEP_EVENTS || ring_bytes + len > KEEP_BYTES))
		drop_oldest();
	struct event *e = &ring[(head + nring) % KEEP_EVENTS];
	e->id = next_id++;
	e->text = xasprintf("id: %llu\nevent: %s\ndata: %.*s\n\n", e->id, type, (int)len, json);
	e->len = strlen(e->text);
	ring_bytes += e->len;
	nring++;
	http_each_stream(send_to, e);
}

static void on_event(struct conn *c, char *line, size_t len)
{
	(void)c;
	char type[16] = "event";
	struct jdoc d;
	if (json_parse(&d, line, len) && d.tok[0].type == JSMN_OBJECT) {
		char *t = json_dup(&d, json_get(&d, 0, "event"));
		if (t && strlen(t) < sizeof type)
			snprintf(type, sizeof type, "%s", t);
		else if (json_get(&d, 0, "missed") >= 0)
			snprintf(type, sizeof type, "missed");
		free(t);
	}
	json_free(&d);
	publish(type, line, len);
}

static void on_log(struct conn *c, char *line, size_t len)
{
	(void)c;
	if (len > 7 && !memcmp(line, "{\"log\":", 7))
		publish("log", line, len);
}

static void on_reply(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	if (!ok) {
		fprintf(stderr, "tend-web: the daemon refused a subscription: %s\n", error ? error : "?");
		conn_close(c);
	}
}

static void on_gone(struct conn *c)
{
	(void)c;
	conn_close(&events_conn);
	conn_close(&logs_conn);
	retry_at = mono_ms() + RETRY_MS;
	const char msg[] = "{\"event\":\"daemon\",\"what\":\"gone\"}";
	publish("daemon", msg, sizeof msg - 1);
}

static void follow(void)
{
	struct buf req = {0};
	req_begin(&req, "events");
	json_kint(&req, "samples", SAMPLE_MS);
	req_end(&req);
	events_conn = (struct conn){.fd = -1, .on_line = on_event, .on_reply = on_reply, .on_close = on_gone};
	bool up = conn_open(&events_conn, &req);
	buf_free(&req);
	if (up) {
		req_begin(&req, "logs");
		req_end(&req);
		logs_conn = (struct conn){.fd = -1, .on_line = on_log, .on_reply = on_reply, .on_close = on_gone};
		conn_open(&logs_conn, &req);
		buf_free(&req);
	}
	retry_at = up ? 0 : mono_ms() + RETRY_MS;
}

void web_events_open(struct http_conn *c, const char *last_id)
{
	http_stream_begin(c, "X-Accel-Buffering: no\r\n");
	char retry[32];
	int n = snprintf(retry, sizeof retry, "retry: %d\n\n", RETRY_MS);
	http_stream_send(c, retry, (size_t)n);
	unsigned long long after = last_id ? strtoull(last_id, NULL, 10) : 0;
	if (last_id)   /* what it missed, still kept */
		for (int i = 0; i < nring; i++) {
			const struct event *e = &ring[(head + i) % KEEP_EVENTS];
			if (e->id > after && !http_stream_send(c, e->text, e->len))
				return;
		}
	if (!wanted) {
		wanted = true;
		follow();
	}
	if (!ping_at)
		ping_at = mono_ms() + PING_MS;
}

/* ---- the loop --------------------------------------------------------------------------- */

static struct conn *const conns[] = {&events_conn, &logs_conn};

static size_t src_most(void) { return ARRAY_LEN(conns); }

static size_t src_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(conns); i++)
		if (conns[i]->fd >= 0) {
			fds[n] = (struct pollfd){.fd = conns[i]->fd, .events = conn_events(conns[i])};
			tags[n++] = conns[i];
		}
	return n;
}

static void src_ready(struct pollfd *pfd, void *tag)
{
	conn_ready(tag, pfd->revents);
}

static int64_t src_deadline(void)
{
	return retry_at && (!ping_at || retry_at < ping_at) ? retry_at : ping_at;
}

static void ping(struct http_conn *c, void *arg)
{
	(void)arg;
	http_stream_send(c, ": ping\n\n", 8);
}

static void src_fire(int64_t now)
{
	if (retry_at && retry_at <= now && wanted)
		follow();
	if (ping_at && ping_at <= now) {
		http_each_stream(ping, NULL);
		ping_at = now + PING_MS;
	}
}

const struct loop_source web_events_source = {
	.name = "events", .fill = src_fill, .most = src_most, .ready = src_ready,
	.next_deadline = src_deadline, .fire = src_fire,
};
