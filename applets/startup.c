/* startup, unstartup: make tend start at boot under the machine's init system, or undo
 * it. Every service runs tend in the foreground (`tend resurrect --no-daemon`: no
 * forking, no pid file) under the init's own supervisor, except SysV init which has
 * none. The files are the templates of core/client/templates/, embedded at build time;
 * the platform tables and the commands are in startup_init.c. */
#include "applets/applet.h"
#include "applets/startup.h"
#include "lib/home.h"
#include "lib/opt.h"
#include "lib/safefile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//applet: startup startup_main startup_help - make tend bring the saved apps back at boot (systemd, openrc, runit, s6, busybox, procd...)
//applet: unstartup unstartup_main startup_help - remove what startup made

const char startup_help[] =
	"usage: tend startup [PLATFORM] [-u USER] [--hp HOME] [--service-name NAME]\n"
	"                    [--wait-ip] [--root DIR]\n"
	"       tend unstartup [PLATFORM] [same options]\n"
	"\n"
	"Write a boot service that runs tend in the foreground as USER and resurrects the\n"
	"apps saved by tend save (save first: a stopped app comes back stopped), and enable\n"
	"it. Stopping the service stops the apps and leaves the saved list as it is;\n"
	"reloading it reloads every app. unstartup stops and disables the service and\n"
	"removes its files. Running either twice is harmless. Needs root (else it prints the\n"
	"sudo command to run and exits 1), unless --root.\n"
	"\n"
	"PLATFORM (found from PID 1 and the tools on PATH when not given):\n"
	"  systemd   (also ubuntu, centos, redhat, debian, arch, oracle, fedora, suse)\n"
	"            /etc/systemd/system/NAME.service, Type=notify\n"
	"  upstart   (ubuntu14, ubuntu12)  /etc/init/NAME.conf\n"
	"  systemv   (amazon, centos6, sysv)  /etc/init.d/NAME, update-rc.d or chkconfig\n"
	"  openrc    (gentoo, alpine)  /etc/init.d/NAME under supervise-daemon\n"
	"  runit     (void)  /etc/sv/NAME/run, linked into /etc/service (or /var/service)\n"
	"  s6        /etc/s6/sv/NAME/{run,type}, linked into the scan directory\n"
	"  busybox   (inittab)  /etc/tend/NAME.run, a respawn line in /etc/inittab\n"
	"  procd     (openwrt)  /etc/init.d/NAME, USE_PROCD\n"
	"launchd, rcd, openbsd and smf are not Linux: an error.\n"
	"\n"
	"  -u, --user USER       run the apps as USER (default: who runs this); the home\n"
	"                        comes from USER's passwd entry\n"
	"      --hp HOME         USER's home instead: tend's home is HOME/.tend\n"
	"      --service-name NAME  default tend-USER (pm2-USER when run as pm2)\n"
	"      --wait-ip         start once the network is up (systemd: network-online.target;\n"
	"                        openrc: need net)\n"
	"      --root DIR        write every file under DIR and print the commands instead of\n"
	"                        running them (images, packages, tests); root not needed\n"
	"\n"
	"Exit status: 0 done, 1 a command failed or not root (the sudo line is printed),\n"
	"2 bad usage or a platform that is not Linux's.\n";

enum { O_USER = 1, O_HP, O_NAME, O_WAIT_IP, O_ROOT };

static const struct opt options[] = {
	{"user", 'u', OPT_REQUIRED, O_USER},
	{"hp", 0, OPT_REQUIRED, O_HP},
	{"service-name", 0, OPT_REQUIRED, O_NAME},
	{"wait-ip", 0, OPT_NONE, O_WAIT_IP},
	{"root", 0, OPT_REQUIRED, O_ROOT},
	{0},
};

/* ---- who, where, what -------------------------------------------------------------------- */

static bool name_ok(const char *s, bool allow_at)
{
	if (!*s || *s == '-' || *s == '.' || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' || (allow_at && *p == '@')))
			return false;
	return true;
}

/* The program the service runs: as it was invoked (a link named pm2 stays pm2, so the
 * service uses PM2's home names), made absolute; else /proc/self/exe. */
static void program_path(char *out, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	self[len > 0 ? len : 0] = 0;
	const char *base = strrchr(invoked_as, '/');
	base = base ? base + 1 : invoked_as;
	char cand[2 * PATH_MAX + 2], real[PATH_MAX];
	if (strchr(invoked_as, '/')) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%.*s", (int)(base - invoked_as - 1), invoked_as);
		if (realpath(dir[0] ? dir : "/", real)) {
			snprintf(cand, sizeof cand, "%s/%s", strcmp(real, "/") ? real : "", base);
			if (access(cand, X_OK) == 0) {
				snprintf(out, n, "%.*s", (int)n - 1, cand);
				return;
			}
		}
	} else {
		const char *path = getenv("PATH");
		for (const char *p = path ? path : ""; *p;) {
			size_t l = strcspn(p, ":");
			snprintf(cand, sizeof cand, "%.*s/%s", (int)l, p, base);
			if (l && cand[0] == '/' && access(cand, X_OK) == 0 && realpath(cand, real) && !strcmp(real, self)) {
				snprintf(out, n, "%.*s", (int)n - 1, cand);
				return;
			}
			p += l + (p[l] == ':');
		}
	}
	snprintf(out, n, "%s", self);
}

static void resolve(struct service *sv, const char *user, const char *hp)
{
	struct passwd *pw = user ? getpwnam(user) : getpwuid(geteuid());
	if (user && !name_ok(user, false))
		die_usage("-u %s: not a user name", user);
	if (!pw && !user)
		die("who am I? uid %d has no passwd entry: give -u USER and --hp HOME", (int)geteuid());
	if (!pw && !hp)
		die_usage("-u %s: no such user (give --hp HOME too if it exists elsewhere)", user);
	snprintf(sv->user, sizeof sv->user, "%s", user ? user : pw->pw_name);
	if (!name_ok(sv->user, false))
		die("user name '%s' cannot go into a service file", sv->user);
	const char *flavour = home_is_pm2() ? ".pm2" : ".tend";
	if (hp) {
		if (hp[0] != '/')
			die_usage("--hp %s: expected an absolute path", hp);
		snprintf(sv->home, sizeof sv->home, "%s/%s", strcmp(hp, "/") ? hp : "", flavour);
	} else if (!user && getenv(home_is_pm2() ? "PM2_HOME" : "TEND_HOME")) {
		snprintf(sv->home, sizeof sv->home, "%s", home_dir());   /* the caller's own home */
	} else {
		snprintf(sv->home, sizeof sv->home, "%s/%s", strcmp(pw->pw_dir, "/") ? pw->pw_dir : "", flavour);
	}
	sv->hp = hp;
	sv->user_given = user != NULL;
	program_path(sv->program, sizeof sv->program);
	const char *path = getenv("PATH");
	snprintf(sv->path, sizeof sv->path, "%s",
	         path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

/* ---- the commands ------------------------------------------------------------------------ */

static void print_command(const struct command *c)
{
	for (int i = 0; c->argv[i]; i++)
		printf("%s%s", i ? " " : "", c->argv[i]);
}

int run_commands(const struct service *sv, const struct command *cmds, int n)
{
	if (!n)
		return EXIT_OK;
	if (sv->root[0]) {
		printf("commands to run (not run: --root):\n");
		for (int i = 0; i < n; i++) {
			printf("    ");
			print_command(&cmds[i]);
			putchar('\n');
		}
		return EXIT_OK;
	}
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		printf("+ ");
		print_command(&cmds[i]);
		putchar('\n');
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			execvp(cmds[i].argv[0], (char **)cmds[i].argv);
			fprintf(stderr, "tend: %s: %s: %s\n", applet_name, cmds[i].argv[0], strerror(errno));
			_exit(127);
		}
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			if (!cmds[i].may_fail) {
				warn("%s: %s", cmds[i].argv[0], pid < 0 ? strerror(errno)
				     : WIFEXITED(status) ? "failed (exit status above 0)" : "killed");
				rc = EXIT_FAIL;
			}
		}
	}
	return rc;
}

/* ---- files ------------------------------------------------------------------------------- */

void root_path(const struct service *sv, const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s%s", sv->root, path);
}

/* Did tend write it? Only such a file is replaced or removed. */
bool written_by_tend(const char *path)
{
	char head[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof head - 1);
	close(fd);
	head[n > 0 ? n : 0] = 0;
	return strstr(head, STARTUP_MARK) != NULL;
}

/* path (under --root) holds text now, with mode; put_file says so */
void put_quietly(const struct service *sv, const char *path, const char *text, mode_t mode)
{
	char full[PATH_MAX], why[PATH_MAX + 200];
	root_path(sv, path, full, sizeof full);
	if (safe_replace(full, text, strlen(text), mode, true, why, sizeof why) < 0)
		die("%s", why);
	chmod(full, mode);   /* (the umask may have taken bits off) */
}

void put_file(const struct service *sv, const char *path, const char *text, mode_t mode)
{
	char full[PATH_MAX];
	root_path(sv, path, full, sizeof full);
	put_quietly(sv, path, text, mode);
	printf("wrote %s\n", full);
}

void write_file(const struct service *sv, const char *path, const char *text, mode_t mode)
{
	char full[PATH_MAX];
	root_path(sv, path, full, sizeof full);
	if (access(full, F_OK) == 0 && !written_by_tend(full))
		die("%s exists and tend did not write it: remove it, or choose --service-name", full);
	put_file(sv, path, text, mode);
}

/* Remove what tend wrote; a file of someone else's stays, with a word. */
void remove_file(const struct service *sv, const char *path)
{
	char full[PATH_MAX];
	root_path(sv, path, full, sizeof full);
	if (access(full, F_OK) != 0)
		return;
	if (!written_by_tend(full)) {
		warn("warning: %s was not written by tend: left as it is", full);
		return;
	}
	if (unlink(full) < 0)
		die("%s: %s", full, strerror(errno));
	printf("removed %s\n", full);
}

/* ---- the applets ------------------------------------------------------------------------- */

static void parse(int argc, char **argv, struct service *sv)
{
	struct optstate s;
	opt_init(&s, argc, argv);
	const char *user = NULL, *hp = NULL, *name = NULL;
	int id;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		switch (id) {
		case O_USER: user = s.arg; break;
		case O_HP: hp = s.arg; break;
		case O_NAME: name = s.arg; break;
		case O_WAIT_IP: sv->wait_ip = true; break;
		case O_ROOT:
			if (s.arg[0] != '/')
				die_usage("--root %s: expected an absolute path", s.arg);
			snprintf(sv->root, sizeof sv->root, "%s", strcmp(s.arg, "/") ? s.arg : "");
			while (sv->root[0] && sv->root[strlen(sv->root) - 1] == '/')
				sv->root[strlen(sv->root) - 1] = 0;
			sv->rooted = true;
			break;
		}
	}
	if (s.npos > 1 || s.nrest)
		die_usage("unexpected argument '%s'", s.npos > 1 ? s.pos[1] : s.rest[0]);
	char found[160] = "";
	sv->init = s.npos ? init_by_name(s.pos[0]) : init_detect(found, sizeof found);
	if (!sv->init)
		die_usage("%s", s.npos ? init_unknown(s.pos[0]) : "no init system found: name one (tend startup --help)");
	snprintf(sv->found, sizeof sv->found, "%s", s.npos ? "" : found);
	resolve(sv, user, hp);
	if (name && !name_ok(name, true))
		die_usage("--service-name %s: letters, digits, '.', '_', '-' and '@' only", name);
	snprintf(sv->name, sizeof sv->name, "%s", name ? name : "");
	if (!name)
		snprintf(sv->name, sizeof sv->name, "%s-%s", home_is_pm2() ? "pm2" : "tend", sv->user);
	opt_free(&s);
}

/* Not root and no --root: the line to run instead. */
static void need_root(const struct service *sv, const char *applet, int argc, char **argv)
{
	if (sv->rooted || geteuid() == 0)
		return;
	warn("%s needs root to write %s's files; run:", applet, sv->init->name);
	printf("sudo env PATH=%s %s %s %s -u %s --hp ", sv->path, sv->program, applet, sv->init->name, sv->user);
	if (sv->hp) {
		printf("%s", sv->hp);
	} else {
		/* tend's home is HP/.tend: give back HP */
		size_t n = strlen(sv->home), k = strlen(home_is_pm2() ? "/.pm2" : "/.tend");
		printf("%.*s", (int)(n > k ? n - k : 0), sv->home);
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--wait-ip") || !strncmp(argv[i], "--service-name", 14))
			printf(" %s", argv[i]);
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--service-name"))
			printf(" %s", argv[i + 1]);
	putchar('\n');
	exit(EXIT_FAIL);
}

int startup_main(int argc, char **argv)
{
	struct service sv = {0};
	parse(argc, argv, &sv);
	need_root(&sv, "startup", argc, argv);
	if (strncmp(sv.program, "/tmp/", 5) == 0)
		warn("warning: the service runs %s, which may be gone after a reboot", sv.program);
	if (sv.found[0])
		printf("init system: %s (%s)\n", sv.init->name, sv.found);
	else
		printf("init system: %s\n", sv.init->name);
	int rc = sv.init->install(&sv);
	const char *me = home_is_pm2() ? "pm2" : "tend";
	printf("at boot %s runs %s as %s (home %s), bringing back what `%s save` saved\n", sv.name, me,
	       sv.user, sv.home, me);
	printf("undo: %s unstartup %s%s%s\n", me, sv.init->name, sv.user_given ? " -u " : "",
	       sv.user_given ? sv.user : "");
	return rc;
}

int unstartup_main(int argc, char **argv)
{
	struct service sv = {0};
	parse(argc, argv, &sv);
	need_root(&sv, "unstartup", argc, argv);
	return sv.init->uninstall(&sv);
}
