/* JSON with comments and trailing commas, as people write PM2 ecosystem files.
 * jsonc_clean() checks such text strictly and turns it into plain JSON for jsmn
 * (json.h), which is lenient and says little about where a file went wrong. */
#ifndef TEND_JSONC_H
#define TEND_JSONC_H

#include <stdbool.h>
#include <stddef.h>

#define JSONC_MAX_DEPTH 512

/* Check that text[0..len) is one JSON value, allowing // and block comments and
 * trailing commas before ] and }. On success, overwrite every comment byte and every
 * trailing comma with a space (newlines inside comments are kept, so positions do
 * not move) and return true: the text is now plain JSON for jsmn. On failure return
 * false and write "LINE:COL: message" into err (1-based; COL counts bytes on the line).
 * The check is one pass, so on failure the text before the error may already be
 * partly cleaned; callers report err and drop the text.
 * text need not be NUL-terminated; err may be NULL. */
bool jsonc_clean(char *text, size_t len, char *err, size_t errlen);

#endif
