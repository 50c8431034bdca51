/* tend: one binary, many applets. The applet is basename(argv[0]) (also "tend-NAME"),
 * else argv[1]. Invoked as "pm2", tend behaves as tend in PM2's home. */
#include "lib/util.h"
#include "lib/home.h"
#include "applets/applet.h"
#include "client/appopts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
	const char *flags;     /* "a" alias, "c" clashes with a system command, "s" takes -s
	                        * itself, "o" stdout is data (scripts/mkapplets.sh) */
	const char *summary;   /* for an alias: the applet it stands for */
};

static const struct applet applets[] = {
#define APPLET(name, fn, help, flags, summary) {name, fn, help, flags, summary},
#include "applets.h"
#undef APPLET
};

static int applet_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct applet *)elem)->name);
}

static const struct applet *applet_find(const char *name)
{
	return bsearch(name, applets, ARRAY_LEN(applets), sizeof applets[0], applet_cmp);
}

static bool is_alias(const struct applet *a) { return strchr(a->flags, 'a') != NULL; }
static bool clashes(const struct applet *a) { return strchr(a->flags, 'c') != NULL; }

static const char *closest_applet(const char *name)
{
	const char *best = applets[0].name;
	int best_d = 1 << 30;
	for (size_t i = 0; i < ARRAY_LEN(applets); i++) {
		int d = edit_distance(name, applets[i].name);
		if (d < best_d) {
			best_d = d;
			best = applets[i].name;
		}
	}
	return best;
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: tend APPLET [ARGS...]   (or: APPLET [ARGS...] through a link)\n"
	           "       tend --help | --version | --list | --install DIR [-s]\n\n"
	           "A process manager: keeps apps alive, restarts them by policy, captures\n"
	           "their logs. 'tend APPLET --help' shows an applet's options.\n\napplets:\n");
	for (size_t i = 0; i < ARRAY_LEN(applets); i++) {
		const struct applet *a = &applets[i];
		if (is_alias(a))
			continue;
		char names[80];
		int n = snprintf(names, sizeof names, "%s", a->name);
		for (size_t j = 0; j < ARRAY_LEN(applets); j++)
			if (is_alias(&applets[j]) && strcmp(applets[j].summary, a->name) == 0 &&
			    n < (int)sizeof names)
				n += snprintf(names + n, sizeof names - n, "%s%s",
				              n == (int)strlen(a->name) ? " (" : ", ", applets[j].name);
		if (n > (int)strlen(a->name) && n < (int)sizeof names - 1)
			strcat(names, ")");
		fprintf(f, "  %-24s %s\n", names, a->summary);
	}
}

/* Like busybox --install: a link per applet in dir; -s for symlinks, else hard links.
 * Names that would shadow a system command (kill, ps, env...) become tend-NAME, and
 * an existing file is never replaced. */
static int install_links(const char *dir, bool symbolic)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die("/proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die_usage("%s: not a directory", dir);
	int made = 0, failed = 0;
	for (size_t i = 0; i < ARRAY_LEN(applets); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s%s", dir, clashes(&applets[i]) ? "tend-" : "",
		         applets[i].name);
		if (lstat(path, &st) == 0)
			continue;
		int r = symbolic ? symlink(self, path) : link(self, path);
		if (r < 0) {
			warn("%s: %s", path, strerror(errno));
			failed++;
		} else {
			made++;
		}
	}
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* An applet's help; the app options' lines come from their table (APPOPT_HELP). */
static void print_applet_help(const char *help, FILE *f)
{
	for (const char *mark; (mark = strchr(help, '\001'));) {
		fwrite(help, 1, (size_t)(mark - help), f);
		appopts_help(f);
		help = mark + 1 + (mark[1] == '\n');
	}
	fputs(help, f);
}

static char **silent_argv;   /* apply_silent's copy: the applet's argv, freed after it */

static bool is_silent_flag(const char *arg)
{
	return !strcmp(arg, "-s") || !strcmp(arg, "--silent");
}

/* PM2's -s/--silent (and PM2_SILENT in the environment) is accepted by every command and
 * hides its messages. Applets with flag 's' take it themselves (they still print what
 * scripts read, such as a reload's errors); for the others it is taken out of argv here,
 * and their stdout goes to /dev/null unless it carries the data asked for (flag 'o':
 * jlist, logs, pid...). Errors stay on stderr and exit codes are unchanged: a script that
 * silences PM2 still learns why a command failed. Returns the new argc; *argvp may be
 * a new array (PM2_SILENT given to an 's' applet as its own -s). */
static int apply_silent(const struct applet *t, int argc, char ***argvp)
{
	char **argv = *argvp;
	bool silent = getenv("PM2_SILENT") && *getenv("PM2_SILENT");
	bool own = strchr(t->flags, 's') != NULL;
	int n = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!own && is_silent_flag(argv[i]))
			silent = true;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	if (!silent)
		return n;
	if (own) {
		static char dash_s[] = "-s";
		char **v = silent_argv = xcalloc((size_t)n + 2, sizeof *v);
		v[0] = argv[0];
		v[1] = dash_s;
		memcpy(v + 2, argv + 1, (size_t)(n - 1) * sizeof *v);
		*argvp = v;
		return n + 1;
	}
	if (!strchr(t->flags, 'o')) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		fflush(stdout);
		if (fd == STDOUT_FILENO) {
			fcntl(fd, F_SETFD, 0);
		} else if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	return n;
}

static int run_applet(const struct applet *a, int argc, char **argv)
{
	const struct applet *target = a;
	applet_name = a->name;
	if (is_alias(a) && applet_find(a->summary)) {
		target = applet_find(a->summary);
		applet_name = target->name;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_applet_help(a->help, stdout);
			return EXIT_OK;
		}
	}
	argc = apply_silent(target, argc, &argv);
	int rc = a->main(argc, argv);
	free(silent_argv);
	return rc;
}

static int multicall(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (argc > 2 && is_silent_flag(argv[1])) {   /* "pm2 -s list": PM2's global -s */
		char *s = argv[1];
		argv[1] = argv[2];
		argv[2] = s;
	}
	const char *arg = argv[1];
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help")) {
		if (argc > 2 && applet_find(argv[2]))
			return run_applet(applet_find(argv[2]), 2, (char *[]){argv[2], "--help", NULL});
		if (argc > 2) {
			applet_name = "help";
			die_usage("%s: no such applet (did you mean %s?)", argv[2], closest_applet(argv[2]));
		}
		print_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(arg, "--version") || !strcmp(arg, "-v") || !strcmp(arg, "-V")) {
		return run_applet(applet_find("version"), 1, argv);
	}
	if (!strcmp(arg, "--list")) {
		for (size_t i = 0; i < ARRAY_LEN(applets); i++)
			puts(applets[i].name);
		return EXIT_OK;
	}
	if (!strcmp(arg, "--install")) {
		applet_name = "install";
		if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "-s")))
			die_usage("usage: tend --install DIR [-s]");
		return install_links(argv[2], argc == 4);
	}
	const struct applet *a = applet_find(arg);
	if (!a) {
		applet_name = arg[0] == '-' ? "tend" : arg;
		if (arg[0] == '-')
			die_usage("unknown option %s (try tend --help)", arg);
		die_usage("unknown applet (did you mean %s?)", closest_applet(arg));
	}
	return run_applet(a, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argc > 0 && argv[0] ? argv[0] : "tend";
	if (argc > 0 && argv[0])
		invoked_as = argv[0];
	if (strcmp(base, "pm2") == 0)
		home_use_pm2_names();
	if (strncmp(base, "tend-", 5) == 0 && base[5])
		base += 5;
	const struct applet *a = applet_find(base);
	int rc = a ? run_applet(a, argc, argv) : multicall(argc, argv);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_FAIL;
	return rc;
}
