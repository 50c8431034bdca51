/* The daemon's side of the control protocol: one JSON request per line, answered by
 * zero or more data lines and a final {"ok":...} line. See man/tend-protocol.7. */
#ifndef TEND_CTL_H
#define TEND_CTL_H

#include "lib/util.h"

#include <sys/types.h>

enum wait_kind {
	WAIT_NONE,
	WAIT_SPAWNED,     /* start: every target's exec confirmed (or failed) */
	WAIT_STOPPED,     /* stop: every target stopped (or errored) */
	WAIT_GONE,        /* delete: every target removed */
	WAIT_RESTARTED,   /* restart: every target spawned anew (or failed) */
	WAIT_SHUTDOWN,    /* kill: every app stopped; then the daemon exits */
	WAIT_RELOADED,    /* reload: every target replaced (or failed), `parallel` at a time */
};

struct wait {
	enum wait_kind kind;
	int n;
	int *ids;
	unsigned *gens;   /* spawn_gen of each target when the request came */
	unsigned long *serials;   /* and its serial: an id given out again is another proc */
	char *extra;      /* JSON members added to the final reply ("skipped":[...]) */
	int parallel;     /* reload: instances replaced at once */
};

struct client {
	int fd;             /* -1: the internal client of a foreground daemon */
	struct buf in, out;
	size_t in_off;      /* in: requests before this were run */
	size_t in_scan;     /* in: no newline before this (from in_off) */
	size_t out_off;     /* out: bytes before this were sent */
	bool closing;       /* close once out is flushed */
	bool missing;       /* a subscription of it misses messages (subscription.c) */
	struct wait wait;
};

/* One request line from c. Writes replies into c->out, or leaves c->wait pending. */
void ctl_request(struct client *c, const char *line, size_t len);
/* Re-check a pending wait after events; completes it when its condition holds. */
void ctl_check_wait(struct client *c);
void ctl_client_free(struct client *c);
/* c's socket took some of its queued output. */
void ctl_client_sent(struct client *c);

/* A request being handled; for the command files (ctl.c, apps.c, dump.c). */
struct request {
	struct client *c;
	struct jdoc *d;
	const char *cmd;
};
void ctl_wait_on(struct client *c, enum wait_kind kind, int *ids, int n);
void ctl_add_id(int **ids, int *n, int id);
void ctl_reply_ok(struct client *c);
/* The request's "parallel" (1 to 4096, default 1); false after replying the error. */
bool request_parallel(struct request *r, int *parallel);

/* apps.c: register and (re)start app declarations. What to do with a name that
 * exists: */
enum start_mode {
	START_NEW,       /* error if running (start SCRIPT); a stopped one starts anew */
	START_SKIP,      /* leave running ones alone (start FILE, resurrect) */
	START_RESTART,   /* take the new declaration and restart (startOrRestart) */
	START_UPDATE,    /* same, but every app must exist (restart FILE) */
};
/* apps: token of an array of app objects in d. reload_parallel: instances of running
 * apps get a rolling reload, so many at a time (0: they restart). extra: JSON members
 * for the reply. */
void apps_start(struct client *c, const struct jdoc *d, int apps, enum start_mode mode,
                bool force, int reload_parallel, const char *extra);
void cmd_start(struct request *r);
void cmd_scale(struct request *r);
/* dump.c */
void cmd_save(struct request *r);
void cmd_resurrect(struct request *r);
void cmd_cleardump(struct request *r);
/* orphan.c: instances a previous daemon left running (it was killed -9). */
struct jdoc;
int orphans_scan(void);   /* how many were found */
void orphans_save(struct buf *b);
void orphans_restore(const struct jdoc *d, int arr);
/* An orphan of the app name, or 0; its pid record's path goes to *its_record (to be
 * removed once the process is gone). */
pid_t orphan_take(const char *name, const char *record, char **its_record);

/* Replies. */
void reply_error(struct client *c, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
void reply_line(struct client *c, const struct buf *json);   /* a data line */
/* {"ok":true,"pid","version","build","proto","procs"}: ping's answer, and update's (with
 * the build it replaced). */
void reply_daemon_info(struct client *c, const char *previous_build);

/* Provided by daemon.c. */
void client_send(struct client *c, const char *p, size_t n);
void daemon_shutdown_begin(void);
void daemon_kill_now(void);       /* every stop under way: SIGKILL now */
void daemon_update(struct client *c, const char *exe);   /* exec exe, or reply why not */
bool daemon_shutting_down(void);
void daemon_exit_when_flushed(struct client *c);
void daemon_initial_done(bool ok);   /* the foreground daemon's own first request replied */
void daemon_sample_procs(void);   /* refresh CPU/memory if the last sample is stale */
/* the whole tree's CPU time and RSS into p->run.tree_sample, unless younger than max_age_ms */
struct proc;
void daemon_sample_tree(struct proc *p, int64_t now, int64_t max_age_ms);

#endif
