/* The inotify file watcher, against real directories in a temp dir. */
#include "unit.h"
#include "lib/util.h"
#include "lib/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

static char *at(const char *rel)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof paths[0], "%s/%s", tmp, rel);
	return p;
}

static void put(const char *rel, const char *text)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write_all(fd, text, strlen(text)));
		close(fd);
	}
}

static void dir(const char *rel)
{
	CHECK(mkdir_p(at(rel), 0755) == 0);
}

/* The changes reported until the watcher has been quiet a while; events are queued
 * as the write returns, so the wait only matters when nothing is expected. */
static int changes(struct watcher *w, char *what, size_t whatlen)
{
	struct pollfd p = {.fd = watch_fd(w), .events = POLLIN};
	char first[256] = "";
	int total = 0;
	while (poll(&p, 1, 50) > 0) {
		int n = watch_read(w, total ? NULL : first, sizeof first);
		CHECK(n >= 0);
		total += n;
	}
	if (what)
		snprintf(what, whatlen, "%s", first);
	return total;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

static struct watcher *open1(const char *root, char *const *ignore, char *const *exclude,
                             int max)
{
	char *roots[] = {at(root), NULL};
	struct watcher *w = watch_open(roots, ignore, exclude, max);
	CHECK(w != NULL);
	if (!w)
		exit(unit_report("test_watch"));
	return w;
}

static void test_tree(void)
{
	char what[256];
	dir("app/node_modules/x");
	dir("app/.git");
	dir("app/sub");
	dir("app/logs");
	dir("app/tmp/cache1");
	dir("app/tmp/keep");
	dir("elsewhere");
	put("app/server.js", "1");
	CHECK(symlink(at("elsewhere"), at("app/link")) == 0);
	char *ignore[] = {"*.log", "logs", "tmp/cache*", NULL};
	struct watcher *w = open1("app", ignore, NULL, 0);
	/* app, sub, tmp, tmp/keep: not node_modules, .git, logs, tmp/cache1, link */
	CHECK(watch_count(w) == 4);
	CHECK(!watch_overflowed(w));
	CHECK(fcntl(watch_fd(w), F_GETFD) & FD_CLOEXEC);
	CHECK(fcntl(watch_fd(w), F_GETFL) & O_NONBLOCK);
	CHECK(watch_read(w, what, sizeof what) == 0);
	CHECK_STR(what, "");

	put("app/server.js", "2");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "server.js");
	put("app/sub/lib.js", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "sub/lib.js");

	put("app/node_modules/x/index.js", "x");
	put("app/node_modules/y.js", "x");
	put("app/.git/HEAD", "x");
	put("app/.env", "x");
	put("app/app.log", "x");
	put("app/sub/app.log", "x");
	put("app/logs/out", "x");
	put("app/tmp/cache1/y", "x");
	put("app/tmp/cache2", "x");
	put("elsewhere/f", "x");
	dir("app/.cache/deep");
	dir("app/node_modules/z");
	CHECK(changes(w, NULL, 0) == 0);
	put("app/tmp/keep/z", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "tmp/keep/z");
	CHECK(watch_count(w) == 4);

	/* A directory made after the walk is watched, and its creation is a change. */
	CHECK(mkdir(at("app/newdir"), 0755) == 0);
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "newdir");
	CHECK(watch_count(w) == 5);
	put("app/newdir/f", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "newdir/f");

	/* Made whole before the watcher looks: the walk picks up what is inside. */
	dir("app/a/b/c");
	put("app/a/b/c/f", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "a");
	CHECK(watch_count(w) == 8);
	put("app/a/b/c/g", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "a/b/c/g");

	/* Renamed inside the tree: watched under the new name. Moved out: forgotten. */
	CHECK(rename(at("app/a"), at("app/moved")) == 0);
	CHECK(changes(w, NULL, 0) >= 2);
	CHECK(watch_count(w) == 8);
	put("app/moved/b/c/h", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "moved/b/c/h");
	CHECK(rename(at("app/moved"), at("gone")) == 0);
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "moved");
	CHECK(watch_count(w) == 5);
	put("gone/b/c/i", "x");
	CHECK(changes(w, NULL, 0) == 0);

	/* Deleted: a change, and its watch goes. */
	CHECK(unlink(at("app/newdir/f")) == 0);
	CHECK(rmdir(at("app/newdir")) == 0);
	CHECK(changes(w, what, sizeof what) >= 2);
	CHECK_STR(what, "newdir/f");
	CHECK(watch_count(w) == 4);

	/* A burst is drained in one call. */
	for (int i = 0; i < 1000; i++) {
		char name[32];
		snprintf(name, sizeof name, "app/sub/f%d", i % 10);
		put(name, "burst");
	}
	struct pollfd p = {.fd = watch_fd(w), .events = POLLIN};
	CHECK(poll(&p, 1, 1000) == 1);
	CHECK(watch_read(w, what, sizeof what) > 0);
	CHECK_STR(what, "sub/f0");
	CHECK(watch_read(w, what, sizeof what) == 0);
	CHECK(poll(&p, 1, 0) == 0);
	watch_close(w);
}

static void test_exclude(void)
{
	char what[256];
	dir("ex/out/deep");
	dir("ex/src");
	dir("home");
	char *exclude[] = {at("ex/out/"), at("ex/server.pid"), at("home"), NULL};
	char *roots[] = {at("ex"), at("home"), NULL};
	struct watcher *w = watch_open(roots, NULL, exclude, 0);
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(watch_count(w) == 2);  /* ex, ex/src */
	put("ex/out/x", "x");
	put("ex/out/deep/y", "x");
	put("ex/server.pid", "123");
	put("home/z", "x");
	CHECK(changes(w, NULL, 0) == 0);
	put("ex/src/ok.js", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "src/ok.js");
	watch_close(w);
}

/* --ext: only files with those extensions count, in directories made after the start
 * too; a new directory alone is no change, and the names must end in ".EXT". */
static void test_extensions(void)
{
	char what[256];
	dir("exts/lib");
	struct watcher *w = open1("exts", NULL, NULL, 0);
	char *exts[] = {"js", ".json", NULL};
	watch_only_extensions(w, exts);
	put("exts/readme.md", "x");
	put("exts/lib/data.jsonl", "x");
	put("exts/js", "x");
	put("exts/notjs", "x");
	dir("exts/new/deeper");
	CHECK(changes(w, NULL, 0) == 0);
	put("exts/new/deeper/app.js", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "new/deeper/app.js");
	put("exts/package.json", "{}");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "package.json");
	CHECK(unlink(at("exts/lib/data.jsonl")) == 0);
	CHECK(changes(w, NULL, 0) == 0);
	CHECK(unlink(at("exts/package.json")) == 0);
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "package.json");
	watch_close(w);
}

static void test_single_file(void)
{
	char what[256];
	dir("single");
	put("single/conf.json", "{}");
	put("single/other.txt", "x");
	struct watcher *w = open1("single/conf.json", NULL, NULL, 0);
	CHECK(watch_count(w) == 1);
	put("single/other.txt", "y");
	dir("single/sub");
	CHECK(changes(w, NULL, 0) == 0);
	CHECK(watch_count(w) == 1);
	put("single/conf.json", "{\"a\":1}");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "conf.json");
	watch_close(w);

	/* Named as a root, a dotfile counts even inside a root that skips dotfiles. */
	dir("both");
	put("both/.env", "A=1");
	char *roots[] = {at("both/"), at("both/.env"), NULL};
	w = watch_open(roots, NULL, NULL, 0);
	CHECK(w && watch_count(w) == 1);
	if (!w)
		return;
	put("both/.other", "x");
	CHECK(changes(w, NULL, 0) == 0);
	put("both/.env", "A=2");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, ".env");
	put("both/main.js", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "main.js");
	watch_close(w);
}

/* More events than the kernel queues: one change, and a rescan finds what was missed. */
static void test_queue_overflow(void)
{
	long max = 16384;
	char *text = read_file("/proc/sys/fs/inotify/max_queued_events", 64, NULL);
	if (text)
		max = atol(text);
	free(text);
	dir("ovf");
	struct watcher *w = open1("ovf", NULL, NULL, 0);
	int fd = open(at("ovf/f"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	long failed = 0;
	for (long i = 0; fd >= 0 && i <= max; i++)  /* identical events merge: alternate */
		failed += pwrite(fd, "x", 1, 0) != 1 || fchmod(fd, i % 2 ? 0644 : 0600) != 0;
	CHECK(failed == 0);
	if (fd >= 0)
		close(fd);
	dir("ovf/late");
	CHECK(watch_count(w) == 1);
	CHECK(changes(w, NULL, 0) > 0);
	CHECK(watch_count(w) == 2);
	CHECK(watch_read(w, NULL, 0) == 0);
	watch_close(w);
}

static void test_roots(void)
{
	char what[256];
	/* A hidden root is watched: only what is below it is filtered. */
	dir(".hidden/.inner");
	struct watcher *w = open1(".hidden", NULL, NULL, 0);
	CHECK(watch_count(w) == 1);
	put(".hidden/f", "x");
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, "f");
	/* The root itself going away is a change. */
	CHECK(unlink(at(".hidden/f")) == 0);
	CHECK(rmdir(at(".hidden/.inner")) == 0);
	CHECK(changes(w, NULL, 0) >= 1);
	CHECK(rmdir(at(".hidden")) == 0);
	CHECK(changes(w, what, sizeof what) >= 1);
	CHECK_STR(what, ".");
	CHECK(watch_count(w) == 0);
	watch_close(w);

	char *none[] = {at("nonexistent"), NULL};
	errno = 0;
	CHECK(watch_open(none, NULL, NULL, 0) == NULL);
	CHECK(errno == ENOENT);
	CHECK(watch_open(NULL, NULL, NULL, 0) == NULL);
	watch_close(NULL);

	/* One root missing, one present: watched. */
	dir("present");
	char *some[] = {at("nonexistent"), at("present"), NULL};
	w = watch_open(some, NULL, NULL, 0);
	CHECK(w && watch_count(w) == 1);
	watch_close(w);
}

static void test_limit(void)
{
	char name[32];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "many/d%d", i);
		dir(name);
	}
	struct watcher *w = open1("many", NULL, NULL, 3);
	CHECK(watch_count(w) == 3);
	CHECK(watch_overflowed(w));
	/* Past the cap, new directories are not added either. */
	dir("many/new");
	CHECK(changes(w, NULL, 0) >= 1);
	CHECK(watch_count(w) == 3);
	watch_close(w);

	w = open1("many", NULL, NULL, 0);
	CHECK(watch_count(w) == 12);
	CHECK(!watch_overflowed(w));
	watch_close(w);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/tend-watch-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_tree();
	test_exclude();
	test_extensions();
	test_single_file();
	test_queue_overflow();
	test_roots();
	test_limit();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_report("test_watch");
}
