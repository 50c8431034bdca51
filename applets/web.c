/* web: the HTTP API of `pm2 web`, back and safe by default: loopback only, a bearer
 * token for every action and for everything that shows environments or logs, no CORS
 * unless asked, bounded connections. The server is its own process (the app
 * "tend-web", supervised by tend like any app), a client of the daemon over the control
 * socket: HTTP parsing never runs inside the supervisor. */
#include "applets/applet.h"
#include "applets/web.h"
#include "client/client.h"
#include "client/http.h"
#include "client/tls.h"
#include "lib/home.h"
#include "lib/opt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

//applet: web web_main web_help - the HTTP API, Prometheus metrics and health probes (an app, tend-web)

const char web_help[] =
	"usage: tend web [PORT] [--host ADDR] [--public-read] [--cors ORIGIN] [--expose-env]\n"
	"                [--pm2-metrics] [--max-connections N] [--cert FILE --key FILE]\n"
	"                [--foreground]\n"
	"       tend web --token       print the API token (made on first use)\n"
	"       tend web stop          stop the server (tend delete tend-web does too)\n"
	"\n"
	"Serve tend's HTTP API on ADDR:PORT (default 127.0.0.1:9615, PM2's port), as the\n"
	"app tend-web: supervised, restarted, in list and logs like any app. Every action\n"
	"and everything that shows environments or logs needs the header\n"
	"'Authorization: Bearer TOKEN' (the token is kept in $TEND_HOME/web.token, 0600).\n"
	"\n"
	"  GET  /                       PM2's web JSON: system_info, monit, processes\n"
	"  GET  /api/processes[/ID]     the list (jlist), without environments\n"
	"  POST /api/processes/ID/ACTION   start, stop, restart, reload, reset, signal\n"
	"  DELETE /api/processes/ID\n"
	"  GET  /api/processes/ID/logs?lines=N&type=out|err\n"
	"  GET  /metrics                Prometheus text (tend_*; pm2_* with --pm2-metrics)\n"
	"  GET  /livez, /readyz[?verbose]  probes: the daemon answers; every app is up\n"
	"  GET  /dashboard              a live page: the table, actions, a log tail\n"
	"ID is an id, a name, a namespace or all, as the commands take. See tend-http(7).\n"
	"\n"
	"      --host ADDR          listen on this address (0.0.0.0 or :: for every one)\n"
	"      --public-read        the list, / and /metrics without the token\n"
	"      --cors ORIGIN        send Access-Control-Allow-Origin: ORIGIN\n"
	"      --expose-env         lists include each app's environment (token only)\n"
	"      --pm2-metrics        also pm2_up, pm2_cpu, pm2_memory... (pm2 exporters' names)\n"
	"      --max-connections N  at once (default 256); more get 503\n"
	"      --cert FILE --key FILE  serve HTTPS with this certificate chain and key (PEM)\n"
	"      --foreground         serve in this terminal instead of as the app tend-web\n"
	"\n"
	"Exit status: 0; 1 the server could not start; 2 bad usage.\n";

enum { O_HOST = 1, O_PUBLIC, O_CORS, O_EXPOSE, O_PM2, O_MAXCONN, O_FOREGROUND, O_TOKEN, O_CERT, O_KEY };
static const struct opt options[] = {
	{"host", 0, OPT_REQUIRED, O_HOST},
	{"public-read", 0, OPT_NONE, O_PUBLIC},
	{"cors", 0, OPT_REQUIRED, O_CORS},
	{"expose-env", 0, OPT_NONE, O_EXPOSE},
	{"pm2-metrics", 0, OPT_NONE, O_PM2},
	{"max-connections", 0, OPT_REQUIRED, O_MAXCONN},
	{"foreground", 0, OPT_NONE, O_FOREGROUND},
	{"token", 0, OPT_NONE, O_TOKEN},
	{"cert", 0, OPT_REQUIRED, O_CERT},
	{"key", 0, OPT_REQUIRED, O_KEY},
	{0},
};

struct web W;

/* ---- the token ------------------------------------------------------------------------ */

/* The token in the home, made (32 random bytes, hex) if there is none. */
static const char *token(void)
{
	static char tok[80];
	if (tok[0])
		return tok;
	char why[PATH_MAX + 200];
	if (!home_prepare(why, sizeof why))
		die("%s", why);
	const char *path = home_path(HOME_WEB_TOKEN);
	size_t len = 0;
	char *text = read_file(path, 256, &len);
	if (text) {
		struct stat st;
		if (stat(path, &st) == 0 && (st.st_mode & 077))
			die("%s: readable by others (mode %o): chmod 600 it or remove it", path,
			    (unsigned)(st.st_mode & 0777));
		snprintf(tok, sizeof tok, "%.*s", (int)strcspn(text, "\r\n"), text);
		free(text);
		if (strlen(tok) >= 16)
			return tok;
		die("%s: too short to be a token; remove it and a new one is made", path);
	}
	unsigned char raw[32];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		die("getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(tok + 2 * i, 3, "%02x", raw[i]);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {   /* another one made it meanwhile: that one */
		tok[0] = 0;
		return token();
	}
	if (fd < 0 || !write_all(fd, tok, strlen(tok)) || !write_all(fd, "\n", 1) || fsync(fd) < 0)
		die("%s: %s", path, strerror(errno));
	close(fd);
	return tok;
}

/* "Authorization: Bearer TOKEN", or ?token=TOKEN (a browser's EventSource cannot send
 * headers), compared in constant time. */
bool web_authorized(const struct http_request *r)
{
	const char *t = token(), *a = r->authorization;
	char q[128];
	if (a && !strncasecmp(a, "Bearer ", 7))
		a += 7;
	else if (http_query(r->query, "token", q, sizeof q))
		a = q;
	else
		return false;
	size_t n = strlen(t);
	unsigned char diff = strlen(a) != n;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(t[i] ^ (a[i] ? a[i] : 0xff));
	return diff == 0;
}

/* ---- running it as the app tend-web ------------------------------------------------------ */

static bool port_answers(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char service[16];
	snprintf(service, sizeof service, "%d", port);
	const char *to = !strcmp(host, "0.0.0.0") ? "127.0.0.1" : !strcmp(host, "::") ? "::1" : host;
	if (getaddrinfo(to, service, &hints, &ai) != 0)
		return false;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return up;
}

/* delete tend-web; true if there was one. */
static bool delete_app(void)
{
	struct buf req = {0};
	char *name[] = {"tend-web"};
	req_begin(&req, "delete");
	req_targets(&req, name, 1);
	req_end(&req);
	struct reply rep;
	call(&req, true, NULL, NULL, &rep);
	bool was = rep.ok;
	reply_free(&rep);
	buf_free(&req);
	return was;
}

static int run_as_app(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die("/proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	token();   /* made now, by the caller, and said how to get */
	delete_app();
	/* The server uses this home whatever it is called as (pm2 link, PM2_HOME): apps get
	 * the caller's environment, this included. */
	if (setenv("TEND_HOME", home_dir(), 1) < 0)
		die("setenv: %s", strerror(errno));
	/* start SELF --name tend-web --interpreter none -- web --foreground ARGS... */
	char **av = xcalloc((size_t)argc + 12, sizeof *av);
	int k = 0;
	char *head[] = {"start", self, "--name", "tend-web", "--interpreter", "none", "-s", "--",
	                "web", "--foreground"};
	for (size_t i = 0; i < ARRAY_LEN(head); i++)
		av[k++] = head[i];
	for (int i = 1; i < argc; i++)
		av[k++] = argv[i];
	int rc = start_main(k, av);
	free(av);
	if (rc != EXIT_OK)
		return rc;
	int64_t deadline = mono_ms() + 10000;
	while (!port_answers(W.host, W.port)) {
		if (mono_ms() > deadline)
			die("the server did not come up on %s port %d: see tend logs tend-web", W.host, W.port);
		usleep(20000);
	}
	printf("tend-web serves http%s://%s%s%s:%d/ (token: tend web --token)\n", W.cert ? "s" : "",
	       strchr(W.host, ':') ? "[" : "",
	       W.host, strchr(W.host, ':') ? "]" : "", W.port);
	return EXIT_OK;
}

/* ---- serving ------------------------------------------------------------------------------ */

static int serve(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	token();
	struct http_limits lim = {.max_conns = W.max_conns, .max_header = 16384, .max_body = 65536,
	                          .header_ms = 10000, .idle_ms = 30000, .max_pending = 4 << 20};
	char err[300];
	if (!http_listen(W.host, W.port, &lim, web_route, err, sizeof err))
		die("%s", err);
	if (W.cert)
		http_use_tls();
	if (W.cors) {
		char *h = xasprintf("Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", W.cors);
		http_set_common_headers(h);
		free(h);
	}
	fprintf(stderr, "tend-web: serving %s port %d%s\n", W.host, W.port, W.public_read ? " (public read)" : "");
	struct loop l = {0};
	loop_add_source(&l, &http_source);
	loop_add_source(&l, &web_daemon_source);
	loop_add_source(&l, &web_events_source);
	loop_after_pass(&l, web_after_pass);
	W.sigfd = sigfd;
	while (!W.quit)
		if (loop_pass(&l) < 0)
			die("poll: %s", strerror(errno));
	fprintf(stderr, "tend-web: stopping\n");
	http_close_all();
	return EXIT_OK;
}

int web_main(int argc, char **argv)
{
	struct optstate s;
	opt_init(&s, argc, argv);
	int id;
	long long v;
	bool foreground = false, print_token = false;
	W.host = "127.0.0.1";
	W.port = 9615;
	W.max_conns = 256;
	while ((id = opt_next_or_die(&s, options)) != OPT_END) {
		switch (id) {
		case O_HOST: W.host = s.arg; break;
		case O_PUBLIC: W.public_read = true; break;
		case O_CORS: W.cors = s.arg; break;
		case O_EXPOSE: W.expose_env = true; break;
		case O_PM2: W.pm2_metrics = true; break;
		case O_MAXCONN:
			if (!parse_int(s.arg, 1, 100000, &v))
				die_usage("--max-connections: expected a number from 1 to 100000, got '%s'", s.arg);
			W.max_conns = (int)v;
			break;
		case O_FOREGROUND: foreground = true; break;
		case O_TOKEN: print_token = true; break;
		case O_CERT: W.cert = s.arg; break;
		case O_KEY: W.key = s.arg; break;
		}
	}
	if (s.npos > 1)
		die_usage("unexpected argument '%s'", s.pos[1]);
	if (s.npos == 1 && !strcmp(s.pos[0], "stop")) {
		bool was = delete_app();
		opt_free(&s);
		if (!was)
			warn("tend-web is not running");
		return was ? EXIT_OK : EXIT_FAIL;
	}
	if (s.npos == 1) {
		if (!parse_int(s.pos[0], 1, 65535, &v))
			die_usage("expected a port from 1 to 65535 or 'stop', got '%s'", s.pos[0]);
		W.port = (int)v;
	}
	if (!W.cert != !W.key)
		die_usage("--cert and --key go together");
	if (W.cert) {   /* checked here, so that a bad file is said now, not in a log */
		char err[400];
		const char *files[] = {W.cert, W.key}, *flags[] = {"--cert", "--key"};
		for (int i = 0; i < 2; i++)
			if (access(files[i], R_OK) < 0)
				die("%s %s: %s", flags[i], files[i], strerror(errno));
		if (!tls_server_setup(W.cert, W.key, err, sizeof err))
			die("%s", err);
	}
	if (W.cors && (strchr(W.cors, '\r') || strchr(W.cors, '\n') || !*W.cors))
		die_usage("--cors: one origin (https://example.com), or *");
	if (print_token) {
		printf("%s\n", token());
		opt_free(&s);
		return EXIT_OK;
	}
	int rc = foreground ? serve() : run_as_app(argc, argv);
	opt_free(&s);
	return rc;
}
