#include "client/client.h"
#include "lib/home.h"
#include "lib/version.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DAEMON_START_TIMEOUT_MS = 10000 };

void req_begin(struct buf *b, const char *cmd)
{
	buf_reset(b);
	json_open(b, '{');
	json_kstr(b, "cmd", cmd);
	json_kint(b, "proto", PROTOCOL_VERSION);
	json_kstr(b, "build", tend_build_id);
}

void req_end(struct buf *b)
{
	json_close(b, '}');
	buf_putc(b, '\n');
}

void req_targets(struct buf *b, char **words, int n)
{
	/* A word may name a script file: the daemon resolves it from where we are. */
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd))
		json_kstr(b, "cwd", cwd);
	json_key(b, "targets");
	json_open(b, '[');
	for (int i = 0; i < n; i++)
		json_str(b, words[i]);
	json_close(b, ']');
}

int client_connect(void)
{
	static bool trusted;
	char why[PATH_MAX + 200];
	if (!trusted && !home_trusted(why, sizeof why))
		die("%s", why);
	trusted = true;
	const char *path = home_path(HOME_SOCKET);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		die("%s: socket path too long (at most %zu bytes); use a shorter TEND_HOME", path,
		    sizeof sa.sun_path - 1);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static bool no_daemon_errno(int e)
{
	return e == ENOENT || e == ECONNREFUSED || e == ENOTDIR;
}

bool daemon_spawn(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die("cannot start the daemon: /proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	char why[PATH_MAX + 200];
	if (!home_prepare(why, sizeof why))
		die("%s", why);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("cannot start the daemon: fork: %s", strerror(errno));
	if (pid == 0) {
		/* Detach twice: a new session, and a parent that exits, so the daemon is
		 * nobody's child and never gets a terminal. */
		setsid();
		if (fork() != 0)
			_exit(0);
		close(ready[0]);
		/* The daemon outlives this command: it must not hold our caller's fds
		 * (a pipe someone waits on for EOF), nor hand them to apps. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != ready[1])
				close(fd);
		fcntl(ready[1], F_SETFD, 0);
		/* It runs from /: relative paths in the environment must be made absolute. */
		setenv(home_is_pm2() ? "PM2_HOME" : "TEND_HOME", home_dir(), 1);
		home_export_overrides();
		char fdnum[16];
		snprintf(fdnum, sizeof fdnum, "%d", ready[1]);
		setenv("TEND_READY_FD", fdnum, 1);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);   /* the daemon points 1 and 2 at its log */
			if (null > 2)
				close(null);
		}
		if (chdir("/") < 0)
			_exit(127);
		execl(self, home_is_pm2() ? "pm2" : "tend", "daemon", "--background", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	waitpid(pid, NULL, 0);
	/* The daemon writes news for the user (how its predecessor ended), then "R". */
	char msg[PATH_MAX + 400];
	size_t len = 0;
	int64_t deadline = mono_ms() + DAEMON_START_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
		int64_t left = deadline - mono_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		ssize_t r = read_retry(ready[0], msg + len, sizeof msg - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof msg - 1 || msg[len - 1] == 'R')
			break;
	}
	close(ready[0]);
	bool up = len > 0 && msg[len - 1] == 'R';
	if (up && len > 1)
		warn("%.*s", (int)(len - 1), msg);
	return up;
}

static int connect_daemon(bool autostart)
{
	int fd = client_connect();
	if (fd >= 0 || !autostart)
		return fd;
	if (!no_daemon_errno(errno))
		die("%s: %s", home_path(HOME_SOCKET), strerror(errno));
	/* Whether we start it or another client does, connect once it listens. A spawn
	 * that loses the lock to a daemon on its way out is simply tried again. */
	int64_t deadline = mono_ms() + DAEMON_START_TIMEOUT_MS;
	int64_t next_spawn = 0;
	while ((fd = client_connect()) < 0) {
		if (!no_daemon_errno(errno) || mono_ms() > deadline)
			die("the daemon did not start (see %s)", home_path(HOME_LOG));
		if (mono_ms() >= next_spawn) {
			daemon_spawn();
			next_spawn = mono_ms() + 200;
		} else {
			usleep(2000);
		}
	}
	return fd;
}

static void parse_final(struct reply *rep)
{
	rep->ok = false;
	rep->code = 1;
	if (!json_parse(&rep->doc, rep->line, strlen(rep->line)) || rep->doc.tok[0].type != JSMN_OBJECT)
		die("bad reply from the daemon: %.80s", rep->line);
	json_as_bool(&rep->doc, json_get(&rep->doc, 0, "ok"), &rep->ok);
	long long code = rep->ok ? 0 : 1;
	json_as_ll(&rep->doc, json_get(&rep->doc, 0, "code"), &code);
	rep->code = (int)code;
	rep->error = json_dup(&rep->doc, json_get(&rep->doc, 0, "error"));
}

/* Connect, send req, read data lines up to the final one. Returns the connection, or
 * -1 when !autostart and no daemon runs; bytes read past the final line stay in in. */
static int exchange_once(const struct buf *req, bool autostart, data_fn *on_data, void *arg,
                    struct reply *rep, struct buf *in)
{
	memset(rep, 0, sizeof *rep);
	if (req->len > PROTOCOL_MAX_REQUEST)
		die_usage("the request is %zu bytes; the daemon takes at most %d MiB in one request "
		          "(split the file, or trim the environment with filter_env)", req->len,
		          PROTOCOL_MAX_REQUEST >> 20);
	int fd = connect_daemon(autostart);
	if (fd < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	if (!write_all(fd, req->data, req->len))
		die("sending to the daemon: %s", strerror(errno));
	buf_grow(in, 65536);
	size_t scanned = 0;
	for (;;) {
		char *nl = memchr(in->data + scanned, '\n', in->len - scanned);
		if (nl) {
			size_t len = (size_t)(nl - in->data);
			*nl = 0;
			if (len > 6 && memcmp(in->data, "{\"ok\":", 6) == 0) {
				rep->line = xstrdup(in->data);
				buf_consume(in, len + 1);
				break;
			}
			if (on_data)
				on_data(in->data, len, arg);
			buf_consume(in, len + 1);
			scanned = 0;
			continue;
		}
		scanned = in->len;
		buf_grow(in, 65536);
		ssize_t r = read_retry(fd, in->data + in->len, in->cap - in->len - 1);
		if (r < 0)
			die("reading from the daemon: %s", strerror(errno));
		if (r == 0)
			die("the daemon closed the connection without an answer (see %s)", home_path(HOME_LOG));
		in->len += (size_t)r;
		in->data[in->len] = 0;
	}
	parse_final(rep);
	return fd;
}

/* A daemon from before the protocol was versioned refuses any other build with
 * "the daemon is build X, ...": ask again as build X (every build since speaks a
 * protocol it understands). */
static int exchange(const struct buf *req, bool autostart, data_fn *on_data, void *arg,
                    struct reply *rep, struct buf *in)
{
	int fd = exchange_once(req, autostart, on_data, arg, rep, in);
	static const char old[] = "the daemon is build ";
	const char *e = rep->error;
	if (fd < 0 || rep->ok || rep->code != 3 || !e || strncmp(e, old, sizeof old - 1) != 0 ||
	    strstr(e, "(protocol"))
		return fd;
	char theirs[64];
	if (sscanf(e + sizeof old - 1, "%63[0-9a-f]", theirs) != 1)
		return fd;
	char ours[80];
	snprintf(ours, sizeof ours, "\"build\":\"%s\"", tend_build_id);
	const char *at = strstr(req->data, ours);
	if (!at)
		return fd;
	struct buf again = {0};
	buf_add(&again, req->data, (size_t)(at - req->data));
	buf_printf(&again, "\"build\":\"%s\"", theirs);
	buf_puts(&again, at + strlen(ours));
	close(fd);
	reply_free(rep);
	buf_reset(in);
	fd = exchange_once(&again, autostart, on_data, arg, rep, in);
	buf_free(&again);
	return fd;
}

static bool call_full(const struct buf *req, bool autostart, bool wait_eof, data_fn *on_data,
                      void *arg, struct reply *rep)
{
	struct buf in = {0};
	int fd = exchange(req, autostart, on_data, arg, rep, &in);
	buf_free(&in);
	if (fd < 0)
		return false;
	if (rep->ok && wait_eof) {
		/* kill: the daemon closes this connection as it exits. */
		char sink[256];
		while (read_retry(fd, sink, sizeof sink) > 0)
			;
	}
	close(fd);
	return true;
}

int call_stream(const struct buf *req, data_fn *on_data, void *arg, struct reply *rep,
                struct buf *rest)
{
	int fd = exchange(req, true, on_data, arg, rep, rest);
	if (!rep->ok) {
		close(fd);
		return -1;
	}
	return fd;
}

bool call(const struct buf *req, bool autostart, data_fn *on_data, void *arg, struct reply *rep)
{
	return call_full(req, autostart, false, on_data, arg, rep);
}

bool call_until_exit(const struct buf *req, struct reply *rep)
{
	return call_full(req, false, true, NULL, NULL, rep);
}

void reply_free(struct reply *rep)
{
	json_free(&rep->doc);
	free(rep->line);
	free(rep->error);
	memset(rep, 0, sizeof *rep);
}

int reply_status(const struct reply *rep)
{
	if (rep->ok)
		return EXIT_OK;
	if (rep->code == 3) {
		warn("%s; 'tend update' replaces the daemon with this build, its apps running on",
		     rep->error ? rep->error : "the daemon speaks another protocol");
		return EXIT_FAIL;
	}
	warn("%s", rep->error ? rep->error : "failed");
	return rep->code == 2 ? EXIT_USAGE : EXIT_FAIL;
}

void call_or_die(const struct buf *req, data_fn *on_data, void *arg, struct reply *rep)
{
	call(req, true, on_data, arg, rep);
	if (!rep->ok)
		exit(reply_status(rep));
}

struct list_text {
	char *json;
};

static void keep_list(const char *line, size_t len, void *arg)
{
	struct list_text *l = arg;
	free(l->json);
	l->json = xstrndup(line, len);
}

char *call_list(char **targets, int n, const char *env, struct jdoc *d)
{
	struct buf req = {0};
	req_begin(&req, "list");
	if (n > 0)
		req_targets(&req, targets, n);
	if (env && !strcmp(env, "spawn"))
		json_kstr(&req, "env", "spawn");
	else
		json_kbool(&req, "env", env != NULL);
	req_end(&req);
	struct list_text l = {0};
	struct reply rep;
	call_or_die(&req, keep_list, &l, &rep);
	reply_free(&rep);
	buf_free(&req);
	if (!l.json)
		die("the daemon sent no list");
	if (!json_parse(d, l.json, strlen(l.json)) || d->tok[0].type != JSMN_ARRAY)
		die("bad list from the daemon: %s", d->err[0] ? d->err : "not an array");
	return l.json;
}

/* follow_stream's loop source: the daemon's connection and our stdout. */
static struct {
	int fd, status;   /* status: -1 while following */
	struct buf *in;
	void (*on_line)(char *line, size_t len);
	void (*flush)(void);
} follow;

static size_t follow_most(void) { return 2; }

static size_t follow_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	/* stdout is polled too: a pipe whose reader has gone reports POLLERR, so
	 * `tend logs | head` ends even while the apps are quiet. */
	fds[0] = (struct pollfd){.fd = follow.fd, .events = POLLIN};
	fds[1] = (struct pollfd){.fd = 1, .events = 0};
	tags[0] = tags[1] = NULL;
	return 2;
}

static void follow_ready(struct pollfd *pfd, void *tag)
{
	(void)tag;
	struct buf *in = follow.in;
	if (pfd->fd == 1) {
		if (pfd->revents & (POLLERR | POLLHUP))
			follow.status = EXIT_OK;
		return;
	}
	buf_grow(in, 65536);
	ssize_t n = read_retry(follow.fd, in->data + in->len, in->cap - in->len - 1);
	if (n < 0)
		die("reading from the daemon: %s", strerror(errno));
	if (n == 0)
		die("the daemon closed the stream");
	in->len += (size_t)n;
	in->data[in->len] = 0;
}

static const struct loop_source follow_source = {
	.name = "stream", .fill = follow_fill, .most = follow_most, .ready = follow_ready,
};

/* Every complete line read so far, then one flush. */
static bool follow_lines(void)
{
	char *nl;
	while (follow.in->len && (nl = memchr(follow.in->data, '\n', follow.in->len))) {
		size_t len = (size_t)(nl - follow.in->data);
		*nl = 0;
		follow.on_line(follow.in->data, len);
		buf_consume(follow.in, len + 1);
	}
	follow.flush();
	return false;
}

int follow_stream(int fd, struct buf *in, void (*on_line)(char *line, size_t len),
                  void (*flush)(void))
{
	follow.fd = fd;
	follow.in = in;
	follow.on_line = on_line;
	follow.flush = flush;
	follow.status = -1;
	struct loop l = {0};
	loop_add_source(&l, &follow_source);
	loop_after_pass(&l, follow_lines);
	follow_lines();   /* what came with the reply */
	while (follow.status < 0)
		if (loop_pass(&l) < 0)
			die("poll: %s", strerror(errno));
	loop_free(&l);
	return follow.status;
}
