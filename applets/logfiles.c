/* flush and reloadLogs: the app log files as files. */
#include "applets/applet.h"
#include "client/client.h"
#include "lib/opt.h"

#include <stdio.h>

//applet: flush flush_main flush_help - empty the log files of apps
//applet: reloadLogs reload_logs_main reload_logs_help - reopen every log file (after logrotate)

const char flush_help[] =
	"usage: tend flush [TARGET...]\n"
	"\n"
	"Truncate the log files (out, error, combined) of the targets (id, name, namespace,\n"
	"all, /regex/), or of every app. Running apps go on writing at the start.\n"
	"Exit status: 0, 1 when a target matches nothing, 2 bad usage.\n";

const char reload_logs_help[] =
	"usage: tend reloadLogs\n"
	"\n"
	"Close and open again every app's log files, as SIGUSR2 or SIGHUP to the daemon do:\n"
	"after an external tool (logrotate) renamed them, writing goes to new files.\n";

int flush_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, argc);
	struct buf req = {0};
	req_begin(&req, "flush");
	if (s.npos)
		req_targets(&req, s.pos, s.npos);
	req_end(&req);
	struct reply rep;
	call_or_die(&req, NULL, NULL, &rep);
	reply_free(&rep);
	buf_free(&req);
	opt_free(&s);
	return EXIT_OK;
}

int reload_logs_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, 0);
	opt_free(&s);
	struct buf req = {0};
	req_begin(&req, "reload_logs");
	req_end(&req);
	struct reply rep;
	call_or_die(&req, NULL, NULL, &rep);
	reply_free(&rep);
	buf_free(&req);
	puts("log files reopened");
	return EXIT_OK;
}
