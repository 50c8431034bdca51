/* PM2's units, as the command line and ecosystem files spell them: durations
 * ("10s", "1.5h"), sizes ("200M"), bounded integers and signal names; and the edit
 * distance that suggests "did you mean". All in util.c.
 *
 * Input: the text, optionally followed by a NUL and a second word for the edit
 * distance. */
#include "fuzz.h"

#include <limits.h>
#include <signal.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t restlen;
	char *s = fuzz_cstr(data, size, &rest, &restlen);
	char *other = fuzz_cstr(rest, restlen, NULL, NULL);

	/* Units only scale: a value is never negative, and a unit never shrinks it. */
	int64_t ms = -1, bytes = -1;
	if (parse_duration_ms(s, &ms))
		FUZZ_ASSERT(ms >= 0);
	if (parse_size(s, &bytes))
		FUZZ_ASSERT(bytes >= 0);

	static const long long ranges[][2] = {
		{0, 1 << 30}, {1, 65535}, {-4096, 4096}, {0, 0x7fffffff}, {LLONG_MIN, LLONG_MAX},
	};
	for (size_t i = 0; i < ARRAY_LEN(ranges); i++) {
		long long v = 0;
		if (parse_int(s, ranges[i][0], ranges[i][1], &v))
			FUZZ_ASSERT(v >= ranges[i][0] && v <= ranges[i][1]);
	}

	/* A signal by name reads back from its name. */
	int sig = signal_from_name(s);
	FUZZ_ASSERT(sig == -1 || (sig >= 1 && sig <= 64));
	if (sig > 0)
		FUZZ_ASSERT(signal_from_name(signal_name(sig)) == sig);

	/* A distance: symmetric, and no more than the longer word (words past 64
	 * bytes are "far", 1000). */
	int d = edit_distance(s, other), e = edit_distance(other, s);
	size_t ls = strlen(s), lo = strlen(other);
	FUZZ_ASSERT(d == e);
	if (ls <= 64 && lo <= 64)
		FUZZ_ASSERT(d >= 0 && (size_t)d <= (ls > lo ? ls : lo) && (d == 0) == !strcasecmp(s, other));
	else
		FUZZ_ASSERT(d == 1000);
	free(s);
	free(other);
	return 0;
}
