/* tend runtime: what the applet (runtime.c: the daemon, the signals, the exit) and its
 * output (runtime_out.c: app logs and events as pm2-runtime prints them, the instances'
 * states, the health probes) share. */
#ifndef TEND_RUNTIME_H
#define TEND_RUNTIME_H

#include "client/conn.h"
#include "lib/loop.h"

enum out_mode { OUT_RAW, OUT_FORMATTED, OUT_FORMAT, OUT_JSON };

/* One instance, as the event stream told it. */
struct inst {
	long long id;
	char *name;
	char status[24];
	int last_code;     /* its last exit: the code, or 128 + the signal; -1 none yet */
	bool gone;         /* deleted */
	bool touched;      /* an event came for it since the pending list was asked for */
};

extern struct runtime_state {
	enum out_mode out;
	const char *exit_from;      /* --exit-code-from APP */
	int exit_from_code;         /* APP's last exit, -1 none */
	bool exit_from_done;        /* APP is down for good: time to stop */
	struct inst *insts;
	int ninsts;
	bool daemon_up;             /* its socket answers and the streams are open */
	bool resync;                /* events were dropped: the states need a fresh list */
	bool listing;               /* that list is asked for and not in yet */
} RT;

/* runtime_out.c */
void rt_log_line(struct conn *c, char *line, size_t len);     /* a line of the logs stream */
void rt_event_line(struct conn *c, char *line, size_t len);   /* a line of the events stream */
void rt_take_list(const struct jdoc *d);   /* a list (one array): every state afresh */
bool rt_any_alive(void);         /* an instance online or launching (pm2-runtime's test) */
bool rt_health_listen(const char *spec, char *err, size_t errlen);   /* [ADDR:]PORT */
void rt_say(const char *fmt, ...) PRINTF_LIKE(1, 2);   /* "tend: runtime: ..." on stderr */
void rt_out_flush(void);              /* write what stdout and stderr take now */
void rt_out_finish(int64_t within_ms);   /* the rest, waiting at most that long in all */
short rt_out_events(int fd);          /* POLLOUT for fd 1 or 2 while output waits */
bool rt_out_full(void);               /* enough waits: do not read the logs stream */
int rt_daemon_log(int fd);   /* read the daemon's log pipe: 1 read, 0 nothing now, -1 its end */
void rt_daemon_log_end(void);   /* its end: a last line without a newline, and the count */

#endif
