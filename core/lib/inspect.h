/* JSON laid out as node's util.inspect(value, false, null, false) prints it: what
 * `pm2 prettylist` writes, so that greps over it and eyes used to it see the same text.
 * Node's defaults: 2 spaces per level, single-quoted strings, bare identifier keys,
 * objects on one line while they fit 80 columns (compact 3), arrays longer than six
 * grouped in columns, at most 100 array items and 10,000 characters per string. */
#ifndef TEND_INSPECT_H
#define TEND_INSPECT_H

#include "lib/json.h"

void js_inspect(struct buf *out, const struct jdoc *d, int tok);

#endif
