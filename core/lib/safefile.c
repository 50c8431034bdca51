#include "lib/safefile.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum trust { DIR_REFUSED = -1, DIR_OURS, DIR_STICKY };

/* Can a user other than us write in a directory with this status? Group write counts,
 * except, for an ordinary user, their own group (Debian's user private groups). */
static bool others_write(const struct stat *st)
{
	uid_t me = geteuid();
	if (st->st_mode & S_IWOTH)
		return true;
	if ((st->st_mode & S_IWGRP) && (me == 0 || st->st_gid != getegid()))
		return true;
	return st->st_uid != me && st->st_uid != 0;
}

static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* How far the directory of path can be trusted; it is made (0750) if missing. */
static enum trust dir_trust(const char *path, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	dir_of(path, dir, sizeof dir);
	struct stat st;
	if (stat(dir, &st) < 0 && (errno != ENOENT || mkdir_p(dir, 0750) < 0 || stat(dir, &st) < 0)) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return DIR_REFUSED;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s: not a directory", dir);
		errno = ENOTDIR;
		return DIR_REFUSED;
	}
	if (!others_write(&st))
		return DIR_OURS;
	if (st.st_mode & S_ISVTX)
		return DIR_STICKY;
	snprintf(why, whylen, "%s: other users can write in this directory (mode %04o, owner uid %d), "
	         "so a file there could be theirs: refusing to write %s (use a directory only uid %d can write)",
	         dir, (unsigned)(st.st_mode & 07777), (int)st.st_uid, path, (int)geteuid());
	errno = EPERM;
	return DIR_REFUSED;
}

static void open_failed(const char *path, enum trust t, char *why, size_t whylen)
{
	if (t == DIR_STICKY && errno == ELOOP)
		snprintf(why, whylen, "%s: a symlink in a directory other users can write: not followed", path);
	else
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
}

int safe_open_append(const char *path, int extra_flags, mode_t mode, char *why, size_t whylen)
{
	enum trust t = dir_trust(path, why, whylen);
	if (t == DIR_REFUSED)
		return -1;
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | extra_flags;
	if (t == DIR_STICKY)
		flags |= O_NOFOLLOW | O_NONBLOCK;   /* nor wait on someone's FIFO */
	int fd = open(path, flags, mode);
	if (fd < 0) {
		open_failed(path, t, why, whylen);
		return -1;
	}
	struct stat st = {0};
	if (t == DIR_STICKY && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode))) {
		snprintf(why, whylen, "%s: owned by uid %d in a directory other users can write: refusing to write it",
		         path, (int)st.st_uid);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (t == DIR_STICKY && !(extra_flags & O_NONBLOCK))
		set_nonblock(fd, false);
	return fd;
}

int safe_replace(const char *path, const void *data, size_t n, mode_t mode, bool sync,
                 char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp) {
		snprintf(why, whylen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	enum trust t = dir_trust(path, why, whylen);
	if (t == DIR_REFUSED)
		return -1;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, mode);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)   /* a leftover, or a plant */
		fd = open(tmp, flags, mode);
	if (fd < 0) {
		open_failed(tmp, t, why, whylen);
		return -1;
	}
	bool written = write_all(fd, data, n) && (!sync || fsync(fd) == 0);
	int e = errno;
	if (close(fd) < 0 && written) {
		written = false;
		e = errno;
	}
	if (!written) {
		unlink(tmp);
		snprintf(why, whylen, "%s: %s", tmp, strerror(e));
		errno = e;
		return -1;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		snprintf(why, whylen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

bool safe_private_dir(const char *dir, char *why, size_t whylen)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s: not a directory", dir);
		return false;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: owned by uid %d, not by this user (uid %d): refusing to use it "
		         "(another user could replace what tend runs and reads there)",
		         dir, (int)st.st_uid, (int)geteuid());
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "%s: other users can write in it (mode %04o): refusing to use it "
		         "(chmod 700 it)", dir, (unsigned)(st.st_mode & 07777));
		return false;
	}
	return true;
}

bool safe_target(const char *path, char *why, size_t whylen)
{
	enum trust t = dir_trust(path, why, whylen);
	if (t == DIR_REFUSED)
		return false;
	struct stat st;
	if (t == DIR_STICKY && lstat(path, &st) == 0 &&
	    (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode) || st.st_uid != geteuid())) {
		snprintf(why, whylen, "%s: %s in a directory other users can write: refusing to write it",
		         path, S_ISLNK(st.st_mode) ? "a symlink" : st.st_uid != geteuid()
		         ? "another user's file" : "not a regular file");
		return false;
	}
	return true;
}
