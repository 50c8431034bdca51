#ifndef TEND_PROCJSON_H
#define TEND_PROCJSON_H

#include "daemon/proc.h"

/* What pm2_env.env holds: nothing (list), what PM2 shows (jlist), or the environment
 * the process was started with, tend's own variables too (env ID). */
enum jl_env { JL_NO_ENV, JL_PM2_ENV, JL_SPAWN_ENV };

/* One proc in PM2's jlist shape: pid, name, pm2_env{}, pm_id, monit{}; with tree, a
 * last key of tend's own, "tree":{"cpu_ms","memory","cpu"}, from p->run.tree_sample
 * (the list's "tree" option: what the web API's /metrics reads). */
void proc_to_json(struct buf *b, const struct proc *p, enum jl_env env, bool tree);

#endif
