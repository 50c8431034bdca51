/* The daemon's own applets: run it, ping it, kill it. */
#include "applets/applet.h"
#include "client/client.h"
#include "daemon/daemon.h"
#include "lib/home.h"
#include "lib/opt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

//applet: daemon daemon_main daemon_help o run the supervisor daemon in the foreground
//applet: kill kill_main kill_help c stop every app, then the daemon
//applet: ping ping_main ping_help c start the daemon if needed and check it answers

const char daemon_help[] =
	"usage: tend daemon\n"
	"\n"
	"Run the supervisor in the foreground, logging to stdout: for systemd units of\n"
	"Type=simple, containers and terminals. Other applets start it on demand in the\n"
	"background, logging to $TEND_HOME/tend.log. SIGINT or SIGTERM stop every app,\n"
	"then the daemon. Only one daemon runs per home; a second exits with status 1.\n";

const char ping_help[] =
	"usage: tend ping\n"
	"\n"
	"Start the daemon if it is not running, and print \"pong\" once it answers.\n";

const char kill_help[] =
	"usage: tend kill [--force]\n"
	"\n"
	"Stop every app gracefully (their kill signal, SIGKILL after kill_timeout), then\n"
	"stop the daemon, which removes its socket and pid file. The saved dump is left\n"
	"as it is. With no daemon running, exits 0 at once.\n"
	"\n"
	"  --force   SIGKILL every app now, without waiting for kill_timeout (also what a\n"
	"            second SIGTERM or SIGINT to a foreground daemon does)\n";

static void no_args(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, 0);
	opt_free(&s);
}

int daemon_main(int argc, char **argv)
{
	/* --resume FD: tend update executed this program in the daemon's place. */
	long long fd;
	if (argc == 3 && !strcmp(argv[1], "--resume") && parse_int(argv[2], 3, 1 << 20, &fd))
		return daemon_resume((int)fd);
	/* --background is how clients start it detached: log to the home's file. */
	bool background = argc == 2 && strcmp(argv[1], "--background") == 0;
	if (!background)
		no_args(argc, argv);
	return daemon_run(!background, NULL, 0);
}

int ping_main(int argc, char **argv)
{
	no_args(argc, argv);
	struct buf req = {0};
	req_begin(&req, "ping");
	req_end(&req);
	struct reply rep;
	call_or_die(&req, NULL, NULL, &rep);   /* another build's daemon: code 3, explained */
	puts("pong");
	reply_free(&rep);
	buf_free(&req);
	return EXIT_OK;
}

/* The daemon's reply comes before its last cleanup (and, under a sanitizer, its
 * leak check). The kernel drops its lock on the home only when the process has
 * exited, so waiting for that lock means "gone", not "about to go". */
static void wait_daemon_gone(void)
{
	int fd = open(home_path(HOME_LOCK), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	long long deadline = mono_ms() + 10000;
	while (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		if (mono_ms() > deadline) {
			warn("the daemon answered but has not exited after 10 s");
			break;
		}
		usleep(5000);
	}
	close(fd);
}

int kill_main(int argc, char **argv)
{
	bool force = argc == 2 && !strcmp(argv[1], "--force");
	if (!force)
		no_args(argc, argv);
	struct buf req = {0};
	req_begin(&req, "kill");
	if (force)
		json_kbool(&req, "force", true);
	req_end(&req);
	struct reply rep;
	if (!call_until_exit(&req, &rep)) {
		buf_free(&req);
		return EXIT_OK;   /* nothing to kill */
	}
	int rc = reply_status(&rep);
	reply_free(&rep);
	buf_free(&req);
	if (rc == EXIT_OK)
		wait_daemon_gone();
	return rc;
}
