#include "lib/logfmt.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
	T_LIT, T_YYYY, T_YY, T_M, T_MM, T_MMM, T_MMMM, T_D, T_DD, T_d, T_dd, T_ddd, T_dddd,
	T_H, T_HH, T_h, T_hh, T_m, T_mm, T_s, T_ss, T_SSS, T_A, T_a, T_Z, T_ZZ, T_X, T_x,
};

/* Longest spelling of each letter first, so the first match is the longest. */
static const struct { char name[5]; uint8_t tok; } tokens[] = {
	{"YYYY", T_YYYY}, {"YY", T_YY},
	{"MMMM", T_MMMM}, {"MMM", T_MMM}, {"MM", T_MM}, {"M", T_M},
	{"DD", T_DD}, {"D", T_D},
	{"dddd", T_dddd}, {"ddd", T_ddd}, {"dd", T_dd}, {"d", T_d},
	{"HH", T_HH}, {"H", T_H}, {"hh", T_hh}, {"h", T_h},
	{"mm", T_mm}, {"m", T_m}, {"ss", T_ss}, {"s", T_s}, {"SSS", T_SSS},
	{"A", T_A}, {"a", T_a}, {"ZZ", T_ZZ}, {"Z", T_Z}, {"X", T_X}, {"x", T_x},
};

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};
static const char *const day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* Where the literal bytes end: every op's off + len (tokens have len 0). */
static uint8_t lit_end(const struct datefmt *f)
{
	return f->nop ? (uint8_t)(f->op[f->nop - 1].off + f->op[f->nop - 1].len) : 0;
}

static void add_literal(struct datefmt *f, const char *s, size_t n)
{
	uint8_t end = lit_end(f);
	memcpy(f->lit + end, s, n);
	if (f->nop && f->op[f->nop - 1].tok == T_LIT)   /* merge: "[T]" next to "-" */
		f->op[f->nop - 1].len += (uint8_t)n;
	else
		f->op[f->nop++] = (struct datefmt_op){ T_LIT, (uint8_t)n, end };
}

static void add_token(struct datefmt *f, uint8_t tok)
{
	f->op[f->nop] = (struct datefmt_op){ tok, 0, lit_end(f) };
	f->nop++;
}

static void compile(struct datefmt *f, const char *fmt, bool utc)
{
	memset(f, 0, sizeof *f);
	f->utc = utc;
	for (const char *p = fmt; *p;) {
		if (*p == '[') {   /* dayjs: \[([^\]]+)] */
			const char *end = strchr(p + 1, ']');
			if (end && end > p + 1) {
				add_literal(f, p + 1, (size_t)(end - p - 1));
				p = end + 1;
				continue;
			}
		}
		size_t i;
		for (i = 0; i < ARRAY_LEN(tokens); i++)
			if (!strncmp(p, tokens[i].name, strlen(tokens[i].name)))
				break;
		if (i < ARRAY_LEN(tokens)) {
			add_token(f, tokens[i].tok);
			p += strlen(tokens[i].name);
		} else {
			add_literal(f, p++, 1);
		}
	}
}

bool datefmt_compile(struct datefmt *f, const char *fmt, char *err, size_t errlen)
{
	if (!fmt || !*fmt)
		fmt = "YYYY-MM-DDTHH:mm:ss.SSSZ";
	size_t n = strlen(fmt);
	if (n > DATEFMT_MAX) {
		snprintf(err, errlen, "date format is %zu bytes long, at most %d", n, DATEFMT_MAX);
		return false;
	}
	compile(f, fmt, false);
	return true;
}

/* localtime_r is the expensive part (musl re-reads TZ on every call): remember the
 * answer for the last second asked, one slot for local time and one for UTC. */
static struct tm_cache {
	bool valid;
	int64_t sec;
	struct tm tm;
} cache[2];

void datefmt_tz_changed(void)
{
	cache[0].valid = false;
}

static const struct tm *broken_down(int64_t sec, bool utc)
{
	struct tm_cache *c = &cache[utc];
	if (c->valid && c->sec == sec)
		return &c->tm;
	time_t t = (time_t)sec;
	if ((int64_t)t != sec || !(utc ? gmtime_r(&t, &c->tm) : localtime_r(&t, &c->tm))) {
		c->valid = false;
		return NULL;
	}
	c->valid = true;
	c->sec = sec;
	return &c->tm;
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

static char *put1or2(char *p, unsigned v)
{
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	return put2(p, v);
}

static char *put_int(char *p, int64_t v)
{
	char digits[24], *d = digits + sizeof digits;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--d = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--d = '-';
	size_t n = (size_t)(digits + sizeof digits - d);
	memcpy(p, d, n);
	return p + n;
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_zone(char *p, long gmtoff, bool colon)
{
	*p++ = gmtoff < 0 ? '-' : '+';
	unsigned min = (unsigned)((gmtoff < 0 ? -gmtoff : gmtoff) / 60);
	p = put2(p, min / 60);
	if (colon)
		*p++ = ':';
	return put2(p, min % 60);
}

/* A time taken apart once per line, for every operation to use. */
struct parts {
	int year;
	unsigned mon, mday, wday, hour, h12, min, sec, msec;
	long gmtoff;
	int64_t unix_s, unix_ms;
};

/* Writes at most 20 bytes per format byte: the bound behind DATEFMT_OUT_MAX. */
static char *put_op(char *p, const struct datefmt *f, const struct datefmt_op *op,
                    const struct parts *t)
{
	switch (op->tok) {
	case T_LIT: return put_str(p, f->lit + op->off, op->len);
	case T_YYYY:
		if (t->year >= 0 && t->year <= 9999)
			return put2(put2(p, (unsigned)t->year / 100), (unsigned)t->year % 100);
		return put_int(p, t->year);
	case T_YY: return put2(p, (unsigned)(t->year < 0 ? -t->year : t->year) % 100);
	case T_M: return put1or2(p, t->mon + 1);
	case T_MM: return put2(p, t->mon + 1);
	case T_MMM: return put_str(p, month_names[t->mon], 3);
	case T_MMMM: return put_str(p, month_names[t->mon], strlen(month_names[t->mon]));
	case T_D: return put1or2(p, t->mday);
	case T_DD: return put2(p, t->mday);
	case T_d: return put1or2(p, t->wday);
	case T_dd: return put_str(p, day_names[t->wday], 2);
	case T_ddd: return put_str(p, day_names[t->wday], 3);
	case T_dddd: return put_str(p, day_names[t->wday], strlen(day_names[t->wday]));
	case T_H: return put1or2(p, t->hour);
	case T_HH: return put2(p, t->hour);
	case T_h: return put1or2(p, t->h12);
	case T_hh: return put2(p, t->h12);
	case T_m: return put1or2(p, t->min);
	case T_mm: return put2(p, t->min);
	case T_s: return put1or2(p, t->sec);
	case T_ss: return put2(p, t->sec);
	case T_SSS: *p++ = (char)('0' + t->msec / 100); return put2(p, t->msec % 100);
	case T_A: return put_str(p, t->hour < 12 ? "AM" : "PM", 2);
	case T_a: return put_str(p, t->hour < 12 ? "am" : "pm", 2);
	case T_Z: return put_zone(p, t->gmtoff, true);
	case T_ZZ: return put_zone(p, t->gmtoff, false);
	case T_X: return put_int(p, t->unix_s);
	case T_x: return put_int(p, t->unix_ms);
	}
	return p;
}

size_t datefmt_format(const struct datefmt *f, int64_t ms, char *out, size_t outlen)
{
	if (!outlen)
		return 0;
	int64_t sec = ms / 1000, rem = ms % 1000;
	if (rem < 0) {   /* before 1970: floor, as Date does */
		rem += 1000;
		sec--;
	}
	const struct tm *tm = broken_down(sec, f->utc);
	if (!tm) {
		out[0] = 0;
		return 0;
	}
	unsigned hour = (unsigned)tm->tm_hour;
	struct parts t = {
		.year = tm->tm_year + 1900, .mon = (unsigned)tm->tm_mon % 12,
		.mday = (unsigned)tm->tm_mday, .wday = (unsigned)tm->tm_wday % 7,
		.hour = hour, .h12 = hour % 12 ? hour % 12 : 12,
		.min = (unsigned)tm->tm_min, .sec = (unsigned)tm->tm_sec, .msec = (unsigned)rem,
		.gmtoff = f->utc ? 0 : tm->tm_gmtoff, .unix_s = sec, .unix_ms = ms,
	};
	char tmp[DATEFMT_OUT_MAX];
	char *start = outlen >= DATEFMT_OUT_MAX ? out : tmp, *p = start;
	for (unsigned i = 0; i < f->nop; i++)
		p = put_op(p, f, &f->op[i], &t);
	size_t n = (size_t)(p - start);
	if (start == tmp) {
		if (n > outlen - 1)
			n = outlen - 1;
		memcpy(out, tmp, n);
	}
	out[n] = 0;
	return n;
}

/* PM2's JSON default, Date.prototype.toISOString(). */
static const struct datefmt *iso_utc(void)
{
	static struct datefmt f;
	if (!f.nop)
		compile(&f, "YYYY-MM-DDTHH:mm:ss.SSS[Z]", true);
	return &f;
}

void logline_append(struct buf *out, const struct logline_opts *o, enum log_kind kind,
                    int64_t ms, const char *line, size_t len)
{
	char ts[DATEFMT_OUT_MAX];
	size_t n;
	if (!o->json) {
		if (o->time) {
			n = datefmt_format(o->time, ms, ts, sizeof ts);
			buf_grow(out, n + 2 + len + 1);
			buf_add(out, ts, n);
			buf_add(out, ": ", 2);
		}
		buf_add(out, line, len);
		buf_putc(out, '\n');
		return;
	}
	n = datefmt_format(o->time ? o->time : iso_utc(), ms, ts, sizeof ts);
	buf_grow(out, len + n + 128);
	buf_putc(out, '{');   /* not json_open: that would put a comma after the last line */
	json_key(out, "message");
	json_strn(out, line, len);
	json_key(out, "timestamp");
	json_strn(out, ts, n);
	json_kstr(out, "type", kind == LOG_ERR ? "err" : "out");
	json_kint(out, "process_id", o->process_id);
	json_kstr(out, "app_name", o->app_name);
	buf_add(out, "}\n", 2);
}
