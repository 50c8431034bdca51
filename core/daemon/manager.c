/* The service manager that runs a foreground daemon (systemd's Type=notify): told
 * READY=1 once the daemon's first request (a boot unit's resurrect) is carried out, and
 * STOPPING=1 when it begins to stop its apps. Nothing happens without NOTIFY_SOCKET. */
#include "daemon/manager.h"
#include "daemon/proc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un addr;
static socklen_t addr_len;

void manager_setup(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n = path ? strlen(path) : 0;
	if (n < 2 || n >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@'))
		return;
	addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	memcpy(addr.sun_path, path, n);
	if (path[0] == '@')
		addr.sun_path[0] = 0;   /* the abstract namespace */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	/* (left in the environment: a daemon `tend update` executes reads it again; the
	 * apps never see it, spawn.c gives them the daemon's own socket) */
}

void manager_notify(const char *state)
{
	if (!addr_len)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0)
		dlog("NOTIFY_SOCKET: %s: cannot send %s", addr.sun_path[0] ? addr.sun_path : "(abstract)", state);
	close(fd);
}
