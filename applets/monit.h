/* monit's parts: the loop and the daemon connections (monit.c), what it knows of the
 * apps (monit_data.c), and the screen and keys (monit_view.c). */
#ifndef TEND_MONIT_H
#define TEND_MONIT_H

#include "client/conn.h"
#include "client/screen.h"
#include "lib/json.h"

#include <stdio.h>
#include <sys/types.h>

enum { HIST = 120 };        /* samples kept per instance: two minutes at 1 s */
enum { RING_LINES = 200 };  /* log lines kept per instance */

struct logline {
	char *text;
	int64_t at;             /* wall ms */
	bool err;
};

struct inst {
	int id;
	char *name, *ns, *status, *script, *args, *interp, *mode, *cwd;
	char *out_path, *err_path, *watch, *listen, *lb, *reason, *user;
	pid_t pid;
	int restarts, unstable, instances, conns;
	int64_t started;        /* wall ms of the current run (pm_uptime), 0: none */
	bool wait_ready, listed;
	double cpu;             /* %, of the whole tree, from the samples */
	int64_t mem;
	double cpu_hist[HIST], mem_hist[HIST];   /* oldest first */
	int nhist;
	struct logline ring[RING_LINES];
	int nlines, head;       /* head: the oldest line's slot */
};

enum pane { P_LIST, P_LOGS, P_METRICS, P_META, NPANES };
enum sortkey { S_NAME, S_ID, S_CPU, S_MEM, S_RESTARTS, S_UPTIME, NSORTS };
enum modal { M_NONE, M_SIGNAL, M_DELETE, M_FILTER };

struct monit {
	struct screen scr;
	bool tty, color, mouse, readonly, once, json, ascii, quit;
	int delay_ms;
	struct inst **v;        /* by id */
	int n;
	int *order, norder;     /* the list as shown: sorted, filtered (indexes into v) */
	int sel_id, top;        /* the selected instance's id (-1: none), the first row shown */
	enum pane focus;
	enum sortkey sort;
	bool desc;
	char filter[64];
	enum modal modal;
	int menu_sel;
	bool paused, zoom, wrap, stamps, help;
	int log_scroll, meta_scroll;
	char status[256];
	int64_t status_until;
	char action_what[128];
	struct conn events, logs, list, action;
	bool list_busy, list_again, daemon_up, dirty, key_dirty;
	int64_t list_at, retry_at, frame_at, key_wait_at, once_at;
	int sigfd;
	struct buf keys;
};
extern struct monit M;

/* monit_data.c */
void monit_take_list(const struct jdoc *d);
/* A line of the event stream; true when it changed what the list shows. */
bool monit_take_event(const struct jdoc *d);
void monit_take_log(const struct jdoc *d);
struct inst *monit_find(int id);
struct inst *monit_selected(void);
void monit_order(void);
bool monit_sort_set(const char *spec);
const char *monit_sort_name(enum sortkey k);
void monit_print_snapshot(FILE *f);
struct host {
	char name[64];
	double load[3];
	int64_t mem_total, mem_avail;
	int cpus;
};
void monit_host(struct host *h);
const struct logline *monit_line(const struct inst *in, int k);   /* 0: the oldest */
void monit_status(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* monit_view.c */
void monit_draw(void);
void monit_key(const struct key *k);

/* monit.c */
void monit_act(const char *cmd, const struct inst *in, const char *signal);

#endif
