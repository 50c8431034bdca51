/* web's parts: the command and the server (web.c), the API's routes and what they ask
 * the daemon (web_api.c), Prometheus and PM2's JSON (web_format.c). */
#ifndef TEND_WEB_H
#define TEND_WEB_H

#include "client/http.h"
#include "lib/json.h"
#include "lib/loop.h"

struct web {
	const char *host, *cors, *cert, *key;
	int port, max_conns;
	bool public_read, expose_env, pm2_metrics;
	int sigfd;
	bool quit;
};
extern struct web W;

bool web_authorized(const struct http_request *r);
void web_route(struct http_conn *c, const struct http_request *r);
/* The daemon exchanges the routes wait on, and the signals that end the server. */
extern const struct loop_source web_daemon_source;
bool web_after_pass(void);

/* web_events.c: a client of /api/events (last_id: Last-Event-ID, or NULL); the
 * daemon's streams it follows. */
void web_events_open(struct http_conn *c, const char *last_id);
extern const struct loop_source web_events_source;

/* web_dashboard.c: the page (its size, for the docs). */
void web_dashboard(struct http_conn *c);
size_t web_dashboard_size(void);

/* web_format.c: d holds a jlist array (token 0). */
void web_metrics(struct buf *b, const struct jdoc *d);
void web_pm2_root(struct buf *b, const struct jdoc *d);

#endif
