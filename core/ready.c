#include "ready.h"
#include "home.h"
#include "procfs.h"
#include "safefile.h"

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
		if (p->pid > 0 && (p->pid == pid || (have && st.pgid == p->pid)))
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
			proc_ready(p);
	}
}

static void ipc_message(struct proc *p, const char *line, size_t len)
{
	struct jdoc d;
	if (!json_parse(&d, line, len))
		return;   /* not ours to judge: node only sends JSON */
	if (json_eq(&d, 0, "ready"))
		proc_ready(p);
	else if (d.tok[0].type == JSMN_OBJECT && json_eq(&d, json_get(&d, 0, "type"), "tend:listening"))
		proc_listening(p);
	json_free(&d);
}

void ready_ipc_read(struct proc *p)
{
	for (int round = 0; round < 16 && p->ipc_fd >= 0; round++) {
		buf_grow(&p->ipc_in, 65536);
		ssize_t n = recv(p->ipc_fd, p->ipc_in.data + p->ipc_in.len, p->ipc_in.cap - p->ipc_in.len - 1,
		                 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {   /* the app closed its end (or exited) */
			close(p->ipc_fd);
			p->ipc_fd = -1;
			break;
		}
		p->ipc_in.len += (size_t)n;
		char *nl;
		while ((nl = memchr(p->ipc_in.data, '\n', p->ipc_in.len))) {
			ipc_message(p, p->ipc_in.data, (size_t)(nl - p->ipc_in.data));
			buf_consume(&p->ipc_in, (size_t)(nl - p->ipc_in.data) + 1);
		}
		if (p->ipc_in.len > IPC_LINE_MAX)
			buf_reset(&p->ipc_in);   /* a message this long is not one we read */
	}
	if (p->ipc_in.cap > 1 << 16 && p->ipc_in.len == 0)
		buf_free(&p->ipc_in);
}

bool ready_ipc_send(struct proc *p, const char *json)
{
	if (p->ipc_fd < 0)
		return false;
	size_t len = strlen(json);
	char *line = xasprintf("%s\n", json);
	/* Tiny and rare (shutdown): the socket buffer takes it whole, or it is dropped. */
	ssize_t w = send(p->ipc_fd, line, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(line);
	return w == (ssize_t)len + 1;
}
