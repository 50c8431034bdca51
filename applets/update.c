/* update: replace the running daemon with this build, in place, its apps running on. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//applet: update update_main update_help s replace the daemon with this build; apps keep running
//applet: updatePM2 update_main update_help a update

const char update_help[] =
	"usage: tend update [-s]    (also: updatePM2; pm2 update through a pm2 link)\n"
	"\n"
	"Replace the running daemon with the program of this command (after installing a new\n"
	"tend, run the new one's update): the daemon executes it in its own place, handing\n"
	"over every app's pipes, listening sockets, IPC channels, counters and clients. No\n"
	"app restarts, no log line is lost, no connection is refused. It waits while another\n"
	"command (a stop, a reload) is still being carried out, up to 30 s. With no daemon\n"
	"running there is nothing to update: the next command starts this build.\n"
	"\n"
	"  -s, --silent   print nothing on success\n"
	"\n"
	"Exit status: 0 updated (or no daemon), 1 the update failed (the old daemon goes on).\n";

enum { O_SILENT = 1 };
static const struct opt options[] = {
	{"silent", 's', OPT_NONE, O_SILENT},
	{0},
};

enum { BUSY_RETRY_MS = 30000 };

/* The running daemon's build, from ping; NULL if none answers. */
static char *daemon_build(void)
{
	struct buf req = {0};
	req_begin(&req, "ping");
	req_end(&req);
	struct reply rep;
	char *build = NULL;
	if (call(&req, false, NULL, NULL, &rep)) {
		build = json_dup(&rep.doc, json_get(&rep.doc, 0, "build"));
		reply_free(&rep);
	}
	buf_free(&req);
	return build;
}

int update_main(int argc, char **argv)
{
	struct optstate s;
	bool silent = false;
	opt_init(&s, argc, argv);
	for (int id; (id = opt_next_or_die(&s, options)) != OPT_END;)
		silent |= id == O_SILENT;
	if (s.npos || s.nrest)
		die_usage("unexpected argument '%s'", s.npos ? s.pos[0] : s.rest[0]);
	opt_free(&s);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		die("/proc/self/exe: %s", strerror(errno));
	exe[n] = 0;
	char *before = daemon_build();
	if (!before) {
		if (!silent)
			puts("no daemon is running: the next command starts this build");
		return EXIT_OK;
	}
	struct buf req = {0};
	req_begin(&req, "update");
	json_kstr(&req, "exe", exe);
	req_end(&req);
	struct reply rep;
	int64_t deadline = mono_ms() + BUSY_RETRY_MS;
	for (;;) {
		if (!call(&req, false, NULL, NULL, &rep))
			die("the daemon went away before the update");
		bool busy = !rep.ok && rep.error && !strncmp(rep.error, "not now: ", 9);
		if (!busy || mono_ms() > deadline)
			break;
		reply_free(&rep);
		usleep(100000);
	}
	if (!rep.ok && rep.error && !strncmp(rep.error, "unknown command", 15))
		die("the daemon (build %s) predates in-place updates: 'tend save && tend kill && "
		    "tend resurrect' replaces it (its apps restart)", before);
	if (!rep.ok) {
		int rc = reply_status(&rep);
		reply_free(&rep);
		buf_free(&req);
		free(before);
		return rc;
	}
	long long pid = 0, procs = 0;
	json_as_ll(&rep.doc, json_get(&rep.doc, 0, "pid"), &pid);
	json_as_ll(&rep.doc, json_get(&rep.doc, 0, "procs"), &procs);
	char *after = json_dup(&rep.doc, json_get(&rep.doc, 0, "build"));
	if (!silent)
		printf("daemon %lld updated in place: build %s -> %s, %lld instance(s) running on\n", pid,
		       before, after ? after : "?", procs);
	free(after);
	free(before);
	reply_free(&rep);
	buf_free(&req);
	return EXIT_OK;
}
