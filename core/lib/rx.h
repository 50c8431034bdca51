/* Regular expressions for /regex/ targets, in JavaScript's syntax as PM2 users write
 * them (\d, \w, \s, \b, (?:...), lazy quantifiers accepted), matched in linear time.
 * musl's regcomp takes seconds on a pattern like (a{1,255}){1,255}: a request must not
 * stall the supervisor, so patterns compile to a bounded program (RX_MAX_PROGRAM
 * instructions) run by a Pike VM (Thompson's simulation: time len x program, no
 * backtracking), and a match spends from a step budget the caller gives.
 * Not supported (a clear error): back-references, look-around, flags. */
#ifndef TEND_RX_H
#define TEND_RX_H

#include <stdbool.h>
#include <stddef.h>

enum { RX_MAX_PATTERN = 512, RX_MAX_PROGRAM = 1024 };

struct rx;

/* NULL with a one-line reason in err. */
struct rx *rx_compile(const char *pattern, char *err, size_t errlen);
/* Does the pattern match anywhere in s? 1 yes, 0 no, -1 when *budget (steps, spent
 * here) ran out first. */
int rx_search(const struct rx *r, const char *s, size_t len, long *budget);
void rx_free(struct rx *r);

#endif
