#include "lib/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read_retry(fd, buf, cap - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

long procfs_clk_tck(void)
{
	static long tck;
	if (!tck) {
		tck = sysconf(_SC_CLK_TCK);
		if (tck <= 0)
			tck = 100;
	}
	return tck;
}

bool procfs_stat(pid_t pid, struct pstat *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, sizeof buf) <= 0)
		return false;
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	st->state = *p;
	/* fields from 3 (state): 4 ppid, 5 pgrp, 14 utime, 15 stime, 22 starttime, 24 rss */
	long long f[25] = {0};
	int field = 3;
	char *save = NULL;
	for (char *tok = strtok_r(p, " ", &save); tok && field <= 24; tok = strtok_r(NULL, " ", &save))
		f[field++] = strtoll(tok, NULL, 10);
	if (field <= 24)
		return false;
	st->ppid = (pid_t)f[4];
	st->pgid = (pid_t)f[5];
	st->cpu_ticks = f[14] + f[15];
	st->start_ticks = f[22];
	st->rss_bytes = f[24] * (int64_t)sysconf(_SC_PAGESIZE);
	return true;
}

static void push(pid_t **out, int *n, pid_t pid)
{
	if ((*n & 15) == 0)
		*out = xrealloc(*out, (size_t)(*n + 16) * sizeof **out);
	(*out)[(*n)++] = pid;
}

/* Children through /proc/PID/task/TID/children (one small read per thread); a
 * multi-threaded parent (node) may have forked from any of its threads. */
static int children_of(pid_t pid, pid_t **out, int *n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char cpath[320];
		snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, e->d_name);
		/* A daemon with a thousand apps has a few kilobytes of children. */
		char *buf = read_file(cpath, 1 << 22, NULL);
		if (!buf) {
			if (errno != ENOENT && errno != ESRCH)
				rc = -1;
			continue;
		}
		for (char *s = buf; *s;) {
			char *end;
			long c = strtol(s, &end, 10);
			if (end == s)
				break;
			push(out, n, (pid_t)c);
			s = end;
		}
		free(buf);
	}
	closedir(d);
	return rc;
}

/* Fallback when the kernel lacks the children files: scan every /proc/PID/stat. */
static int descendants_by_scan(pid_t root, pid_t **out, int *n)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	pid_t *pids = NULL, *parents = NULL;
	int m = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		struct pstat st;
		pid_t pid = (pid_t)atoi(e->d_name);
		if (!procfs_stat(pid, &st))
			continue;
		if ((m & 63) == 0) {
			pids = xrealloc(pids, (size_t)(m + 64) * sizeof *pids);
			parents = xrealloc(parents, (size_t)(m + 64) * sizeof *parents);
		}
		pids[m] = pid;
		parents[m++] = st.ppid;
	}
	closedir(d);
	int start = *n;
	push(out, n, root);   /* a work list: root, then each found child */
	for (int i = start; i < *n; i++)
		for (int j = 0; j < m; j++)
			if (parents[j] == (*out)[i])
				push(out, n, pids[j]);
	/* drop root again */
	memmove(*out + start, *out + start + 1, (size_t)(*n - start - 1) * sizeof **out);
	(*n)--;
	free(pids);
	free(parents);
	return 0;
}

int procfs_descendants(pid_t root, pid_t **out)
{
	static int have_children_files = -1;
	int n = 0;
	if (have_children_files < 0) {
		have_children_files = access("/proc/self/task/", F_OK) == 0 &&
			access("/proc/thread-self/children", F_OK) == 0;
	}
	if (!have_children_files)
		return descendants_by_scan(root, out, &n) < 0 ? -1 : n;
	if (children_of(root, out, &n) < 0)
		return -1;
	for (int i = 0; i < n && n < 65536; i++)
		children_of((*out)[i], out, &n);
	return n;
}

void procfs_tree(pid_t root, int64_t *cpu_ticks, int64_t *rss_bytes)
{
	struct pstat st;
	*cpu_ticks = *rss_bytes = 0;
	if (procfs_stat(root, &st)) {
		*cpu_ticks = st.cpu_ticks;
		*rss_bytes = st.rss_bytes;
	}
	pid_t *kids = NULL;
	int n = procfs_descendants(root, &kids);
	for (int i = 0; i < n; i++)
		if (procfs_stat(kids[i], &st)) {
			*cpu_ticks += st.cpu_ticks;
			*rss_bytes += st.rss_bytes;
		}
	free(kids);
}

int procfs_children(pid_t pid, pid_t **out)
{
	int n = 0;
	return children_of(pid, out, &n) < 0 ? -1 : n;
}

int64_t procfs_boot_wall_ms(void)
{
	static int64_t boot;
	if (boot)
		return boot;
	char buf[128];
	if (slurp("/proc/uptime", buf, sizeof buf) <= 0)
		return 0;
	double up = strtod(buf, NULL);
	boot = wall_ms() - (int64_t)(up * 1000);
	return boot;
}

int procfs_count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int64_t meminfo(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;
	return p ? strtoll(p + strlen(key), NULL, 10) * 1024 : 0;
}

void procfs_host(struct procfs_host *h)
{
	memset(h, 0, sizeof *h);
	char buf[4096];
	if (slurp("/proc/loadavg", buf, sizeof buf) > 0)
		sscanf(buf, "%lf %lf %lf", &h->load[0], &h->load[1], &h->load[2]);
	if (slurp("/proc/uptime", buf, sizeof buf) > 0)
		h->uptime = strtod(buf, NULL);
	char *mem = read_file("/proc/meminfo", 1 << 16, NULL);
	h->mem_total = meminfo(mem, "MemTotal:");
	h->mem_avail = meminfo(mem, "MemAvailable:");
	free(mem);
}
