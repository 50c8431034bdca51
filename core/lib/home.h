/* Where tend keeps its files. tend uses $TEND_HOME (else ~/.tend) and its own names;
 * invoked as pm2, it uses $PM2_HOME (else ~/.pm2) and PM2's names, so ops scripts that
 * look for pm2.pid or logs/NAME-out.log find them. All names live in one table. */
#ifndef TEND_HOME_H
#define TEND_HOME_H

#include <stdbool.h>
#include <stddef.h>

enum home_file {
	HOME_SOCKET,     /* control socket */
	HOME_PIDFILE,    /* daemon pid */
	HOME_LOG,        /* daemon log */
	HOME_DUMP,       /* saved app list */
	HOME_LOCK,       /* held by the running daemon */
	HOME_LOGS,       /* directory of app logs */
	HOME_PIDS,       /* directory of app pid files */
	HOME_NOTIFY,     /* sd_notify datagram socket (NOTIFY_SOCKET) */
	HOME_PRELOAD,    /* the node preload, written out by the daemon */
	HOME_WEB_TOKEN,  /* the web API's bearer token (0600) */
	HOME_NFILES
};

void home_use_pm2_names(void);
bool home_is_pm2(void);
const char *home_dir(void);
const char *home_path(enum home_file f);   /* absolute; static storage */
/* Make the home and its directories (0700); false with the reason in why when they
 * cannot be made, or another user owns them or can write in them. */
bool home_prepare(char *why, size_t whylen);
/* Before talking to a daemon through the home's socket: false (with why) if the home
 * exists and is not ours alone (a client sends its environment there). */
bool home_trusted(char *why, size_t whylen);
/* Put the absolute form of any file override (PID_FILE_PATH...) back in the
 * environment, for a daemon that will run from /. */
void home_export_overrides(void);
/* An environment variable under the flavour's prefix: "KILL_SIGNAL" reads
 * TEND_KILL_SIGNAL, else PM2_KILL_SIGNAL. */
const char *home_env(const char *suffix);

#endif
