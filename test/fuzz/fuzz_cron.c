/* cron_restart expressions: cron_parse on any text, then cron_next from some moment
 * in some time zone, whose answer must be later and must match the expression.
 *
 * Input: the expression, optionally followed by a NUL and side parameters: 8 bytes of
 * start time (seconds, folded into +-2^40 around the epoch; none: 2023-11-14) and one
 * byte choosing the time zone (fuzz.h). */
#include "fuzz.h"
#include "lib/cron.h"

/* cron.c's rule for a day, restated: with either day field '*', both must match;
 * with both restricted, either will do. */
static bool day_ok(const struct cron *c, const struct tm *tm)
{
	bool dom = c->dom >> tm->tm_mday & 1, dow = c->dow >> tm->tm_wday & 1;
	return c->dom_any || c->dow_any ? dom && dow : dom || dow;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_set_zone(0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t restlen;
	char *expr = fuzz_cstr(data, size, &rest, &restlen);
	time_t after = 1700000000;
	if (restlen) {
		int64_t raw = (int64_t)fuzz_u64(&rest, &restlen);
		after = (time_t)(raw % ((int64_t)1 << 40));
	}
	fuzz_set_zone(fuzz_u8(&rest, &restlen));

	struct cron c, before;
	memset(&c, 0xa5, sizeof c);
	before = c;
	char err[160];
	err[0] = 0;
	if (!cron_parse(expr, &c, err, sizeof err)) {
		/* a reason, and *c untouched */
		FUZZ_ASSERT(err[0] != 0 && memchr(err, 0, sizeof err));
		FUZZ_ASSERT(memcmp(&c, &before, sizeof c) == 0);
		free(expr);
		return 0;
	}
	/* Only values in range are set. */
	FUZZ_ASSERT(c.sec < (1ULL << 60) && c.min < (1ULL << 60) && c.hour < (1U << 24));
	FUZZ_ASSERT((c.dom & 1) == 0 && (c.mon & 1) == 0 && c.mon < (1U << 13));
	FUZZ_ASSERT(c.dow < (1U << 7));

	time_t t = cron_next(&c, after);
	if (t != -1) {
		FUZZ_ASSERT(t > after);
		struct tm tm;
		FUZZ_ASSERT(localtime_r(&t, &tm));
		FUZZ_ASSERT(c.sec >> tm.tm_sec & 1);
		FUZZ_ASSERT(c.min >> tm.tm_min & 1);
		FUZZ_ASSERT(c.hour >> tm.tm_hour & 1);
		FUZZ_ASSERT(c.mon >> (tm.tm_mon + 1) & 1);
		FUZZ_ASSERT(day_ok(&c, &tm));
		/* within the promised 5 years (and a day for DST and leap days) */
		FUZZ_ASSERT(t - after <= 5 * 366 * 86400LL + 86400);
		/* and the one after that is later still */
		time_t u = cron_next(&c, t);
		FUZZ_ASSERT(u == -1 || u > t);
	}
	free(expr);
	return 0;
}
