/* deploy: PM2's `pm2 deploy`, over the system's ssh, to many hosts at once. Each host
 * runs one POSIX sh script (deploy_conf.c writes its settings, the template
 * core/client/templates/deploy.sh does the work) over one ssh connection that later
 * commands reuse (ControlMaster); BatchMode, so a prompt never hangs it. Hosts go one
 * after another and stop at the first failure, as PM2's do, or --parallel N at once,
 * with --keep-going; their lines come prefixed [host], then a table: host, ref, time,
 * result. */
#include "applets/applet.h"
#include "applets/deploy.h"
#include "client/ecosystem.h"
#include "lib/home.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//applet: deploy deploy_main deploy_help - deploy apps over ssh to many hosts (PM2's deploy section)

const char deploy_help[] =
	"usage: tend deploy [FILE] ENV [COMMAND] [--parallel N|all] [--keep-going]\n"
	"                   [--force-unlock] [--force]\n"
	"\n"
	"Deploy the app of FILE's deploy section ENV to its hosts over ssh (the system's\n"
	"ssh; git on the hosts). FILE defaults to ecosystem.json, ecosystem.config.js\n"
	"(.cjs, .mjs), ecosystem.json5, package.json in this directory.\n"
	"\n"
	"  setup            make PATH on each host and clone the repository\n"
	"  (none), update   deploy ref: a new release, shared entries linked, current\n"
	"                   switched in one rename, post-deploy, the health gate; a\n"
	"                   failure switches current back\n"
	"  ref REF, REF     deploy REF instead of the file's ref\n"
	"  revert [N]       current back to the Nth successful release before it (1)\n"
	"  curr[ent]        the current release's commit\n"
	"  prev[ious]       the one before\n"
	"  list             the deploys, newest first: N, commit, time, who, ref, result\n"
	"  exec|run CMD     run CMD in current on each host\n"
	"  help             this text\n"
	"\n"
	"      --parallel N|all  that many hosts at once (default 1, as PM2)\n"
	"      --keep-going      go on with the other hosts after a failure\n"
	"      --force-unlock    remove a lock a dead deploy left (another deploy fails\n"
	"                        fast while one holds it)\n"
	"  -F, --force           deploy with local changes not committed or not pushed\n"
	"\n"
	"The keys of a deploy section (PM2's, as real JSON): user, host (a name, or a list\n"
	"of names or {host, port, user, key}), port, key, ref, repo, path (on the host; ~\n"
	"allowed), ssh_options, fetch, env, forward-agent, the hooks pre-setup, post-setup,\n"
	"pre-deploy-local, pre-deploy, post-deploy (default: tend startOrRestart FILE --env\n"
	"ENV); and tend's: layout (\"releases\", or \"pm2\": PM2's source/ and current),\n"
	"keep_releases (5), shared (entries linked from PATH/shared), health (\"apps\": the\n"
	"file's apps online and staying so, the default; a URL; a command; false: none),\n"
	"health_timeout (30).\n"
	"See tend-ecosystem(5).\n"
	"\n"
	"Exit status: 0 every host done, 1 a host failed (the table says which), 2 bad usage\n"
	"or a bad deploy section.\n";

static struct {
	struct dtarget t;
	struct dwork w;
	int parallel;       /* 0: all */
	bool keep_going, force;
	char control_dir[64];
	char *script;
	bool prefix;        /* several hosts: [host] before each line */
	const char *ref;    /* what the table shows */
} D;

/* ---- the command line ---------------------------------------------------------------------- */

static const char *default_file(void)
{
	static const char *const names[] = {"ecosystem.json", "ecosystem.config.js", "ecosystem.config.cjs",
	                                    "ecosystem.config.mjs", "ecosystem.json5", "package.json", NULL};
	for (int i = 0; names[i]; i++)
		if (access(names[i], F_OK) == 0)
			return names[i];
	if (access("ecosystem.yml", F_OK) == 0 || access("ecosystem.yaml", F_OK) == 0)
		die_usage("ecosystem.yml: tend reads JSON and JavaScript files, not YAML");
	die_usage("no ecosystem file here (ecosystem.json, ecosystem.config.js, ecosystem.config.cjs, "
	          "ecosystem.config.mjs, ecosystem.json5, package.json): name one");
}

static void parse_command(char **words, int n)
{
	D.w.cmd = D_UPDATE;
	if (n == 0)
		return;
	const char *c = words[0];
	bool one = n == 1;
	if (!strcmp(c, "setup") && one) {
		D.w.cmd = D_SETUP;
	} else if (!strcmp(c, "update") && one) {
		D.w.cmd = D_UPDATE;
	} else if (!strcmp(c, "revert") && n <= 2) {
		long long k = 1;
		if (n == 2 && !parse_int(words[1], 1, 1000, &k))
			die_usage("revert: expected how many deploys back (1 to 1000), got '%s'", words[1]);
		D.w.cmd = D_REVERT;
		D.w.arg = xasprintf("%lld", k);
	} else if ((!strcmp(c, "curr") || !strcmp(c, "current")) && one) {
		D.w.cmd = D_CURR;
	} else if ((!strcmp(c, "prev") || !strcmp(c, "previous")) && one) {
		D.w.cmd = D_PREV;
	} else if (!strcmp(c, "list") && one) {
		D.w.cmd = D_LIST;
	} else if (!strcmp(c, "exec") || !strcmp(c, "run")) {
		if (n < 2)
			die_usage("%s: a command to run is needed", c);
		struct buf cmd = {0};
		for (int i = 1; i < n; i++)
			buf_printf(&cmd, "%s%s", i > 1 ? " " : "", words[i]);
		D.w.cmd = D_EXEC;
		D.w.arg = cmd.data;
	} else if (!strcmp(c, "ref") && n == 2) {
		D.w.ref = words[1];
	} else if (one && c[0] != '-') {
		D.w.ref = c;   /* a bare ref */
	} else {
		die_usage("unexpected '%s' (tend deploy help)", n > 1 ? words[1] : c);
	}
}

static void parse(int argc, char **argv)
{
	D.parallel = 1;   /* one host after another, as PM2 */
	char **words = xcalloc((size_t)argc + 1, sizeof *words);
	int n = 0;
	bool in_exec = false;   /* after exec/run, every word is the command's */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (in_exec) {
			words[n++] = argv[i];
		} else if (!strcmp(a, "--parallel")) {
			if (i + 1 >= argc)
				die_usage("--parallel needs a number or all");
			long long k;
			const char *v = argv[++i];
			if (!strcmp(v, "all"))
				D.parallel = 0;
			else if (parse_int(v, 1, 1000, &k))
				D.parallel = (int)k;
			else
				die_usage("--parallel: expected a number from 1 to 1000 or all, got '%s'", v);
		} else if (!strcmp(a, "--keep-going")) {
			D.keep_going = true;
		} else if (!strcmp(a, "--force-unlock")) {
			D.w.force_unlock = true;
		} else if (!strcmp(a, "-F") || !strcmp(a, "--force") || !strcmp(a, "-f")) {
			D.force = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(deploy_help, stdout);
			exit(EXIT_OK);
		} else {
			words[n++] = argv[i];
			in_exec = n >= 2 && (!strcmp(a, "exec") || !strcmp(a, "run"));
		}
	}
	if (n == 0 || !strcmp(words[0], "help") || (n == 1 && eco_is_file(words[0]))) {
		fputs(deploy_help, stdout);   /* as pm2 deploy: help, or a file and no env */
		exit(EXIT_OK);
	}
	const char *file = eco_is_file(words[0]) ? words[0] : NULL;
	int first = file ? 1 : 0;
	if (!file)
		file = default_file();
	const char *env = words[first];
	parse_command(words + first + 1, n - first - 1);
	deploy_load(&D.t, file, env);
	free(words);
}

/* sh -c cmd in the file's directory (with the env section when env): its exit status,
 * 0 only when it ran and succeeded; quiet sends its output away. */
static int run_local(const char *cmd, bool env, bool quiet)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; env && i < D.t.nenv; i++)
			setenv(D.t.env_names[i], D.t.env_values[i], 1);
		if (quiet) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (chdir(D.t.file_dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* PM2's check before a deploy: nothing here that the hosts would not get. */
static void local_changes_check(void)
{
	if (D.force || run_local("git rev-parse --git-dir", false, true) != 0)
		return;   /* (not a git checkout: nothing to compare) */
	static const struct { const char *test, *why; } checks[] = {
		{"git diff --quiet", "commit or stash your changes before deploying (or --force)"},
		{"git diff --cached --quiet", "commit your staged changes before deploying (or --force)"},
		{"test -z \"$(git rev-list '@{upstream}..' -n 1 2>/dev/null)\"", "push your changes before deploying (or --force)"},
	};
	for (size_t i = 0; i < ARRAY_LEN(checks); i++)
		if (run_local(checks[i].test, false, true) != 0)
			die("%s", checks[i].why);
}

/* ---- the hosts ----------------------------------------------------------------------------- */

/* ssh's words for host h; what was allocated for them goes in owned (NULL-ended), for
 * the caller to free once the child has them. */
static void ssh_argv(const struct dhost *h, char **argv, int *n, bool exit_master, char **owned)
{
	int k = 0, o = 0;
	argv[k++] = "ssh";
	static char control[128];
	snprintf(control, sizeof control, "ControlPath=%s/%%C", D.control_dir);
	const char *fixed[] = {"-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ControlMaster=auto",
	                       "-o", control, "-o", "ControlPersist=60"};
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		argv[k++] = (char *)fixed[i];
	for (int i = 0; i < D.t.nssh; i++) {
		if (D.t.ssh_options[i][0] == '-') {   /* "-o Name=value" written whole */
			char *copy = owned[o++] = xstrdup(D.t.ssh_options[i]);
			for (char *w = strtok(copy, " \t"); w; w = strtok(NULL, " \t"))
				argv[k++] = w;
		} else {
			argv[k++] = "-o";
			argv[k++] = D.t.ssh_options[i];
		}
	}
	if (D.t.forward_agent)
		argv[k++] = "-A";
	if (h->port) {
		argv[k++] = "-p";
		argv[k++] = h->port;
	}
	if (h->key) {
		argv[k++] = "-i";
		argv[k++] = h->key;
	}
	if (exit_master) {
		argv[k++] = "-O";
		argv[k++] = "exit";
	}
	argv[k++] = h->user ? (owned[o++] = xasprintf("%s@%s", h->user, h->host)) : h->host;
	if (!exit_master)
		argv[k++] = "sh -s";
	argv[k] = NULL;
	owned[o] = NULL;
	*n = k;
}

static void free_owned(char **owned)
{
	for (int i = 0; owned[i]; i++)
		free(owned[i]);
}

static void start_host(struct dhost *h)
{
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	char *argv[64 + 2 * D.t.nssh], *owned[D.t.nssh + 2];
	int n;
	ssh_argv(h, argv, &n, false, owned);
	h->started = mono_ms();
	h->state = H_RUN;
	h->pid = fork();
	if (h->pid < 0)
		die("fork: %s", strerror(errno));
	if (h->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp("ssh", argv);
		fprintf(stderr, "error: ssh: %s\n", strerror(errno));
		_exit(255);
	}
	free_owned(owned);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	signal(SIGPIPE, SIG_IGN);
	(void)!write_all(in[1], D.script, strlen(D.script));   /* small: the pipe takes it */
	close(in[1]);
	h->out = out[0];
	h->err = err[0];
}

/* One line of a host: to our stdout or stderr, [host] first when there are several. */
static void host_line(struct dhost *h, int which, const char *line, size_t len)
{
	FILE *f = which ? stderr : stdout;
	if (D.prefix)
		fprintf(f, "[%s] ", h->label);
	fwrite(line, 1, len, f);
	fputc('\n', f);
	fflush(f);
}

static void host_read(struct dhost *h, int which)
{
	int *fd = which ? &h->err : &h->out;
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n <= 0) {
		if (h->line[which].len)
			host_line(h, which, h->line[which].data, h->line[which].len);
		buf_reset(&h->line[which]);
		close(*fd);
		*fd = -1;
		return;
	}
	buf_add(&h->line[which], chunk, (size_t)n);
	char *start = h->line[which].data, *nl;
	size_t left = h->line[which].len;
	while ((nl = memchr(start, '\n', left))) {
		size_t l = (size_t)(nl - start);
		if (which && l > 7 && !memcmp(start, "error: ", 7)) {
			free(h->last_error);
			h->last_error = xstrndup(start + 7, l - 7);
		}
		host_line(h, which, start, l);
		left -= l + 1;
		start = nl + 1;
	}
	memmove(h->line[which].data, start, left);
	h->line[which].len = left;
}

static void host_done(struct dhost *h, int status)
{
	h->ended = mono_ms();
	h->state = H_DONE;
	h->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (h->status == 255)
		h->status = -1;   /* ssh's own failure */
}

/* Run the script on every host, at most D.parallel at once. */
static void run_hosts(void)
{
	int n = D.t.nhosts, limit = D.parallel ? D.parallel : n, running = 0, next = 0;
	bool stop = false;
	for (;;) {
		while (!stop && next < n && running < limit) {
			start_host(&D.t.hosts[next++]);
			running++;
		}
		if (running == 0)
			break;
		struct pollfd fds[2 * n];
		struct dhost *who[2 * n];
		int which[2 * n], k = 0;
		for (int i = 0; i < n; i++) {
			struct dhost *h = &D.t.hosts[i];
			for (int s = 0; s < 2; s++) {
				int fd = s ? h->err : h->out;
				if (h->state == H_RUN && fd >= 0) {
					fds[k] = (struct pollfd){.fd = fd, .events = POLLIN};
					who[k] = h;
					which[k++] = s;
				}
			}
		}
		if (k > 0 && poll(fds, (nfds_t)k, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; i < k; i++)
			if (fds[i].revents)
				host_read(who[i], which[i]);
		for (int i = 0; i < n; i++) {
			struct dhost *h = &D.t.hosts[i];
			int status;
			if (h->state == H_RUN && h->out < 0 && h->err < 0 && waitpid(h->pid, &status, 0) == h->pid) {
				host_done(h, status);
				running--;
				if (h->status != 0 && !D.keep_going)
					stop = true;
			}
		}
	}
	for (int i = next; i < n; i++)
		D.t.hosts[i].state = H_SKIPPED;
}

static void close_masters(void)
{
	for (int i = 0; i < D.t.nhosts; i++) {
		char *argv[64 + 2 * D.t.nssh], *owned[D.t.nssh + 2];
		int n;
		ssh_argv(&D.t.hosts[i], argv, &n, true, owned);
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			dup2(null, 1);
			dup2(null, 2);
			execvp("ssh", argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		free_owned(owned);
	}
	rmdir(D.control_dir);
}

/* ---- the table ----------------------------------------------------------------------------- */

static const char *result_of(const struct dhost *h)
{
	static char text[300];
	switch (h->state) {
	case H_SKIPPED: return "skipped (an earlier host failed)";
	case H_DONE: break;
	default: return "?";
	}
	if (h->status == 0)
		return "ok";
	if (h->status == -1)
		return "ssh failed";
	snprintf(text, sizeof text, "%s: %s", h->status == 3 ? "locked" : "failed",
	         h->last_error ? h->last_error : "");
	return text;
}

static void summary(void)
{
	int wide = 4;
	for (int i = 0; i < D.t.nhosts; i++)
		if ((int)strlen(D.t.hosts[i].label) > wide)
			wide = (int)strlen(D.t.hosts[i].label);
	printf("%-*s  %-20s  %8s  %s\n", wide, "host", "ref", "time", "result");
	for (int i = 0; i < D.t.nhosts; i++) {
		struct dhost *h = &D.t.hosts[i];
		char took[32] = "-";
		if (h->state == H_DONE)
			snprintf(took, sizeof took, "%.1fs", (double)(h->ended - h->started) / 1000);
		printf("%-*s  %-20s  %8s  %s\n", wide, h->label, D.ref, took, result_of(h));
	}
}

int deploy_main(int argc, char **argv)
{
	parse(argc, argv);
	D.prefix = D.t.nhosts > 1;
	D.ref = D.w.ref ? D.w.ref : D.w.cmd == D_REVERT ? "(revert)" : D.t.ref;
	if (D.w.cmd == D_UPDATE)
		local_changes_check();
	bool deploys = D.w.cmd == D_UPDATE || D.w.cmd == D_REVERT;
	if (deploys && D.t.hooks[HOOK_PRE_DEPLOY_LOCAL] && *D.t.hooks[HOOK_PRE_DEPLOY_LOCAL]) {
		/* once, here, before any host: it builds what they all get */
		printf("pre-deploy-local: %s\n", D.t.hooks[HOOK_PRE_DEPLOY_LOCAL]);
		if (run_local(D.t.hooks[HOOK_PRE_DEPLOY_LOCAL], true, false) != 0)
			die("pre-deploy-local failed: no host was touched");
	}
	snprintf(D.control_dir, sizeof D.control_dir, "/tmp/tend-deploy-XXXXXX");
	if (!mkdtemp(D.control_dir))
		die("mkdtemp: %s", strerror(errno));
	D.script = deploy_script(&D.t, &D.w);
	if (D.w.cmd == D_SETUP || D.w.cmd == D_UPDATE || D.w.cmd == D_REVERT)
		printf("deploying %s to %s: %d host%s%s\n", D.ref, D.t.env, D.t.nhosts, D.t.nhosts > 1 ? "s" : "",
		       D.t.nhosts > 1 && D.parallel != 1 ? D.parallel ? ", some at once" : ", all at once" : "");
	fflush(stdout);
	run_hosts();
	close_masters();
	bool all_ok = true;
	for (int i = 0; i < D.t.nhosts; i++)
		all_ok &= D.t.hosts[i].state == H_DONE && D.t.hosts[i].status == 0;
	if (D.w.cmd == D_SETUP || D.w.cmd == D_UPDATE || D.w.cmd == D_REVERT || D.t.nhosts > 1 || !all_ok)
		summary();
	free(D.script);
	return all_ok ? EXIT_OK : EXIT_FAIL;
}
