/* runtime: apps in the foreground for a container, as pm2-runtime runs them, with the
 * duties of PID 1 done. This process is the one Docker signals and waits for: it runs
 * tend's daemon as its child (in a process group of its own, so a terminal's Ctrl-C
 * reaches only this process), subscribes to the apps' output and the daemon's events
 * before any app starts, starts them with `tend start` (so options and files mean what
 * they mean to start), prints their lines (runtime_out.c), reaps every child that comes
 * to it, and ends: by a signal (every app stopped, exit 0), when no app is alive any
 * more (pm2-runtime's timing, exit 2), when nothing could start (1), or with the code
 * of the app --exit-code-from names. */
#include "applets/applet.h"
#include "applets/runtime.h"
#include "client/client.h"
#include "client/http.h"
#include "lib/home.h"
#include "lib/json.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

//applet: runtime runtime_main runtime_help o run apps in the foreground for a container, as its PID 1 (pm2-runtime)
//applet: pm2-runtime runtime_main runtime_help a runtime
//applet: pm2-docker runtime_main runtime_help a runtime

const char runtime_help[] =
	"usage: tend runtime [start] FILE|SCRIPT [START OPTIONS] [--json|--formatted|--format|--raw]\n"
	"                    [--no-auto-exit] [--delay S] [--exit-code-from APP]\n"
	"                    [--health [ADDR:]PORT] [--stop-timeout MS] [-- ARGS]\n"
	"       (also: pm2-runtime, pm2-docker through a link)\n"
	"\n"
	"Run the apps of a declaration file, or a script, in the foreground for a container:\n"
	"their output goes to this process's stdout and stderr (no log files, unless the\n"
	"apps or --output/--error ask for them), tend's own messages to stderr. Every option\n"
	"of tend start works here (-i, --env, --only, -n, --watch, --max-memory-restart,\n"
	"--no-autorestart, --node-args...). As PID 1 it reaps every orphan; elsewhere it is\n"
	"their subreaper. SIGTERM, SIGINT, SIGQUIT or SIGHUP stop every app at once (each\n"
	"with its kill signal, SIGKILL after its kill_timeout), then it exits.\n"
	"\n"
	"  --raw               the apps' lines as they wrote them, stdout to stdout and\n"
	"                      stderr to stderr (the default)\n"
	"  --formatted         'ID|NAME | line' on stdout\n"
	"  --format            'timestamp=... app=NAME id=ID type=out|error message=line'\n"
	"  --json              one JSON object per line: {message, timestamp, type, process_id,\n"
	"                      app_name}, and process events {timestamp, type: process_event,\n"
	"                      status, app_name}\n"
	"  --no-auto-exit      stay when no app is alive any more\n"
	"  --delay S           wait S seconds before starting the apps\n"
	"  --exit-code-from APP  end when APP is down for good (stopped, errored), with its\n"
	"                      exit code (128 + the signal that killed it)\n"
	"  --health [ADDR:]PORT  serve GET /livez and /readyz there (default address 0.0.0.0)\n"
	"  --stop-timeout MS   on a signal, how long the apps may take to stop before every\n"
	"                      one is killed (default 8000, under Docker's 10 s)\n"
	"PM2 Plus options (--secret, --public, --machine-name, --deep-monitoring, --trace,\n"
	"--v8) and --web are accepted and ignored, with a warning.\n"
	"\n"
	"Exit status: 0 stopped by a signal; 1 nothing could start (or the daemon failed);\n"
	"2 no app alive any more (checked every 2 s from 6 s after the start, four times in a\n"
	"row, as pm2-runtime does), or bad usage; APP's code with --exit-code-from.\n";

enum phase { P_BOOT, P_SUBSCRIBE, P_DELAY, P_STARTING, P_RUNNING, P_STOPPING };

static struct {
	char **start_args;           /* for tend start */
	int nstart;
	bool auto_exit;
	int64_t delay_ms, stop_timeout_ms;
	const char *health;
	enum phase phase;
	int sigfd, ready_fd;
	int daemon_log;              /* the daemon's stdout and stderr: its log, read by us */
	pid_t daemon, starter;
	int daemon_status;
	struct conn logs, events;
	struct conn list;            /* a resync after dropped events; fd -1 when idle */
	int subscribed;              /* of the two streams, how many said ok */
	int64_t deadline;            /* the phase's: delay over, next auto-exit check, kill now */
	int dead_checks;
	int stop_step;               /* P_STOPPING: 0 asked, 1 told to kill now, 2 killed */
	int code;                    /* what to exit with */
	bool done;
} R;

/* ---- options ------------------------------------------------------------------------------ */

static bool is_opt(const char *a, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return false;
	if (a[n] == 0) {
		*value = NULL;
		return true;
	}
	if (a[n] == '=') {
		*value = a + n + 1;
		return true;
	}
	return false;
}

static const char *value_of(int argc, char **argv, int *i, const char *inline_value, const char *name)
{
	if (inline_value)
		return inline_value;
	if (*i + 1 >= argc)
		die_usage("%s needs a value", name);
	return argv[++*i];
}

static void parse(int argc, char **argv)
{
	R.auto_exit = true;
	R.stop_timeout_ms = 8000;
	R.start_args = xcalloc((size_t)argc + 4, sizeof *R.start_args);
	int positional = 0;
	bool rest = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		long long n;
		if (rest || strcmp(a, "--") == 0) {
			rest = true;
			R.start_args[R.nstart++] = argv[i];
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(runtime_help, stdout);
			exit(EXIT_OK);
		} else if (!strcmp(a, "--raw")) {
			RT.out = OUT_RAW;
		} else if (!strcmp(a, "--formatted")) {
			RT.out = OUT_FORMATTED;
		} else if (!strcmp(a, "--format")) {
			RT.out = OUT_FORMAT;
		} else if (!strcmp(a, "--json")) {
			RT.out = OUT_JSON;
		} else if (!strcmp(a, "--no-auto-exit")) {
			R.auto_exit = false;
		} else if (is_opt(a, "--delay", &v)) {
			v = value_of(argc, argv, &i, v, "--delay");
			if (!parse_int(v, 0, 86400, &n))
				die_usage("--delay: expected seconds from 0 to 86400, got '%s'", v);
			R.delay_ms = n * 1000;
		} else if (is_opt(a, "--exit-code-from", &v)) {
			RT.exit_from = value_of(argc, argv, &i, v, "--exit-code-from");
		} else if (is_opt(a, "--health", &v)) {
			R.health = value_of(argc, argv, &i, v, "--health");
		} else if (is_opt(a, "--stop-timeout", &v)) {
			v = value_of(argc, argv, &i, v, "--stop-timeout");
			if (!parse_int(v, 0, 3600000, &n))
				die_usage("--stop-timeout: expected milliseconds from 0 to 3600000, got '%s'", v);
			R.stop_timeout_ms = n;
		} else if (!strcmp(a, "--deep-monitoring") || !strcmp(a, "--trace") || !strcmp(a, "--v8")) {
			warn("%s is for PM2 Plus: ignored", a);
		} else if (is_opt(a, "--secret", &v) || is_opt(a, "--public", &v) || is_opt(a, "--machine-name", &v) ||
		           is_opt(a, "--web", &v)) {
			/* an optional value: the next word, unless it is an option or the last word */
			if (!v && i + 2 < argc && argv[i + 1][0] != '-')
				i++;
			warn("%.*s is %s: ignored", (int)strcspn(a, "="), a,
			     !strncmp(a, "--web", 5) ? "pm2 web's (tend runtime --health PORT serves probes)" : "for PM2 Plus");
		} else if (positional == 0 && !strcmp(a, "start") && a[0] != '-') {
			positional = -1;   /* pm2-runtime start FILE: the word is PM2's command */
		} else {
			if (a[0] != '-')
				positional = positional < 0 ? 1 : positional + 1;
			R.start_args[R.nstart++] = argv[i];
		}
	}
	if (positional <= 0)
		die_usage("a declaration file or a script to run is needed (tend runtime --help)");
}

/* ---- children ------------------------------------------------------------------------------- */

/* This program again: "tend APPLET ARGS..." (as "pm2" when run under PM2's names). */
static pid_t spawn_self(const char *applet, char **args, int nargs, int ready_fd, int log_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char **argv = xcalloc((size_t)nargs + 4, sizeof *argv);
	int k = 0;
	argv[k++] = home_is_pm2() ? "pm2" : "tend";
	argv[k++] = (char *)applet;
	if (ready_fd >= 0) {   /* the daemon: its own group, its log to our pipe */
		setpgid(0, 0);
		dup2(log_fd, 1);
		dup2(log_fd, 2);
		set_nonblock(1, true);   /* (fd 2 too: one pipe) a full pipe drops a line */
		char fd[16];
		snprintf(fd, sizeof fd, "%d", ready_fd);
		setenv("TEND_READY_FD", fd, 1);
		setenv("TEND_NO_LOG_FILES", "1", 1);
	} else {
		argv[k++] = "-s";
	}
	for (int i = 0; i < nargs; i++)
		argv[k++] = args[i];
	execv("/proc/self/exe", argv);
	fprintf(stderr, "tend: runtime: /proc/self/exe: %s\n", strerror(errno));
	_exit(127);
}

static void begin_stop(int code, const char *why)
{
	if (R.phase == P_STOPPING)
		return;
	if (why)
		rt_say("%s", why);
	R.phase = P_STOPPING;
	R.code = code;
	R.stop_step = 0;
	R.deadline = mono_ms() + R.stop_timeout_ms;
	if (R.daemon > 0)
		kill(R.daemon, SIGTERM);   /* every app stops at once, then the daemon exits */
}

/* The daemon is gone without stopping its apps: each app's process group, by the pids
 * it kept in the home. */
static void kill_leftovers(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", home_path(HOME_PIDS));
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char file[PATH_MAX + 256], text[32];
		snprintf(file, sizeof file, "%s/%s", path, e->d_name);
		long long pid;
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
		if (fd >= 0)
			close(fd);
		text[n > 0 ? n : 0] = 0;
		text[strcspn(text, "\n")] = 0;
		if (parse_int(text, 2, 1 << 22, &pid)) {
			kill(-(pid_t)pid, SIGKILL);
			kill((pid_t)pid, SIGKILL);
		}
	}
	if (d)
		closedir(d);
}

/* Past the stop timeout: first the daemon kills every app now; a second later, if it is
 * still there, it and whatever is left are killed. */
static void stop_overdue(void)
{
	if (R.stop_step == 0 && R.daemon > 0) {
		rt_say("the apps did not stop within %lld ms: killing them", (long long)R.stop_timeout_ms);
		kill(R.daemon, SIGTERM);   /* asked twice: SIGKILL to every app now */
		R.stop_step = 1;
		R.deadline = mono_ms() + 1000;
	} else if (R.stop_step == 1) {
		if (R.daemon > 0)
			kill(-R.daemon, SIGKILL);
		if (getpid() == 1)
			kill(-1, SIGKILL);   /* everything in this PID namespace but us */
		else
			kill_leftovers();
		R.stop_step = 2;
		R.deadline = 0;
	}
}

/* After a failed start: did any app start all the same? */
static bool anything_started(void)
{
	if (R.daemon <= 0)
		return false;
	struct jdoc d;
	char *text = call_list(NULL, 0, NULL, &d);
	bool any = false;
	for (int i = 0, a = 1; i < d.tok[0].size; i++, a = json_next(&d, a)) {
		int st = json_get(&d, json_get(&d, a, "pm2_env"), "status");
		any |= json_eq(&d, st, "online") || json_eq(&d, st, "launching");
	}
	json_free(&d);
	free(text);
	return any;
}

static void reaped(pid_t pid, int status)
{
	if (pid == R.daemon) {
		R.daemon = -1;
		R.daemon_status = status;
		RT.daemon_up = false;
		if (R.phase != P_STOPPING) {
			rt_say("the daemon ended (%s %d)", WIFSIGNALED(status) ? "signal" : "status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			R.phase = P_STOPPING;
			R.code = EXIT_FAIL;
		}
		R.done = true;
	} else if (pid == R.starter) {
		R.starter = -1;
		if (R.phase != P_STARTING)
			return;
		bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (!ok && !anything_started()) {
			begin_stop(EXIT_FAIL, "nothing could start");
			return;
		}
		if (!ok)
			rt_say("not every app could start; the others run");
		R.phase = P_RUNNING;
		R.deadline = mono_ms() + 6000;   /* pm2-runtime: 4 s, then a check every 2 s */
	}
	/* anything else: an orphan that came to us; reaped, nothing more */
}

static void on_signal(void)
{
	struct signalfd_siginfo si;
	while (read(R.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			int status;
			pid_t pid;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				reaped(pid, status);
		} else {
			begin_stop(EXIT_OK, NULL);
		}
	}
}

/* ---- the streams ---------------------------------------------------------------------------- */

static void on_stream_reply(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	if (!ok) {
		begin_stop(EXIT_FAIL, error ? error : "the daemon refused a stream");
		return;
	}
	(void)c;
	if (++R.subscribed == 2 && R.phase == P_SUBSCRIBE) {
		RT.daemon_up = true;
		R.phase = P_DELAY;
		R.deadline = mono_ms() + R.delay_ms;
	}
}

static void on_stream_close(struct conn *c)
{
	(void)c;
	RT.daemon_up = false;   /* the daemon is going; its exit says the rest */
}

static void on_list_line(struct conn *c, char *line, size_t len)
{
	(void)c;
	struct jdoc d;
	if (json_parse(&d, line, len))
		rt_take_list(&d);
	json_free(&d);
}

static void on_list_done(struct conn *c, bool ok, int code, const char *error)
{
	(void)code;
	(void)error;
	conn_close(c);
	RT.listing = false;
	RT.resync |= !ok;   /* asked again after the next pass */
}

static void on_list_gone(struct conn *c)
{
	(void)c;   /* cut off before its answer: asked again while the daemon is up */
	RT.listing = false;
	RT.resync = true;
}

/* Events were dropped: one list, asked without waiting for it, states every instance
 * afresh (but those an event speaks of meanwhile: rt_take_list). Drops during it ask
 * again once it is in. */
static void resync(void)
{
	if (!RT.resync || RT.listing || R.phase == P_STOPPING || !RT.daemon_up)
		return;
	struct buf req = {0};
	req_begin(&req, "list");
	req_end(&req);
	conn_close(&R.list);   /* (what a connection cut off left) */
	R.list = (struct conn){.fd = -1, .on_line = on_list_line, .on_reply = on_list_done,
	                       .on_close = on_list_gone};
	for (int i = 0; i < RT.ninsts; i++)
		RT.insts[i].touched = false;
	RT.listing = conn_open(&R.list, &req);
	RT.resync = !RT.listing;
	buf_free(&req);
}

static void subscribe(void)
{
	struct buf req = {0};
	req_begin(&req, "logs");
	json_kbool(&req, "stream", true);
	req_end(&req);
	R.logs = (struct conn){.fd = -1, .on_line = rt_log_line, .on_reply = on_stream_reply,
	                       .on_close = on_stream_close};
	bool ok = conn_open(&R.logs, &req);
	buf_reset(&req);
	req_begin(&req, "events");
	req_end(&req);
	R.events = (struct conn){.fd = -1, .on_line = rt_event_line, .on_reply = on_stream_reply,
	                         .on_close = on_stream_close};
	ok = ok && conn_open(&R.events, &req);
	buf_free(&req);
	if (!ok)
		begin_stop(EXIT_FAIL, "the daemon does not answer");
	else
		R.phase = P_SUBSCRIBE;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static const int out_fds[2] = {STDOUT_FILENO, STDERR_FILENO};   /* (poll tags) */

static size_t src_most(void) { return 8; }

static size_t src_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	size_t n = 0;
	fds[n] = (struct pollfd){.fd = R.sigfd, .events = POLLIN};
	tags[n++] = &R.sigfd;
	if (R.ready_fd >= 0) {
		fds[n] = (struct pollfd){.fd = R.ready_fd, .events = POLLIN};
		tags[n++] = &R.ready_fd;
	}
	if (R.daemon_log >= 0) {
		fds[n] = (struct pollfd){.fd = R.daemon_log, .events = POLLIN};
		tags[n++] = &R.daemon_log;
	}
	for (int i = 0; i < 2; i++)
		if (rt_out_events(out_fds[i])) {
			fds[n] = (struct pollfd){.fd = out_fds[i], .events = POLLOUT};
			tags[n++] = (void *)&out_fds[i];
		}
	struct conn *cs[] = {&R.logs, &R.events, &R.list};
	for (int i = 0; i < 3; i++)
		if (cs[i]->fd >= 0 && !(cs[i] == &R.logs && rt_out_full())) {
			fds[n] = (struct pollfd){.fd = cs[i]->fd, .events = conn_events(cs[i])};
			tags[n++] = cs[i];
		}
	return n;
}

static void src_ready(struct pollfd *pfd, void *tag)
{
	if (tag == &R.sigfd) {
		on_signal();
	} else if (tag == &R.daemon_log) {
		if (rt_daemon_log(R.daemon_log) < 0)
			close_fd(&R.daemon_log);   /* the daemon and what it started are gone */
	} else if (tag == &out_fds[0] || tag == &out_fds[1]) {
		rt_out_flush();
	} else if (tag == &R.ready_fd) {
		/* the daemon writes its news, then "R" once it answers */
		char buf[512];
		ssize_t n = read(R.ready_fd, buf, sizeof buf);
		if (n <= 0 || buf[n - 1] == 'R') {
			close(R.ready_fd);
			R.ready_fd = -1;
			if (n > 0 && R.phase == P_BOOT)
				subscribe();
		}
	} else {
		conn_ready(tag, pfd->revents);
	}
}

static int64_t src_deadline(void) { return R.deadline; }

static void src_fire(int64_t now)
{
	if (!R.deadline || now < R.deadline)
		return;
	R.deadline = 0;
	switch (R.phase) {
	case P_DELAY:
		R.phase = P_STARTING;
		R.starter = spawn_self("start", R.start_args, R.nstart, -1, -1);
		if (R.starter < 0)
			begin_stop(EXIT_FAIL, "cannot fork");
		break;
	case P_RUNNING:
		R.deadline = now + 2000;
		if (!R.auto_exit || rt_any_alive()) {
			R.dead_checks = 0;
		} else if (++R.dead_checks >= 4) {
			begin_stop(2, "no app is online any more: exiting (--no-auto-exit to stay)");
		}
		break;
	case P_STOPPING:
		stop_overdue();
		break;
	default:
		break;
	}
}

static const struct loop_source runtime_source = {
	.name = "runtime", .fill = src_fill, .most = src_most, .ready = src_ready,
	.next_deadline = src_deadline, .fire = src_fire,
};

static bool after_pass(void)
{
	rt_out_flush();
	resync();
	if (RT.exit_from_done && R.phase == P_RUNNING)
		begin_stop(RT.exit_from_code >= 0 ? RT.exit_from_code : EXIT_FAIL, NULL);
	return false;
}

int runtime_main(int argc, char **argv)
{
	const char *base = strrchr(invoked_as, '/');
	base = base ? base + 1 : invoked_as;
	if (!strncmp(base, "pm2-", 4))
		home_use_pm2_names();   /* pm2-runtime: PM2_HOME and PM2's file names */
	parse(argc, argv);
	R.logs.fd = R.events.fd = R.list.fd = R.daemon_log = -1;   /* (not stdin: opened later) */
	if (client_connect() >= 0)
		die("a daemon already runs for %s: tend runtime runs its own (set %s)", home_dir(),
		    home_is_pm2() ? "PM2_HOME" : "TEND_HOME");
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD};
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	R.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (R.sigfd < 0)
		die("signalfd: %s", strerror(errno));
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		warn("PR_SET_CHILD_SUBREAPER: %s (orphans go to init)", strerror(errno));
	char err[300];
	if (R.health && !rt_health_listen(R.health, err, sizeof err))
		die("%s", err);
	int ready[2], log[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(log, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	fcntl(ready[1], F_SETFD, 0);   /* the daemon's, across exec */
	R.daemon = spawn_self("daemon", NULL, 0, ready[1], log[1]);
	if (R.daemon < 0)
		die("fork: %s", strerror(errno));
	close(ready[1]);
	close(log[1]);
	R.ready_fd = ready[0];
	R.daemon_log = log[0];
	set_nonblock(R.daemon_log, true);
	R.starter = -1;
	struct loop l = {0};
	loop_add_source(&l, &runtime_source);
	if (R.health)
		loop_add_source(&l, &http_source);
	loop_after_pass(&l, after_pass);
	while (!R.done)
		if (loop_pass(&l) < 0)
			die("poll: %s", strerror(errno));
	while (R.daemon_log >= 0 && rt_daemon_log(R.daemon_log) > 0)
		;   /* the daemon's last lines */
	close_fd(&R.daemon_log);
	rt_daemon_log_end();
	rt_out_finish(1000);
	conn_close(&R.logs);
	conn_close(&R.events);
	conn_close(&R.list);
	if (R.health)
		http_close_all();
	loop_free(&l);
	if (RT.exit_from && RT.exit_from_code >= 0)
		return RT.exit_from_code;
	return R.code;
}
