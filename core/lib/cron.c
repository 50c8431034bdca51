/* Cron expressions: the vixie-cron syntax plus an optional seconds field, and a
 * next-match search that jumps field by field (month, day, hour, minute, second)
 * instead of scanning, so a never-matching expression costs a few thousand steps. */
#include "lib/cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, NFIELDS };

static const char *const month_names[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL
};
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

static const struct field {
	const char *name;
	int lo, hi;
	int star_hi;                /* where '*' and "N/step" stop: day of week 7 is only an alias */
	const char *const *names;   /* three-letter names for lo, lo+1, ... */
	bool question;              /* '?' allowed */
} fields[NFIELDS] = {
	[F_SEC]  = { "second",       0, 59, 59, NULL,        false },
	[F_MIN]  = { "minute",       0, 59, 59, NULL,        false },
	[F_HOUR] = { "hour",         0, 23, 23, NULL,        false },
	[F_DOM]  = { "day of month", 1, 31, 31, NULL,        true },
	[F_MON]  = { "month",        1, 12, 12, month_names, false },
	[F_DOW]  = { "day of week",  0,  7,  6, day_names,   true },
};

static const char *const macros[][2] = {
	{ "@yearly",   "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly",   "0 0 * * 0" }, { "@daily",    "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly",   "0 * * * *" },
};

__attribute__((format(printf, 3, 4)))
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Digits only; huge numbers saturate (so they are reported as out of range, not wrapped). */
static bool read_number(const char **pp, const char *end, int *v)
{
	const char *p = *pp;
	long n = 0;
	while (p < end && isdigit((unsigned char)*p)) {
		if (n < 1000000)
			n = n * 10 + (*p - '0');
		p++;
	}
	if (p == *pp)
		return false;
	*v = (int)n;
	*pp = p;
	return true;
}

/* A number or, where the field has them, a name; item..end is the list item, for messages. */
static bool parse_value(const struct field *f, const char *item, const char *end,
                        const char **pp, int *v, char *err, size_t errlen)
{
	const char *start = *pp, *p = start;
	if (read_number(&p, end, v)) {
		if (*v < f->lo || *v > f->hi)
			return fail(err, errlen, "%s: %.*s is out of range %d-%d",
			            f->name, (int)(p - start), start, f->lo, f->hi);
	} else if (f->names && p < end && isalpha((unsigned char)*p)) {
		while (p < end && isalpha((unsigned char)*p))
			p++;
		int i = 0;
		while (f->names[i] && !(p - start == 3 && strncasecmp(start, f->names[i], 3) == 0))
			i++;
		if (!f->names[i])
			return fail(err, errlen, "%s: unknown name '%.*s'", f->name, (int)(p - start), start);
		*v = f->lo + i;
	} else {
		return fail(err, errlen, "%s: expected a number in '%.*s'",
		            f->name, (int)(end - item), item);
	}
	*pp = p;
	return true;
}

/* One list item: '*', '?', N, N-M, each optionally followed by /STEP. */
static bool parse_item(const struct field *f, const char *item, const char *end,
                       uint64_t *bits, char *err, size_t errlen)
{
	const char *p = item;
	int lo, hi, step = 1;
	bool single = false;

	if (*p == '*' || *p == '?') {
		if (*p == '?' && !f->question)
			return fail(err, errlen, "%s: '?' is only allowed in day of month and day of week",
			            f->name);
		lo = f->lo;
		hi = f->star_hi;
		p++;
	} else {
		if (!parse_value(f, item, end, &p, &lo, err, errlen))
			return false;
		hi = lo;
		single = true;
		if (p < end && *p == '-') {
			p++;
			if (!parse_value(f, item, end, &p, &hi, err, errlen))
				return false;
			if (lo > hi)
				return fail(err, errlen, "%s: range '%.*s' has start after end",
				            f->name, (int)(end - item), item);
			single = false;
		}
	}
	if (p < end && *p == '/') {
		p++;
		if (!read_number(&p, end, &step))
			return fail(err, errlen, "%s: expected a number in '%.*s'",
			            f->name, (int)(end - item), item);
		if (step == 0)
			return fail(err, errlen, "%s: step must be at least 1 in '%.*s'",
			            f->name, (int)(end - item), item);
		if (single)   /* "5/10" means 5-max/10 */
			hi = f->star_hi > lo ? f->star_hi : lo;
	}
	if (p != end)
		return fail(err, errlen, "%s: unexpected '%.*s' in '%.*s'",
		            f->name, (int)(end - p), p, (int)(end - item), item);
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return true;
}

static bool parse_field(const struct field *f, const char *s, const char *end,
                        uint64_t *bits, bool *any, char *err, size_t errlen)
{
	*bits = 0;
	*any = end - s == 1 && (*s == '*' || *s == '?');
	for (const char *item = s; ; ) {
		const char *e = item;
		while (e < end && *e != ',')
			e++;
		if (e == item)
			return fail(err, errlen, "%s: empty entry in '%.*s'", f->name, (int)(end - s), s);
		if (!parse_item(f, item, e, bits, err, errlen))
			return false;
		if (e == end)
			return true;
		item = e + 1;
	}
}

static bool parse_macro(const char *p, struct cron *c, char *err, size_t errlen)
{
	const char *end = p;
	while (*end && !isspace((unsigned char)*end))
		end++;
	for (const char *q = end; *q; q++)
		if (!isspace((unsigned char)*q))
			return fail(err, errlen, "unexpected '%s' after %.*s", q, (int)(end - p), p);
	size_t len = (size_t)(end - p);
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strlen(macros[i][0]) == len && strncasecmp(p, macros[i][0], len) == 0)
			return cron_parse(macros[i][1], c, err, errlen);
	return fail(err, errlen, "unknown macro '%.*s'", (int)len, p);
}

bool cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	const char *start[NFIELDS], *end[NFIELDS], *p = expr ? expr : "";
	int n = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '@')
		return parse_macro(p, c, err, errlen);
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n < NFIELDS)
			start[n] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (n < NFIELDS)
			end[n] = p;
		n++;
	}
	if (n != 5 && n != 6)
		return fail(err, errlen, "expected 5 or 6 fields, got %d", n);

	uint64_t bits[NFIELDS] = { [F_SEC] = 1 };   /* 5 fields: at second 0 */
	bool any[NFIELDS] = { false };
	int skip = NFIELDS - n;
	for (int i = skip; i < NFIELDS; i++)
		if (!parse_field(&fields[i], start[i - skip], end[i - skip], &bits[i], &any[i], err, errlen))
			return false;
	if (bits[F_DOW] & 1u << 7)   /* 7 is Sunday too */
		bits[F_DOW] = (bits[F_DOW] & 0x7f) | 1;

	*c = (struct cron){
		.sec = bits[F_SEC], .min = bits[F_MIN], .hour = (uint32_t)bits[F_HOUR],
		.dom = (uint32_t)bits[F_DOM], .mon = (uint16_t)bits[F_MON], .dow = (uint8_t)bits[F_DOW],
		.dom_any = any[F_DOM], .dow_any = any[F_DOW],
	};
	return true;
}

/* The smallest allowed value in from..hi, or -1. */
static int next_bit(uint64_t set, int from, int hi)
{
	for (int v = from; v <= hi; v++)
		if (set >> v & 1)
			return v;
	return -1;
}

static bool day_matches(const struct cron *c, const struct tm *tm)
{
	bool dom = c->dom >> tm->tm_mday & 1, dow = c->dow >> tm->tm_wday & 1;
	if (c->dom_any || c->dow_any)
		return dom && dow;
	return dom || dow;   /* both restricted: either will do */
}

/* The wall-clock time in *tm (mktime normalises overflowing fields), but never a time
 * <= now: where DST makes the wall-clock time ambiguous or missing, mktime's own pick
 * may lie behind us, so also try each DST reading and take the earliest ahead. */
static time_t jump(const struct tm *tm, time_t now)
{
	time_t best = -1;
	for (int dst = -1; dst <= 1; dst++) {
		struct tm x = *tm;
		x.tm_isdst = dst;
		time_t t = mktime(&x);
		if (t != -1 && t > now && (best == -1 || t < best))
			best = t;
		if (dst == -1 && best != -1)
			break;
	}
	return best;
}

time_t cron_next(const struct cron *c, time_t after)
{
	struct tm tm;
	if (!c->sec || !c->min || !c->hour || !c->dom || !c->mon || !c->dow)
		return -1;
	if (!localtime_r(&after, &tm))
		return -1;
	tm.tm_year += 5;
	tm.tm_isdst = -1;
	time_t limit = mktime(&tm), t = after + 1;
	if (limit == -1)
		return -1;

	/* Each pass either returns or moves t strictly forward to the next candidate. A day
	 * costs at most a handful of passes, so 5 years stay well under the cap. */
	for (int pass = 0; pass < 100000 && t <= limit; pass++) {
		if (!localtime_r(&t, &tm))
			return -1;
		struct tm to = tm;
		int mon = tm.tm_mon + 1, h = tm.tm_hour, m = tm.tm_min, s = tm.tm_sec, v;
		time_t next;
		to.tm_min = to.tm_sec = 0;

		if (!(c->mon >> mon & 1)) {
			if ((v = next_bit(c->mon, mon + 1, 12)) < 0) {
				to.tm_year++;
				v = next_bit(c->mon, 1, 12);
			}
			to.tm_mon = v - 1;
			to.tm_mday = 1;
			to.tm_hour = 0;
			next = jump(&to, t);
		} else if (!day_matches(c, &tm)) {
			to.tm_mday++;
			to.tm_hour = 0;
			next = jump(&to, t);
		} else if (!(c->hour >> h & 1)) {
			if ((v = next_bit(c->hour, h + 1, 23)) < 0) {
				to.tm_mday++;
				v = 0;
			}
			to.tm_hour = v;
			next = jump(&to, t);
		} else if (!(c->min >> m & 1)) {
			/* Within the hour, plain arithmetic; the next hour by the wall clock. */
			if ((v = next_bit(c->min, m + 1, 59)) >= 0) {
				next = t + (v - m) * 60 - s;
			} else {
				to.tm_hour++;
				next = jump(&to, t);
			}
		} else if (!(c->sec >> s & 1)) {
			v = next_bit(c->sec, s + 1, 59);
			next = t + (v >= 0 ? v - s : 60 - s);
		} else {
			return t;
		}
		if (next == -1)
			return -1;
		t = next > t ? next : t + 1;   /* a leap second (tm_sec 60) must not stall us */
	}
	return -1;
}
