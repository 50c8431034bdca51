#ifndef TEND_MANAGER_H
#define TEND_MANAGER_H

/* Read NOTIFY_SOCKET: at start-up. */
void manager_setup(void);
/* "READY=1", "STOPPING=1"...: to the service manager, if one asked. */
void manager_notify(const char *state);

#endif
