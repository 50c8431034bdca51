/* The daemon: one process, one thread, one poll(2) loop. */
#ifndef TEND_DAEMON_H
#define TEND_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/* Run the supervisor. foreground: log to stdout and stay attached (containers,
 * --no-daemon); else the caller has already detached. initial: a request line to
 * run first (start --no-daemon), or NULL. Returns the exit status. */
int daemon_run(bool foreground, const char *initial, size_t initial_len);
/* tend update: the new program, taking over from the state the old one left in
 * state_fd (see upgrade.h). */
int daemon_resume(int state_fd);

#endif
