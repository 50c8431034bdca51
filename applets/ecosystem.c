/* ecosystem (init): write a commented sample declaration file to start from. */
#include "applets/applet.h"
#include "opt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//applet: ecosystem ecosystem_main ecosystem_help - write a commented sample ecosystem.json
//applet: init ecosystem_main ecosystem_help ac ecosystem

const char ecosystem_help[] =
	"usage: tend ecosystem [FILE|-] [--force]    (also: tend init)\n"
	"\n"
	"Write a commented sample declaration to FILE (default ./ecosystem.json; - for\n"
	"stdout). An existing file is left alone unless --force. Every key is described\n"
	"in tend-ecosystem(5).\n"
	"\n"
	"Exit status: 0 written, 1 the file exists or cannot be written, 2 bad usage.\n";

static const char sample[] =
	"// Apps for tend (or PM2). Start them: tend start ecosystem.json\n"
	"// Comments and trailing commas are fine here. Every key: man 5 tend-ecosystem\n"
	"{\n"
	"  \"apps\": [\n"
	"    {\n"
	"      \"name\": \"app\",\n"
	"      \"script\": \"app.js\",          // relative to cwd; .js runs with node, .py with python3...\n"
	"      \"cwd\": \".\",                  // relative to this file\n"
	"      \"args\": [],\n"
	"      \"instances\": 1,               // or \"max\": one per CPU\n"
	"      \"autorestart\": true,\n"
	"      \"max_restarts\": 16,           // unstable restarts (shorter than min_uptime) in a row\n"
	"      \"min_uptime\": \"1s\",\n"
	"      \"restart_delay\": 0,\n"
	"      \"kill_timeout\": 1600,         // ms between the stop signal and SIGKILL\n"
	"      \"max_memory_restart\": \"300M\", // restart when the app's tree uses more\n"
	"      // \"cron_restart\": \"0 3 * * *\", // restart every day at 03:00\n"
	"      \"watch\": false,               // true: restart when files under cwd change\n"
	"      \"ignore_watch\": [\"logs\", \"*.log\"],\n"
	"      \"env\": {\n"
	"        \"NODE_ENV\": \"development\",\n"
	"      },\n"
	"      \"env_production\": {           // tend start ecosystem.json --env production\n"
	"        \"NODE_ENV\": \"production\",\n"
	"      },\n"
	"    },\n"
	"  ],\n"
	"}\n";

int ecosystem_main(int argc, char **argv)
{
	static const struct opt options[] = {{"force", 'f', OPT_NONE, 1}, {0}};
	struct optstate s;
	opt_init(&s, argc, argv);
	bool force = false;
	while (opt_next_or_die(&s, options) != OPT_END)
		force = true;
	if (s.npos > 1 || s.nrest)
		die_usage("unexpected argument '%s'", s.npos > 1 ? s.pos[1] : s.rest[0]);
	const char *path = s.npos ? s.pos[0] : "ecosystem.json";
	opt_free(&s);
	if (!strcmp(path, "-")) {
		fputs(sample, stdout);
		return EXIT_OK;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0)
		die("%s: %s%s", path, strerror(errno), errno == EEXIST ? " (--force overwrites it)" : "");
	if (!write_all(fd, sample, sizeof sample - 1) || close(fd) < 0)
		die("%s: %s", path, strerror(errno));
	printf("wrote %s: edit it, then: tend start %s\n", path, path);
	return EXIT_OK;
}
