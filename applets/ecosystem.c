/* ecosystem (init): write a commented sample declaration file to start from, where
 * PM2 writes its own: ./ecosystem.config.js (or ecosystem.json with --json). */
#include "applets/applet.h"
#include "lib/opt.h"
#include "lib/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//applet: ecosystem ecosystem_main ecosystem_help - write a commented sample ecosystem.config.js
//applet: init ecosystem_main ecosystem_help ac ecosystem

const char ecosystem_help[] =
	"usage: tend ecosystem [simple] [--json] [FILE|-]    (also: tend init)\n"
	"\n"
	"Write a commented sample declaration, as PM2's init does: ./ecosystem.config.js, a\n"
	"node module (--json: ./ecosystem.json, JSON with comments, for machines without\n"
	"node). \"simple\" writes one app and nothing else. FILE (a path ending in .js, .cjs\n"
	"or .json) writes there instead; - writes to stdout. A file that exists is replaced,\n"
	"as PM2 replaces it, and kept as FILE.bak. Every key is described in\n"
	"tend-ecosystem(5); tend start with no argument starts the file as it is.\n"
	"\n"
	"Exit status: 0 written, 1 the file cannot be written, 2 bad usage.\n";

static const char js_sample[] =
	"// Apps for tend (or PM2). Start them: tend start (or tend start ecosystem.config.js).\n"
	"// Every key: man 5 tend-ecosystem\n"
	"module.exports = {\n"
	"  apps: [\n"
	"    {\n"
	"      name: \"app\",\n"
	"      script: \"app.js\",          // .js runs with node, .py with python3, .sh with bash...\n"
	"      cwd: __dirname,\n"
	"      args: [],\n"
	"      instances: 1,               // \"max\": one per CPU (cluster mode for node)\n"
	"      autorestart: true,\n"
	"      max_restarts: 16,           // unstable restarts (shorter than min_uptime) in a row\n"
	"      min_uptime: \"1s\",\n"
	"      restart_delay: 0,\n"
	"      kill_timeout: 1600,         // ms between the stop signal and SIGKILL\n"
	"      max_memory_restart: \"300M\", // restart when the app's process tree uses more\n"
	"      // cron_restart: \"0 3 * * *\", // restart every day at 03:00\n"
	"      watch: false,               // true: restart when files under cwd change\n"
	"      ignore_watch: [\"logs\", \"*.log\"],\n"
	"      env: {\n"
	"        NODE_ENV: \"development\",\n"
	"      },\n"
	"      env_production: {           // tend start --env production\n"
	"        NODE_ENV: \"production\",\n"
	"      },\n"
	"    },\n"
	"  ],\n"
	"};\n";

static const char js_simple[] =
	"module.exports = {\n"
	"  apps: [{ name: \"app\", script: \"app.js\" }],\n"
	"};\n";

static const char json_sample[] =
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

static const char json_simple[] = "{\"apps\": [{\"name\": \"app\", \"script\": \"app.js\"}]}\n";

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

int ecosystem_main(int argc, char **argv)
{
	/* --force: tend's, from when an existing file was refused; still accepted. */
	static const struct opt options[] = {{"json", 0, OPT_NONE, 1}, {"force", 'f', OPT_NONE, 2}, {0}};
	struct optstate s;
	opt_init(&s, argc, argv);
	bool json = false, simple = false;
	for (int id; (id = opt_next_or_die(&s, options)) != OPT_END;)
		json |= id == 1;
	const char *path = NULL;
	for (int i = 0; i < s.npos; i++) {
		const char *a = s.pos[i];
		if (!strcmp(a, "-") || ends_with(a, ".js") || ends_with(a, ".cjs") || ends_with(a, ".json"))
			path = a;
		else
			simple |= !strcmp(a, "simple");   /* PM2's mode: any other word is the full sample */
	}
	if (s.nrest)
		die_usage("unexpected argument '%s'", s.rest[0]);
	opt_free(&s);
	if (path && ends_with(path, ".json"))
		json = true;
	if (!path)
		path = json ? "ecosystem.json" : "ecosystem.config.js";
	const char *text = json ? (simple ? json_simple : json_sample) : (simple ? js_simple : js_sample);
	if (!strcmp(path, "-")) {
		fputs(text, stdout);
		return EXIT_OK;
	}
	char bak[PATH_MAX], why[PATH_MAX + 200];
	snprintf(bak, sizeof bak, "%s.bak", path);
	bool kept = access(path, F_OK) == 0 && rename(path, bak) == 0;
	if (safe_replace(path, text, strlen(text), 0644, true, why, sizeof why) < 0)
		die("%s", why);
	char abs[PATH_MAX];
	if (path[0] == '/' || !getcwd(abs, sizeof abs))
		snprintf(abs, sizeof abs, "%s", path);
	else
		snprintf(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", path);
	printf("File %s generated%s%s\n", abs, kept ? "; the previous one is now " : "", kept ? bak : "");
	return EXIT_OK;
}
