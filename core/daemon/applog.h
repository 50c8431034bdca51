/* An app's logs: where its output goes (out, error and combined files, per instance or
 * merged), and how (as it comes, or line by line with timestamps or as JSON). */
#ifndef TEND_APPLOG_H
#define TEND_APPLOG_H

#include "daemon/proc.h"

/* Rotation defaults for the whole daemon (TEND_LOG_MAX_SIZE, TEND_LOG_RETAIN). */
extern int64_t applog_default_max_size;
extern int applog_default_retain;
extern bool applog_no_default_files;   /* TEND_NO_LOG_FILES: undeclared logs go to /dev/null */

/* Rename path aside with the time in its name (path__YYYY-MM-DD_HH-mm-ss.log) and keep
 * only the newest `retain` of those; false with errno when the rename failed. */
bool logfile_rotate(const char *path, int retain);
/* Paths: the spec's, or the defaults under the home; "-ID" per instance unless merged. */
void applog_set_paths(struct proc *p);
void applog_free_paths(struct proc *p);
char *applog_instance_path(const char *path, const struct spec *s, int id);
/* Open what is not open (at spawn); close and open again (reopen logs, new paths). */
void applog_open(struct proc *p);
void applog_reopen(struct proc *p);
void applog_close(struct proc *p);
/* Truncate the instance's log files (tend flush). */
void applog_flush(struct proc *p);
/* An output pipe is readable (fd is p->out_fd or p->err_fd). */
void applog_drain(struct proc *p, struct process *pr, int fd);
/* The process exited: what it wrote last is still in the pipes; read it all and write
 * out held partial lines. */
void applog_drain_exited(struct proc *p, struct process *pr);
/* Write held partial lines out as lines (their process exited, or they waited long
 * enough: p->partial_at). */
void applog_flush_partial(struct proc *p, struct process *pr);

#endif
