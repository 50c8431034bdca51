#ifndef TEND_PROCJSON_H
#define TEND_PROCJSON_H

#include "proc.h"

/* One proc in PM2's jlist shape: pid, name, pm_id, monit{}, pm2_env{}. */
void proc_to_json(struct buf *b, const struct proc *p, bool with_env);

#endif
