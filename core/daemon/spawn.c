/* Spawning an instance: its argv and environment (the spec's, then tend's own
 * variables), the fds it gets at fixed numbers, and the fork and exec, whose outcome
 * arrives later on a close-on-exec pipe so that nothing waits for it. */
#include "daemon/proc.h"
#include "daemon/applog.h"
#include "lib/home.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "daemon/ready.h"
#include "daemon/reload.h"
#include "lib/safefile.h"
#include "daemon/stray.h"
#include "daemon/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char **build_argv(const struct spec *s)
{
	size_t n = 6;
	for (char **a = s->interp_args; a && *a; a++)
		n++;
	for (char **a = s->args; a && *a; a++)
		n++;
	char **argv = xcalloc(n, sizeof *argv);
	size_t i = 0;
	if (s->shell) {
		argv[i++] = "/bin/sh";
		argv[i++] = "-c";
		argv[i++] = s->script;
		return argv;
	}
	if (s->interpreter) {
		argv[i++] = s->interpreter;
		if (s->node) {
			argv[i++] = "--require";
			argv[i++] = (char *)ready_preload_path(s);
		}
		for (char **a = s->interp_args; a && *a; a++)
			argv[i++] = *a;
	}
	argv[i++] = s->script;
	for (char **a = s->args; a && *a; a++)
		argv[i++] = *a;
	return argv;
}

/* The variables tend sets for every instance, over whatever the spec says. */
static const char *instance_var(const struct spec *s)
{
	return s->instance_var ? s->instance_var : "NODE_APP_INSTANCE";
}

bool proc_is_own_var(const struct spec *s, const char *entry)
{
#define K(s) {s, sizeof s - 1}
	static const struct { const char *name; size_t len; } fixed[] = {
		K("pm_id"), K("name"), K("NOTIFY_SOCKET"), K("LISTEN_FDS"), K("LISTEN_PID"),
		K("LISTEN_FDNAMES"), K("NODE_CHANNEL_FD"), K("NODE_CHANNEL_SERIALIZATION_MODE"),
		K("TEND_LB"), K("TEND_CLUSTER"),
	};
#undef K
	size_t n = strcspn(entry, "=");
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)   /* every variable of a list: no strlen */
		if (fixed[i].len == n && !memcmp(entry, fixed[i].name, n))
			return true;
	const char *ivar = instance_var(s);
	return (s->port && n == 4 && !memcmp(entry, "PORT", 4)) ||
	       (strlen(ivar) == n && !memcmp(entry, ivar, n));
}

/* increment_var: the variable's number plus the instance number (PORT=3000 gives
 * 3000, 3001, ... to instances 0, 1, ...). */
static bool incremented(const struct proc *p, char *out, size_t outlen)
{
	const struct spec *s = p->spec;
	const char *name = s->increment_var;
	if (!name || (s->port && !strcmp(name, "PORT")))
		return false;
	size_t n = strlen(name);
	for (char **e = s->env; e && *e; e++) {
		long long v;
		if (strncmp(*e, name, n) || (*e)[n] != '=' || !parse_int(*e + n + 1, -(1LL << 50), 1LL << 50, &v))
			continue;
		snprintf(out, outlen, "%s=%lld", name, v + p->instance);
		return true;
	}
	return false;
}

int proc_own_vars(const struct proc *p, char vars[PROC_OWN_MAX][256])
{
	const struct spec *s = p->spec;
	int k = 0;
	snprintf(vars[k++], 256, "pm_id=%d", p->id);
	snprintf(vars[k++], 256, "name=%s", s->name);
	snprintf(vars[k++], 256, "%s=%d", instance_var(s), p->instance);
	if (s->proxy) {
		/* The app listens on its private port; the daemon forwards the public one. */
		snprintf(vars[k++], 256, "PORT=%d", p->run.proxy.port);
		snprintf(vars[k++], 256, "TEND_LB=proxy");
	} else if (s->port) {
		bool inc = s->increment_var && !strcmp(s->increment_var, "PORT");
		snprintf(vars[k++], 256, "PORT=%d", s->port + (inc ? p->instance : 0));
	}
	if (incremented(p, vars[k], 256))
		k++;
	if (ready_notify_fd >= 0)
		snprintf(vars[k++], 256, "NOTIFY_SOCKET=%s", home_path(HOME_NOTIFY));
	if (s->handoff) {
		/* The socket is fd 3; LISTEN_PID is the process's own pid, set in the child. */
		snprintf(vars[k++], 256, "LISTEN_FDS=1");
		snprintf(vars[k++], 256, "LISTEN_PID=%d", (int)p->run.pid);
		snprintf(vars[k++], 256, "LISTEN_FDNAMES=%s", s->name);
	}
	if (s->node) {
		snprintf(vars[k++], 256, "NODE_CHANNEL_FD=%d", s->handoff ? 4 : 3);
		snprintf(vars[k++], 256, "NODE_CHANNEL_SERIALIZATION_MODE=json");
		if (s->cluster)
			snprintf(vars[k++], 256, "TEND_CLUSTER=1");   /* the preload shares listen() */
	}
	return k;
}

/* The app's environment: the spec's, then tend's own variables on top. One block:
 * the pointer array, then the text of tend's variables. */
char **proc_env(const struct proc *p)
{
	const struct spec *s = p->spec;
	char own[PROC_OWN_MAX][256];
	int nown = proc_own_vars(p, own);
	size_t n = 0;
	for (char **e = s->env; e && *e; e++)
		n++;
	char **env = xmalloc((n + PROC_OWN_MAX + 1) * sizeof *env + sizeof own);
	char *text = (char *)(env + n + PROC_OWN_MAX + 1);
	memcpy(text, own, sizeof own);
	size_t k = 0;
	for (char **e = s->env; e && *e; e++) {
		bool replaced = proc_is_own_var(s, *e);
		for (int i = 3; i < nown && !replaced; i++)   /* an incremented variable */
			replaced = !strncmp(*e, own[i], strcspn(own[i], "=") + 1);
		if (!replaced)
			env[k++] = *e;
	}
	for (int i = 0; i < nown; i++)
		env[k++] = text + (size_t)i * 256;
	env[k] = NULL;
	return env;
}

static rlim_t saved_nofile = 0;   /* the soft limit the daemon was started with */

void proc_set_child_nofile(rlim_t soft) { saved_nofile = soft; }
rlim_t proc_child_nofile(void) { return saved_nofile; }

struct exec_failure {
	int err;
	char stage[24];
};

static NORETURN void child_fail(int status_fd, const char *stage)
{
	struct exec_failure f = {.err = errno};
	snprintf(f.stage, sizeof f.stage, "%s", stage);
	write_all(status_fd, &f, sizeof f);
	_exit(127);
}

/* The fds an instance is given past stdio, at fixed numbers: the listening socket at
 * 3 (LISTEN_FDS), then node's IPC channel. Each source is first moved above them, so
 * that placing one never closes another. */
static void place_fds(int listen_fd, int ipc_fd, int *status_w)
{
	int src[2] = {listen_fd, ipc_fd}, high[2];
	*status_w = fcntl(*status_w, F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 2; i++)
		high[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 10) : -1;
	int target = 3;
	for (int i = 0; i < 2; i++)
		if (high[i] >= 0 && dup2(high[i], target++) < 0)
			child_fail(*status_w, "dup2");
}

/* LISTEN_PID is the child's own pid: known only here. */
static void set_listen_pid(char **envp)
{
	static char entry[32];
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "LISTEN_PID=", 11)) {
			snprintf(entry, sizeof entry, "LISTEN_PID=%d", (int)getpid());
			*e = entry;
		}
}

static NORETURN void child_exec(const struct spec *s, char **argv, char **envp,
                                int out_w, int err_w, int status_w, int ipc_w, int cgroup_fd)
{
	stray_join(cgroup_fd);   /* first: whatever it forks from now on is inside */
	/* The daemon blocks the signals it reads through signalfd and ignores SIGPIPE;
	 * both would be inherited. It installs no handlers, so nothing else to reset. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		child_fail(status_w, "stdio");
	place_fds(s->handoff && s->listener ? s->listener->fd : -1, ipc_w, &status_w);
	set_listen_pid(envp);
	if (s->cwd && chdir(s->cwd) < 0)
		child_fail(status_w, "chdir");
	if (saved_nofile) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = saved_nofile;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	/* Running as another user never keeps the daemon's groups: without a gid, the
	 * user's own number stands in for it. */
	gid_t gid = s->has_gid ? s->gid : (gid_t)s->uid;
	if ((s->has_gid || s->has_uid) && (setgroups(1, &gid) < 0 || setgid(gid) < 0))
		child_fail(status_w, "setgid");
	if (s->has_uid && setuid(s->uid) < 0)
		child_fail(status_w, "setuid");
	execve(argv[0], argv, envp);
	child_fail(status_w, "exec");
}

void proc_write_pid_file(struct proc *p)
{
	/* Runtime state, stale after a reboot anyway: rename for atomicity, no fsync,
	 * so starting many apps does not wait on the disk. */
	char text[24], why[PATH_MAX + 300];
	int len = snprintf(text, sizeof text, "%d", (int)p->run.pid);
	bool ok = safe_replace(p->record_path, text, (size_t)len, 0644, false, why, sizeof why) == 0;
	if (ok && strcmp(p->pid_path, p->record_path) != 0)
		ok = safe_replace(p->pid_path, text, (size_t)len, 0644, false, why, sizeof why) == 0;
	if (!ok && !p->pid_file_failed)   /* once, not at every restart of a crash loop */
		dlog("%s[%d]: pid file %s", p->spec->name, p->id, why);
	p->pid_file_failed = !ok;
}

static void set_error(struct proc *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void set_error(struct proc *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	blank_controls(msg, strlen(msg));   /* paths come from requests; replies show it */
	free(p->last_error);
	p->last_error = xstrdup(msg);
	dlog("%s[%d]: %s", p->spec->name, p->id, msg);
}

/* Fork and exec one instance's process. False with last_error set if it failed. */
bool proc_spawn(struct proc *p, bool *wait)
{
	const struct spec *s = p->spec;
	int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1}, ipc[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
	    (s->node && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ipc) < 0)) {
		set_error(p, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((s->handoff || s->proxy) && !s->listener) {
		set_error(p, "no listening socket for port %d", s->port);
		goto fail;
	}
	char why[160];
	if (s->proxy && !(p->run.proxy.port = proxy_free_port(why, sizeof why))) {
		set_error(p, "%s", why);
		goto fail;
	}
	char **argv = build_argv(s);
	char **envp = proc_env(p);
	int cgroup_fd = stray_prepare(p);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(s, argv, envp, out[1], err[1], status[1], ipc[1], cgroup_fd);
	int fork_errno = errno;
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	free(argv);
	free(envp);
	close(out[1]);
	close(err[1]);
	close(status[1]);
	close_fd(&ipc[1]);
	out[1] = err[1] = status[1] = -1;
	if (pid < 0) {
		errno = fork_errno;
		set_error(p, "fork: %s", strerror(errno));
		goto fail;
	}
	/* The exec's outcome arrives later on the close-on-exec pipe (EOF: it happened;
	 * a record: why not). Waiting here would serialize every spawn behind the CPU
	 * that the apps already started are using. */
	set_nonblock(status[0], true);
	close_fd(&p->run.exec_fd);
	p->run.exec_fd = status[0];
	p->run.exec_failed = false;
	set_nonblock(out[0], true);
	set_nonblock(err[0], true);
	close_fd(&p->run.out_fd);
	close_fd(&p->run.err_fd);
	p->run.out_fd = out[0];
	p->run.err_fd = err[0];
	close_fd(&p->run.ipc_fd);
	buf_reset(&p->run.ipc_in);
	p->run.ipc_fd = ipc[0];
	if (p->run.ipc_fd >= 0)
		set_nonblock(p->run.ipc_fd, true);
	applog_open(p);
	p->run.pid = pid;
	p->run.started_mono = mono_ms();
	p->run.started_wall = wall_ms();
	p->spawn_gen++;
	p->run.cpu_ticks = 0;
	p->run.sample_mono = 0;
	p->run.cpu_pct = 0;
	p->run.rss_bytes = 0;
	p->exit_signal = 0;   /* exit_code stays: PM2 shows the last run's while the next runs */
	free(p->last_error);
	p->last_error = NULL;
	proc_write_pid_file(p);
	/* Ready at once, unless the app says when: wait_ready, the node preload
	 * reporting that the app listens on the daemon's socket, or (proxy) its private
	 * port answering. A cluster app's replacement in a reload, when the old process
	 * listened, also waits until the new one does. */
	bool replaces_listener = s->node && s->cluster && p->reload.phase == RL_LAUNCH && p->old &&
	                         p->old->listening;
	p->run.listening = false;
	/* The preload says when the main module has run; ten seconds is long for that. */
	p->run.main_due = s->node ? mono_ms() + 10000 : 0;
	*wait = s->wait_ready || (s->node && s->handoff) || s->proxy || replaces_listener;
	watchdog_spawned(p);
	proxy_spawned(p, *wait);
	return true;
fail:
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&status[0]);
	close_fd(&status[1]);
	close_fd(&ipc[0]);
	close_fd(&ipc[1]);
	p->run.pid = 0;
	p->spawn_gen++;
	return false;
}

/* The exec status pipe is readable: EOF means exec happened; a record means it
 * failed, and the child is exiting with 127. */
void proc_exec_status(struct proc *p)
{
	struct exec_failure f;
	ssize_t r = read_retry(p->run.exec_fd, &f, sizeof f);
	if (r < 0 && errno == EAGAIN)
		return;
	close_fd(&p->run.exec_fd);
	if (r != (ssize_t)sizeof f)
		return;
	const struct spec *s = p->spec;
	p->run.exec_failed = true;
	set_error(p, "%s %s: %s", f.stage, strcmp(f.stage, "chdir") == 0 && s->cwd ? s->cwd
	          : s->shell ? "/bin/sh" : s->interpreter ? s->interpreter : s->script,
	          strerror(f.err));
}
