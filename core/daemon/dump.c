/* save, resurrect, cleardump: the app list on disk. The dump holds each app's
 * declaration as the daemon received it (paths resolved, environment included) and
 * whether it was running, so resurrect gives back exactly what was saved.
 *
 * Writing: the old dump is hard-linked to dump.json.bak, then the new one is written
 * .new → fsync → rename. A crash at any point leaves a complete dump.json, .bak, or
 * both. Nothing but save and cleardump writes it: not kill, not shutdown. */
#include "daemon/ctl.h"
#include "daemon/events.h"
#include "lib/home.h"
#include "daemon/proc.h"
#include "lib/safefile.h"
#include "lib/version.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_DUMP = 64 << 20 };

/* What an instance is saved as: what resurrect should make of it. Stopped by the user
 * (or finished), it stays stopped; errored, it was meant to run and is tried again. */
static const char *saved_status(const struct proc *p)
{
	if (p->want != WANT_UP)
		return "stopped";
	if (p->state == ST_ERRORED)
		return "errored";
	if (p->state == ST_ONLINE || p->state == ST_LAUNCHING || p->state == ST_WAITING ||
	    p->state == ST_STOPPING)
		return "online";
	return "stopped";
}

/* One entry per declaration (a spec, shared by the instances of an app), in pm_id
 * order, with the number of instances that use it. A second declaration of a name (a
 * copy started with --force, or an instance given options of its own by a restart) is
 * saved with "force": true, so that resurrect adds it rather than refusing it. */
static int dump_apps(struct buf *b)
{
	int napps = 0;
	json_key(b, "apps");
	json_open(b, '[');
	for (int i = 0; i < nprocs; i++) {
		struct spec *s = procs[i]->spec;
		bool seen = false, copy = false;
		for (int j = 0; j < i && !seen; j++) {
			seen = procs[j]->spec == s;
			copy |= procs[j]->want != WANT_GONE && strcmp(procs[j]->spec->name, s->name) == 0;
		}
		if (seen || procs[i]->want == WANT_GONE)
			continue;
		/* Each instance's status, by instance number; the app's is the liveliest. */
		const char *per[MAX_INSTANCES] = {0}, *app = "stopped";
		int top = 0, count = 0;
		for (int j = i; j < nprocs; j++) {
			const struct proc *p = procs[j];
			if (p->spec != s || p->want == WANT_GONE || p->instance >= MAX_INSTANCES)
				continue;
			count++;
			per[p->instance] = saved_status(p);
			top = p->instance + 1 > top ? p->instance + 1 : top;
			if (strcmp(per[p->instance], "stopped") != 0 && strcmp(app, "online") != 0)
				app = per[p->instance];
		}
		struct jdoc d;
		if (!json_parse(&d, s->json, strlen(s->json)))
			continue;   /* cannot happen: it was parsed when it came in */
		/* force was about that start, not about every resurrect after it. */
		static const char *const skip[] = {"status", "force", "instances_status", "instances"};
		json_open(b, '{');
		json_kstr(b, "status", app);
		json_kint(b, "instances", count);
		if (copy)
			json_kbool(b, "force", true);
		json_key(b, "instances_status");
		json_open(b, '[');
		for (int k = 0; k < top; k++)
			json_str(b, per[k] ? per[k] : "stopped");
		json_close(b, ']');
		json_copy_members(b, &d, 0, skip, ARRAY_LEN(skip));
		json_close(b, '}');
		json_free(&d);
		napps++;
	}
	json_close(b, ']');
	return napps;
}

static bool parse_dump(const char *path, char **text, struct jdoc *d, int *apps, char *why, size_t whylen)
{
	size_t len;
	*text = read_file(path, MAX_DUMP, &len);
	if (!*text) {
		snprintf(why, whylen, "%s", errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
		return false;
	}
	if (!json_parse(d, *text, len)) {
		snprintf(why, whylen, "corrupt (%s)", d->err);
	} else if (d->tok[0].type != JSMN_OBJECT || (*apps = json_get(d, 0, "apps")) < 0 ||
	           d->tok[*apps].type != JSMN_ARRAY) {
		snprintf(why, whylen, "corrupt (no \"apps\" list)");
		json_free(d);
	} else {
		return true;
	}
	free(*text);
	*text = NULL;
	return false;
}

/* How many apps the current dump holds; 0 if none or unreadable. */
static int saved_count(void)
{
	char *text, why[200];
	struct jdoc d;
	int apps, n = 0;
	if (parse_dump(home_path(HOME_DUMP), &text, &d, &apps, why, sizeof why)) {
		n = d.tok[apps].size;
		json_free(&d);
		free(text);
	}
	return n;
}

static bool write_dump(const struct buf *b, char *err, size_t errlen)
{
	const char *path = home_path(HOME_DUMP);
	char bak[PATH_MAX];
	snprintf(bak, sizeof bak, "%s.bak", path);
	if (access(path, F_OK) == 0) {
		unlink(bak);
		if (link(path, bak) < 0)
			dlog("save: keeping %s: %s", bak, strerror(errno));
	}
	if (safe_replace(path, b->data, b->len, 0600, true, err, errlen) < 0)
		return false;
	return true;
}

static void reply_saved(struct client *c, int napps, const char *path)
{
	struct buf r = {0};
	json_open(&r, '{');
	json_kbool(&r, "ok", true);
	json_kint(&r, "apps", napps);
	json_kstr(&r, "path", path);
	json_close(&r, '}');
	reply_line(c, &r);
	buf_free(&r);
}

static void save(struct request *r, bool clear)
{
	bool force = clear;
	json_as_bool(r->d, json_get(r->d, 0, "force"), &force);
	struct buf b = {0};
	json_open(&b, '{');
	json_kstr(&b, "tend", tend_version);
	json_kint(&b, "saved_at", wall_ms());
	int napps = 0;
	if (clear) {
		json_key(&b, "apps");
		buf_puts(&b, "[]");
	} else {
		napps = dump_apps(&b);
	}
	json_close(&b, '}');
	buf_putc(&b, '\n');
	int before = napps == 0 && !force ? saved_count() : 0;
	char err[PATH_MAX + 300];
	const char *what = clear ? "cleardump" : "save";
	if (before > 0) {
		reply_error(r->c, 1, "no apps to save, and %s holds %d; use --force to empty it",
		            home_path(HOME_DUMP), before);
	} else if (!write_dump(&b, err, sizeof err)) {
		dlog("%s failed: %s", what, err);
		reply_error(r->c, 1, "%s", err);
	} else {
		dlog("%s: %d app(s) in %s", what, napps, home_path(HOME_DUMP));
		char detail[PATH_MAX + 32];
		snprintf(detail, sizeof detail, "%d app(s) in %s", napps, home_path(HOME_DUMP));
		events_daemon(what, detail);
		reply_saved(r->c, napps, home_path(HOME_DUMP));
	}
	buf_free(&b);
}

void cmd_save(struct request *r) { save(r, false); }
void cmd_cleardump(struct request *r) { save(r, true); }

/* resurrect: every saved app in its saved state; apps already running are left as
 * they are. A corrupt dump falls back to the .bak, with a warning in the reply. */
void cmd_resurrect(struct request *r)
{
	const char *path = home_path(HOME_DUMP);
	char bak[PATH_MAX], why[300], whybak[300];
	snprintf(bak, sizeof bak, "%s.bak", path);
	char *text;
	struct jdoc d;
	int apps;
	struct buf extra = {0};
	if (!parse_dump(path, &text, &d, &apps, why, sizeof why)) {
		bool missing = access(path, F_OK) != 0;
		if (!parse_dump(bak, &text, &d, &apps, whybak, sizeof whybak)) {
			reply_error(r->c, 1, "%s: %s; %s: %s", path, why, bak, whybak);
			return;
		}
		/* A corrupt dump does not stay in place (PM2 deletes it): moved aside, kept. */
		char aside[PATH_MAX + 64] = "";
		if (!missing) {
			char when[32];
			time_t t = time(NULL);
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
			snprintf(aside, sizeof aside, "%s.corrupt-%s", path, when);
			if (rename(path, aside) < 0)
				snprintf(aside, sizeof aside, "(could not move it aside: %s)", strerror(errno));
		}
		char warning[PATH_MAX * 3 + 400];
		snprintf(warning, sizeof warning, "%s: %s; using %s%s%s", path, why, bak,
		         aside[0] && aside[0] != '(' ? "; the corrupt dump is now " : aside[0] ? " " : "", aside);
		dlog("resurrect: %s", warning);
		json_kstr(&extra, "warning", warning);
	}
	char detail[64];
	snprintf(detail, sizeof detail, "%d app(s)", d.tok[apps].size);
	events_daemon("resurrect", detail);
	if (d.tok[apps].size == 0) {
		struct buf b = {0};
		json_open(&b, '{');
		json_kbool(&b, "ok", true);
		buf_puts(&b, ",\"ids\":[],\"skipped\":[]");
		if (extra.len) {
			buf_putc(&b, ',');
			buf_puts(&b, extra.data);
		}
		json_close(&b, '}');
		reply_line(r->c, &b);
		buf_free(&b);
	} else {
		apps_start(r->c, &d, apps, START_SKIP, false, 0, extra.data);
	}
	json_free(&d);
	free(text);
	buf_free(&extra);
}
