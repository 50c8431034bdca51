/* What the web API says about the host and the apps in others' formats: Prometheus's
 * text exposition (tend_* names, and the pm2_* names of the PM2 exporters with
 * --pm2-metrics) and PM2's `pm2 web` JSON (node's os module figures). */
#include "applets/web.h"
#include "lib/procfs.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netpacket/packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the host ------------------------------------------------------------------------- */

/* ---- an app of the list ------------------------------------------------------------------ */

struct app {
	long long id, pid, restarts, unstable, uptime_ms, instance;
	long long cpu_ms, rss;   /* the process tree's, from the daemon's sample */
	double cpu_pct;          /* the tree's, over the last second or so */
	char *name, *ns, *status;
};

static long long num_at(const struct jdoc *d, int obj, const char *key, long long def)
{
	long long v = def;
	json_as_ll(d, json_get(d, obj, key), &v);
	return v;
}

static void app_read(const struct jdoc *d, int a, struct app *out)
{
	int env = json_get(d, a, "pm2_env");
	out->id = num_at(d, a, "pm_id", -1);
	out->pid = num_at(d, a, "pid", 0);
	out->name = json_dup(d, json_get(d, a, "name"));
	out->ns = json_dup(d, json_get(d, env, "namespace"));
	out->status = json_dup(d, json_get(d, env, "status"));
	out->restarts = num_at(d, env, "restart_time", 0);
	out->unstable = num_at(d, env, "unstable_restarts", 0);
	out->uptime_ms = num_at(d, env, "pm_uptime", 0);
	char *ivar = json_dup(d, json_get(d, env, "instance_var"));
	out->instance = num_at(d, env, ivar ? ivar : "NODE_APP_INSTANCE", 0);
	free(ivar);
	int tree = json_get(d, a, "tree");
	out->cpu_ms = num_at(d, tree, "cpu_ms", 0);
	out->rss = num_at(d, tree, "memory", 0);
	out->cpu_pct = 0;
	json_as_double(d, json_get(d, tree, "cpu"), &out->cpu_pct);
}

static void app_free(struct app *a)
{
	free(a->name);
	free(a->ns);
	free(a->status);
}

/* ---- Prometheus ------------------------------------------------------------------------ */

/* A label value: backslash, double quote and newline escaped. */
static void label(struct buf *b, const char *key, const char *v, bool first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", key);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_putc(b, '\\'), buf_putc(b, *p);
		else if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

static void labels(struct buf *b, const struct app *a)
{
	char id[24], inst[24];
	snprintf(id, sizeof id, "%lld", a->id);
	snprintf(inst, sizeof inst, "%lld", a->instance);
	buf_putc(b, '{');
	label(b, "name", a->name, true);
	label(b, "id", id, false);
	label(b, "instance", inst, false);
	label(b, "namespace", a->ns, false);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const statuses[] = {"online", "launching", "stopping", "waiting restart",
                                       "stopped", "errored"};

/* One family over every app: value(a) for each. */
static void per_app(struct buf *b, const struct app *apps, int n, const char *name, const char *type,
                    const char *help, double (*value)(const struct app *a))
{
	family(b, name, type, help);
	for (int i = 0; i < n; i++) {
		buf_puts(b, name);
		labels(b, &apps[i]);
		buf_printf(b, "} %.15g\n", value(&apps[i]));
	}
}

static bool running(const struct app *a) { return a->pid > 0 && a->status && strcmp(a->status, "stopped"); }
static double v_up(const struct app *a) { return a->status && !strcmp(a->status, "online"); }
static double v_restarts(const struct app *a) { return (double)a->restarts; }
static double v_unstable(const struct app *a) { return (double)a->unstable; }
static double v_start(const struct app *a) { return running(a) ? (double)a->uptime_ms / 1000 : 0; }

static double v_cpu(const struct app *a) { return running(a) ? (double)a->cpu_ms / 1000 : 0; }
static double v_rss(const struct app *a) { return running(a) ? (double)a->rss : 0; }
static double v_cpu_pct(const struct app *a) { return running(a) ? a->cpu_pct : 0; }
static double v_uptime_s(const struct app *a)
{
	return running(a) ? (double)(wall_ms() - a->uptime_ms) / 1000 : 0;
}

static void pm2_names(struct buf *b, const struct app *apps, int n)
{
	struct { const char *name, *help; double (*v)(const struct app *); } fams[] = {
		{"pm2_up", "1 if the process is online (PM2 exporter name)", v_up},
		{"pm2_cpu", "CPU use of the process tree, percent of a core (PM2 exporter name)", v_cpu_pct},
		{"pm2_memory", "resident memory of the process tree, bytes (PM2 exporter name)", v_rss},
		{"pm2_uptime", "seconds since the process started (PM2 exporter name)", v_uptime_s},
		{"pm2_restarts", "restarts (PM2 exporter name)", v_restarts},
	};
	for (size_t f = 0; f < ARRAY_LEN(fams); f++) {
		family(b, fams[f].name, "gauge", fams[f].help);
		for (int i = 0; i < n; i++) {
			char inst[24];
			snprintf(inst, sizeof inst, "%lld", apps[i].instance);
			buf_printf(b, "%s{", fams[f].name);
			label(b, "name", apps[i].name, true);
			label(b, "instance", inst, false);
			buf_printf(b, "} %.15g\n", fams[f].v(&apps[i]));
		}
	}
}

/* How many instances each app has: name, count (the apps in order of first id). */
static void instances(struct buf *b, const struct app *apps, int n, const char *metric)
{
	family(b, metric, "gauge", "instances of the app");
	for (int i = 0; i < n; i++) {
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(apps[j].name ? apps[j].name : "", apps[i].name ? apps[i].name : "");
		if (seen)
			continue;
		int count = 0;
		for (int j = i; j < n; j++)
			count += !strcmp(apps[j].name ? apps[j].name : "", apps[i].name ? apps[i].name : "");
		buf_printf(b, "%s{", metric);
		label(b, "name", apps[i].name, true);
		if (strcmp(metric, "pm2_instances") != 0)
			label(b, "namespace", apps[i].ns, false);
		buf_printf(b, "} %d\n", count);
	}
}

void web_metrics(struct buf *b, const struct jdoc *d)
{
	int n = d->tok[0].size;
	struct app *apps = xcalloc((size_t)n + 1, sizeof *apps);
	for (int i = 0, a = 1; i < n; i++, a = json_next(d, a))
		app_read(d, a, &apps[i]);
	per_app(b, apps, n, "tend_process_up", "gauge", "1 if the instance is online", v_up);
	per_app(b, apps, n, "tend_process_cpu_seconds_total", "counter",
	        "CPU time of the instance's process tree (those alive), seconds", v_cpu);
	per_app(b, apps, n, "tend_process_resident_memory_bytes", "gauge",
	        "resident memory of the instance's process tree, bytes", v_rss);
	per_app(b, apps, n, "tend_process_start_time_seconds", "gauge",
	        "when the instance's process started, seconds since the epoch (0: not running)", v_start);
	per_app(b, apps, n, "tend_process_restarts_total", "counter", "restarts of the instance", v_restarts);
	per_app(b, apps, n, "tend_process_unstable_restarts_total", "counter",
	        "restarts sooner than min_uptime", v_unstable);
	instances(b, apps, n, "tend_app_instances");
	family(b, "tend_app_status", "gauge", "1 for the status the instance is in, 0 for the others");
	for (int i = 0; i < n; i++)
		for (size_t s = 0; s < ARRAY_LEN(statuses); s++) {
			buf_puts(b, "tend_app_status");
			labels(b, &apps[i]);
			label(b, "status", statuses[s], false);
			buf_printf(b, "} %d\n", apps[i].status && !strcmp(apps[i].status, statuses[s]));
		}
	struct procfs_host h;
	procfs_host(&h);
	const char *loads[] = {"tend_host_load1", "tend_host_load5", "tend_host_load15"};
	for (int i = 0; i < 3; i++) {
		family(b, loads[i], "gauge", "the host's load average");
		buf_printf(b, "%s %.2f\n", loads[i], h.load[i]);
	}
	family(b, "tend_host_memory_total_bytes", "gauge", "the host's memory");
	buf_printf(b, "tend_host_memory_total_bytes %lld\n", (long long)h.mem_total);
	family(b, "tend_host_memory_available_bytes", "gauge", "memory available to start programs");
	buf_printf(b, "tend_host_memory_available_bytes %lld\n", (long long)h.mem_avail);
	if (W.pm2_metrics) {
		pm2_names(b, apps, n);
		instances(b, apps, n, "pm2_instances");
	}
	for (int i = 0; i < n; i++)
		app_free(&apps[i]);
	free(apps);
}

/* ---- PM2's `pm2 web` JSON ------------------------------------------------------------------- */

/* node's os.cpus(): model, speed (MHz) and times (ms) of each CPU. */
static void cpus(struct buf *b)
{
	char *info = read_file("/proc/cpuinfo", 1 << 20, NULL), *stat = read_file("/proc/stat", 1 << 20, NULL);
	long hz = procfs_clk_tck();
	json_open(b, '[');
	const char *p = info, *s = stat ? strstr(stat, "\ncpu0") : NULL;
	for (int cpu = 0; s; cpu++) {
		char model[128] = "", line[256];
		double mhz = 0;
		/* this CPU's block of cpuinfo */
		for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			if (sscanf(p, "model name : %127[^\n]", model) == 1 || sscanf(p, "model name\t: %127[^\n]", model) == 1)
				continue;
			if (sscanf(p, "cpu MHz\t: %lf", &mhz) == 1 || sscanf(p, "cpu MHz : %lf", &mhz) == 1)
				continue;
			if (*p == '\n') {
				p++;
				break;
			}
		}
		unsigned long long u = 0, ni = 0, sy = 0, id = 0, wa = 0, irq = 0;
		snprintf(line, sizeof line, "%.*s", (int)strcspn(s + 1, "\n"), s + 1);
		sscanf(line, "cpu%*d %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &wa, &irq);
		json_open(b, '{');
		json_kstr(b, "model", model);
		json_kint(b, "speed", (long long)mhz);
		json_key(b, "times");
		json_open(b, '{');
		json_kint(b, "user", (long long)(u * 1000 / (unsigned long long)hz));
		json_kint(b, "nice", (long long)(ni * 1000 / (unsigned long long)hz));
		json_kint(b, "sys", (long long)(sy * 1000 / (unsigned long long)hz));
		json_kint(b, "idle", (long long)(id * 1000 / (unsigned long long)hz));
		json_kint(b, "irq", (long long)(irq * 1000 / (unsigned long long)hz));
		json_close(b, '}');
		json_close(b, '}');
		char next[16];
		snprintf(next, sizeof next, "\ncpu%d ", cpu + 1);
		s = strstr(s + 1, next);
	}
	json_close(b, ']');
	free(info);
	free(stat);
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *m = NULL;
	size_t n = 0;
	if (mask && mask->sa_family == AF_INET)
		m = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr, n = 4;
	else if (mask && mask->sa_family == AF_INET6)
		m = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr, n = 16;
	int bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(m[i]);
	return bits;
}

/* node's os.networkInterfaces(): per interface, each address. */
static void interfaces(struct buf *b)
{
	struct ifaddrs *all = NULL;
	json_open(b, '{');
	if (getifaddrs(&all) < 0) {
		json_close(b, '}');
		return;
	}
	for (struct ifaddrs *i = all; i; i = i->ifa_next) {
		bool first = true;   /* one key per interface: its addresses together */
		for (struct ifaddrs *j = all; j != i && first; j = j->ifa_next)
			first = strcmp(j->ifa_name, i->ifa_name) != 0;
		if (!first)
			continue;
		char mac[32] = "00:00:00:00:00:00";
		for (struct ifaddrs *j = all; j; j = j->ifa_next)
			if (!strcmp(j->ifa_name, i->ifa_name) && j->ifa_addr && j->ifa_addr->sa_family == AF_PACKET) {
				const struct sockaddr_ll *ll = (const struct sockaddr_ll *)j->ifa_addr;
				if (ll->sll_halen == 6)
					snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
					         ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
			}
		json_key(b, i->ifa_name);
		json_open(b, '[');
		for (struct ifaddrs *j = all; j; j = j->ifa_next) {
			if (strcmp(j->ifa_name, i->ifa_name) != 0 || !j->ifa_addr)
				continue;
			int fam = j->ifa_addr->sa_family;
			if (fam != AF_INET && fam != AF_INET6)
				continue;
			char addr[INET6_ADDRSTRLEN] = "", mask[INET6_ADDRSTRLEN] = "";
			const void *a = fam == AF_INET ? (const void *)&((struct sockaddr_in *)j->ifa_addr)->sin_addr
			                               : (const void *)&((struct sockaddr_in6 *)j->ifa_addr)->sin6_addr;
			inet_ntop(fam, a, addr, sizeof addr);
			if (j->ifa_netmask) {
				const void *m = fam == AF_INET ? (const void *)&((struct sockaddr_in *)j->ifa_netmask)->sin_addr
				                               : (const void *)&((struct sockaddr_in6 *)j->ifa_netmask)->sin6_addr;
				inet_ntop(fam, m, mask, sizeof mask);
			}
			json_open(b, '{');
			json_kstr(b, "address", addr);
			json_kstr(b, "netmask", mask);
			json_kstr(b, "family", fam == AF_INET ? "IPv4" : "IPv6");
			json_kstr(b, "mac", mac);
			json_kbool(b, "internal", (j->ifa_flags & IFF_LOOPBACK) != 0);
			char cidr[INET6_ADDRSTRLEN + 16];
			snprintf(cidr, sizeof cidr, "%s/%d", addr, prefix_len(j->ifa_netmask));
			json_kstr(b, "cidr", cidr);
			if (fam == AF_INET6)
				json_kint(b, "scopeid", ((struct sockaddr_in6 *)j->ifa_addr)->sin6_scope_id);
			json_close(b, '}');
		}
		json_close(b, ']');
	}
	freeifaddrs(all);
	json_close(b, '}');
}

/* system_info and monit of /, made at most once a second: under load, reading
 * /proc/cpuinfo, /proc/stat and the interfaces per request would be most of its cost. */
static void host_members(struct buf *b)
{
	static struct buf cache;
	static int64_t made_at;
	int64_t now = mono_ms();
	if (!cache.len || now - made_at >= 1000) {
		struct buf *o = &cache;
		struct procfs_host h;
		procfs_host(&h);
		char name[256] = "";
		gethostname(name, sizeof name - 1);
		buf_reset(o);
		json_key(o, "system_info");
		json_open(o, '{');
		json_kstr(o, "hostname", name);
		json_key(o, "uptime");
		json_num(o, h.uptime);
		json_close(o, '}');
		json_key(o, "monit");
		json_open(o, '{');
		json_key(o, "loadavg");
		json_open(o, '[');
		for (int i = 0; i < 3; i++)
			json_num(o, h.load[i]);
		json_close(o, ']');
		json_kint(o, "total_mem", h.mem_total);
		json_kint(o, "free_mem", h.mem_avail);
		json_key(o, "cpu");
		cpus(o);
		json_key(o, "interfaces");
		interfaces(o);
		json_close(o, '}');
		made_at = now;
	}
	buf_add(b, cache.data, cache.len);
}

void web_pm2_root(struct buf *b, const struct jdoc *d)
{
	json_open(b, '{');
	host_members(b);
	json_key(b, "processes");
	json_raw(b, d->text + d->tok[0].start, (size_t)(d->tok[0].end - d->tok[0].start));
	json_close(b, '}');
	buf_putc(b, '\n');
}
