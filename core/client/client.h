/* The applets' side of the control protocol: find (or start) the daemon, send one
 * request, read data lines and the final {"ok":...} line. */
#ifndef TEND_CLIENT_H
#define TEND_CLIENT_H

#include "lib/json.h"
#include "lib/loop.h"

struct reply {
	char *line;        /* the final line, NUL-terminated */
	struct jdoc doc;   /* parsed over line */
	bool ok;
	int code;          /* 0 ok, 1 failed, 2 bad input, 3 other build */
	char *error;
};

/* Begin a request object {"cmd":CMD,"build":...; add keys with the json_ writers,
 * then req_end() closes it. */
void req_begin(struct buf *b, const char *cmd);
void req_end(struct buf *b);
/* "targets":[...] from command-line words. */
void req_targets(struct buf *b, char **words, int n);

typedef void data_fn(const char *line, size_t len, void *arg);

/* Send req (from req_begin/req_end). autostart: start the daemon if none answers.
 * Returns false only when !autostart and no daemon runs. Dies on transport errors. */
bool call(const struct buf *req, bool autostart, data_fn *on_data, void *arg, struct reply *rep);
/* For kill: no autostart, and return only once the daemon has closed the connection. */
bool call_until_exit(const struct buf *req, struct reply *rep);
/* For streams (logs): like call, but on success the connection stays open and is
 * returned, with what was read past the final line in rest; -1 when the reply is an
 * error (rep says which). */
int call_stream(const struct buf *req, data_fn *on_data, void *arg, struct reply *rep,
                struct buf *rest);
/* Read a stream's lines from fd until the reader of our stdout goes away (EXIT_OK):
 * on_line gets each line (NUL-terminated in place, without its newline), then flush
 * once per read. in holds what call_stream read past its reply. Dies when the daemon
 * closes the stream or on errors. */
int follow_stream(int fd, struct buf *in, void (*on_line)(char *line, size_t len),
                  void (*flush)(void));
void reply_free(struct reply *rep);
/* Print the reply's error as "tend: APPLET: error" and give the exit status. */
int reply_status(const struct reply *rep);
/* Call and exit on failure; the common case for applets. */
void call_or_die(const struct buf *req, data_fn *on_data, void *arg, struct reply *rep);

/* The jlist array for targets (all when n == 0), parsed into d (token 0 is the
 * array). Returns the text d points into: free it after json_free(d). Dies on errors. */
/* env: NULL (none), "pm2" (jlist's), "spawn" (what the process was started with) */
char *call_list(char **targets, int n, const char *env, struct jdoc *d);

/* Connect to the daemon's socket, no autostart: the fd, or -1 with errno (ENOENT,
 * ECONNREFUSED: none runs). */
int client_connect(void);

/* Start the daemon detached; true once it answers (or another one does). */
bool daemon_spawn(void);

#endif
