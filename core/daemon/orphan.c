/* Instances a previous daemon left behind. A daemon killed with SIGKILL cannot stop
 * its apps: they run on, unsupervised, their output pipes broken. The next daemon
 * finds them through the pid records in $TEND_HOME/pids and, when the same app is
 * started again (resurrect, start), stops each one before its replacement runs, so
 * nothing is duplicated and ports are free. A record counts only if that process
 * still carries the pm_id and name tend gave it. A record stays on disk until its
 * process is gone: a daemon that dies again before that hands the knowledge on. */
#include "daemon/ctl.h"
#include "lib/home.h"
#include "daemon/proc.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct orphan {
	pid_t pid;
	char *name;
	char *record;   /* its pid record, removed once the process is gone */
};

static struct orphan *orphans;
static int norphans;

/* Does the process's environment hold exactly these two variables? */
static bool carries(pid_t pid, const char *var1, const char *var2)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	size_t len;
	char *env = read_file(path, 1 << 20, &len);
	if (!env)
		return false;
	bool has1 = false, has2 = false;
	for (size_t i = 0; i < len; i += strlen(env + i) + 1) {
		has1 |= !strcmp(env + i, var1);
		has2 |= !strcmp(env + i, var2);
	}
	free(env);
	return has1 && has2;
}

static void consider(const char *file)
{
	/* NAME-ID.pid; the name may itself contain dashes. */
	size_t n = strlen(file);
	if (n < 7 || strcmp(file + n - 4, ".pid") != 0)
		return;
	char *base = xstrndup(file, n - 4);
	char *dash = strrchr(base, '-');
	long long id, pid;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", home_path(HOME_PIDS), file);
	char *text = read_file(path, 64, NULL);
	if (dash && dash != base && parse_int(dash + 1, 0, 0x7fffffff, &id) && text &&
	    parse_int(text, 2, 0x7fffffff, &pid)) {
		*dash = 0;
		char v1[64], v2[NAME_MAX + 8];
		snprintf(v1, sizeof v1, "pm_id=%lld", id);
		snprintf(v2, sizeof v2, "name=%s", base);
		if (carries((pid_t)pid, v1, v2)) {
			orphans = xrealloc(orphans, (size_t)(norphans + 1) * sizeof *orphans);
			orphans[norphans++] = (struct orphan){(pid_t)pid, xstrdup(base), xstrdup(path)};
			dlog("%s: pid %lld (pm_id %lld) was left running by a previous daemon; "
			     "starting %s again replaces it", base, pid, id, base);
		} else {
			unlink(path);   /* that process is gone (or is not ours any more) */
		}
	}
	free(text);
	free(base);
}

int orphans_scan(void)
{
	DIR *dir = opendir(home_path(HOME_PIDS));
	if (!dir)
		return 0;
	struct dirent *de;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			consider(de->d_name);
	closedir(dir);
	return norphans;
}

/* One orphan of the app, preferring the one whose record the new instance would
 * overwrite with its own. */
pid_t orphan_take(const char *name, const char *record, char **its_record)
{
	int pick = -1;
	for (int i = 0; i < norphans; i++) {
		if (strcmp(orphans[i].name, name) != 0)
			continue;
		if (pick < 0 || !strcmp(orphans[i].record, record))
			pick = i;
	}
	if (pick < 0)
		return 0;
	pid_t pid = orphans[pick].pid;
	*its_record = orphans[pick].record;
	free(orphans[pick].name);
	orphans[pick] = orphans[--norphans];
	if (norphans == 0) {
		free(orphans);
		orphans = NULL;
	}
	return pid;
}

void orphans_save(struct buf *b)
{
	json_key(b, "orphans");
	json_open(b, '[');
	for (int i = 0; i < norphans; i++) {
		json_open(b, '{');
		json_kint(b, "pid", orphans[i].pid);
		json_kstr(b, "name", orphans[i].name);
		json_kstr(b, "record", orphans[i].record);
		json_close(b, '}');
	}
	json_close(b, ']');
}

void orphans_restore(const struct jdoc *d, int arr)
{
	for (int i = 0; arr >= 0 && i < d->tok[arr].size; i++) {
		int o = json_child(d, arr, i);
		long long pid = 0;
		char *name = json_dup(d, json_get(d, o, "name"));
		char *record = json_dup(d, json_get(d, o, "record"));
		if (json_as_ll(d, json_get(d, o, "pid"), &pid) && pid > 0 && name && record) {
			orphans = xrealloc(orphans, (size_t)(norphans + 1) * sizeof *orphans);
			orphans[norphans++] = (struct orphan){(pid_t)pid, name, record};
		} else {
			free(name);
			free(record);
		}
	}
}
