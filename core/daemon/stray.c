#include "daemon/stray.h"
#include "lib/home.h"
#include "lib/procfs.h"
#include "daemon/reload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	STRAY_SCAN_MS = 1000,
	IGNORED_MAX = 256,     /* children we could not attribute, not looked at again */
};

static char mount_dir[PATH_MAX];   /* the cgroup2 mount */
static char base_dir[PATH_MAX];    /* .../tend-HASH: every daemon of this home */
static char daemon_dir[PATH_MAX];  /* .../tend-HASH/dPID: this daemon's cgroups */
static bool use_cgroups;
static unsigned next_leaf = 1;
static bool released;              /* some cgroup may now be empty: try removing */
static int64_t scan_at;
static pid_t ignored[IGNORED_MAX];
static int nignored;

bool stray_cgroups(void) { return use_cgroups; }

/* ---- cgroup v2 ----------------------------------------------------------------- */

static bool find_cgroup2(void)
{
	char *info = read_file("/proc/self/mountinfo", 1 << 20, NULL);
	char *own = read_file("/proc/self/cgroup", 1 << 16, NULL);
	bool found = false;
	for (char *line = info, *next; line && *line && !found; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *sep = strstr(line, " - ");
		char mnt[PATH_MAX];
		/* id parent major:minor root MOUNTPOINT options ... - TYPE source options */
		if (sep && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(mount_dir, sizeof mount_dir, "%s", mnt);
			found = true;
		}
	}
	char *path = own ? strstr(own, "0::") : NULL;
	if (found && path && (path == own || path[-1] == '\n')) {
		path += 3;
		path[strcspn(path, "\n")] = 0;
		uint32_t h = 2166136261u;   /* FNV-1a of the home: one subtree per home */
		for (const char *c = home_dir(); *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		int a = snprintf(base_dir, sizeof base_dir, "%s%s/tend-%08x", mount_dir,
		                 strcmp(path, "/") ? path : "", h);
		int b = snprintf(daemon_dir, sizeof daemon_dir, "%s/d%d", base_dir, (int)getpid());
		found = a > 0 && b > 0 && (size_t)b < sizeof daemon_dir - 32;
	} else {
		found = false;
	}
	free(info);
	free(own);
	return found;
}

static void leaf_path(char *out, size_t len, unsigned leaf, const char *file)
{
	snprintf(out, len, "%s/%u%s%s", daemon_dir, leaf, file ? "/" : "", file ? file : "");
}

static int read_pids(const char *path, pid_t **out, int n)
{
	char *text = read_file(path, 16 << 20, NULL);
	for (char *s = text; s && *s;) {
		char *end;
		long pid = strtol(s, &end, 10);
		if (end == s)
			break;
		*out = xrealloc(*out, (size_t)(n + 1) * sizeof **out);
		(*out)[n++] = (pid_t)pid;
		s = end;
	}
	free(text);
	return n;
}

/* Does a process joining a cgroup here work? A child tries, so nothing of the daemon
 * itself moves. */
static bool probe(void)
{
	char path[PATH_MAX + 32];
	unsigned leaf = next_leaf++;
	leaf_path(path, sizeof path, leaf, NULL);
	if (mkdir(path, 0755) < 0)
		return false;
	leaf_path(path, sizeof path, leaf, "cgroup.procs");
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	pid_t pid = fd >= 0 ? fork() : -1;
	if (pid == 0)
		_exit(write(fd, "0", 1) == 1 ? 0 : 1);
	int status = 1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (fd >= 0)
		close(fd);
	leaf_path(path, sizeof path, leaf, NULL);
	rmdir(path);
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool leaf_in_use(unsigned leaf)
{
	for (int i = 0; i < nprocs; i++) {
		struct process *prs[2];
		for (int k = 0, n = proc_processes(procs[i], prs); k < n; k++)
			if (prs[k]->cg_leaf == leaf)
				return true;
	}
	return false;
}

/* Empty cgroups of daemons that are gone (those with processes hold orphans: they stay
 * until the orphans are replaced), and of this one that no instance uses (one made for
 * a spawn may be empty until its child joins it). */
static void remove_empty(const char *dir, bool whole)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[PATH_MAX * 2];
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (e->d_name[0] == 'd' && strcmp(path, daemon_dir) != 0)
			remove_empty(path, true);   /* a previous daemon's */
		else if (e->d_name[0] != 'd' && !leaf_in_use((unsigned)strtoul(e->d_name, NULL, 10)))
			rmdir(path);   /* fails while populated: fine */
	}
	closedir(d);
	if (whole)
		rmdir(dir);
}

void stray_setup(void)
{
	char why[PATH_MAX + 64] = "no cgroup2 mount";
	const char *want = home_env("CGROUPS");   /* TEND_CGROUPS=0: never (tests, odd hosts) */
	if (want && !strcmp(want, "0"))
		snprintf(why, sizeof why, "TEND_CGROUPS=0");
	else if (find_cgroup2()) {
		if (mkdir(base_dir, 0755) < 0 && errno != EEXIST)
			snprintf(why, sizeof why, "%s: %s", base_dir, strerror(errno));
		else if (mkdir(daemon_dir, 0755) < 0 && errno != EEXIST)
			snprintf(why, sizeof why, "%s: %s", daemon_dir, strerror(errno));
		else if (!probe()) {
			snprintf(why, sizeof why, "%s: a process cannot join a cgroup there", daemon_dir);
			rmdir(daemon_dir);
		} else
			use_cgroups = true;
	}
	if (use_cgroups) {
		remove_empty(base_dir, false);
		dlog("apps run in cgroups under %s", daemon_dir);
	} else {
		dlog("no cgroups (%s): processes that leave an app's tree are tracked as orphans", why);
	}
}

void stray_teardown(void)
{
	if (!use_cgroups)
		return;
	remove_empty(daemon_dir, true);
	rmdir(base_dir);   /* fails while another daemon's cgroups remain */
}

int stray_prepare(struct proc *p)
{
	if (!use_cgroups)
		return -1;
	if (p->run.cg_leaf) {   /* what its previous process left behind dies now */
		stray_signal(&p->run, SIGKILL);
		stray_release(&p->run);
	}
	char path[PATH_MAX + 32];
	unsigned leaf = next_leaf++;
	leaf_path(path, sizeof path, leaf, NULL);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		dlog("%s[%d]: cgroup %s: %s", p->spec->name, p->id, path, strerror(errno));
		return -1;
	}
	leaf_path(path, sizeof path, leaf, "cgroup.procs");
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		leaf_path(path, sizeof path, leaf, NULL);
		rmdir(path);
		return -1;
	}
	p->run.cg_leaf = leaf;
	return fd;
}

void stray_join(int procs_fd)
{
	if (procs_fd >= 0)
		(void)!write(procs_fd, "0", 1);   /* failing that, it runs where the daemon does */
}

void stray_release(struct process *pr)
{
	if (!pr->cg_leaf)
		return;
	char path[PATH_MAX + 32];
	leaf_path(path, sizeof path, pr->cg_leaf, NULL);
	if (rmdir(path) < 0)
		released = true;   /* members are still dying: removed later */
	pr->cg_leaf = 0;
}

int stray_orphan_members(pid_t orphan, pid_t **out)
{
	if (!use_cgroups)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)orphan);
	char *text = read_file(path, 1 << 16, NULL);
	char *cg = text ? strstr(text, "0::") : NULL;
	int n = 0;
	if (cg) {
		cg += 3;
		cg[strcspn(cg, "\n")] = 0;
		char full[PATH_MAX * 2];
		snprintf(full, sizeof full, "%s%s", mount_dir, cg);
		size_t blen = strlen(base_dir);
		/* Only a cgroup of this home's daemons: never kill by someone else's grouping. */
		if (!strncmp(full, base_dir, blen) && full[blen] == '/') {
			strncat(full, "/cgroup.procs", sizeof full - strlen(full) - 1);
			n = read_pids(full, out, 0);
		}
	}
	free(text);
	return n;
}

/* ---- orphan tracking ----------------------------------------------------------- */

static void forget(struct process *pr, pid_t pid)
{
	for (int i = 0; i < pr->nstrays; i++)
		if (pr->strays[i] == pid) {
			pr->strays[i] = pr->strays[--pr->nstrays];
			return;
		}
}

void stray_reaped(pid_t pid)
{
	for (int i = 0; i < nprocs; i++) {
		struct process *prs[2];
		for (int k = 0, n = proc_processes(procs[i], prs); k < n; k++)
			forget(prs[k], pid);
	}
	for (int i = 0; i < nignored; i++)
		if (ignored[i] == pid)
			ignored[i] = ignored[--nignored];
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static void add_known(pid_t **set, int *n, const struct process *pr)
{
	*set = xrealloc(*set, (size_t)(*n + 1 + pr->nstrays) * sizeof **set);
	(*set)[(*n)++] = pr->pid;
	for (int k = 0; k < pr->nstrays; k++)
		(*set)[(*n)++] = pr->strays[k];
}

/* Every pid the daemon already accounts for, sorted: one scan is O(n log n). */
static int known_set(pid_t **set)
{
	int n = 0;
	*set = NULL;
	for (int i = 0; i < nprocs; i++) {
		struct process *prs[2];
		for (int k = 0, np = proc_processes(procs[i], prs); k < np; k++)
			add_known(set, &n, prs[k]);
	}
	*set = xrealloc(*set, (size_t)(n + nignored + 1) * sizeof **set);
	memcpy(*set + n, ignored, (size_t)nignored * sizeof **set);
	n += nignored;
	if (n > 1)
		qsort(*set, (size_t)n, sizeof **set, cmp_pid);
	return n;
}

/* The instance whose pm_id and name the process carries, or NULL; *pr: which of its
 * processes (during a reload the old process's orphans are the old one's). */
static struct proc *owner_of(pid_t pid, struct process **pr)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	size_t len;
	char *env = read_file(path, 1 << 20, &len);
	long long id = -1;
	const char *name = NULL;
	for (size_t i = 0; env && i < len; i += strlen(env + i) + 1) {
		if (!strncmp(env + i, "pm_id=", 6))
			parse_int(env + i + 6, 0, 0x7fffffff, &id);
		else if (!strncmp(env + i, "name=", 5))
			name = env + i + 5;
	}
	struct proc *p = id >= 0 && name ? proc_find((int)id) : NULL;
	if (p && strcmp(p->spec->name, name) != 0)
		p = NULL;
	if (p)
		*pr = p->old && p->old->pid > 0 && p->run.pid <= 0 ? p->old : &p->run;
	free(env);
	return p;
}

void stray_scan(void)
{
	if (use_cgroups)
		return;
	pid_t *kids = NULL, *set;
	int n = procfs_children(getpid(), &kids);
	int nknown = n > 0 ? known_set(&set) : 0;
	for (int i = 0; i < n; i++) {
		if (bsearch(&kids[i], set, (size_t)nknown, sizeof *set, cmp_pid))
			continue;
		struct process *pr;
		struct proc *p = owner_of(kids[i], &pr);
		if (!p) {
			if (nignored < IGNORED_MAX)
				ignored[nignored++] = kids[i];
			continue;
		}
		pr->strays = xrealloc(pr->strays, (size_t)(pr->nstrays + 1) * sizeof *pr->strays);
		pr->strays[pr->nstrays++] = kids[i];
		dlog("%s[%d]: pid %d left the app's process tree: it is stopped with the app",
		     p->spec->name, p->id, (int)kids[i]);
	}
	if (n > 0)
		free(set);
	free(kids);
}

static bool any_running(void)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->run.pid > 0 || procs[i]->run.nstrays || procs[i]->old)
			return true;
	return false;
}

int64_t stray_next_deadline(void)
{
	if (!released && (use_cgroups || !any_running()))
		return 0;
	if (!scan_at)
		scan_at = mono_ms() + STRAY_SCAN_MS;
	return scan_at;
}

void stray_fire(int64_t now)
{
	if (!scan_at || now < scan_at)
		return;
	scan_at = 0;
	stray_scan();
	if (released && use_cgroups) {
		released = false;
		remove_empty(daemon_dir, false);   /* unused leaves only: busy ones refuse */
	}
}

/* ---- both ------------------------------------------------------------------------- */

int stray_members(const struct process *pr, pid_t **out)
{
	if (use_cgroups) {
		if (!pr->cg_leaf)
			return 0;
		char path[PATH_MAX + 32];
		leaf_path(path, sizeof path, pr->cg_leaf, "cgroup.procs");
		return read_pids(path, out, 0);
	}
	if (!pr->nstrays)
		return 0;
	*out = xrealloc(*out, (size_t)pr->nstrays * sizeof **out);
	memcpy(*out, pr->strays, (size_t)pr->nstrays * sizeof **out);
	return pr->nstrays;
}

bool stray_any(const struct process *pr)
{
	pid_t *pids = NULL;
	int n = stray_members(pr, &pids);
	bool any = false;
	for (int i = 0; i < n && !any; i++) {
		struct pstat st;
		any = procfs_stat(pids[i], &st) && st.state != 'Z' && st.state != 'X';
	}
	free(pids);
	return any;
}

void stray_signal(struct process *pr, int sig)
{
	if (use_cgroups && pr->cg_leaf && sig == SIGKILL) {
		char path[PATH_MAX + 32];
		leaf_path(path, sizeof path, pr->cg_leaf, "cgroup.kill");
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		bool done = fd >= 0 && write(fd, "1", 1) == 1;
		if (fd >= 0)
			close(fd);
		if (done)
			return;
	}
	pid_t *pids = NULL;
	int n = stray_members(pr, &pids);
	for (int i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
}

void stray_save(struct buf *b)
{
	json_kint(b, "next_leaf", next_leaf);
}

void stray_restore(const struct jdoc *d, int obj)
{
	long long v;
	if (json_as_ll(d, json_get(d, obj, "next_leaf"), &v) && v > 0)
		next_leaf = (unsigned)v;
}

const struct loop_source stray_source = {
	.name = "strays", .next_deadline = stray_next_deadline, .fire = stray_fire,
};
