/* App declarations: PM2's app schema (every key, its aliases and camelCase spellings,
 * PM2's units), checked whole and turned into the app object the daemon takes
 * (canonical keys, absolute paths, milliseconds and bytes). Client side: paths,
 * interpreters and the caller's environment are resolved here, where they mean
 * something. See tend-ecosystem(5). */
#ifndef TEND_DECL_H
#define TEND_DECL_H

#include "lib/json.h"

struct decl_opts {
	const char *where;      /* prefix of messages: "app.json: apps[1]", or NULL */
	const char *base_dir;   /* relative cwd/script/paths resolve against this (absolute) */
	const char *env_name;   /* --env NAME: env_NAME goes over env; NULL for none */
	bool shell_env;         /* send the caller's environment (false: only declared env) */
	bool strict;            /* unknown keys are errors, not warnings */
};

/* Normalize the app object `obj` of d; the object `over` of od (the command line's
 * options, or -1) wins over it key by key. Appends one JSON object to out. False with
 * a one-line reason in err ("apps[1].instances: expected a number, got \"four\""). */
bool decl_normalize(const struct jdoc *d, int obj, const struct jdoc *od, int over,
                    const struct decl_opts *o, struct buf *out, char *err, size_t errlen);

/* The keys the object `over` of od gives, normalized as members (no braces) for the
 * "set" of a restart or reload: what those change in a declaration that exists. Keys
 * that cannot change that way (script, instances, exec_mode, env) are left out; a null
 * value puts a key back to its default. False with the reason in err. */
bool decl_changes(const struct jdoc *od, int over, const struct decl_opts *o, struct buf *out,
                  char *err, size_t errlen);

/* The name an app object declares or would get (its script's base name); NULL if it
 * has neither. For --only and for file targets. */
char *decl_name(const struct jdoc *d, int obj);

/* The caller's environment as the "shell_env" member of a request. */
void decl_shell_env(struct buf *b);

/* Shared with the command line. */
char *decl_which(const char *name);                 /* executable in PATH → absolute */
char *decl_base_name(const char *script);           /* "/x/api.js" → "api" */
long long decl_instances(long long n);              /* 0 → CPUs, -1 → CPUs - 1, ≥ 1 */
void decl_words(struct buf *b, const char *words);  /* "a 'b c'" → ["a","b c"] */

#endif
