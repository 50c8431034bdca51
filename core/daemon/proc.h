/* Apps and their instances, and the state machine that keeps them alive.
 *
 * A spec is what the user declared (script, interpreter, env, policies); every
 * instance of an app shares one. A proc is one instance with its own pm_id, pid,
 * counters and log files. The supervisor is the table fsm[state][event] in proc.c. */
#ifndef TEND_PROC_H
#define TEND_PROC_H

#include "lib/loop.h"
#include "lib/cron.h"
#include "lib/json.h"
#include "lib/logfmt.h"
#include "lib/util.h"

#include <sys/resource.h>
#include <sys/types.h>

enum pstate {
	ST_STOPPED,
	ST_LAUNCHING,   /* spawned, not yet ready (readiness arrives with cluster mode) */
	ST_ONLINE,
	ST_STOPPING,    /* signal sent, waiting for the process tree to go */
	ST_WAITING,     /* waiting restart: restart_delay or backoff timer running */
	ST_ERRORED,     /* crash loop or failed spawn; stays down until started */
	ST_NSTATES
};

enum pevent {
	EV_START,       /* start or restart: wanted up */
	EV_STOP,        /* stop, daemon shutdown: wanted down */
	EV_DELETE,      /* delete, scale down: wanted gone */
	EV_EXIT,        /* the leader was reaped */
	EV_TIMER,       /* one of its deadlines passed */
	EV_READY,       /* the process said it is ready, or listens, or its port answers */
	EV_RELOAD,      /* replace the process, the old one serving until the new is ready */
	EV_NEVENTS
};

enum { MAX_INSTANCES = 4096 };

struct spec {
	int refs;
	char *name, *namespace;
	char *script;          /* absolute path, or the command string for sh -c */
	char *interpreter;     /* absolute path; NULL runs script directly */
	char **interp_args;    /* NULL-terminated */
	char **args;
	char **env;            /* "K=V", NULL-terminated: what the app is started with */
	char *cwd;
	char *out_file, *err_file, *pid_file;   /* NULL: defaults under the home */
	char *log_file;        /* out and err combined; "" = the default path; NULL = none */
	bool merge_logs;       /* instances share one set of files */
	bool log_lines;        /* output is written line by line (time, json, log_file) */
	bool log_json;         /* log_type json */
	struct datefmt *log_time;  /* timestamp format, or NULL */
	char *log_date_format;     /* its text, as jlist shows it */
	int64_t log_max_size;  /* rotate a log file past this; 0 = the daemon's default */
	int log_retain;        /* rotated files kept; -1 = the daemon's default */
	char *exec_mode;       /* "fork" */
	int instances;
	int kill_signal;
	int64_t kill_timeout_ms, min_uptime_ms, restart_delay_ms, exp_backoff_ms;
	int max_restarts;
	bool autorestart, treekill, shell;   /* shell: script is a command for sh -c */
	int stop_exit_codes[16];
	int n_stop_exit_codes;
	uid_t uid;
	gid_t gid;
	bool has_uid, has_gid;
	char *user;            /* name shown in list */
	char *env_json;        /* env as JSON members, without tend's own: made once for jlist */
	char *json;            /* the app object as received: what save writes back */
	bool autostart;        /* false: registered stopped */
	char *instance_var;    /* NODE_APP_INSTANCE, or the declared name */
	char *increment_var;   /* a variable whose number grows by the instance number */
	int port;              /* PORT, when declared (or, in cluster mode, from env PORT) */
	/* cluster mode and readiness */
	bool cluster;          /* exec_mode "cluster" */
	char *listen;          /* "HOST:PORT" declared, or NULL: every address, port */
	char *listen_host;     /* its host, or NULL: every address */
	bool handoff;          /* instances get the daemon's listening socket as fd 3 */
	bool proxy;            /* lb "proxy": the daemon accepts, instances get private ports */
	struct listener *listener;  /* that socket, once bound (spec_bind) */
	bool node;             /* run by node: an IPC channel, and the preload with a listener */
	bool wait_ready;       /* ready once the app says so (IPC "ready", READY=1) */
	int64_t listen_timeout_ms;  /* how long to wait for that */
	bool shutdown_with_message; /* stop with the IPC message "shutdown", not a signal */
	/* watchdogs */
	int64_t max_memory;    /* bytes, of the whole process tree; 0 = no limit */
	int64_t memory_interval_ms;
	bool has_cron;
	struct cron cron;
	char *cron_text;
	char **watch;          /* absolute paths; NULL = not watched */
	char **ignore_watch;
	char **watch_ext;      /* only files with these extensions count; NULL = all */
	bool watching;         /* watch is on (restart --watch toggles it) */
	int64_t watch_delay_ms;
	struct app_watch *watch_rt;     /* watchdog.c's, once watching began */
};

/* One instance's running process tree when it is being stopped. */
struct tree {
	pid_t *pids;
	int n;
};

/* The whole process tree's use, for the event stream's samples (events.c). */
struct tree_sample {
	pid_t pid;             /* the leader it was taken for */
	int64_t at;            /* monotonic ms, 0: never */
	int64_t ticks_ms;      /* CPU time of the tree then */
	int64_t rss;
	double cpu_pct;        /* over the interval before at */
};

/* One process an instance runs, with its tree. An instance has one (run); a reload
 * gives it a second for a while: the replacement runs in run, and the old process,
 * moved to old as it was, serves until the replacement is ready and then stops. */
struct process {
	pid_t pid;
	int out_fd, err_fd;    /* pipes from it, -1 when none */
	int exec_fd;           /* spawned, exec not yet confirmed: its status pipe */
	bool exec_failed;
	int ipc_fd;            /* node's IPC channel, daemon's end, or -1 */
	struct buf ipc_in;     /* a message still waiting for its newline */
	struct buf partial[2]; /* out, err: a line still waiting for its newline */
	int64_t partial_at;    /* when held partial lines are written anyway */
	int64_t started_mono, started_wall;
	bool listening;        /* the node preload reported the app listening */
	int64_t main_due;      /* node: its main module has not run yet; it has by then */
	struct {               /* proxy mode (proxy.c) */
		int port;          /* the private port the process was given, or 0 */
		int probe_fd;      /* LAUNCHING: a connect to that port in progress, or -1 */
		int64_t probe_at;  /* when to try connecting to it (again), or 0 */
	} proxy;
	/* its stop */
	bool stopping;
	int64_t kill_at;       /* when SIGKILL is due (again), or 0 */
	int64_t tree_poll;     /* when to look at escaped descendants again */
	bool kill_sent;        /* SIGKILL already sent */
	struct tree tree;      /* escaped descendants still to be reaped */
	unsigned cg_leaf;      /* its cgroup (stray.c), 0 when none */
	pid_t *strays;         /* without cgroups: its orphans, adopted by us */
	int nstrays;
	/* /proc samples */
	int64_t cpu_ticks, sample_mono;
	double cpu_pct;
	int64_t rss_bytes;
	struct tree_sample tree_sample;
};

/* What the user wants of an instance, apart from what state it is in (s6-supervise's
 * wantup, plus delete). Start and restart want it up, stop down, delete gone; the
 * state machine restarts only what is wanted up. */
enum want { WANT_UP, WANT_DOWN, WANT_GONE };

struct proc {
	int id;                /* pm_id (given out again once deleted) */
	unsigned long serial;  /* never given out again: what a waiting request holds on to */
	int instance;          /* NODE_APP_INSTANCE */
	struct spec *spec;
	enum pstate state;     /* written by the state machine only (proc.c) */
	enum want want;        /* set by start, stop and delete events */
	struct process run;    /* the current process (pid 0: none) */
	struct process *old;   /* a reload's old process, until it is gone */
	pid_t told_pid;        /* the pid the last state event named */
	int64_t deadline;      /* WAITING: restart due; LAUNCHING: readiness given up; 0 = none */
	struct {               /* its log files (applog.c) */
		int out, err;      /* open, -1 when none */
		int comb;          /* log_file: out and err together */
		char *out_path, *err_path, *comb_path;
		int64_t size[3];   /* bytes in the out, err and combined files */
		int64_t dropped;   /* bytes lost to write errors */
		unsigned failing;  /* bit per file (out, err, combined): failing, reported once */
		int64_t check_at;  /* next look for deleted or unopened files */
	} log;
	char *pid_path;
	char *record_path;     /* the daemon's pid record in the home (orphan.c reads them) */
	bool pid_file_failed;  /* writing a pid file failed: reported once */
	int64_t created_wall;
	int restarts, unstable_restarts;
	int64_t backoff_ms;
	int exit_code;         /* last exit: code, or 128+signal */
	int exit_signal;
	unsigned spawn_gen;    /* counts spawns, for "restart done" waits */
	char *orphan_record;   /* a previous daemon's process being replaced: its pid record */
	int64_t leftover_until;/* a restart waits until what the last run left is gone */
	char *last_error;      /* why the last spawn failed */
	bool gone;             /* unlinked from the table: freed after this loop pass */
	char *restart_reason;  /* why tend last restarted it on its own */
	int64_t restart_reason_wall;
	struct {               /* watchdogs (watchdog.c) */
		int64_t memory_at; /* next memory check (monotonic ms), 0 = none */
		int64_t cron_at;   /* next cron restart (monotonic ms), 0 = not armed */
		int64_t cron_wall; /* the same moment on the wall clock */
	} watchdog;
	struct {               /* rolling reload (reload.c) */
		int phase;         /* enum reload_phase */
		bool pending;      /* a reload request waits to replace this instance */
		bool failed;       /* the last replacement failed; the old process went on */
	} reload;
};

/* The daemon's table of procs, sorted by id. */
extern struct proc **procs;
extern int nprocs;

struct proc *proc_find(int id);
struct proc *proc_new(struct spec *spec, int instance);  /* appended, next id */
/* One with a given id, in its place in the table (a daemon resuming after update). */
struct proc *proc_adopt(struct spec *spec, int id, int instance);
void proc_free(struct proc *p);                          /* unlinks from the table */
const char *pstate_name(enum pstate s);

/* Drive the state machine: the only way an instance's state changes (each change is
 * told to the event stream with its reason). Features post events; none sets a state. */
void proc_event(struct proc *p, enum pevent ev);
/* A pid was reaped with wait status; routes to its instance. */
void proc_reaped(pid_t pid, int status);
/* When something of the instance is next due (its state's deadline, its processes'
 * stop, log and probe timers, its watchdogs), or 0; the earliest over all of them. */
int64_t proc_next_deadline(struct proc *p, int64_t now);
int64_t procs_next_deadline(void);
void procs_fire_timers(int64_t now);
/* Settled: not in a transient state. */
bool proc_settled(const struct proc *p);
/* Free the instances wanted gone once they are down (and their old process too). */
void procs_collect_removed(void);
/* Release the instances unlinked during this loop pass (after the pass: pointers the
 * loop's sources hold stay valid until then; p->gone says it is no longer there). */
void procs_release_gone(void);
/* The environment the instance is (or would be) started with; free with free(). The
 * strings point into the spec and into the returned block. */
char **proc_env(const struct proc *p);
/* Is "NAME=value" one of the variables tend sets itself (pm_id, name, ...)? */
bool proc_is_own_var(const struct spec *s, const char *entry);
/* tend's own variables for the instance, "K=V" each, into vars[]; returns the count. */
enum { PROC_OWN_MAX = 13 };
int proc_own_vars(const struct proc *p, char vars[PROC_OWN_MAX][256]);
/* Give the instance another declaration (restart through a file, --update-env). */
void proc_set_spec(struct proc *p, struct spec *s);
/* The same declaration with another instance count (scale): the instance keeps its
 * files (a running one's log is not renamed because others came or went). */
void proc_set_count(struct proc *p, struct spec *s);
/* Stop a process a previous daemon left running for this instance (its tree, with
 * the kill signal, SIGKILL after kill_timeout), then spawn if it is wanted up. */
void proc_replace_orphan(struct proc *p, pid_t orphan, char *record);
/* Record why tend restarts an instance on its own (memory, cron, watch), and do it. */
void proc_restart_because(struct proc *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
void proc_exec_status(struct proc *p);
/* The instance's current process and its old one during a reload, if it has it. */
static inline int proc_processes(struct proc *p, struct process *out[2])
{
	out[0] = &p->run;
	out[1] = p->old;
	return p->old ? 2 : 1;
}
/* Write the instance's pid file and the daemon's pid record (spawn.c). */
void proc_write_pid_file(struct proc *p);
/* Start the instance's process (spawn.c): false with last_error if it could not.
 * *wait: it is ready only once it says so (or listens). */
bool proc_spawn(struct proc *p, bool *wait);
/* What the state machine does to the world: spawn the instance's process (spawn.c),
 * signal a process tree. The daemon's are the real ones; the state table's unit
 * test (test/unit/test_states.c) puts fakes here and drives every state and event. */
struct proc_world {
	bool (*spawn)(struct proc *p, bool *wait);
	void (*signal)(struct proc *p, struct process *pr, int sig);
};
extern struct proc_world proc_world;
/* Begin stopping one of the instance's processes; its timers and reaping go on in
 * proc.c; it has stopped once pr->stopping is false again. */
void proc_stop_process(struct proc *p, struct process *pr);
/* A stop under way sends SIGKILL now instead of after kill_timeout (--force). */
void proc_kill_now(struct proc *p);
/* Close what a process left (fds, buffers) once it is gone. */
void process_clear(struct process *pr);
/* The instance listens (the preload), or a reload's replacement must. */
void proc_listening(struct proc *p);
void proc_main_ran(struct proc *p);

struct spec *spec_ref(struct spec *s);
void spec_unref(struct spec *s);
/* Build a spec from a start request's app object (PM2's key names). NULL with err. */
struct spec *spec_from_json(const struct jdoc *d, int obj, char *err, size_t errlen);
/* The same declaration with some members replaced: keys[i] gets the JSON text
 * values[i] (NULL removes it). NULL with err if the result does not check. */
/* Are the files it writes outside the home (logs, pid file) in directories where no
 * other user can plant them (see safefile.h)? False with err. */
bool spec_check_files(const struct spec *s, char *err, size_t errlen);
/* Bind (or share) the listening socket of an app that gets one; false with err. */
bool spec_bind(struct spec *s, char *err, size_t errlen);
struct spec *spec_with(const struct spec *s, const char *const *keys, const char *const *values,
                       int n, char *err, size_t errlen);

/* The fd limit apps get: the daemon raises its own, apps keep the one it started with. */
void proc_set_child_nofile(rlim_t soft);
rlim_t proc_child_nofile(void);
/* Daemon-wide settings (from the daemon's environment). */
extern int default_kill_signal;
/* The daemon log: one timestamped line. */
void dlog(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The loop source of every instance's fds and timers. */
extern const struct loop_source procs_source;
#endif
