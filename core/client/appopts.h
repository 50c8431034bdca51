/* The command-line options that declare an app, PM2's `start` options, shared by start,
 * startOrRestart, restart and reload (which apply them to apps that exist, as PM2's
 * do). Each becomes a PM2 key of an app object, checked as it is read; the table, the
 * parser and the help lines live here together, so they cannot drift apart. */
#ifndef TEND_APPOPTS_H
#define TEND_APPOPTS_H

#include "lib/opt.h"

enum { APPOPT_FIRST = 1000 };   /* app option ids; an applet's own stay below */

/* The options (terminated by {0}); merge them with an applet's own (opt_merge). */
extern const struct opt appopt_table[];
/* Their --help lines, for the applets' help strings. */
#define APPOPT_HELP \
	"  -n, --name NAME           app name (default: the script's base name)\n" \
	"      --namespace NS        group apps; a namespace is a valid target\n" \
	"      --cwd DIR             working directory (default: the current one)\n" \
	"  -i, --instances N         N instances; max or 0 = CPUs, -1 = CPUs - 1; cluster mode for\n" \
	"                            node (or with --port), else N fork instances, as PM2 does\n" \
	"  -x, --fork                fork mode (also --execute-command)\n" \
	"      --interpreter X       run the script with X; none = execute it directly\n" \
	"      --interpreter-args A  arguments for the interpreter (also --node-args; null: none)\n" \
	"      --uid USER --gid GROUP  run as this user/group (root only; also -u, --user)\n" \
	"  -p, --pid FILE            pid file, FILE-ID.pid per instance (default: pids/NAME-ID.pid)\n" \
	"  -o, --output FILE         stdout log file   -e, --error FILE  stderr log file\n" \
	"  -l, --log [FILE]          both streams, also combined in FILE (none: the default path)\n" \
	"      --merge-logs          instances share one set of log files\n" \
	"      --disable-logs        write no log files\n" \
	"      --time                prefix each line with its time (PM2's YYYY-MM-DDTHH:mm:ss)\n" \
	"      --log-date-format F   ... in this format (dayjs tokens: YYYY-MM-DD HH:mm:ss)\n" \
	"      --log-type json       one JSON record per line\n" \
	"      --log-max-size SIZE   rotate a log file past SIZE (10M; $TEND_LOG_MAX_SIZE)\n" \
	"      --log-retain N        rotated files kept (10; $TEND_LOG_RETAIN)\n" \
	"  -k, --kill-timeout MS     SIGKILL this long after the stop signal (1600)\n" \
	"      --kill-signal SIG     stop signal (SIGINT, or $TEND_KILL_SIGNAL)\n" \
	"      --max-restarts N      unstable restarts before errored (16)\n" \
	"      --min-uptime TIME     a run shorter than this is unstable (1000; 10s, 5m, 1h)\n" \
	"      --restart-delay TIME  wait before each automatic restart\n" \
	"      --exp-backoff-restart-delay TIME  growing wait (x1.5, at most 15s)\n" \
	"      --no-autorestart      do not restart when it exits\n" \
	"      --no-autostart        register the app without starting it\n" \
	"      --stop-exit-codes N.. exit codes that mean \"do not restart\"\n" \
	"      --no-treekill         signal the main process only, not its tree\n" \
	"      --max-memory-restart SIZE  restart when the tree's RSS passes SIZE (200M)\n" \
	"  -c, --cron-restart EXPR   restart at each match of a cron expression (also --cron)\n" \
	"      --watch[=PATH,...]    restart when files under the cwd (or PATHs) change;\n" \
	"                            start also takes --watch DIR, as PM2 does\n" \
	"      --ignore-watch LIST   globs not to watch (node_modules and .dirs never are)\n" \
	"      --watch-delay TIME    wait for changes to settle (1000)\n" \
	"      --port N              PORT for the app; in cluster mode the daemon listens on it\n" \
	"                            and hands the socket over (LISTEN_FDS, fd 3)\n" \
	"      --listen HOST:PORT    the same on one address ([::1]:8080 for IPv6)\n" \
	"      --lb fd|proxy         fd: hand the socket over in fork mode too; proxy: each\n" \
	"                            instance listens on a private PORT, the daemon forwards\n" \
	"      --wait-ready          ready when the app says so: process.send('ready') or\n" \
	"                            sd_notify READY=1 (NOTIFY_SOCKET)\n" \
	"      --listen-timeout TIME how long to wait for that (3000)\n" \
	"      --shutdown-with-message  stop with the IPC message 'shutdown', not a signal\n" \
	"      --filter-env A,B      do not pass on the caller's variables whose names\n" \
	"                            contain these (repeatable)\n" \
	"  PM2's options about its own runtime and services are accepted and do nothing:\n" \
	"  --no-automation --no-pmx --no-vizion --trace --disable-trace --v8\n" \
	"  --event-loop-inspector --deep-monitoring --source-map-support\n" \
	"  --disable-source-map-support --hp DIR --wait-ip --service-name NAME\n"


struct appopts {
	struct buf over;   /* the app object being written: {"key":value,...} */
	bool instances;    /* -i was given */
	bool has_name;     /* -n was given */
	int count;         /* keys written */
	struct buf filter; /* --filter-env words, comma-separated: repeated flags add up */
};

void appopts_begin(struct appopts *a);
/* Take option id (with its value v) if it is an app option; false if it is not. Dies
 * with a usage error (exit 2) on a bad value. */
bool appopts_take(struct appopts *a, struct optstate *s, int id, const char *v);
/* Close the object. */
void appopts_end(struct appopts *a);
/* The options as the "set" member of a restart or reload (what they change in apps
 * that exist), appended to req; false (nothing written) when none was given. Dies
 * with a usage error on a value that does not check. */
bool appopts_set(const struct appopts *a, struct buf *req);

#endif
