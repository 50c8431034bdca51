/* What every fuzz harness shares: libFuzzer's entry points (declared, so that
 * -Wmissing-prototypes holds for the harnesses as for the rest of tend), a NUL-
 * terminated copy of the input for parsers that take C strings, and a loud failure
 * for broken invariants, which libFuzzer records as a crash with the input. */
#ifndef TEND_FUZZ_H
#define TEND_FUZZ_H

#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant the code under test promised and broke: abort, so the input is saved. */
#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* The input up to its first NUL, as a C string of its own (exactly sized, so that
 * ASan sees a read past the terminator). *rest and *restlen get what follows the NUL:
 * harnesses read their side parameters (a time, a time zone) from there, so that a
 * seed file can be plain text. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size, const uint8_t **rest, size_t *restlen)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t n = nul ? (size_t)(nul - data) : size;
	char *s = xstrndup((const char *)data, n);
	if (rest) {
		*rest = nul ? nul + 1 : data + size;
		*restlen = nul ? size - n - 1 : 0;
	}
	return s;
}

/* Side parameters, read from the bytes after the NUL; missing bytes read as 0. */
static inline uint64_t fuzz_u64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | (*n ? **p : 0);
		if (*n)
			++*p, --*n;
	}
	return v;
}

static inline uint8_t fuzz_u8(const uint8_t **p, size_t *n)
{
	if (!*n)
		return 0;
	--*n;
	return *(*p)++;
}

/* Time zones given as POSIX rules, so that no tzdata package is needed, chosen for
 * what they do to wall-clock arithmetic: none, DST at 02:00 and 03:00, a 30-minute
 * DST shift, DST at midnight (the day starts at 01:00), and an offset in minutes. */
static const char *const fuzz_zones[] = {
	"UTC0",
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"EST5EDT,M3.2.0,M11.1.0",
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
	"<+0545>-5:45",
};

/* Set TZ from one byte; returns whether it changed (tzset is only paid then). */
static inline bool fuzz_set_zone(uint8_t pick)
{
	static int current = -1;
	int z = pick % (int)(sizeof fuzz_zones / sizeof fuzz_zones[0]);
	if (z == current)
		return false;
	current = z;
	setenv("TZ", fuzz_zones[z], 1);
	tzset();
	return true;
}

#endif
