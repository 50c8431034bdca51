/* What tend reads from /proc: CPU and memory samples, process trees. */
#ifndef TEND_PROCFS_H
#define TEND_PROCFS_H

#include "lib/util.h"

#include <sys/types.h>

struct pstat {
	pid_t ppid, pgid;
	char state;              /* R, S, Z, ... */
	int64_t cpu_ticks;       /* utime + stime */
	int64_t start_ticks;     /* since boot */
	int64_t rss_bytes;
};

bool procfs_stat(pid_t pid, struct pstat *st);
/* Every descendant of root (not root itself), appended to *out (realloc'd).
 * Returns the count, or -1 if /proc cannot be read. */
int procfs_descendants(pid_t root, pid_t **out);
/* The sums over root and every descendant: CPU ticks (utime + stime) and RSS. */
void procfs_tree(pid_t root, int64_t *cpu_ticks, int64_t *rss_bytes);
/* The direct children of pid (every thread's); -1 if /proc cannot tell. */
int procfs_children(pid_t pid, pid_t **out);
long procfs_clk_tck(void);
/* The host's load averages, memory (total and available, bytes) and uptime (s). */
struct procfs_host {
	double load[3];
	int64_t mem_total, mem_avail;
	double uptime;
};
void procfs_host(struct procfs_host *h);
int64_t procfs_boot_wall_ms(void);
/* The fds a process has open (by number), for leak checks and describe. */
int procfs_count_fds(pid_t pid);

#endif
