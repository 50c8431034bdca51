#include "daemon/ready.h"
#include "lib/home.h"
#include "daemon/listener.h"
#include "lib/procfs.h"
#include "lib/safefile.h"
#include "lib/version.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { IPC_LINE_MAX = 1 << 20 };

int ready_notify_fd = -1;

static const char preload_js[] =
#include "node_preload.h"
	;

static void write_preload(void)
{
	const char *path = home_path(HOME_PRELOAD);
	size_t len;
	char *have = read_file(path, sizeof preload_js + 1, &len);
	bool same = have && len == sizeof preload_js - 1 && !memcmp(have, preload_js, len);
	free(have);
	/* node runs it in every app: it must be ours, and only ours to change. */
	struct stat st;
	if (same && (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	             (st.st_mode & (S_IWGRP | S_IWOTH))))
		same = false;
	char why[PATH_MAX + 100];
	if (!same && safe_replace(path, preload_js, sizeof preload_js - 1, 0644, true, why, sizeof why) < 0)
		dlog("node preload %s (node apps in cluster mode will not start)", why);
}

/* An app run as another user (--uid, --gid) cannot read the home (0700): it gets a
 * copy in a directory only root can write and anyone can read, named by the build,
 * so that daemons of one build share it and an update does not change a running
 * app's file. NULL when there is none to be had (not root: then no --uid either). */
static const char *shared_preload(void)
{
	static char path[PATH_MAX];
	static bool done;
	if (done)
		return path[0] ? path : NULL;
	done = true;
	const char *dir = "/run/tend";
	struct stat st;
	if (geteuid() != 0 || (mkdir(dir, 0755) < 0 && errno != EEXIST) || lstat(dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		dlog("node preload for apps run as another user: %s is not root's own directory", dir);
		return NULL;
	}
	char why[PATH_MAX + 100];
	snprintf(path, sizeof path, "%s/node-preload-%s.js", dir, tend_build_id);
	if (safe_replace(path, preload_js, sizeof preload_js - 1, 0644, true, why, sizeof why) < 0) {
		dlog("node preload %s (node apps run as another user will not start)", why);
		path[0] = 0;
		return NULL;
	}
	return path;
}

const char *ready_preload_path(const struct spec *s)
{
	const char *shared = s->has_uid || s->has_gid ? shared_preload() : NULL;
	return shared ? shared : home_path(HOME_PRELOAD);
}

void ready_setup(int inherited)
{
	write_preload();
	if (inherited >= 0) {   /* tend update: the same socket, nothing sent to it is lost */
		ready_notify_fd = inherited;
		return;
	}
	const char *path = home_path(HOME_NOTIFY);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		dlog("notify socket path too long: %s (no NOTIFY_SOCKET for apps)", path);
		return;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	unlink(path);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		dlog("notify socket %s: %s (no NOTIFY_SOCKET for apps)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	ready_notify_fd = fd;
}

void ready_teardown(void)
{
	if (ready_notify_fd < 0)
		return;
	close(ready_notify_fd);
	unlink(home_path(HOME_NOTIFY));
	ready_notify_fd = -1;
}

/* The instance a process belongs to: its leader, or one of its process group. */
static struct proc *proc_of_pid(pid_t pid)
{
	struct pstat st;
	bool have = procfs_stat(pid, &st);
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		if (p->run.pid > 0 && (p->run.pid == pid || (have && st.pgid == p->run.pid)))
			return p;
	}
	return NULL;
}

static bool has_line(const char *msg, size_t n, const char *line)
{
	size_t len = strlen(line);
	for (const char *q = msg; q < msg + n;) {
		const char *end = memchr(q, '\n', (size_t)(msg + n - q));
		size_t l = end ? (size_t)(end - q) : (size_t)(msg + n - q);
		if (l == len && !memcmp(q, line, len))
			return true;
		q += l + 1;
	}
	return false;
}

void ready_notify_read(void)
{
	for (int round = 0; round < 64; round++) {
		char msg[4096];
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct iovec iov = {msg, sizeof msg - 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
		                    .msg_controllen = sizeof ctl};
		ssize_t n = recvmsg(ready_notify_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return;
		struct ucred *cred = NULL;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
				cred = (struct ucred *)CMSG_DATA(c);
			else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (int *fd = (int *)CMSG_DATA(c); (char *)fd < (char *)c + c->cmsg_len; fd++)
					close(*fd);   /* FDSTORE: not kept */
		}
		struct proc *p = cred ? proc_of_pid(cred->pid) : NULL;
		if (p && has_line(msg, (size_t)n, "READY=1"))
			proc_event(p, EV_READY);
	}
}

/* An errno as node names it in err.code, for the few that listen() gives. */
static const char *errno_code(int e)
{
	static const struct {
		int no;
		const char *code;
	} codes[] = {{EADDRINUSE, "EADDRINUSE"}, {EACCES, "EACCES"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
	             {EAFNOSUPPORT, "EAFNOSUPPORT"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOENT, "ENOENT"},
	             {ENOTDIR, "ENOTDIR"}, {EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {EPERM, "EPERM"}};
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		if (codes[i].no == e)
			return codes[i].code;
	return "EINVAL";
}

/* The socket, as node's IPC sends a handle: the message names it, the fd rides along
 * (SCM_RIGHTS). Node answers NODE_HANDLE_ACK, which nobody here waits for. */
static bool send_handle(struct process *pr, long long id, int fd)
{
	char line[160];
	int n = snprintf(line, sizeof line, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\","
	                 "\"msg\":{\"type\":\"tend:listen-ok\",\"id\":%lld}}\n", id);
	struct iovec iov = {line, (size_t)n};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
	                    .msg_controllen = sizeof ctl.space};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	/* A hundred bytes into a channel the app reads: whole, or the app is not reading. */
	return sendmsg(pr->ipc_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == n;
}

/* {"type":"tend:listen","id":N,"port":P,"host":H} or {..."path":"/x.sock"}: the
 * preload of a cluster app's instance calling listen(). Every instance gets the same
 * socket, which the daemon keeps open while the app exists. */
static void listen_request(struct proc *p, struct process *pr, const struct jdoc *d)
{
	long long id = 0, port = 0;
	char err[256] = "";
	int err_no = EINVAL;
	char *host = json_dup(d, json_get(d, 0, "host"));
	char *path = json_dup(d, json_get(d, 0, "path"));
	struct listener *l = NULL;
	if (!json_as_ll(d, json_get(d, 0, "id"), &id) || id < 1 || id > (1LL << 53))
		goto out;   /* nothing to answer to */
	if (!p->spec->cluster || !p->spec->node)
		snprintf(err, sizeof err, "the app is not in cluster mode");
	else if (path ? !*path : !json_as_ll(d, json_get(d, 0, "port"), &port) || port < 1 || port > 65535)
		snprintf(err, sizeof err, "expected a port from 1 to 65535 or a path");
	else   /* a host name: refused there, the daemon never waits on a resolver */
		l = listener_for_app(p->spec->name, host, (int)port, path, &err_no, err, sizeof err);
	if (l && send_handle(pr, id, l->fd)) {
		dlog("%s[%d]: listens on %s (the app's shared socket)", p->spec->name, p->id, l->addr);
	} else {
		if (l)
			snprintf(err, sizeof err, "the app does not read its IPC channel");
		else
			dlog("%s[%d]: listen: %s", p->spec->name, p->id, err);
		struct buf b = {0};
		json_open(&b, '{');
		json_kstr(&b, "type", "tend:listen-error");
		json_kint(&b, "id", id);
		json_kstr(&b, "code", errno_code(err_no));
		json_kstr(&b, "message", err);
		json_close(&b, '}');
		buf_add(&b, "", 1);
		ready_ipc_send(pr, b.data);
		buf_free(&b);
	}
out:
	free(host);
	free(path);
}

/* A message from one of the instance's processes; a reload's old process is past
 * being ready, but may still ask for its socket. */
static void ipc_message(struct proc *p, struct process *pr, const char *line, size_t len)
{
	struct jdoc d;
	if (!json_parse(&d, line, len))
		return;   /* not ours to judge: node only sends JSON */
	bool current = pr == &p->run;
	if (json_eq(&d, 0, "ready")) {
		if (current)
			proc_event(p, EV_READY);
	} else if (d.tok[0].type == JSMN_OBJECT) {
		int type = json_get(&d, 0, "type");
		if (json_eq(&d, type, "tend:listening") && current)
			proc_listening(p);
		else if (json_eq(&d, type, "tend:started") && current)
			proc_main_ran(p);
		else if (json_eq(&d, type, "tend:listen"))
			listen_request(p, pr, &d);
	}
	json_free(&d);
}

void ready_ipc_read(struct proc *p, struct process *pr)
{
	for (int round = 0; round < 16 && pr->ipc_fd >= 0; round++) {
		buf_grow(&pr->ipc_in, 65536);
		ssize_t n = recv(pr->ipc_fd, pr->ipc_in.data + pr->ipc_in.len, pr->ipc_in.cap - pr->ipc_in.len - 1,
		                 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {   /* the app closed its end (or exited) */
			close(pr->ipc_fd);
			pr->ipc_fd = -1;
			break;
		}
		pr->ipc_in.len += (size_t)n;
		char *nl;
		while ((nl = memchr(pr->ipc_in.data, '\n', pr->ipc_in.len))) {
			ipc_message(p, pr, pr->ipc_in.data, (size_t)(nl - pr->ipc_in.data));
			buf_consume(&pr->ipc_in, (size_t)(nl - pr->ipc_in.data) + 1);
		}
		if (pr->ipc_in.len > IPC_LINE_MAX)
			buf_reset(&pr->ipc_in);   /* a message this long is not one we read */
	}
	if (pr->ipc_in.cap > 1 << 16 && pr->ipc_in.len == 0)
		buf_free(&pr->ipc_in);
}

bool ready_ipc_send(struct process *pr, const char *json)
{
	if (pr->ipc_fd < 0)
		return false;
	size_t len = strlen(json);
	char *line = xasprintf("%s\n", json);
	/* Tiny and rare (shutdown): the socket buffer takes it whole, or it is dropped. */
	ssize_t w = send(pr->ipc_fd, line, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(line);
	return w == (ssize_t)len + 1;
}
