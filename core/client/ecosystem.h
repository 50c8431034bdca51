/* Ecosystem files: where apps are declared. JSON (comments and trailing commas
 * allowed), ecosystem.config.js evaluated by node, a Procfile, or JSON on stdin.
 * Loading checks the file's shape; decl.c checks each app. See tend-ecosystem(5). */
#ifndef TEND_ECOSYSTEM_H
#define TEND_ECOSYSTEM_H

#include "lib/json.h"

struct eco {
	char *text;       /* the JSON the document points into */
	struct jdoc doc;
	char *label;      /* the file as the user named it, for messages */
	char *dir;        /* absolute directory relative paths start from */
	int *apps;        /* token of each app object */
	int napps;
};

/* Does this start argument name a declaration file rather than a program? */
bool eco_is_file(const char *arg);
/* The file `tend start` uses without arguments (ecosystem.json, then
 * ecosystem.config.js, in the current directory), or NULL. */
const char *eco_default(void);
/* Load arg ("-" = stdin). False with "app.json:3:14: expected ',' or '}'" in err. */
bool eco_load(const char *arg, struct eco *e, char *err, size_t errlen);
/* The same, read and parsed only: no apps needed (deploy reads its section). */
bool eco_load_doc(const char *arg, struct eco *e, char *err, size_t errlen);
void eco_free(struct eco *e);

/* For applets (these die with exit 2 on a bad file). Is name in the --only list
 * ("a,b"; NULL selects all)? */
bool eco_selected(const char *only, const char *name);
/* The selected apps of file, each normalized with the options `over` (a JSON object
 * of PM2 keys) over it, appended to req (inside an array). Returns how many. */
int eco_append_apps(struct buf *req, const char *file, const char *only, const char *env_name,
                    const struct buf *over, bool has_name);
/* The names of the selected apps (NULL-terminated, *n of them). */
char **eco_app_names(const char *file, const char *only, int *n);

#endif
