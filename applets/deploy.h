/* tend deploy: what the applet (deploy.c: the command line, the hosts, their output and
 * the summary) and the configuration (deploy_conf.c: the ecosystem file's deploy
 * section, and the script each host runs) share. */
#ifndef TEND_DEPLOY_H
#define TEND_DEPLOY_H

#include "lib/util.h"

#include <sys/types.h>

enum deploy_cmd { D_SETUP, D_UPDATE, D_REVERT, D_CURR, D_PREV, D_LIST, D_EXEC };
enum { HOOK_PRE_SETUP, HOOK_POST_SETUP, HOOK_PRE_DEPLOY_LOCAL, HOOK_PRE_DEPLOY, HOOK_POST_DEPLOY, NHOOKS };

struct dhost {
	char *host, *user, *port, *key;   /* user, port, key: NULL for ssh's own */
	char *label;                       /* [user@]host[:port], for the output */
	/* while it runs */
	pid_t pid;
	int out, err;                      /* its output, -1 once at the end */
	struct buf line[2];                /* what came without its newline yet */
	int64_t started, ended;
	int status;                        /* the remote script's: 0, 1, 3 locked; -1 ssh */
	char *last_error;                  /* its last "error: ..." line, for the table */
	enum { H_WAIT, H_RUN, H_DONE, H_SKIPPED } state;
};

struct dtarget {
	char *file;          /* the ecosystem file as named (for the default post-deploy) */
	char *file_dir;      /* its directory: where pre-deploy-local runs */
	char *env;
	char *repo, *path, *ref, *fetch;
	char **ssh_options;
	int nssh;
	bool forward_agent, needs_tty, pm2_layout;
	long long keep_releases, health_timeout;
	char *health;        /* "" none, "apps", a URL, a command */
	char *hooks[NHOOKS];
	char **shared;
	int nshared;
	char **env_names, **env_values;
	int nenv;
	struct dhost *hosts;
	int nhosts;
};

struct dwork {           /* what was asked */
	enum deploy_cmd cmd;
	const char *arg;     /* revert's N, exec's command */
	const char *ref;     /* ref REF / a bare REF: this ref instead of the file's */
	bool force_unlock;
};

/* deploy_conf.c: the env's section of file, checked; dies (exit 2) on bad input */
void deploy_load(struct dtarget *t, const char *file, const char *env);
void deploy_envs(const char *file, struct buf *out);   /* the names, for messages */
/* The script a host runs (sh -s): the settings, then the template */
char *deploy_script(const struct dtarget *t, const struct dwork *w);

#endif
