/* The web applet's HTTP server (core/client/http.c) on one connection: the input is
 * what a client sends, on a socketpair the server adopts; the loop runs until the
 * server closes or goes quiet. The handler answers at once, later (deferred), or turns
 * the connection into a stream, by the path's first letter. Every reply must be a
 * whole HTTP/1.1 status line with a known code, and nothing may leak or crash. */
#include "fuzz.h"
#include "client/http.h"

#include <sys/socket.h>
#include <unistd.h>

static struct http_conn *later;
static unsigned long later_serial;

static void handle(struct http_conn *c, const struct http_request *r)
{
	FUZZ_ASSERT(r->method && r->path && r->query && r->path[0] == '/');
	FUZZ_ASSERT(r->body_len == 0 || r->body != NULL);
	switch (r->path[1]) {
	case 'd':   /* deferred: answered on the next pass */
		http_defer(c);
		later = c;
		later_serial = http_serial(c);
		break;
	case 's':
		http_stream_begin(c, NULL);
		http_stream_send(c, "data: x\n\n", 9);
		break;
	default: {
		char q[64];
		http_query(r->query, "a", q, sizeof q);
		/* The decoded path as the body, its line ends blanked: a %0a in the path would
		 * otherwise put "\nHTTP/..." of the client's choosing into a body, which the
		 * check below cannot tell from a reply (CI's crash-fc14e470: a false alarm). */
		char *body = xstrdup(r->path);
		for (char *p = body; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = '_';
		http_reply(c, 200, "X-Test: 1\r\n", "text/plain", body, strlen(body));
		free(body);
	}
	}
}

/* Every pass looks without waiting: the harness, not the clock, drives it. */
static bool never_wait(void) { return true; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool valid_replies(const char *out, size_t n)
{
	/* every "HTTP/" at a line start begins a status line "HTTP/1.1 NNN " */
	for (size_t i = 0; i + 5 <= n; i++) {
		if ((i == 0 || out[i - 1] == '\n') && !memcmp(out + i, "HTTP/", 5)) {
			if (i + 13 > n || memcmp(out + i, "HTTP/1.1 ", 9) != 0)
				return false;
			int code = atoi(out + i + 9);
			if (code < 100 || code > 599)
				return false;
		}
	}
	return n == 0 || !memcmp(out, "HTTP/1.1 ", 9);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	struct http_limits lim = {.max_conns = 4, .max_header = 2048, .max_body = 1024,
	                          .header_ms = 50, .idle_ms = 50, .max_pending = 1 << 16};
	http_adopt(sv[0], &lim, handle);
	set_nonblock(sv[1], true);
	size_t sent = 0;
	struct buf out = {0};
	struct loop l = {0};
	loop_add_source(&l, &http_source);
	loop_after_pass(&l, never_wait);
	for (int pass = 0; pass < 40 && http_open_connections(); pass++) {
		if (sent < size) {
			ssize_t w = write(sv[1], data + sent, size - sent);
			if (w > 0)
				sent += (size_t)w;
			if (sent == size)
				shutdown(sv[1], SHUT_WR);
		}
		loop_pass(&l);
		if (later && http_find(later_serial) == later) {
			http_reply(later, 202, NULL, NULL, "later", 5);
			later = NULL;
		}
		char chunk[4096];
		ssize_t r;
		while ((r = read(sv[1], chunk, sizeof chunk)) > 0)
			buf_add(&out, chunk, (size_t)r);
	}
	later = NULL;
	FUZZ_ASSERT(valid_replies(out.data ? out.data : "", out.len));
	http_close_all();
	loop_pass(&l);   /* frees what was closed */
	loop_free(&l);
	close(sv[1]);
	buf_free(&out);
	return 0;
}
