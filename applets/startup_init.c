/* The init systems startup knows: names and PM2's aliases, how each is found, the file
 * each gets (a template of core/client/templates/ with @KEY@ fields filled in, quoted
 * for that file's language) and the commands that enable or disable it. */
#include "applets/startup.h"
#include "client/decl.h"
#include "lib/home.h"
#include "lib/util.h"

#include "templates.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- filling in a template --------------------------------------------------------------- */

enum quoting { Q_SH, Q_SYSTEMD };

static bool plain(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_./:@%+=,-", *p)))
			return false;
	return *s != 0;
}

/* One word in the file's language: shell single quotes, or systemd's double quotes
 * (where % starts a specifier and $ a variable, both doubled). */
static void quoted(struct buf *b, const char *s, enum quoting q)
{
	if (q == Q_SH) {
		if (plain(s)) {
			buf_puts(b, s);
			return;
		}
		buf_putc(b, '\'');
		for (const char *p = s; *p; p++)
			if (*p == '\'')
				buf_puts(b, "'\\''");
			else
				buf_putc(b, *p);
		buf_putc(b, '\'');
		return;
	}
	bool wrap = !plain(s);
	if (wrap)
		buf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '%' || *p == '$')
			buf_putc(b, *p);
		else if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	if (wrap)
		buf_putc(b, '"');
}

static void assignment(struct buf *b, const char *key, const char *value, enum quoting q)
{
	struct buf kv = {0};
	if (q == Q_SH) {
		buf_printf(b, "%s=", key);
		quoted(b, value, q);
	} else {
		buf_printf(&kv, "%s=%s", key, value);
		quoted(b, kv.data, q);
	}
	buf_free(&kv);
}

static const char *home_var(void) { return home_is_pm2() ? "PM2_HOME" : "TEND_HOME"; }

/* The value of @key@, or false if the template has no such field. */
static bool field(struct buf *b, const struct service *sv, const char *key, size_t n, enum quoting q)
{
#define IS(k) (n == sizeof k - 1 && !memcmp(key, k, n))
	bool root = !strcmp(sv->user, "root");
	if (IS("NAME"))
		buf_puts(b, sv->name);
	else if (IS("USER"))
		buf_puts(b, sv->user);
	else if (IS("TEND"))
		quoted(b, sv->program, q);
	else if (IS("ENV_PATH"))
		assignment(b, "PATH", sv->path, q);
	else if (IS("ENV_HOME"))
		assignment(b, home_var(), sv->home, q);
	else if (IS("AFTER"))
		buf_puts(b, sv->wait_ip ? "Wants=network-online.target\nAfter=network-online.target"
		                        : "After=network.target");
	else if (IS("UPSTART_START"))
		buf_puts(b, sv->wait_ip ? "(runlevel [2345] and net-device-up IFACE!=lo)" : "runlevel [2345]");
	else if (IS("DEPEND"))
		buf_puts(b, sv->wait_ip ? "need net" : "use net");
	else if (IS("AS_USER") && !root && !strcmp(sv->init->name, "runit"))
		buf_printf(b, "chpst -u %s ", sv->user);
	else if (IS("AS_USER") && !root && !strcmp(sv->init->name, "s6"))
		buf_printf(b, "s6-setuidgid %s ", sv->user);
	else if (IS("AS_USER") && !root)   /* busybox: its su execs the shell */
		buf_printf(b, "su -s /bin/sh %s -c 'exec \"$0\" \"$@\"' ", sv->user);
	else if (IS("AS_USER"))
		;
	else if (IS("PROCD_USER"))
		buf_printf(b, root ? "# (as root)" : "procd_set_param user %s", sv->user);
	else
		return false;
	return true;
#undef IS
}

static char *render(const char *tmpl, const struct service *sv, enum quoting q)
{
	struct buf b = {0};
	for (const char *p = tmpl; *p;) {
		const char *at = strchr(p, '@'), *end = at ? strchr(at + 1, '@') : NULL;
		if (!at || !end) {
			buf_puts(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(at - p));
		if (field(&b, sv, at + 1, (size_t)(end - at - 1), q)) {
			p = end + 1;
		} else {
			buf_putc(&b, '@');
			p = at + 1;
		}
	}
	return b.data ? b.data : xstrdup("");
}

static void write_template(const struct service *sv, const char *path, const char *tmpl, enum quoting q,
                           mode_t mode)
{
	char *text = render(tmpl, sv, q);
	write_file(sv, path, text, mode);
	free(text);
}

/* ---- commands ------------------------------------------------------------------------------ */

struct commands {
	struct command c[MAX_COMMANDS];
	int n;
};

/* add(&cs, may_fail, "word", ..., NULL): the words are copied; run() frees them. */
static void add(struct commands *cs, bool may_fail, ...)
{
	if (cs->n == MAX_COMMANDS)
		return;
	struct command *c = &cs->c[cs->n++];
	*c = (struct command){.may_fail = may_fail};
	va_list ap;
	va_start(ap, may_fail);
	const char *w;
	for (int i = 0; i < MAX_WORDS - 1 && (w = va_arg(ap, const char *)); i++)
		c->argv[i] = xstrdup(w);
	va_end(ap);
}

static int run(const struct service *sv, struct commands *cs)
{
	int rc = run_commands(sv, cs->c, cs->n);
	for (int i = 0; i < cs->n; i++)
		for (int w = 0; cs->c[i].argv[w]; w++)
			free((char *)cs->c[i].argv[w]);
	cs->n = 0;
	return rc;
}

static bool on_path(const char *tool)
{
	char *found = decl_which(tool);
	free(found);
	return found != NULL;
}

static bool exists_in(const struct service *sv, const char *path)
{
	char full[PATH_MAX];
	root_path(sv, path, full, sizeof full);
	return access(full, F_OK) == 0;
}

/* A service directory tend made (runit, s6): its files, then what the supervisor made
 * in it (supervise/, event/), then itself. Someone else's is left alone. */
static void remove_tree(const char *dir);
static void remove_service_dir(const struct service *sv, const char *dir, const char *const *files)
{
	char full[PATH_MAX], run[PATH_MAX + 8];
	root_path(sv, dir, full, sizeof full);
	snprintf(run, sizeof run, "%s/run", full);
	if (access(full, F_OK) != 0)
		return;
	if (!written_by_tend(run)) {
		warn("warning: %s was not made by tend: left as it is", full);
		return;
	}
	for (int i = 0; files[i]; i++) {
		char f[PATH_MAX + 64];
		snprintf(f, sizeof f, "%s/%s", full, files[i]);
		unlink(f);
	}
	const char *made[] = {"supervise", "event", NULL};
	for (int i = 0; made[i]; i++) {
		char f[PATH_MAX + 64];
		snprintf(f, sizeof f, "%s/%s", full, made[i]);
		remove_tree(f);
	}
	if (rmdir(full) < 0)
		warn("warning: %s: %s (left)", full, strerror(errno));
	else
		printf("removed %s\n", full);
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		unlink(dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char f[PATH_MAX + 256];
			snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
			if (e->d_type == DT_DIR)
				remove_tree(f);
			else
				unlink(f);
		}
	closedir(d);
	rmdir(dir);
}

/* ---- systemd ------------------------------------------------------------------------------- */

static char *unit_path(const struct service *sv) { return xasprintf("/etc/systemd/system/%s.service", sv->name); }

static int systemd_install(struct service *sv)
{
	char *path = unit_path(sv), *unit = xasprintf("%s.service", sv->name);
	write_template(sv, path, tmpl_systemd_service, Q_SYSTEMD, 0644);
	struct commands cs = {0};
	add(&cs, false, "systemctl", "daemon-reload", NULL);
	add(&cs, false, "systemctl", "enable", unit, NULL);
	free(path);
	free(unit);
	return run(sv, &cs);
}

static int systemd_uninstall(struct service *sv)
{
	char *path = unit_path(sv), *unit = xasprintf("%s.service", sv->name);
	struct commands cs = {0};
	add(&cs, true, "systemctl", "stop", unit, NULL);
	add(&cs, true, "systemctl", "disable", unit, NULL);
	int rc = run(sv, &cs);
	remove_file(sv, path);
	add(&cs, false, "systemctl", "daemon-reload", NULL);
	rc |= run(sv, &cs);
	free(path);
	free(unit);
	return rc;
}

/* ---- upstart -------------------------------------------------------------------------------- */

static int upstart_install(struct service *sv)
{
	char *path = xasprintf("/etc/init/%s.conf", sv->name);
	write_template(sv, path, tmpl_upstart_conf, Q_SH, 0644);
	struct commands cs = {0};
	add(&cs, false, "initctl", "reload-configuration", NULL);
	free(path);
	return run(sv, &cs);
}

static int upstart_uninstall(struct service *sv)
{
	char *path = xasprintf("/etc/init/%s.conf", sv->name);
	struct commands cs = {0};
	add(&cs, true, "initctl", "stop", sv->name, NULL);
	int rc = run(sv, &cs);
	remove_file(sv, path);
	add(&cs, false, "initctl", "reload-configuration", NULL);
	rc |= run(sv, &cs);
	free(path);
	return rc;
}

/* ---- SysV init.d, OpenRC and procd: a script in /etc/init.d ---------------------------------- */

static int initd_install(struct service *sv, const char *tmpl)
{
	char *path = xasprintf("/etc/init.d/%s", sv->name);
	write_template(sv, path, tmpl, Q_SH, 0755);
	struct commands cs = {0};
	if (!strcmp(sv->init->name, "openrc"))
		add(&cs, false, "rc-update", "add", sv->name, "default", NULL);
	else if (!strcmp(sv->init->name, "procd"))
		add(&cs, false, path, "enable", NULL);
	else if (on_path("update-rc.d") || !on_path("chkconfig"))
		add(&cs, false, "update-rc.d", sv->name, "defaults", NULL);
	else
		add(&cs, false, "chkconfig", "--add", sv->name, NULL);
	free(path);
	return run(sv, &cs);
}

static int initd_uninstall(struct service *sv)
{
	char *path = xasprintf("/etc/init.d/%s", sv->name);
	int rc = 0;
	if (exists_in(sv, path)) {   /* (stopping what is not there would only fail) */
		struct commands cs = {0};
		if (!strcmp(sv->init->name, "openrc")) {
			add(&cs, true, "rc-service", sv->name, "stop", NULL);
			add(&cs, true, "rc-update", "del", sv->name, "default", NULL);
		} else if (!strcmp(sv->init->name, "procd")) {
			add(&cs, true, path, "stop", NULL);
			add(&cs, true, path, "disable", NULL);
		} else {
			add(&cs, true, path, "stop", NULL);
			if (on_path("update-rc.d") || !on_path("chkconfig"))
				add(&cs, true, "update-rc.d", "-f", sv->name, "remove", NULL);
			else
				add(&cs, true, "chkconfig", "--del", sv->name, NULL);
		}
		rc = run(sv, &cs);
	}
	remove_file(sv, path);
	free(path);
	return rc;
}

static int systemv_install(struct service *sv) { return initd_install(sv, tmpl_systemv_sh); }
static int openrc_install(struct service *sv) { return initd_install(sv, tmpl_openrc_sh); }
static int procd_install(struct service *sv) { return initd_install(sv, tmpl_procd_sh); }

/* ---- runit and s6: a service directory, linked into the scan directory -------------------- */

/* Where the supervisor looks: the first that exists of the usual places. */
static const char *scan_dir(const struct service *sv)
{
	bool runit = !strcmp(sv->init->name, "runit");
	const char *const runit_dirs[] = {"/etc/service", "/var/service", "/service", NULL};
	const char *const s6_dirs[] = {"/run/service", "/service", "/var/run/s6/services", NULL};
	const char *const *dirs = runit ? runit_dirs : s6_dirs;
	for (int i = 0; dirs[i]; i++)
		if (exists_in(sv, dirs[i]))
			return dirs[i];
	return dirs[0];
}

static char *service_dir(const struct service *sv)
{
	return xasprintf(!strcmp(sv->init->name, "runit") ? "/etc/sv/%s" : "/etc/s6/sv/%s", sv->name);
}

static int svdir_install(struct service *sv)
{
	bool runit = !strcmp(sv->init->name, "runit");
	char *dir = service_dir(sv), *run_file = xasprintf("%s/run", dir), *link = NULL;
	write_template(sv, run_file, runit ? tmpl_runit_run : tmpl_s6_run, Q_SH, 0755);
	if (!runit) {   /* s6-rc reads the same directory as a source definition */
		char *type = xasprintf("%s/type", dir);
		put_file(sv, type, "longrun\n", 0644);
		free(type);
	}
	const char *scan = scan_dir(sv);
	size_t n = strlen(scan) + strlen(sv->name) + 2;
	link = xmalloc(n);
	snprintf(link, n, "%s/%s", scan, sv->name);
	struct commands cs = {0};
	add(&cs, false, "ln", "-sfn", dir, link, NULL);
	if (!runit)
		add(&cs, false, "s6-svscanctl", "-a", scan, NULL);
	free(dir);
	free(run_file);
	free(link);
	return run(sv, &cs);
}

static int svdir_uninstall(struct service *sv)
{
	bool runit = !strcmp(sv->init->name, "runit");
	char *dir = service_dir(sv);
	const char *scan = scan_dir(sv);
	size_t n = strlen(scan) + strlen(sv->name) + 2;
	char *link = xmalloc(n);
	snprintf(link, n, "%s/%s", scan, sv->name);
	struct commands cs = {0};
	int rc = 0;
	if (exists_in(sv, dir)) {
		/* down first, and wait for it: the apps stop while the supervisor still runs */
		if (runit)
			add(&cs, true, "sv", "-w", "130", "down", dir, NULL);
		else
			add(&cs, true, "s6-svc", "-wd", "-T", "130000", "-d", link, NULL);
		add(&cs, false, "rm", "-f", link, NULL);
		if (!runit)
			add(&cs, true, "s6-svscanctl", "-an", scan, NULL);
		rc = run(sv, &cs);
	}
	const char *const files[] = {"run", "type", NULL};
	remove_service_dir(sv, dir, files);
	free(dir);
	free(link);
	return rc;
}

/* ---- BusyBox init: a run script and a respawn line in /etc/inittab -------------------------- */

static char *inittab_text(const struct service *sv, bool with_ours, bool *had_ours)
{
	char full[PATH_MAX];
	root_path(sv, "/etc/inittab", full, sizeof full);
	char *old = NULL;
	size_t len = 0;
	FILE *f = fopen(full, "re");
	if (!f && with_ours)   /* without the file BusyBox init runs its built-in table */
		die("%s: %s: without it BusyBox init uses its built-in entries (sysinit /etc/init.d/rcS, "
		    "shells on the consoles); write those into it first, then run startup again", full,
		    strerror(errno));
	if (f) {
		struct buf b = {0};
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(&b, chunk, got);
		fclose(f);
		old = b.data;
		len = b.len;
	}
	char *mark = xasprintf("# %s: " STARTUP_MARK " busybox`", sv->name);
	struct buf out = {0};
	*had_ours = false;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(old + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (old + i)) + 1 : len - i;
		if (l >= strlen(mark) && !memcmp(old + i, mark, strlen(mark))) {
			/* ours: this line and the next */
			*had_ours = true;
			i += l;
			const char *nl2 = i < len ? memchr(old + i, '\n', len - i) : NULL;
			i = nl2 ? (size_t)(nl2 - old) + 1 : len;
			continue;
		}
		buf_add(&out, old + i, l);
		i += l;
	}
	if (with_ours) {
		if (out.len && out.data[out.len - 1] != '\n')
			buf_putc(&out, '\n');
		buf_printf(&out, "%s (unstartup removes these two lines)\n::respawn:/etc/tend/%s.run\n", mark,
		           sv->name);
	}
	free(old);
	free(mark);
	return out.data ? out.data : xstrdup("");
}

static int busybox_install(struct service *sv)
{
	char *path = xasprintf("/etc/tend/%s.run", sv->name);
	bool had;
	char *text = inittab_text(sv, true, &had);   /* (no inittab: nothing written) */
	write_template(sv, path, tmpl_busybox_run, Q_SH, 0755);
	put_quietly(sv, "/etc/inittab", text, 0644);
	printf("%s %s/etc/inittab\n", had ? "kept the line in" : "added a respawn line to", sv->root);
	struct commands cs = {0};
	add(&cs, false, "kill", "-HUP", "1", NULL);
	free(text);
	free(path);
	return run(sv, &cs);
}

static int busybox_uninstall(struct service *sv)
{
	char *path = xasprintf("/etc/tend/%s.run", sv->name);
	bool had;
	char *text = inittab_text(sv, false, &had);
	if (had) {
		put_quietly(sv, "/etc/inittab", text, 0644);
		printf("removed the respawn line from %s/etc/inittab\n", sv->root);
	}
	free(text);
	remove_file(sv, path);
	char dir[PATH_MAX];
	root_path(sv, "/etc/tend", dir, sizeof dir);
	rmdir(dir);   /* if it is empty now */
	int rc = 0;
	if (had) {
		/* init forgets the line; what it started goes on: stop it */
		struct commands cs = {0};
		char home[PATH_MAX + 16];
		snprintf(home, sizeof home, "%s=%s", home_var(), sv->home);
		add(&cs, true, "kill", "-HUP", "1", NULL);
		add(&cs, true, "env", home, sv->program, "kill", NULL);
		rc = run(sv, &cs);
	}
	free(path);
	return rc;
}

/* ---- the table --------------------------------------------------------------------------------- */

static const struct init inits[] = {
	{"systemd", systemd_install, systemd_uninstall},
	{"upstart", upstart_install, upstart_uninstall},
	{"systemv", systemv_install, initd_uninstall},
	{"openrc", openrc_install, initd_uninstall},
	{"runit", svdir_install, svdir_uninstall},
	{"s6", svdir_install, svdir_uninstall},
	{"busybox", busybox_install, busybox_uninstall},
	{"procd", procd_install, initd_uninstall},
};

static const struct { const char *alias, *name; } aliases[] = {
	/* PM2's names */
	{"ubuntu", "systemd"}, {"centos", "systemd"}, {"redhat", "systemd"}, {"arch", "systemd"},
	{"oracle", "systemd"}, {"debian", "systemd"}, {"fedora", "systemd"}, {"suse", "systemd"},
	{"ubuntu14", "upstart"}, {"ubuntu12", "upstart"},
	{"amazon", "systemv"}, {"centos6", "systemv"}, {"sysv", "systemv"}, {"sysvinit", "systemv"},
	{"gentoo", "openrc"}, {"alpine", "openrc"},
	{"void", "runit"}, {"inittab", "busybox"}, {"openwrt", "procd"},
};

static const char *const not_linux[] = {"launchd", "darwin", "macos", "rcd", "freebsd", "openbsd",
                                        "rcd-openbsd", "smf", "solaris", NULL};

const struct init *init_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(aliases); i++)
		if (!strcmp(name, aliases[i].alias))
			name = aliases[i].name;
	for (size_t i = 0; i < ARRAY_LEN(inits); i++)
		if (!strcmp(name, inits[i].name))
			return &inits[i];
	return NULL;
}

const char *init_unknown(const char *name)
{
	static char why[200];
	for (int i = 0; not_linux[i]; i++)
		if (!strcmp(name, not_linux[i])) {
			snprintf(why, sizeof why, "%s: not supported on Linux (tend runs on Linux only)", name);
			return why;
		}
	snprintf(why, sizeof why, "%s: no such platform: systemd, upstart, systemv, openrc, runit, s6, "
	         "busybox or procd", name);
	return why;
}

static void read_small(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "re");
	out[0] = 0;
	if (f) {
		if (!fgets(out, (int)n, f))
			out[0] = 0;
		fclose(f);
	}
	out[strcspn(out, "\n")] = 0;
}

/* What PID 1 is first, then the release files, then the tools on PATH. */
const struct init *init_detect(char *found, size_t foundlen)
{
	struct stat st;
	if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(found, foundlen, "found /run/systemd/system");
		return init_by_name("systemd");
	}
	char comm[64], exe[PATH_MAX];
	read_small("/proc/1/comm", comm, sizeof comm);
	ssize_t n = readlink("/proc/1/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	static const struct { const char *comm, *init; } pid1[] = {
		{"systemd", "systemd"}, {"runit", "runit"}, {"runsvdir", "runit"}, {"s6-svscan", "s6"},
		{"procd", "procd"}, {"openrc-init", "openrc"}, {"upstart", "upstart"},
	};
	for (size_t i = 0; i < ARRAY_LEN(pid1); i++)
		if (!strcmp(comm, pid1[i].comm)) {
			snprintf(found, foundlen, "PID 1 is %s", comm);
			return init_by_name(pid1[i].init);
		}
	if (strstr(exe, "busybox")) {
		snprintf(found, foundlen, "PID 1 is %s", exe);
		return init_by_name("busybox");
	}
	if (access("/etc/openwrt_release", F_OK) == 0) {
		snprintf(found, foundlen, "found /etc/openwrt_release");
		return init_by_name("procd");
	}
	static const struct { const char *tool, *init; } tools[] = {
		{"systemctl", "systemd"}, {"openrc-run", "openrc"}, {"rc-update", "openrc"},
		{"runsvdir", "runit"}, {"s6-svscan", "s6"}, {"initctl", "upstart"},
		{"update-rc.d", "systemv"}, {"chkconfig", "systemv"},
	};
	for (size_t i = 0; i < ARRAY_LEN(tools); i++)
		if (on_path(tools[i].tool)) {
			snprintf(found, foundlen, "%s is on PATH", tools[i].tool);
			return init_by_name(tools[i].init);
		}
	return NULL;
}
