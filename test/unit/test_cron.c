/* Cron expressions: every syntax form, every error message, and next-match times,
 * in UTC and across DST changes, checked also against a second-by-second scan. */
#include "unit.h"
#include "lib/cron.h"

#include <stdlib.h>

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static time_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                 .tm_hour = h, .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
	return mktime(&tm);
}

static const char *show(time_t t)
{
	static char buf[64];
	struct tm tm;
	if (t == -1)
		return "never";
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %a", &tm);
	return buf;
}

static struct cron parse(const char *expr)
{
	struct cron c;
	char err[128] = "";
	memset(&c, 0xee, sizeof(c));
	if (!cron_parse(expr, &c, err, sizeof(err)))
		fprintf(stderr, "unexpected parse error for '%s': %s\n", expr, err);
	return c;
}

/* The error message, or "ok"; the struct must be left alone on error. */
static const char *perr(const char *expr)
{
	static char err[128];
	struct cron c, before;
	memset(&c, 0x5a, sizeof(c));
	before = c;
	snprintf(err, sizeof(err), "(no message)");
	if (cron_parse(expr, &c, err, sizeof(err)))
		return "ok";
	if (memcmp(&c, &before, sizeof(c)) != 0)
		return "struct changed on error";
	return err;
}

static const char *next(const char *expr, time_t after)
{
	struct cron c = parse(expr);
	return show(cron_next(&c, after));
}

static bool same(struct cron a, struct cron b)
{
	return a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.dom == b.dom &&
	       a.mon == b.mon && a.dow == b.dow && a.dom_any == b.dom_any && a.dow_any == b.dow_any;
}

static bool matches(const struct cron *c, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	bool dom = c->dom >> tm.tm_mday & 1, dow = c->dow >> tm.tm_wday & 1;
	bool day = c->dom_any || c->dow_any ? dom && dow : dom || dow;
	return day && (c->sec >> tm.tm_sec & 1) && (c->min >> tm.tm_min & 1) &&
	       (c->hour >> tm.tm_hour & 1) && (c->mon >> (tm.tm_mon + 1) & 1);
}

/* Follow cron_next `count` times from `from`, checking every second in between. */
static bool agrees_with_scan(const char *expr, time_t from, int count)
{
	struct cron c = parse(expr);
	time_t t = from;
	for (int i = 0; i < count; i++) {
		time_t n = cron_next(&c, t);
		if (n <= t || !matches(&c, n)) {
			fprintf(stderr, "%s: after %lld got %s\n", expr, (long long)t, show(n));
			return false;
		}
		for (time_t u = t + 1; u < n; u++)
			if (matches(&c, u)) {
				fprintf(stderr, "%s: skipped %s\n", expr, show(u));
				return false;
			}
		t = n;
	}
	return true;
}

/* Across a DST day: strictly increasing, every result matches, and it ends. */
static int walk(const char *expr, time_t from, time_t to)
{
	struct cron c = parse(expr);
	int n = 0;
	for (time_t t = from; ; n++) {
		time_t x = cron_next(&c, t);
		if (x <= t || !matches(&c, x))
			return -1;
		if (x > to)
			return n;
		t = x;
	}
}

int main(void)
{
	set_tz("UTC");
	struct cron c;

	/* Every syntax form. */
	c = parse("* * * * *");
	CHECK(c.sec == 1);
	CHECK(c.min == (1ull << 60) - 1);
	CHECK(c.hour == (1u << 24) - 1);
	CHECK(c.dom == 0xfffffffeu);
	CHECK(c.mon == 0x1ffe);
	CHECK(c.dow == 0x7f);
	CHECK(c.dom_any && c.dow_any);
	c = parse("30 * * * * *");
	CHECK(c.sec == 1ull << 30 && c.min == (1ull << 60) - 1);
	CHECK(parse("*/15 * * * *").min == (1ull << 0 | 1ull << 15 | 1ull << 30 | 1ull << 45));
	CHECK(parse("1,5,9 * * * *").min == (1ull << 1 | 1ull << 5 | 1ull << 9));
	CHECK(parse("0 1-5 * * *").hour == 0x3e);
	CHECK(parse("1-30/5 * * * *").min == (1ull << 1 | 1ull << 6 | 1ull << 11 | 1ull << 16 |
	                                       1ull << 21 | 1ull << 26));
	CHECK(parse("5/10 * * * *").min == (1ull << 5 | 1ull << 15 | 1ull << 25 | 1ull << 35 |
	                                     1ull << 45 | 1ull << 55));
	CHECK(parse("0 0 * * 1/2").dow == (1 << 1 | 1 << 3 | 1 << 5));   /* 7 is not reached */
	CHECK(parse("*/100 * * * *").min == 1);
	CHECK(parse("1-3,10,20-22/2 * * * *").min == (0xeull | 1ull << 10 | 1ull << 20 | 1ull << 22));
	CHECK(parse("0 0 1 JAN-MAR *").mon == 0xe);
	CHECK(parse("0 0 1 jan,Dec *").mon == (1 << 1 | 1 << 12));
	CHECK(parse("0 0 * * mon-FRI").dow == 0x3e);
	CHECK(parse("0 0 * * SUN").dow == 1);
	CHECK(parse("0 0 * * 7").dow == 1);
	CHECK(parse("0 0 * * 5-7").dow == (1 << 0 | 1 << 5 | 1 << 6));
	CHECK(parse("0 0 * * sat-7").dow == (1 << 0 | 1 << 6));
	c = parse("0 0 ? * MON");
	CHECK(c.dom == 0xfffffffeu && c.dom_any && !c.dow_any);
	c = parse("0 0 13 * ?");
	CHECK(c.dow == 0x7f && c.dow_any && !c.dom_any);
	c = parse("0 0 */2 * 1");
	CHECK(!c.dom_any && !c.dow_any);
	CHECK(same(parse(" \t0  0\t1 1 *  "), parse("0 0 1 1 *")));
	CHECK(same(parse("@yearly"), parse("0 0 1 1 *")));
	CHECK(same(parse("@annually"), parse("0 0 1 1 *")));
	CHECK(same(parse("@monthly"), parse("0 0 1 * *")));
	CHECK(same(parse("@weekly"), parse("0 0 * * 0")));
	CHECK(same(parse("@daily"), parse("0 0 * * *")));
	CHECK(same(parse(" @MIDNIGHT "), parse("0 0 * * *")));
	CHECK(same(parse("@hourly"), parse("0 * * * *")));
	CHECK(same(parse("0 0 0 1 1 *"), parse("0 0 1 1 *")));

	/* Every error message. */
	CHECK_STR(perr(""), "expected 5 or 6 fields, got 0");
	CHECK_STR(perr(NULL), "expected 5 or 6 fields, got 0");
	CHECK_STR(perr("* * *"), "expected 5 or 6 fields, got 3");
	CHECK_STR(perr("* * * * * * *"), "expected 5 or 6 fields, got 7");
	CHECK_STR(perr("60 * * * * *"), "second: 60 is out of range 0-59");
	CHECK_STR(perr("60 * * * *"), "minute: 60 is out of range 0-59");
	CHECK_STR(perr("0 25 * * *"), "hour: 25 is out of range 0-23");
	CHECK_STR(perr("0 0 0 * *"), "day of month: 0 is out of range 1-31");
	CHECK_STR(perr("0 0 32 * *"), "day of month: 32 is out of range 1-31");
	CHECK_STR(perr("0 0 * 13 *"), "month: 13 is out of range 1-12");
	CHECK_STR(perr("0 0 * 0 *"), "month: 0 is out of range 1-12");
	CHECK_STR(perr("0 0 * * 8"), "day of week: 8 is out of range 0-7");
	CHECK_STR(perr("0 0-99999999999 * * *"), "hour: 99999999999 is out of range 0-23");
	CHECK_STR(perr("1,,2 * * * *"), "minute: empty entry in '1,,2'");
	CHECK_STR(perr("1, * * * *"), "minute: empty entry in '1,'");
	CHECK_STR(perr(",1 * * * *"), "minute: empty entry in ',1'");
	CHECK_STR(perr("x * * * *"), "minute: expected a number in 'x'");
	CHECK_STR(perr("-5 * * * *"), "minute: expected a number in '-5'");
	CHECK_STR(perr("5- * * * *"), "minute: expected a number in '5-'");
	CHECK_STR(perr("*/ * * * *"), "minute: expected a number in '*/'");
	CHECK_STR(perr("0 JAN * * *"), "hour: expected a number in 'JAN'");
	CHECK_STR(perr("0 0 * FOO *"), "month: unknown name 'FOO'");
	CHECK_STR(perr("0 0 * * MONDAY"), "day of week: unknown name 'MONDAY'");
	CHECK_STR(perr("5-1 * * * *"), "minute: range '5-1' has start after end");
	CHECK_STR(perr("0 0 * * FRI-MON"), "day of week: range 'FRI-MON' has start after end");
	CHECK_STR(perr("*/0 * * * *"), "minute: step must be at least 1 in '*/0'");
	CHECK_STR(perr("0 0 1-10/0 * *"), "day of month: step must be at least 1 in '1-10/0'");
	CHECK_STR(perr("5x * * * *"), "minute: unexpected 'x' in '5x'");
	CHECK_STR(perr("*/5x * * * *"), "minute: unexpected 'x' in '*/5x'");
	CHECK_STR(perr("0 0 * * 1-2-3"), "day of week: unexpected '-3' in '1-2-3'");
	CHECK_STR(perr("0 */MON * * *"), "hour: expected a number in '*/MON'");
	CHECK_STR(perr("? * * * *"), "minute: '?' is only allowed in day of month and day of week");
	CHECK_STR(perr("0 0 * ? *"), "month: '?' is only allowed in day of month and day of week");
	CHECK_STR(perr("@reboot"), "unknown macro '@reboot'");
	CHECK_STR(perr("@daily x"), "unexpected 'x' after @daily");
	CHECK(!cron_parse("0 25 * * *", &c, NULL, 0));   /* no room for a message: still fails */
	char tiny[8];
	CHECK(!cron_parse("0 25 * * *", &c, tiny, sizeof(tiny)));
	CHECK_STR(tiny, "hour: 2");

	/* Next match, UTC. 2025-06-15 is a Sunday. */
	time_t noon = at(2025, 6, 15, 12, 0, 0);
	CHECK_STR(next("*/5 * * * * *", at(2025, 6, 15, 12, 0, 3)), "2025-06-15 12:00:05 Sun");
	CHECK_STR(next("*/5 * * * * *", at(2025, 6, 15, 12, 0, 5)), "2025-06-15 12:00:10 Sun");
	CHECK_STR(next("*/5 * * * * *", at(2025, 6, 15, 12, 59, 58)), "2025-06-15 13:00:00 Sun");
	CHECK_STR(next("* * * * *", noon), "2025-06-15 12:01:00 Sun");
	CHECK_STR(next("0 0 1 1 *", noon), "2026-01-01 00:00:00 Thu");
	CHECK_STR(next("0 0 1 1 *", at(2026, 1, 1, 0, 0, 0)), "2027-01-01 00:00:00 Fri");
	CHECK_STR(next("@yearly", at(2025, 12, 31, 23, 59, 59)), "2026-01-01 00:00:00 Thu");
	CHECK_STR(next("0 12 * * MON", noon), "2025-06-16 12:00:00 Mon");
	CHECK_STR(next("0 12 * * MON", at(2025, 6, 16, 12, 0, 0)), "2025-06-23 12:00:00 Mon");
	CHECK_STR(next("0 12 * * 1", at(2025, 6, 16, 11, 59, 59)), "2025-06-16 12:00:00 Mon");
	CHECK_STR(next("0 0 * * 7", noon), "2025-06-22 00:00:00 Sun");
	CHECK_STR(next("0 0 13 * 5", noon), "2025-06-20 00:00:00 Fri");   /* OR: a Friday */
	CHECK_STR(next("0 0 13 * 5", at(2025, 7, 11, 0, 0, 0)), "2025-07-13 00:00:00 Sun");   /* the 13th */
	CHECK_STR(next("0 0 13 * *", noon), "2025-07-13 00:00:00 Sun");
	CHECK_STR(next("0 0 * * 5", at(2025, 7, 11, 0, 0, 0)), "2025-07-18 00:00:00 Fri");
	CHECK_STR(next("0 0 13 * ?", noon), "2025-07-13 00:00:00 Sun");
	CHECK_STR(next("0 0 ? * FRI", at(2025, 7, 11, 0, 0, 0)), "2025-07-18 00:00:00 Fri");
	CHECK_STR(next("0 0 13 6 5", noon), "2025-06-20 00:00:00 Fri");   /* OR, within June */
	CHECK_STR(next("0 0 13 6 5", at(2025, 6, 27, 0, 0, 0)), "2026-06-05 00:00:00 Fri");
	CHECK_STR(next("0 0 29 2 *", at(2025, 3, 1, 0, 0, 0)), "2028-02-29 00:00:00 Tue");
	CHECK_STR(next("0 0 29 2 *", at(2028, 2, 29, 0, 0, 0)), "2032-02-29 00:00:00 Sun");
	CHECK_STR(next("0 0 29 2 *", at(2097, 3, 1, 0, 0, 0)), "never");   /* 2100 is no leap year */
	CHECK_STR(next("0 0 31 4 *", noon), "never");
	CHECK_STR(next("0 0 30 2 *", noon), "never");
	CHECK_STR(next("59 23 31 12 *", at(2025, 12, 31, 23, 59, 0)), "2026-12-31 23:59:00 Thu");
	CHECK_STR(next("@hourly", at(2025, 6, 15, 12, 34, 56)), "2025-06-15 13:00:00 Sun");
	CHECK_STR(next("@monthly", noon), "2025-07-01 00:00:00 Tue");
	CHECK_STR(next("@weekly", noon), "2025-06-22 00:00:00 Sun");
	CHECK_STR(next("30 15 10 * * *", noon), "2025-06-16 10:15:30 Mon");
	CHECK_STR(next("0 0 31 * *", at(2025, 6, 1, 0, 0, 0)), "2025-07-31 00:00:00 Thu");
	CHECK_STR(next("0 0 1 */5 *", noon), "2025-11-01 00:00:00 Sat");
	CHECK_STR(next("0 0 * * *", at(1969, 12, 31, 12, 0, 0)), "1970-01-01 00:00:00 Thu");

	CHECK(agrees_with_scan("*/7 3-5 * * *", noon, 40));
	CHECK(agrees_with_scan("15,45 */6 * * MON-FRI", noon, 30));
	CHECK(agrees_with_scan("*/20 */10 * * * *", noon, 100));
	CHECK(agrees_with_scan("0 0 13 * 5", noon, 10));
	CHECK(agrees_with_scan("59 59 23 28-31 * *", at(2024, 2, 1, 0, 0, 0), 6));

	/* DST, US Eastern 2025: clocks skip 02:00-03:00 on 9 March and repeat 01:00-02:00
	 * on 2 November. */
	set_tz("EST5EDT,M3.2.0,M11.1.0");
	struct cron d = parse("30 2 * * *");
	CHECK(cron_next(&d, at(2025, 3, 9, 0, 0, 0)) == 1741588200);   /* 2025-03-10 02:30 EDT */
	CHECK_STR(next("30 2 * * *", at(2025, 3, 8, 3, 0, 0)), "2025-03-10 02:30:00 Mon");
	d = parse("30 1 * * *");
	time_t first = cron_next(&d, at(2025, 11, 2, 0, 0, 0));
	CHECK(first == 1762061400);                   /* 01:30 EDT, the first one */
	CHECK(cron_next(&d, first) == 1762151400);    /* 3 November 01:30 EST */
	CHECK(cron_next(&d, first + 3600) == 1762151400);   /* from 01:30 EST: not again */
	CHECK_STR(next("0 3 * * *", at(2025, 3, 9, 1, 59, 59)), "2025-03-09 03:00:00 Sun");
	CHECK_STR(next("0 0 * * *", at(2025, 3, 8, 12, 0, 0)), "2025-03-09 00:00:00 Sun");
	CHECK(walk("*/13 * * * *", at(2025, 3, 8, 0, 0, 0), at(2025, 3, 11, 0, 0, 0)) > 300);
	CHECK(walk("*/13 * * * *", at(2025, 11, 1, 0, 0, 0), at(2025, 11, 4, 0, 0, 0)) > 300);
	CHECK(walk("0 * * * * *", at(2025, 11, 2, 0, 0, 0), at(2025, 11, 2, 4, 0, 0)) > 200);
	CHECK(walk("0 30 1,2,3 * * *", at(2025, 3, 1, 0, 0, 0), at(2025, 12, 1, 0, 0, 0)) > 700);

	return unit_report("test_cron");
}
