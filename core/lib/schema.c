#include "lib/schema.h"

#include <stdint.h>
#include <string.h>

enum { DAY_MS = 86400000 };
#define YEAR_MS (365LL * DAY_MS)
#define MAX_BYTES (INT64_MAX / 2)

/* In the order `tend start --help` lists the options; keys without one after them. */
const struct app_key app_keys[] = {
	{"name", KT_SPECIAL, NULL, 0, 0, 0, "name", 'n', "NAME", "app name (default: the script's base name)"},
	{"namespace", KT_STR, NULL, 0, 0, 0, "namespace", 0, "NS", "group apps; a namespace is a valid target"},
	{"cwd", KT_SPECIAL, NULL, 0, 0, 0, "cwd", 0, "DIR", "working directory (default: the current one)"},
	{"instances", KT_INSTANCES, NULL, -4096, 4096, 1, "instances", 'i', "N",
	 "N instances; max or 0 = CPUs, -1 = CPUs - 1; cluster mode for\n"
	 "node (or with --port), else N fork instances, as PM2 does"},
	{"exec_mode", KT_MODE, NULL, 0, 0, 0, "fork execute-command", 'x', NULL, "fork mode (also --execute-command)"},
	{"exec_interpreter", KT_SPECIAL, "interpreter", 0, 0, 0, "interpreter", 0, "X",
	 "run the script with X; none = execute it directly"},
	{"interpreter_args", KT_ARGS, "node_args", 0, 0, 0, "interpreter-args node-args", 0, "A",
	 "arguments for the interpreter (also --node-args; null: none)"},
	{"uid", KT_ID, "user", 0, 0, 0, "uid user", 'u', "USER", "run as this user (root only; also --user)"},
	{"gid", KT_ID, NULL, 0, 0, 0, "gid", 0, "GROUP", "run as this group (root only)"},
	{"pid_file", KT_PATH, "pid", 0, 0, 0, "pid", 'p', "FILE",
	 "pid file, FILE-ID.pid per instance (default: pids/NAME-ID.pid)"},
	{"out_file", KT_LOGPATH, "out output out_log", 0, 0, 0, "output", 'o', "FILE", "stdout log file"},
	{"error_file", KT_LOGPATH, "error err err_file err_log", 0, 0, 0, "error", 'e', "FILE", "stderr log file"},
	{"log_file", KT_LOGPATH, "log", 0, 0, 0, "log", 'l', "[FILE]",
	 "both streams, also combined in FILE (none: the default path)"},
	{"merge_logs", KT_BOOL, "combine_logs", 0, 0, 0, "merge-logs", 0, NULL, "instances share one set of log files"},
	{"disable_logs", KT_BOOL, NULL, 0, 0, 0, "disable-logs", 0, NULL, "write no log files"},
	{"time", KT_BOOL, NULL, 0, 0, 0, "time", 0, NULL, "prefix each line with its time (PM2's YYYY-MM-DDTHH:mm:ss)"},
	{"log_date_format", KT_STR, NULL, 0, 0, 0, "log-date-format", 0, "F",
	 "... in this format (dayjs tokens: YYYY-MM-DD HH:mm:ss)"},
	{"log_type", KT_STR, NULL, 0, 0, 0, "log-type", 0, "json", "one JSON record per line (or raw)"},
	{"log_max_size", KT_BYTES, "max_size", 1, MAX_BYTES, 0, "log-max-size", 0, "SIZE",
	 "rotate a log file past SIZE (10M; $TEND_LOG_MAX_SIZE)"},
	{"log_retain", KT_INT, "retain", 0, 100000, -1, "log-retain", 0, "N", "rotated files kept (10; $TEND_LOG_RETAIN)"},
	{"kill_timeout", KT_MS, NULL, 0, DAY_MS, 1600, "kill-timeout", 'k', "MS", "SIGKILL this long after the stop signal"},
	{"kill_signal", KT_SIGNAL, NULL, 0, 0, 0, "kill-signal", 0, "SIG", "stop signal (SIGINT, or $TEND_KILL_SIGNAL)"},
	{"max_restarts", KT_INT, NULL, 0, 1 << 30, 16, "max-restarts", 0, "N", "unstable restarts before errored"},
	{"min_uptime", KT_MS, NULL, 0, YEAR_MS, 1000, "min-uptime", 0, "TIME",
	 "a run shorter than this is unstable"},
	{"restart_delay", KT_MS, NULL, 0, YEAR_MS, 0, "restart-delay", 0, "TIME",
	 "wait before each automatic restart (TIME: ms, or 10s, 5m, 1h)"},
	{"exp_backoff_restart_delay", KT_MS, NULL, 0, DAY_MS, 0, "exp-backoff-restart-delay", 0, "TIME",
	 "growing wait (x1.5, at most 15s)"},
	{"autorestart", KT_BOOL, NULL, 0, 0, 0, "no-autorestart", 0, NULL, "do not restart when it exits"},
	{"autostart", KT_BOOL, NULL, 0, 0, 0, "no-autostart", 0, NULL, "register the app without starting it"},
	{"stop_exit_codes", KT_CODES, NULL, 0, 255, 0, "stop-exit-codes", 0, "N..",
	 "exit codes that mean \"do not restart\" (at most 16)"},
	{"treekill", KT_BOOL, NULL, 0, 0, 0, "no-treekill", 0, NULL, "signal the main process only, not its tree"},
	{"max_memory_restart", KT_BYTES, NULL, 1, MAX_BYTES, 0, "max-memory-restart", 0, "SIZE",
	 "restart when the tree's RSS passes SIZE (200M)"},
	{"memory_check_interval", KT_MS, NULL, 100, DAY_MS, 1000, NULL, 0, NULL, NULL},
	{"cron_restart", KT_CRON, "cron", 0, 0, 0, "cron-restart cron", 'c', "EXPR",
	 "restart at each match of a cron expression (also --cron)"},
	{"watch", KT_WATCH, NULL, 0, 0, 0, "watch", 0, "[=PATH,...]",
	 "restart when files under the cwd (or PATHs) change;\n"
	 "start also takes --watch DIR, as PM2 does"},
	{"ignore_watch", KT_STRS, NULL, 0, 0, 0, "ignore-watch", 0, "LIST",
	 "globs not to watch (node_modules and .dirs never are)"},
	{"watch_ext", KT_STRS, "ext", 0, 0, 0, "ext", 0, "EXTS",
	 "with watch: only files ending in these extensions\n"
	 "count (js,json)"},
	{"watch_delay", KT_MS, NULL, 0, 3600000, 1000, "watch-delay", 0, "TIME", "wait for changes to settle"},
	{"port", KT_PORT, NULL, 1, 65535, 0, "port", 0, "N",
	 "PORT for the app; in cluster mode the daemon listens on it\n"
	 "and hands the socket over (LISTEN_FDS, fd 3)"},
	{"listen", KT_STR, NULL, 0, 0, 0, "listen", 0, "HOST:PORT", "the same on one address ([::1]:8080 for IPv6)"},
	{"lb", KT_STR, NULL, 0, 0, 0, "lb", 0, "fd|proxy",
	 "fd: hand the socket over in fork mode too; proxy: each\n"
	 "instance listens on a private PORT, the daemon forwards"},
	{"wait_ready", KT_BOOL, NULL, 0, 0, 0, "wait-ready", 0, NULL,
	 "ready when the app says so: process.send('ready') or\n"
	 "sd_notify READY=1 (NOTIFY_SOCKET)"},
	{"listen_timeout", KT_MS, NULL, 0, DAY_MS, 3000, "listen-timeout", 0, "TIME", "how long to wait for that"},
	{"shutdown_with_message", KT_BOOL, NULL, 0, 0, 0, "shutdown-with-message", 0, NULL,
	 "stop with the IPC message 'shutdown', not a signal"},
	{"filter_env", KT_FILTER, NULL, 0, 0, 0, "filter-env", 0, "[A,B]",
	 "do not pass on the caller's variables whose names\n"
	 "contain these (repeatable)"},
	/* Files only. */
	{"script", KT_SPECIAL, "exec cmd command", 0, 0, 0, NULL, 0, NULL, NULL},
	{"args", KT_ARGS, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"env", KT_SPECIAL, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"append_env_to_name", KT_SPECIAL, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"instance_var", KT_STR, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"increment_var", KT_STR, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"username", KT_STR, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"force", KT_BOOL, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"watch_options", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	/* PM2's, about its own runtime (source maps, tracing, Keymetrics, git metadata). */
	{"vizion", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"pmx", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"automation", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"source_map_support", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"disable_source_map_support", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"trace", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"disable_trace", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"v8", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"event_loop_inspector", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"deep_monitoring", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"windowsHide", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"kill_retry_time", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"execute_command", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"post_update", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"install_url", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"name_prefix", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"io", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
	{"write", KT_ACCEPTED, NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};
const size_t napp_keys = sizeof app_keys / sizeof app_keys[0];
_Static_assert(sizeof app_keys / sizeof app_keys[0] <= APP_KEYS_MAX, "APP_KEYS_MAX is too small");

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; p && *p;) {
		size_t m = strcspn(p, " ");
		if (m == n && !strncmp(p, w, n))
			return true;
		p += m + (p[m] == ' ');
	}
	return false;
}

const struct app_key *app_key(const char *name)
{
	for (size_t i = 0; i < napp_keys; i++)
		if (!strcmp(app_keys[i].name, name))
			return &app_keys[i];
	return NULL;
}

const struct app_key *app_key_spelled(const char *spelling)
{
	for (size_t i = 0; i < napp_keys; i++)
		if (!strcmp(app_keys[i].name, spelling) || has_word(app_keys[i].aliases, spelling))
			return &app_keys[i];
	return NULL;
}

bool app_key_in_range(const struct app_key *k, long long v)
{
	return v >= k->min && v <= k->max;
}
