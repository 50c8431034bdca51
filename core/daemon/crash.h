/* If the daemon dies anyway, it is said. A fatal signal (SIGSEGV, SIGBUS, SIGABRT...)
 * leaves a line in the daemon log and a note in the home (tend.crash); the next daemon
 * reads the note, or finds only the stale pid file (the daemon was killed: SIGKILL, the
 * OOM killer), and tells its log and the command that started it. */
#ifndef TEND_CRASH_H
#define TEND_CRASH_H

#include <stdbool.h>
#include <stddef.h>

/* Catch fatal signals from now on; log_fd is where the daemon logs. */
void crash_handlers_install(int log_fd);
/* How the previous daemon of this home ended, when it did not exit cleanly: one
 * sentence into msg (empty when it did). Call before the new pid file is written;
 * it removes the crash note. */
void crash_previous(char *msg, size_t len);

#endif
