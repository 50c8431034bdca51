/* The daemon's loop: control connections, app output pipes, signals (signalfd) and
 * deadlines on the monotonic clock, all in one poll(2). Nothing here blocks; after
 * start-up, every error is logged and the loop goes on. */
#include "daemon/daemon.h"
#include "daemon/applog.h"
#include "daemon/clients.h"
#include "daemon/crash.h"
#include "daemon/events.h"
#include "daemon/ctl.h"
#include "daemon/manager.h"
#include "lib/home.h"
#include "daemon/proc.h"
#include "daemon/ready.h"
#include "daemon/reload.h"
#include "lib/safefile.h"
#include "daemon/stray.h"
#include "daemon/upgrade.h"
#include "lib/version.h"
#include "lib/procfs.h"
#include "daemon/proxy.h"
#include "daemon/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { SAMPLE_EVERY_MS = 1000 };

static int log_fd = 2;
static bool log_rotates;        /* the daemon's own log file (not a foreground stdout) */
static int64_t log_size;
enum { DAEMON_LOG_MAX_DEFAULT = 10 << 20 };

/* tend.log rotates like app logs: past TEND_LOG_MAX_SIZE (10 MiB when unset), keeping
 * TEND_LOG_RETAIN files. It is fds 1 and 2, so anything writing there follows. */
static void rotate_daemon_log(void)
{
	const char *path = home_path(HOME_LOG);
	if (!logfile_rotate(path, applog_default_retain)) {
		log_size = 0;   /* try again after another max size */
		return;
	}
	char why[PATH_MAX + 200];
	int fd = safe_open_append(path, 0, 0600, why, sizeof why);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	log_size = 0;
}
static int listen_fd = -1, signal_fd = -1, lock_fd = -1;
static bool foreground_mode;
static bool shutting_down;
static struct client *exit_client;   /* reply to this one, then exit */
static bool exit_now;

void dlog(const char *fmt, ...)
{
	char line[2048];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S ", &tm);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t end = n + ((size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2);
	blank_controls(line + n, end - n);   /* paths and errors come from requests */
	n = end;
	line[n++] = '\n';
	if (!write_all(log_fd, line, n) || !log_rotates)
		return;   /* a failed log write is not worth dying for */
	log_size += (int64_t)n;
	int64_t max = applog_default_max_size ? applog_default_max_size : DAEMON_LOG_MAX_DEFAULT;
	if (log_size > max)
		rotate_daemon_log();
}

void daemon_client_gone(struct client *c)
{
	if (exit_client == c)
		exit_client = NULL, exit_now = true;
}

/* ---- signals and children ------------------------------------------------------ */

static void reap_children(void)
{
	/* First: orphans reparented to us when their parent exited are attributed to
	 * their app before that parent's exit is handled (and kills them). */
	stray_scan();
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		stray_reaped(pid);
		proc_reaped(pid, status);
	}
}

void daemon_shutdown_begin(void)
{
	if (shutting_down)
		return;
	shutting_down = true;
	manager_notify("STOPPING=1");
	dlog("shutting down: stopping %d process(es)", nprocs);
	events_daemon("shutdown", NULL);
	for (int i = 0; i < nprocs; i++)
		proc_event(procs[i], EV_STOP);
}

bool daemon_shutting_down(void) { return shutting_down; }

void daemon_kill_now(void)
{
	dlog("stopping with SIGKILL now");
	for (int i = 0; i < nprocs; i++)
		proc_kill_now(procs[i]);
}

void daemon_initial_done(bool ok)
{
	if (!ok)
		dlog("the first request failed (see above); the daemon goes on");
	manager_notify("READY=1");
}

/* Leave the home to a successor: no socket to connect to, no pid file. */
static void release_home(void)
{
	if (listen_fd < 0)
		return;
	unlink(home_path(HOME_SOCKET));
	unlink(home_path(HOME_PIDFILE));
	close(listen_fd);
	listen_fd = -1;
}

void daemon_exit_when_flushed(struct client *c)
{
	release_home();
	if (c && c->fd >= 0)
		exit_client = c;
	else
		exit_now = true;
}

static void handle_signals(void)
{
	struct signalfd_siginfo si;
	while (read(signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			break;   /* reaped below, all at once */
		case SIGTERM:
		case SIGINT:
			dlog("%s received", signal_name((int)si.ssi_signo));
			if (shutting_down)
				daemon_kill_now();   /* asked twice: do not wait for kill_timeout */
			else
				daemon_shutdown_begin();
			break;
		case SIGHUP:
		case SIGUSR2:
			/* Reopen app logs (after an external logrotate renamed them). */
			for (int i = 0; i < nprocs; i++)
				applog_reopen(procs[i]);
			dlog("%s: app logs reopened", signal_name((int)si.ssi_signo));
			break;
		}
	}
	reap_children();
}

/* ---- sampling ------------------------------------------------------------------ */

void daemon_sample_procs(void)
{
	int64_t now = mono_ms();
	long tck = procfs_clk_tck();
	int64_t boot = procfs_boot_wall_ms();
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = procs[i];
		struct pstat st;
		if (p->run.sample_mono && now - p->run.sample_mono < SAMPLE_EVERY_MS / 2)
			continue;   /* fresh enough: CPU% over a very short interval is noise */
		if (p->run.pid <= 0 || !procfs_stat(p->run.pid, &st)) {
			p->run.cpu_pct = 0;
			p->run.rss_bytes = 0;
			continue;
		}
		int64_t ticks_ms = st.cpu_ticks * 1000 / tck;
		if (p->run.sample_mono) {
			int64_t dt = now - p->run.sample_mono;
			p->run.cpu_pct = dt > 0 ? 100.0 * (double)(ticks_ms - p->run.cpu_ticks) / (double)dt : 0;
		} else {
			/* First sample: the average since the process started, as ps shows it. */
			int64_t age = wall_ms() - (boot + st.start_ticks * 1000 / tck);
			p->run.cpu_pct = age > 0 ? 100.0 * (double)ticks_ms / (double)age : 0;
		}
		if (p->run.cpu_pct < 0)
			p->run.cpu_pct = 0;
		p->run.cpu_ticks = ticks_ms;
		p->run.sample_mono = now;
		p->run.rss_bytes = st.rss_bytes;
	}
}

/* CPU time and RSS of p's whole tree now, and CPU % over the time since the last; a
 * sample younger than max_age_ms is kept (the event stream and the list share it). */
void daemon_sample_tree(struct proc *p, int64_t now, int64_t max_age_ms)
{
	struct tree_sample *t = &p->run.tree_sample;
	if (t->at && now - t->at < max_age_ms && t->pid == p->run.pid)
		return;
	if (p->run.pid <= 0) {
		*t = (struct tree_sample){0};
		return;
	}
	int64_t ticks, rss;
	procfs_tree(p->run.pid, &ticks, &rss);
	int64_t ms = ticks * 1000 / procfs_clk_tck();
	/* A child that ended between samples takes its time with it: never below 0. */
	if (t->at && t->pid == p->run.pid && now > t->at)
		t->cpu_pct = ms > t->ticks_ms ? 100.0 * (double)(ms - t->ticks_ms) / (double)(now - t->at) : 0;
	else
		t->cpu_pct = 0;
	t->pid = p->run.pid;
	t->at = now;
	t->ticks_ms = ms;
	t->rss = rss;
}

/* ---- start-up ------------------------------------------------------------------ */

static int setup_socket(void)
{
	const char *path = home_path(HOME_SOCKET);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		dlog("socket path too long (%zu bytes, at most %zu): %s", strlen(path),
		     sizeof sa.sun_path - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);   /* stale: we hold the lock, so no live daemon owns it */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0 || listen(fd, 256) < 0) {
		dlog("socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int setup_signals(void)
{
	/* A shell starts background jobs with SIGINT ignored; an ignored signal never
	 * reaches signalfd, and apps would inherit the ignoring. Start from defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Many apps mean many pipes: raise the fd limit, give children the original one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	proc_set_child_nofile(rl.rlim_cur);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Tell the command that started us that we listen: "R", after a message for its
 * user if there is one (how the previous daemon ended). */
static void signal_ready(const char *news)
{
	const char *s = getenv("TEND_READY_FD");
	if (!s)
		return;
	int fd = atoi(s);
	unsetenv("TEND_READY_FD");
	if (fd > 2) {
		write_all(fd, news, strlen(news));
		write_all(fd, "R", 1);
		close(fd);
	}
}

static void read_environment(void)
{
	const char *size = home_env("LOG_MAX_SIZE");
	const char *retain = home_env("LOG_RETAIN");
	long long kept;
	if (size && !parse_size(size, &applog_default_max_size))
		dlog("ignoring bad LOG_MAX_SIZE %s", size);
	if (retain && parse_int(retain, 0, 100000, &kept))
		applog_default_retain = (int)kept;
	else if (retain)
		dlog("ignoring bad LOG_RETAIN %s", retain);
	const char *nofiles = home_env("NO_LOG_FILES");
	applog_no_default_files = nofiles && strcmp(nofiles, "0") != 0 && *nofiles;
	const char *sig = home_env("KILL_SIGNAL");
	if (sig) {
		int n = signal_from_name(sig);
		if (n > 0)
			default_kill_signal = n;
		else
			dlog("ignoring bad KILL_SIGNAL %s", sig);
	}
}

/* ---- the loop ------------------------------------------------------------------ */

/* ---- the loop --------------------------------------------------------------------
 * The daemon's own fds (signals, the control socket, sd_notify datagrams); every other
 * module brings its source (fds, timers) and the loop asks each in turn. */

static size_t own_most(void) { return 3; }

static size_t own_fill(struct pollfd *fds, void **tags, size_t room, int64_t now)
{
	(void)room;
	(void)now;
	int own[] = {signal_fd, listen_fd, ready_notify_fd};
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(own); i++)
		if (own[i] >= 0) {
			fds[n] = (struct pollfd){.fd = own[i], .events = POLLIN};
			tags[n++] = NULL;
		}
	return n;
}

static void own_ready(struct pollfd *pfd, void *tag)
{
	(void)tag;
	if (pfd->fd == signal_fd)
		handle_signals();
	else if (pfd->fd == listen_fd)
		clients_accept(listen_fd);
	else if (pfd->fd == ready_notify_fd)
		ready_notify_read();
}

static const struct loop_source own_source = {
	.name = "daemon", .fill = own_fill, .most = own_most, .ready = own_ready,
};

static bool collect_removed(void)
{
	procs_release_gone();   /* unlinked in the pass before: no source holds them now */
	procs_collect_removed();
	return false;
}

/* A signal asked for the shutdown: exit once every app is down. */
static bool exit_when_down(void)
{
	if (!shutting_down || exit_client)
		return false;
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->run.pid != 0 || !proc_settled(procs[i]) || procs[i]->old)
			return false;
	for (int i = 0; i < nclients; i++)
		if (clients[i]->wait.kind == WAIT_SHUTDOWN)
			return false;
	release_home();
	exit_now = true;
	return false;
}

static void loop(void)
{
	struct loop l = {0};
	/* In this order: fds are dispatched and timers fired source by source. */
	const struct loop_source *sources[] = {&own_source, &clients_source, &procs_source,
	                                       &watchdogs_source, &proxy_source, &stray_source,
	                                       &events_source};
	for (size_t i = 0; i < ARRAY_LEN(sources); i++)
		loop_add_source(&l, sources[i]);
	loop_after_pass(&l, collect_removed);
	loop_after_pass(&l, clients_run);   /* busy while requests wait for their turn */
	loop_after_pass(&l, exit_when_down);
	while (!exit_now)
		if (loop_pass(&l) < 0) {
			dlog("poll: %s", strerror(errno));
			sleep(1);   /* cannot happen short of EINVAL/ENOMEM; do not spin */
		}
	loop_free(&l);
}

/* What every daemon does before its loop, started or resumed. */
static bool begin(void)
{
	read_environment();
	manager_setup();
	signal_fd = setup_signals();
	crash_handlers_install(log_fd);   /* after setup_signals reset every disposition */
	if (signal_fd < 0)
		return false;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		dlog("PR_SET_CHILD_SUBREAPER: %s (orphans will not be reaped here)", strerror(errno));
	clients_reserve_fd();
	return true;
}

static int run_until_exit(void)
{
	loop();
	proxy_teardown();
	release_home();
	ready_teardown();
	dlog("daemon %d exited", (int)getpid());
	clients_close_all();
	while (nprocs > 0)
		proc_free(procs[nprocs - 1]);
	stray_teardown();
	free(procs);
	close(signal_fd);
	/* The lock stays held until the process exits: `tend kill` waits for it. */
	return EXIT_OK;
}

int daemon_run(bool foreground, const char *initial, size_t initial_len)
{
	/* A foreground daemon is someone's child: what it inherited is not the apps'. */
	cloexec_from(3);
	char why[PATH_MAX + 200];
	if (!home_prepare(why, sizeof why)) {
		warn("%s", why);
		return EXIT_FAIL;
	}
	lock_fd = open(home_path(HOME_LOCK), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		warn("%s: %s", home_path(HOME_LOCK), strerror(errno));
		return EXIT_FAIL;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another daemon owns this home: the client will find its socket. */
		if (foreground)
			warn("a daemon is already running for %s", home_dir());
		return foreground ? EXIT_FAIL : EXIT_OK;
	}
	foreground_mode = foreground;
	if (foreground) {
		log_fd = 1;
	} else {
		int fd = safe_open_append(home_path(HOME_LOG), 0, 0600, why, sizeof why);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		log_fd = 2;
		struct stat st;
		log_rotates = true;
		log_size = fstat(2, &st) == 0 ? st.st_size : 0;
	}
	bool ok = begin();
	listen_fd = setup_socket();
	if (!ok || listen_fd < 0) {
		dlog("cannot start: %s", strerror(errno));
		if (foreground)
			warn("cannot start the daemon: %s (see above)", strerror(errno));
		return EXIT_FAIL;
	}
	raise_fd_limit();
	char news[PATH_MAX + 300];
	crash_previous(news, sizeof news);
	if (news[0])
		dlog("%s", news);
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%d", (int)getpid());
	if (safe_replace(home_path(HOME_PIDFILE), pid, (size_t)len, 0644, true, why, sizeof why) < 0)
		dlog("pid file %s", why);
	dlog("daemon %d started in %s", (int)getpid(), home_dir());
	ready_setup(-1);
	stray_setup();
	int left = orphans_scan();
	if (news[0] && left > 0) {
		size_t n = strlen(news);
		snprintf(news + n, sizeof news - n, "; %d of its app processes still run: starting "
		         "those apps again (resurrect) replaces them", left);
	}
	signal_ready(news);
	if (initial) {
		struct client *c = client_add(-1);
		ctl_request(c, initial, initial_len);   /* READY=1 when it has replied */
	} else {
		manager_notify("READY=1");
	}
	return run_until_exit();
}

/* ---- tend update ---------------------------------------------------------------- */

void daemon_update(struct client *c, const char *exe)
{
	char why[PATH_MAX + 300];
	if (!upgrade_can_resume(exe, why, sizeof why)) {
		reply_error(c, 1, "update: %s", why);
		return;
	}
	if (!upgrade_possible(c, why, sizeof why)) {
		reply_error(c, 1, "not now: %s", why);
		return;
	}
	/* What goes out is sent first: the new program takes only what is queued. */
	struct daemon_state ds = {
		.listen_fd = listen_fd, .lock_fd = lock_fd, .notify_fd = ready_notify_fd,
		.foreground = foreground_mode, .log_size = log_size,
		.child_nofile = (long long)proc_child_nofile(),
	};
	upgrade_exec(exe, c, &ds, why, sizeof why);
	reply_error(c, 1, "%s (the daemon goes on as it was)", why);
}

int daemon_resume(int state_fd)
{
	struct daemon_state ds = {.listen_fd = -1, .lock_fd = -1, .notify_fd = -1};
	struct client *updater = NULL;
	char why[PATH_MAX + 200], before[64];
	/* Everything that came across is ours, and stays out of what we start. */
	cloexec_from(3);
	bool restored = upgrade_restore(state_fd, &ds, &updater, before, sizeof before, why, sizeof why);
	lock_fd = ds.lock_fd;
	listen_fd = ds.listen_fd;
	foreground_mode = ds.foreground;
	log_fd = foreground_mode ? 1 : 2;
	log_rotates = !foreground_mode;
	log_size = ds.log_size;
	if (!begin() || !restored || listen_fd < 0 || lock_fd < 0) {
		dlog("update: cannot resume: %s", restored ? strerror(errno) : why);
		return EXIT_FAIL;
	}
	if (ds.child_nofile > 0)
		proc_set_child_nofile((rlim_t)ds.child_nofile);
	ready_setup(ds.notify_fd);
	stray_setup();
	dlog("daemon %d updated in place: build %s -> %s, %d instance(s) kept", (int)getpid(), before,
	     tend_build_id, nprocs);
	if (updater)
		reply_daemon_info(updater, before);
	char detail[96];
	snprintf(detail, sizeof detail, "build %s -> %s", before, tend_build_id);
	events_daemon("update", detail);
	return run_until_exit();
}
