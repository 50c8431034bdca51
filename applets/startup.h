/* startup and unstartup: what the applet (startup.c) and the init systems
 * (startup_init.c) share. */
#ifndef TEND_STARTUP_H
#define TEND_STARTUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* In the first lines of every file startup writes: unstartup removes only those. */
#define STARTUP_MARK "written by `tend startup"

enum { MAX_COMMANDS = 8, MAX_WORDS = 10 };

struct command {
	const char *argv[MAX_WORDS];
	bool may_fail;   /* stopping what may not run: a failure is not one */
};

struct init;

struct service {
	const struct init *init;
	char name[80];            /* the service's name: tend-USER by default */
	char user[72];
	char home[PATH_MAX];      /* tend's home for that user (TEND_HOME) */
	char program[PATH_MAX];   /* the absolute path the service runs */
	char path[4096];          /* PATH for the apps */
	char root[PATH_MAX];      /* --root: every file under it, commands printed */
	char found[160];          /* how the init system was found, "" if named */
	const char *hp;
	bool user_given, wait_ip, rooted;
};

struct init {
	const char *name;
	int (*install)(struct service *sv);     /* files, then commands; exit status */
	int (*uninstall)(struct service *sv);   /* commands, then files */
};

/* startup_init.c */
const struct init *init_by_name(const char *name);
const char *init_unknown(const char *name);                  /* why name is none */
const struct init *init_detect(char *found, size_t foundlen);

/* startup.c */
void root_path(const struct service *sv, const char *path, char *out, size_t n);
bool written_by_tend(const char *path);
void write_file(const struct service *sv, const char *path, const char *text, mode_t mode);   /* tend's only */
void put_file(const struct service *sv, const char *path, const char *text, mode_t mode);
void put_quietly(const struct service *sv, const char *path, const char *text, mode_t mode);
void remove_file(const struct service *sv, const char *path);
int run_commands(const struct service *sv, const struct command *cmds, int n);

#endif
