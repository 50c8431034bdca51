#include "client/conn.h"
#include "client/client.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LINE_MAX_BYTES = 64 << 20 };   /* a jlist of thousands of apps fits */

bool conn_open(struct conn *c, const struct buf *req)
{
	buf_reset(&c->in);
	buf_reset(&c->out);
	c->scanned = 0;
	c->replied = c->ok = false;
	c->gen++;
	signal(SIGPIPE, SIG_IGN);
	c->fd = client_connect();
	if (c->fd < 0)
		return false;
	set_nonblock(c->fd, true);
	buf_add(&c->out, req->data, req->len);
	return true;
}

void conn_close(struct conn *c)
{
	c->gen++;
	close_fd(&c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	c->scanned = 0;
}

short conn_events(const struct conn *c)
{
	return (short)(POLLIN | (c->out.len ? POLLOUT : 0));
}

static void final_line(struct conn *c, char *line, size_t len)
{
	struct jdoc d;
	bool ok = false;
	long long code = 1;
	char *error = NULL;
	if (json_parse(&d, line, len)) {
		json_as_bool(&d, json_get(&d, 0, "ok"), &ok);
		code = ok ? 0 : 1;
		json_as_ll(&d, json_get(&d, 0, "code"), &code);
		error = json_dup(&d, json_get(&d, 0, "error"));
		json_free(&d);
	}
	c->replied = true;
	c->ok = ok;
	if (c->on_reply)
		c->on_reply(c, ok, (int)code, error);
	free(error);
}

static void gone(struct conn *c)
{
	c->gen++;
	close_fd(&c->fd);
	if (c->on_close)
		c->on_close(c);
}

void conn_ready(struct conn *c, short revents)
{
	if (c->fd < 0)
		return;
	if ((revents & POLLOUT) && c->out.len) {
		ssize_t w = write(c->fd, c->out.data, c->out.len);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			gone(c);
			return;
		}
		if (w > 0)
			buf_consume(&c->out, (size_t)w);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	unsigned gen = c->gen;
	for (int round = 0; round < 8 && c->gen == gen; round++) {
		buf_grow(&c->in, 65536);
		ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			gone(c);
			return;
		}
		c->in.len += (size_t)n;
		char *nl;
		/* (a list of thousands of apps is one line of megabytes: scanned once) */
		while (c->gen == gen && (nl = memchr(c->in.data + c->scanned, '\n', c->in.len - c->scanned))) {
			c->scanned = 0;
			size_t len = (size_t)(nl - c->in.data);
			*nl = 0;
			if (!c->replied && len > 6 && !memcmp(c->in.data, "{\"ok\":", 6))
				final_line(c, c->in.data, len);
			else if (c->on_line)
				c->on_line(c, c->in.data, len);
			if (c->gen == gen)   /* (a callback may have closed or reopened it) */
				buf_consume(&c->in, len + 1);
		}
		if (c->gen == gen)
			c->scanned = c->in.len;
		if (c->gen == gen && c->in.len > LINE_MAX_BYTES) {
			gone(c);
			return;
		}
	}
}
