#include "lib/home.h"
#include "lib/safefile.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool pm2_names;

static const char *const names[2][HOME_NFILES] = {
	[0] = {
		[HOME_SOCKET] = "tend.sock",
		[HOME_PIDFILE] = "tend.pid",
		[HOME_LOG] = "tend.log",
		[HOME_DUMP] = "dump.json",
		[HOME_LOCK] = "tend.lock",
		[HOME_LOGS] = "logs",
		[HOME_PIDS] = "pids",
		[HOME_NOTIFY] = "notify.sock",
		[HOME_PRELOAD] = "node-preload.js",
		[HOME_WEB_TOKEN] = "web.token",
	},
	[1] = {
		/* rpc.sock/pub.sock belong to a real PM2 daemon; ours must not collide. */
		[HOME_SOCKET] = "tend.sock",
		[HOME_PIDFILE] = "pm2.pid",
		[HOME_LOG] = "pm2.log",
		[HOME_DUMP] = "dump.pm2",
		[HOME_LOCK] = "tend.lock",
		[HOME_LOGS] = "logs",
		[HOME_PIDS] = "pids",
		[HOME_NOTIFY] = "notify.sock",
		[HOME_PRELOAD] = "node-preload.js",
		[HOME_WEB_TOKEN] = "web.token",
	},
};

/* Variables that may point one file elsewhere, per flavour. */
static const char *const overrides[2][HOME_NFILES] = {
	[0] = {[HOME_PIDFILE] = "TEND_PID_FILE_PATH", [HOME_LOG] = "TEND_LOG_FILE_PATH"},
	[1] = {[HOME_PIDFILE] = "PM2_PID_FILE_PATH", [HOME_LOG] = "PM2_LOG_FILE_PATH"},
};

void home_use_pm2_names(void) { pm2_names = true; }
bool home_is_pm2(void) { return pm2_names; }

const char *home_env(const char *suffix)
{
	char var[64];
	snprintf(var, sizeof var, "TEND_%s", suffix);
	const char *v = getenv(var);
	if (v && *v)
		return v;
	snprintf(var, sizeof var, "PM2_%s", suffix);
	v = getenv(var);
	return v && *v ? v : NULL;
}

const char *home_dir(void)
{
	static char dir[PATH_MAX];
	if (dir[0])
		return dir;
	const char *h = getenv(pm2_names ? "PM2_HOME" : "TEND_HOME");
	if (h && *h) {
		snprintf(dir, sizeof dir, "%s", h);
	} else {
		const char *user_home = getenv("HOME");
		if (!user_home || !*user_home) {
			struct passwd *pw = getpwuid(getuid());
			user_home = pw && pw->pw_dir ? pw->pw_dir : "/";
		}
		snprintf(dir, sizeof dir, "%s/%s", strcmp(user_home, "/") ? user_home : "",
		         pm2_names ? ".pm2" : ".tend");
	}
	/* Relative homes would change meaning when the daemon chdirs. */
	if (dir[0] != '/') {
		char cwd[PATH_MAX], abs[2 * PATH_MAX + 2];
		if (getcwd(cwd, sizeof cwd)) {
			snprintf(abs, sizeof abs, "%s/%s", cwd, dir);
			snprintf(dir, sizeof dir, "%.*s", (int)sizeof dir - 1, abs);
		}
	}
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = 0;
	return dir;
}

const char *home_path(enum home_file f)
{
	static char paths[HOME_NFILES][PATH_MAX];
	if (paths[f][0])
		return paths[f];
	const char *var = overrides[pm2_names][f];
	const char *v = var ? getenv(var) : NULL;
	if (v && *v && v[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			snprintf(cwd, sizeof cwd, "/");
		snprintf(paths[f], sizeof paths[f], "%.*s/%.*s", PATH_MAX / 2 - 1, cwd,
		         PATH_MAX / 2 - 1, v);
	} else if (v && *v)
		snprintf(paths[f], sizeof paths[f], "%s", v);
	else
		snprintf(paths[f], sizeof paths[f], "%s/%s", home_dir(), names[pm2_names][f]);
	return paths[f];
}

void home_export_overrides(void)
{
	for (int f = 0; f < HOME_NFILES; f++) {
		const char *var = overrides[pm2_names][f];
		if (var && getenv(var) && *getenv(var))
			setenv(var, home_path((enum home_file)f), 1);
	}
}

/* The home and its directories are ours alone: made 0700 if missing, refused if
 * another user owns them (they could replace the preload node runs, or the socket). */
static bool private_dir(const char *dir, char *why, size_t whylen)
{
	if (mkdir_p(dir, 0700) < 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077))
		chmod(dir, st.st_mode & 0700);   /* ours: tighten it rather than refuse */
	return safe_private_dir(dir, why, whylen);
}

bool home_prepare(char *why, size_t whylen)
{
	return private_dir(home_dir(), why, whylen) && private_dir(home_path(HOME_LOGS), why, whylen) &&
	       private_dir(home_path(HOME_PIDS), why, whylen);
}

bool home_trusted(char *why, size_t whylen)
{
	struct stat st;
	if (stat(home_dir(), &st) < 0 && errno == ENOENT)
		return true;   /* nothing there yet: the daemon will make it */
	return safe_private_dir(home_dir(), why, whylen);
}
