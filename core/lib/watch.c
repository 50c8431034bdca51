#include "lib/watch.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | \
                  IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* 0 = this many directories. Each watch costs the kernel about 1K of unswappable
 * memory, and fs.inotify.max_user_watches is shared by the whole user. */
enum { DEFAULT_MAX_WATCHES = 8192 };
/* Events handled per watch_read: a writer faster than us must not hold the loop; what
 * is left stays pending and poll reports the fd again. Twice the kernel's default queue. */
enum { MAX_EVENTS_PER_READ = 32768 };

struct wdir {
	int wd, root;
	bool file;       /* a single-file root's parent: only that name counts */
	char *path;
};

struct watcher {
	int fd, max, n, cap, err;
	bool overflowed;
	char **roots, **ignore, **exclude;  /* without trailing slashes */
	char **exts;        /* NULL: every file; else ".js", ".json"... */
	struct wdir *dirs;  /* sorted by wd, for binary search */
	_Alignas(struct inotify_event) char buf[16384];
};

static char **copy_list(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **c = xcalloc(n + 1, sizeof *c);
	for (size_t i = 0; i < n; i++) {
		c[i] = xstrdup(v[i]);
		for (size_t len = strlen(c[i]); len > 1 && c[i][len - 1] == '/';)
			c[i][--len] = 0;
	}
	return c;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static const char *slash(const char *dir)
{
	return *dir && dir[strlen(dir) - 1] == '/' ? "" : "/";
}

/* path is dir itself or something under it. */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == 0 || path[n] == '/' || (n > 0 && dir[n - 1] == '/'));
}

static bool excluded(const struct watcher *w, const char *path)
{
	for (char **e = w->exclude; *e; e++)
		if (under(path, *e))
			return true;
	return false;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char *relative(const struct watcher *w, int root, const char *path)
{
	size_t off = strlen(w->roots[root]) + (*slash(w->roots[root]) ? 1 : 0);
	return strlen(path) >= off ? path + off : "";
}

/* A path below a root, whose parent directory already passed these checks. */
static bool skipped(const struct watcher *w, int root, const char *path)
{
	const char *base = basename_of(path);
	if (base[0] == '.' || strcmp(base, "node_modules") == 0)
		return true;
	const char *rel = relative(w, root, path);
	for (char **p = w->ignore; *p; p++)
		if (fnmatch(*p, rel, 0) == 0 || fnmatch(*p, base, 0) == 0)
			return true;
	return excluded(w, path);
}

static int find(const struct watcher *w, int wd)
{
	int lo = 0, hi = w->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (w->dirs[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void drop(struct watcher *w, int i)
{
	free(w->dirs[i].path);
	memmove(&w->dirs[i], &w->dirs[i + 1], (size_t)(w->n - i - 1) * sizeof *w->dirs);
	w->n--;
}

/* Watch one directory; false when it could not be (or the cap is reached). */
static bool add(struct watcher *w, int root, const char *path, bool file, bool follow)
{
	int wd = inotify_add_watch(w->fd, path, DIR_MASK | (follow ? 0 : IN_DONT_FOLLOW));
	if (wd < 0) {
		w->err = errno;
		if (errno == ENOSPC)  /* fs.inotify.max_user_watches */
			w->overflowed = true;
		return false;
	}
	int i = find(w, wd);
	if (i < w->n && w->dirs[i].wd == wd) {
		/* Seen before (a rescan, an overlapping root): a whole directory beats a
		 * single-file root's parent. */
		struct wdir *d = &w->dirs[i];
		if (!file && (d->file || strcmp(d->path, path) != 0)) {
			free(d->path);
			*d = (struct wdir){wd, root, false, xstrdup(path)};
		}
		return true;
	}
	if (w->n >= w->max) {
		inotify_rm_watch(w->fd, wd);
		w->overflowed = true;
		return false;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->dirs = xrealloc(w->dirs, (size_t)w->cap * sizeof *w->dirs);
	}
	memmove(&w->dirs[i + 1], &w->dirs[i], (size_t)(w->n - i) * sizeof *w->dirs);
	w->dirs[i] = (struct wdir){wd, root, file, xstrdup(path)};
	w->n++;
	return true;
}

/* Forget the watches on dir and everything under it. */
static void unwatch(struct watcher *w, const char *dir)
{
	for (int i = w->n; i-- > 0;)
		if (under(w->dirs[i].path, dir)) {
			inotify_rm_watch(w->fd, w->dirs[i].wd);
			drop(w, i);
		}
}

/* dir and every directory under it, depth first with an explicit stack, so one
 * directory stream is open at a time however deep the tree. */
static void walk(struct watcher *w, int root, const char *dir, bool top)
{
	char **todo = xmalloc(sizeof *todo);
	size_t n = 0, cap = 1;
	todo[n++] = xstrdup(dir);
	while (n > 0) {
		char *path = todo[--n];
		DIR *d = NULL;
		if (!w->overflowed && add(w, root, path, false, top))
			d = opendir(path);
		top = false;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			bool isdir = de->d_type == DT_DIR;
			char *child = xasprintf("%s%s%s", path, slash(path), de->d_name);
			if (de->d_type == DT_UNKNOWN) {
				struct stat st;
				isdir = lstat(child, &st) == 0 && S_ISDIR(st.st_mode);
			}
			if (!isdir || skipped(w, root, child)) {  /* skips "." and ".." too */
				free(child);
				continue;
			}
			if (n == cap)
				todo = xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[n++] = child;
		}
		if (d)
			closedir(d);
		free(path);
	}
	free(todo);
}

static void add_root(struct watcher *w, int i)
{
	const char *root = w->roots[i];
	struct stat st;
	if (stat(root, &st) < 0) {
		w->err = errno;
		return;
	}
	if (excluded(w, root))
		return;
	if (S_ISDIR(st.st_mode)) {
		walk(w, i, root, true);
		return;
	}
	const char *s = strrchr(root, '/');
	char *parent = !s ? xstrdup(".") : s == root ? xstrdup("/") :
		       xstrndup(root, (size_t)(s - root));
	add(w, i, parent, true, true);
	free(parent);
}

struct watcher *watch_open(char *const *roots, char *const *ignore, char *const *exclude,
                           int max_watches)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct watcher *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->max = max_watches > 0 ? max_watches : DEFAULT_MAX_WATCHES;
	w->err = ENOENT;
	w->roots = copy_list(roots);
	w->ignore = copy_list(ignore);
	w->exclude = copy_list(exclude);
	for (int i = 0; w->roots[i]; i++)
		add_root(w, i);
	if (w->n == 0) {
		int err = w->err;
		watch_close(w);
		errno = err;
		return NULL;
	}
	return w;
}

static bool has_extension(const struct watcher *w, const char *name)
{
	size_t n = strlen(name);
	for (char **e = w->exts; *e; e++) {
		size_t k = strlen(*e);
		if (n > k && strcmp(name + n - k, *e) == 0)
			return true;
	}
	return false;
}

void watch_only_extensions(struct watcher *w, char *const *exts)
{
	size_t n = 0;
	while (exts && exts[n])
		n++;
	free_list(w->exts);
	w->exts = xcalloc(n + 1, sizeof *w->exts);
	for (size_t i = 0; i < n; i++)
		w->exts[i] = xasprintf("%s%s", exts[i][0] == '.' ? "" : ".", exts[i]);
}

/* A root named inside a watched directory: a single-file root, reported by name
 * even where the other root's rules would skip it. */
static bool is_root(const struct watcher *w, const char *path)
{
	for (char **r = w->roots; *r; r++)
		if (strcmp(*r, path) == 0)
			return true;
	return false;
}

/* One event: is it a relevant change? Keeps the watch table in step with the tree. */
static bool event(struct watcher *w, const struct inotify_event *ev, char *what,
                  size_t whatlen)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		/* Creations, moves and deletions went unseen: rebuild the table afresh (the
		 * old watches' IN_IGNORED then name unknown wds, as they should). */
		for (; w->n > 0; drop(w, w->n - 1))
			inotify_rm_watch(w->fd, w->dirs[w->n - 1].wd);
		w->overflowed = false;
		for (int i = 0; w->roots[i]; i++)
			add_root(w, i);
		return true;
	}
	int i = find(w, ev->wd);
	if (i >= w->n || w->dirs[i].wd != ev->wd)
		return false;  /* a watch already forgotten */
	if (ev->mask & IN_IGNORED) {
		drop(w, i);
		return false;
	}
	struct wdir d = w->dirs[i];  /* a copy: the table may change below */
	const char *root = w->roots[d.root];
	char full[PATH_MAX];
	const char *rel;
	if (ev->len == 0) {
		/* The directory itself. Below a root, its parent reported it already, and a
		 * move was seen there first (IN_MOVED_FROM): only roots get here moving. */
		bool top = !d.file && strcmp(d.path, root) == 0;
		bool gone = ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF);
		if (!top && !(d.file && gone))
			return false;
		rel = d.file ? basename_of(root) : ".";
		if (what && whatlen)
			snprintf(what, whatlen, "%s", rel);
		snprintf(full, sizeof full, "%s", d.path);  /* unwatch frees d.path */
		if (ev->mask & IN_MOVE_SELF)
			unwatch(w, full);
		return true;
	}
	snprintf(full, sizeof full, "%s%s%s", d.path, slash(d.path), ev->name);
	bool file_root = !(ev->mask & IN_ISDIR) && is_root(w, full);
	if (!file_root && (d.file || skipped(w, d.root, full)))
		return false;
	rel = file_root ? basename_of(full) : relative(w, d.root, full);
	if ((ev->mask & IN_ISDIR) && (ev->mask & IN_MOVED_FROM))
		unwatch(w, full);
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		walk(w, d.root, full, false);
	if (w->exts && !file_root && ((ev->mask & IN_ISDIR) || !has_extension(w, ev->name)))
		return false;
	if (what && whatlen)
		snprintf(what, whatlen, "%s", rel);
	return true;
}

int watch_read(struct watcher *w, char *what, size_t whatlen)
{
	int changes = 0, events = 0;
	if (what && whatlen)
		what[0] = 0;
	while (events < MAX_EVENTS_PER_READ) {
		ssize_t len = read_retry(w->fd, w->buf, sizeof w->buf);
		if (len <= 0)
			break;  /* EAGAIN: drained */
		for (char *p = w->buf; p < w->buf + len; events++) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			p += sizeof *ev + ev->len;
			if (event(w, ev, changes ? NULL : what, whatlen))
				changes++;
		}
	}
	return changes;
}

int watch_fd(const struct watcher *w) { return w->fd; }
int watch_count(const struct watcher *w) { return w->n; }
bool watch_overflowed(const struct watcher *w) { return w->overflowed; }

void watch_close(struct watcher *w)
{
	if (!w)
		return;
	close(w->fd);
	for (int i = 0; i < w->n; i++)
		free(w->dirs[i].path);
	free(w->dirs);
	free_list(w->roots);
	free_list(w->ignore);
	free_list(w->exts);
	free_list(w->exclude);
	free(w);
}
