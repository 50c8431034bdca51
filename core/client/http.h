/* A small HTTP/1.1 server for the web applet, in a poll loop: bounded in every way a
 * client could stretch it (connections, header and body sizes, the time a request may
 * take to arrive, idle keep-alive, output a client does not read), so one slow or
 * hostile client never delays another. Requests are handled one at a time per
 * connection (pipelined ones wait their turn); a handler may answer later (while it
 * asks the daemon), or turn the connection into a stream (server-sent events). */
#ifndef TEND_HTTP_H
#define TEND_HTTP_H

#include "lib/loop.h"

struct http_request {
	const char *method;      /* "GET", "POST", ... */
	const char *path;        /* percent-decoded, without the query */
	const char *query;       /* after '?', raw; "" if none */
	const char *authorization, *origin, *last_event_id, *content_type;   /* NULL if absent */
	const char *body;
	size_t body_len;
	bool head;               /* HEAD: the reply's body is left out */
};

struct http_conn;
typedef void http_handler(struct http_conn *c, const struct http_request *r);

struct http_limits {
	int max_conns;           /* at once; past it a client gets 503 and is closed */
	size_t max_header, max_body;
	int header_ms;           /* a request must have arrived whole within this */
	int idle_ms;             /* a keep-alive connection with nothing to do is closed */
	size_t max_pending;      /* bytes queued for a client that does not read: dropped */
};

/* Listen on host:port ("127.0.0.1", "::", a name of a local address...). */
bool http_listen(const char *host, int port, const struct http_limits *lim, http_handler *h,
                 char *err, size_t errlen);
/* Serve a connection made elsewhere (an inherited socket, a test's socketpair). */
void http_adopt(int fd, const struct http_limits *lim, http_handler *h);
/* Serve HTTPS: every connection through TLS (tls_server_setup must have succeeded). */
void http_use_tls(void);
/* Every response header line the server adds to each reply (CORS, ...), "" for none. */
void http_set_common_headers(const char *lines);

/* Answer: status, extra header lines ("Name: value\r\n"...), content type, body. */
void http_reply(struct http_conn *c, int status, const char *headers, const char *ctype,
                const char *body, size_t len);
/* The handler answers later: keep the connection (find it again by its serial). */
void http_defer(struct http_conn *c);
unsigned long http_serial(const struct http_conn *c);
struct http_conn *http_find(unsigned long serial);
/* A stream (text/event-stream): the headers now, data as it comes; false once the
 * client is gone or too far behind (it is closed). */
void http_stream_begin(struct http_conn *c, const char *headers);
bool http_stream_send(struct http_conn *c, const char *data, size_t len);
/* The streams open now, for a broadcast: call fn for each. */
void http_each_stream(void (*fn)(struct http_conn *c, void *arg), void *arg);
int http_open_connections(void);
void http_close_all(void);

/* Helpers for handlers: a query parameter's value (decoded into out), a status text. */
bool http_query(const char *query, const char *name, char *out, size_t n);
const char *http_status_text(int status);

extern const struct loop_source http_source;

#endif
