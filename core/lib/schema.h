/* The app schema, stated once: every key of PM2's app declaration with its type, the
 * spellings files use, its range and default, the `start` option that sets it and
 * that option's help. The client's declaration parser (client/decl.c), its option
 * parser and help (client/appopts.c) and the daemon's spec (daemon/spec.c) all read
 * this table, so a range, a default or a help line cannot differ between them. */
#ifndef TEND_SCHEMA_H
#define TEND_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

enum key_type {
	KT_STR,        /* string, copied */
	KT_PATH,       /* string, made absolute against the app's cwd */
	KT_LOGPATH,    /* KT_PATH, but /dev/null and NULL stay, and true = default path */
	KT_ARGS,       /* array of strings, or one string split like a shell would */
	KT_INT,        /* integer (a numeric string too) */
	KT_MS,         /* duration: ms, or "10s", "5m", "1h" */
	KT_BYTES,      /* size: bytes, or "10K", "200M", "1G" */
	KT_BOOL,
	KT_INSTANCES,  /* integer or "max" */
	KT_MODE,       /* fork | cluster (| *_mode) */
	KT_WATCH,      /* true | false | path | [paths] */
	KT_STRS,       /* string or array of strings */
	KT_CODES,      /* exit code or array of them */
	KT_CRON,       /* cron expression; 0/false = none */
	KT_ID,         /* user/group: number or name */
	KT_SIGNAL,
	KT_FILTER,     /* filter_env: bool, prefix or [prefixes] */
	KT_PORT,
	KT_ACCEPTED,   /* PM2 keys that mean nothing here: accepted, not passed on */
	KT_SPECIAL,    /* handled by hand: script, name, cwd, env, ... */
};

struct app_key {
	const char *name;      /* PM2's key, as the daemon receives it */
	enum key_type type;
	const char *aliases;   /* other spellings in files, space-separated */
	long long min, max;    /* numbers: the range (durations in ms, sizes in bytes) */
	long long def;         /* numbers: the daemon's default */
	const char *flags;     /* start's long options for it, space-separated, the main one
	                        * first ("no-..." flags set a boolean false); NULL: none */
	char short_flag;
	const char *arg;       /* its argument in help; NULL: none; "[X]": optional;
	                        * "[=X]": optional, only as --flag=X */
	const char *help;      /* what it does; lines after the first begin with '\n' */
};

enum { APP_KEYS_MAX = 128 };   /* room for them all, for arrays by key */
extern const struct app_key app_keys[];
extern const size_t napp_keys;

/* The key named name (PM2's name, not an alias), or NULL. */
const struct app_key *app_key(const char *name);
/* The key a file's spelling stands for (name or alias), or NULL. */
const struct app_key *app_key_spelled(const char *spelling);
/* Is v inside the key's range? */
bool app_key_in_range(const struct app_key *k, long long v);

#endif
