/* The file watcher behind `watch`: inotify over every directory of an app's tree. It
 * only reports that something changed; the daemon owns debounce timing and restarts. */
#ifndef TEND_WATCH_H
#define TEND_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watcher;

/* Watch every directory under each root (absolute paths; a root may also be a single
 * file, then its directory is watched for that name only), recursively, with inotify.
 * Skipped: any path component equal to "node_modules" or starting with '.', unless the
 * root itself is such a path; any path matching one of the ignore patterns; and the
 * exact paths in `exclude` (a directory excluded means everything under it).
 * Patterns are fnmatch(3) globs (flags 0) matched against the path relative to its
 * root, against the basename, and against each directory component: "*.log", "logs",
 * "tmp/cache*". Both lists are NULL-terminated and may be NULL; they are copied.
 * Symlinked directories below a root are not followed.
 * At most max_watches directories (0 = 8192); beyond that it stops adding and
 * watch_overflowed() says so. Returns NULL with errno set when inotify_init fails or
 * no root could be watched (ENOENT: none exists). Never blocks beyond the walk.
 * A root that is itself deleted or moved away stops being watched (the change is
 * reported); reopen to pick up a root created again. */
struct watcher *watch_open(char *const *roots, char *const *ignore, char *const *exclude,
                           int max_watches);
/* From now on only changes to files whose names end in ".EXT" for one of exts count
 * ("js" and ".js" alike; the list is copied): what --ext does for PM2, which lists
 * every other file of the tree in ignore_watch once at start instead. Directories are
 * still walked; their own creation, moves and deletion do not count. */
void watch_only_extensions(struct watcher *w, char *const *exts);
int watch_fd(const struct watcher *w);
/* Read every pending event (the fd is non-blocking). Directories created inside the
 * tree are added with whatever they already hold. Returns the number of relevant
 * changes (create, modify/close_write, delete, move, attrib of a non-ignored path; a
 * kernel queue overflow counts as one, and rescans the roots); 0 when only ignored
 * paths changed or nothing was pending. If what is non-NULL it receives the path,
 * relative to its root, of the first relevant change (truncated to whatlen): "." for a
 * root directory itself, the file's name for a single-file root, "" for an overflow
 * or when nothing relevant changed. */
int watch_read(struct watcher *w, char *what, size_t whatlen);
int watch_count(const struct watcher *w);     /* directories watched */
bool watch_overflowed(const struct watcher *w);
void watch_close(struct watcher *w);

#endif
