/* Kubernetes-style probes, for tend web and tend runtime --health: the same reply
 * wherever the instances' states come from. */
#ifndef TEND_PROBES_H
#define TEND_PROBES_H

#include "lib/util.h"

struct probe_app {
	long long id;
	const char *name;
	const char *status;   /* as the list says: online, launching, stopped, errored... */
};

/* /readyz: 200 {"status":"ready"} when every instance meant to run (every one not
 * stopped) is online, else 503 {"status":"not ready"}; verbose lists those that are
 * not: {"apps":[{"id","name","status"}...],"status":...}. Returns the HTTP status. */
int probe_readyz(struct buf *b, const struct probe_app *apps, int n, bool verbose);

#endif
