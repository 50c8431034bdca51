#include "daemon/crash.h"
#include "lib/home.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Everything the handler needs is prepared beforehand: it may only call
 * async-signal-safe functions (open, write, close, raise, sigaction). */
static int crash_log_fd = -1;
static char note_path[PATH_MAX];
static char note_tmp[PATH_MAX + 8];
static char stack[1 << 16];

static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};

static size_t put(char *to, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		to[at++] = *s++;
	to[at] = 0;
	return at;
}

static size_t put_num(char *to, size_t at, size_t cap, long long v)
{
	char digits[24];
	int n = 0;
	if (v < 0) {
		at = put(to, at, cap, "-");
		v = -v;
	}
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof digits);
	while (n > 0 && at + 1 < cap)
		to[at++] = digits[--n];
	to[at] = 0;
	return at;
}

static void on_fatal(int sig)
{
	char line[256];
	size_t n = put(line, 0, sizeof line, "tend: daemon ");
	n = put_num(line, n, sizeof line, (long long)getpid());
	n = put(line, n, sizeof line, ": fatal signal SIG");
	n = put(line, n, sizeof line, signal_name(sig));
	n = put(line, n, sizeof line, ": the daemon dies; its apps run on unsupervised until the next command starts a new daemon\n");
	if (crash_log_fd >= 0)
		(void)!write(crash_log_fd, line, n);
	/* The note: "SIGNAL PID\n", written whole before it is renamed into place. */
	int fd = open(note_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		n = put_num(line, 0, sizeof line, sig);
		n = put(line, n, sizeof line, " ");
		n = put_num(line, n, sizeof line, (long long)getpid());
		n = put(line, n, sizeof line, "\n");
		(void)!write(fd, line, n);
		close(fd);
		rename(note_tmp, note_path);
	}
	/* Die of the same signal, with the default action (a core, if allowed). */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

void crash_handlers_install(int log_fd)
{
	crash_log_fd = log_fd;
	snprintf(note_path, sizeof note_path, "%s/tend.crash", home_dir());
	snprintf(note_tmp, sizeof note_tmp, "%s.new", note_path);
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer's own report is better than ours, and goes to the same log. */
	return;
#endif
	stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack};
	sigaltstack(&ss, NULL);   /* a stack overflow can still be reported */
	struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_ONSTACK | SA_RESETHAND};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_LEN(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

/* Where a core of the daemon would go, if the limits allow one. */
static void core_hint(char *out, size_t len)
{
	out[0] = 0;
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur == 0)
		return;
	char *pattern = read_file("/proc/sys/kernel/core_pattern", 4096, NULL);
	if (pattern) {
		pattern[strcspn(pattern, "\n")] = 0;
		snprintf(out, len, "; a core dump may exist (core_pattern %s%s)", pattern,
		         pattern[0] == '/' || pattern[0] == '|' ? "" : ", relative to /");
	}
	free(pattern);
}

void crash_previous(char *msg, size_t len)
{
	msg[0] = 0;
	char *pidtext = read_file(home_path(HOME_PIDFILE), 64, NULL);
	char *note = read_file(note_path, 256, NULL);
	long long pid = 0, sig = 0, note_pid = 0;
	if (pidtext)
		pid = atoll(pidtext);
	if (note)
		sscanf(note, "%lld %lld", &sig, &note_pid);
	struct stat st;
	char when[64] = "";
	if (note && stat(note_path, &st) == 0) {
		struct tm tm;
		localtime_r(&st.st_mtime, &tm);
		strftime(when, sizeof when, " at %Y-%m-%d %H:%M:%S", &tm);
	}
	if (sig > 0) {
		char hint[PATH_MAX];
		core_hint(hint, sizeof hint);
		snprintf(msg, len, "the previous daemon (pid %lld) died of SIG%s%s%s", note_pid,
		         signal_name((int)sig), when, hint);
	} else if (pid > 0) {
		/* It held the lock we hold now, so it is gone; it left its pid file, so it
		 * did not exit: something killed it without a word. */
		snprintf(msg, len, "the previous daemon (pid %lld) ended without shutting down "
		         "(killed by SIGKILL, or by the kernel's OOM killer)", pid);
	}
	if (note)
		unlink(note_path);
	free(note);
	free(pidtext);
}
