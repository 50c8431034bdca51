/* Files in directories that other users may write to. tend often runs as root and
 * writes where a declaration says (logs, pid files): a directory another user can write
 * lets that user plant a symlink or a file of theirs under the name tend is about to
 * write, and turn root's write into theirs. The rules, like ssh's StrictModes:
 *  - a directory writable by another user (group or other write, or owned by someone
 *    else than us or root) is refused, unless it is sticky (as /tmp is);
 *  - in such a sticky directory, a symlink is never followed and an existing file must
 *    be ours;
 *  - temporaries are created with O_EXCL | O_NOFOLLOW, then renamed over the target.
 * In a directory only we (or root) can write, symlinks are followed as usual: they were
 * put there by someone trusted (/dev/stdout, logrotate setups). */
#ifndef TEND_SAFEFILE_H
#define TEND_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open path for appending (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | extra), making
 * missing parent directories (0750). -1 with the reason in why (and errno). */
int safe_open_append(const char *path, int extra_flags, mode_t mode, char *why, size_t whylen);
/* Replace path whole: a temporary path.new (O_EXCL | O_NOFOLLOW), written, fsync'ed if
 * sync, renamed over path. Makes missing parent directories. -1 with why (and errno). */
int safe_replace(const char *path, const void *data, size_t n, mode_t mode, bool sync,
                 char *why, size_t whylen);
/* Would the two calls above accept path (its directory made if missing)? For checking
 * a declaration before anything starts. False with the reason in why. */
bool safe_target(const char *path, char *why, size_t whylen);
/* Is dir ours to keep state in: a directory owned by us, that nobody else can write
 * (no group or other write)? False with the reason in why. */
bool safe_private_dir(const char *dir, char *why, size_t whylen);

#endif
