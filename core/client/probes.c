#include "client/probes.h"
#include "lib/json.h"

#include <string.h>

static bool meant_to_run_but_not_up(const struct probe_app *a)
{
	return a->status && strcmp(a->status, "online") != 0 && strcmp(a->status, "stopped") != 0;
}

int probe_readyz(struct buf *b, const struct probe_app *apps, int n, bool verbose)
{
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += meant_to_run_but_not_up(&apps[i]);
	const char *word = bad ? "not ready" : "ready";
	if (!verbose) {
		buf_printf(b, "{\"status\":\"%s\"}\n", word);
		return bad ? 503 : 200;
	}
	json_open(b, '{');
	json_key(b, "apps");
	json_open(b, '[');
	for (int i = 0; i < n; i++)
		if (meant_to_run_but_not_up(&apps[i])) {
			json_open(b, '{');
			json_kint(b, "id", apps[i].id);
			json_kstr(b, "name", apps[i].name ? apps[i].name : "");
			json_kstr(b, "status", apps[i].status);
			json_close(b, '}');
		}
	json_close(b, ']');
	json_kstr(b, "status", word);
	json_close(b, '}');
	buf_putc(b, '\n');
	return bad ? 503 : 200;
}
