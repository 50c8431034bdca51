/* tend update: the daemon replaces its own program in place. It writes what it knows
 * (apps, instances, counters, held partial lines, proxied connections, clients and
 * their log subscriptions) as JSON into a memfd, lets the fds that carry it (app
 * pipes, IPC channels, listening and proxied sockets, client connections, its lock and
 * control socket) survive exec, and executes the new binary, which takes everything
 * back: same pid, so the apps stay its children; no app restarts, no byte of output is
 * lost (unread output waits in the pipes). The client that asked hears the new daemon.
 * The format is versioned and only ever extended: a newer daemon reads an older one's. */
#ifndef TEND_UPGRADE_H
#define TEND_UPGRADE_H

#include "daemon/ctl.h"

/* The daemon's own fds and settings that go across. */
struct daemon_state {
	int listen_fd, lock_fd, notify_fd;
	bool foreground;
	int64_t log_size;
	int64_t started_wall;   /* when this daemon first started (kept across updates) */
	long long child_nofile; /* the fd limit apps get (the daemon raised its own) */
};

/* Is an update possible now? False with why (a reload going on, a command of another
 * client still waiting, ...). */
bool upgrade_possible(const struct client *updater, char *why, size_t whylen);
/* Does exe look like a tend that can resume a daemon? False with why. */
bool upgrade_can_resume(const char *exe, char *why, size_t whylen);
/* Exec exe with the state; returns only when that failed (why says so; nothing has
 * changed, the daemon goes on). */
void upgrade_exec(const char *exe, const struct client *updater, const struct daemon_state *ds,
                  char *why, size_t whylen);
/* In the new program: read the state from fd, rebuild everything; ds gets the daemon's
 * own fds; *updater the client to answer. False with why when the state is unusable. */
bool upgrade_restore(int fd, struct daemon_state *ds, struct client **updater, char *previous_build,
                     size_t buildlen, char *why, size_t whylen);
/* Keep fd open across exec; returns fd. */
int upgrade_keep(int fd);

#endif
