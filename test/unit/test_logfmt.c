/* Log line formatting: every dayjs token in UTC and in a DST zone, brackets, the
 * default ISO form, plain and JSON lines (read back with json_parse), 1 MB lines, and
 * a benchmark that is printed, not checked. */
#include "unit.h"
#include "lib/logfmt.h"
#include "lib/json.h"

#include <stdlib.h>
#include <time.h>

#define T1 1772694489012LL   /* 2026-03-05T07:08:09.012Z, Thursday; EST 02:08 */
#define T2 1783182605500LL   /* 2026-07-04T16:30:05.500Z, Saturday; EDT 12:30 PM */
#define T3 1798693200000LL   /* 2026-12-31T05:00:00.000Z; EST midnight */
#define EST "EST5EDT,M3.2.0,M11.1.0"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
	datefmt_tz_changed();
}

static const char *fmt(const char *format, int64_t ms)
{
	static char out[DATEFMT_OUT_MAX];
	static char err[128];
	struct datefmt f;
	if (!datefmt_compile(&f, format, err, sizeof err))
		return err;
	datefmt_format(&f, ms, out, sizeof out);
	return out;
}

static void test_tokens_utc(void)
{
	set_tz("UTC");
	CHECK_STR(fmt("YYYY|YY|M|MM|MMM|MMMM", T1), "2026|26|3|03|Mar|March");
	CHECK_STR(fmt("D|DD|d|dd|ddd|dddd", T1), "5|05|4|Th|Thu|Thursday");
	CHECK_STR(fmt("H|HH|h|hh|m|mm|s|ss|SSS", T1), "7|07|7|07|8|08|9|09|012");
	CHECK_STR(fmt("A|a|Z|ZZ|X|x", T1), "AM|am|+00:00|+0000|1772694489|1772694489012");
	CHECK_STR(fmt("H h hh A a", T2), "16 4 04 PM pm");
	CHECK_STR(fmt("MMMM D dddd", T2), "July 4 Saturday");
	CHECK_STR(fmt("MMMM DD dddd SSS", T3), "December 31 Thursday 000");
	CHECK_STR(fmt(NULL, T1), "2026-03-05T07:08:09.012+00:00");
	CHECK_STR(fmt("", T1), "2026-03-05T07:08:09.012+00:00");
	CHECK_STR(fmt("YYYY-MM-DD HH:mm:ss Z", T1), "2026-03-05 07:08:09 +00:00");
	/* before 1970 the milliseconds count up from the earlier second, as Date does */
	CHECK_STR(fmt("YYYY-MM-DD HH:mm:ss.SSS X", -1), "1969-12-31 23:59:59.999 -1");
	CHECK_STR(fmt("YYYY|YY|M|D", 0), "1970|70|1|1");
}

static void test_tokens_dst(void)
{
	set_tz(EST);
	CHECK_STR(fmt("YYYY|YY|M|MM|MMM|MMMM", T1), "2026|26|3|03|Mar|March");
	CHECK_STR(fmt("D|DD|d|dd|ddd|dddd", T1), "5|05|4|Th|Thu|Thursday");
	CHECK_STR(fmt("H|HH|h|hh|m|mm|s|ss|SSS", T1), "2|02|2|02|8|08|9|09|012");
	CHECK_STR(fmt("A|a|Z|ZZ|X|x", T1), "AM|am|-05:00|-0500|1772694489|1772694489012");
	CHECK_STR(fmt(NULL, T1), "2026-03-05T02:08:09.012-05:00");
	CHECK_STR(fmt("H|HH|h|hh|A|a|Z|ZZ", T2), "12|12|12|12|PM|pm|-04:00|-0400");
	CHECK_STR(fmt("d dd ddd dddd", T2), "6 Sa Sat Saturday");
	CHECK_STR(fmt("H|HH|h|hh|A|a", T3), "0|00|12|12|AM|am");
	CHECK_STR(fmt("YYYY-MM-DD", T3), "2026-12-31");
	/* the per-second cache follows the clock and TZ changes */
	CHECK_STR(fmt("HH:mm:ss.SSS", T1 + 988), "02:08:10.000");
	CHECK_STR(fmt("HH:mm:ss.SSS", T1 + 987), "02:08:09.999");
	set_tz("UTC");
	CHECK_STR(fmt("HH:mm:ss.SSS", T1 + 987), "07:08:09.999");
}

static void test_literals(void)
{
	set_tz("UTC");
	CHECK_STR(fmt("[YYYY] YYYY", T1), "YYYY 2026");
	CHECK_STR(fmt("[at] HH[h]mm", T1), "at 07h08");
	CHECK_STR(fmt("[]YY", T1), "[]26");          /* dayjs wants one char inside */
	CHECK_STR(fmt("[YYYY", T1), "[2026");        /* unclosed: a plain '[' */
	CHECK_STR(fmt("YYYY]", T1), "2026]");
	CHECK_STR(fmt("YYYYY|YYY|Y", T1), "2026Y|26Y|Y");
	CHECK_STR(fmt("MMMMM DDD ddddd HHH SS SSSS", T1), "March3 055 Thursday4 077 SS 012S");
	CHECK_STR(fmt("Do Q k w é\xff", T1), "5o Q k w é\xff");
	CHECK_STR(fmt("[[x]] x", 5), "[x] 5");

	char big[DATEFMT_MAX + 2], err[128] = "";
	struct datefmt f;
	memset(big, 'x', sizeof big);
	big[DATEFMT_MAX] = 0;
	CHECK(datefmt_compile(&f, big, err, sizeof err));
	char out[DATEFMT_OUT_MAX];
	CHECK(datefmt_format(&f, INT64_MIN, out, sizeof out) == DATEFMT_MAX * 20);  /* the bound */
	CHECK(datefmt_format(&f, T1, out, sizeof out) == DATEFMT_MAX * 13);
	big[DATEFMT_MAX] = 'x';
	big[DATEFMT_MAX + 1] = 0;
	CHECK(!datefmt_compile(&f, big, err, sizeof err));
	CHECK_STR(err, "date format is 129 bytes long, at most 128");

	/* truncation keeps a NUL */
	CHECK(datefmt_compile(&f, "YYYY-MM-DD", err, sizeof err));
	CHECK(datefmt_format(&f, T1, out, 5) == 4);
	CHECK_STR(out, "2026");
}

static void test_plain(void)
{
	set_tz("UTC");
	struct buf b = {0};
	struct datefmt f;
	char err[64];
	struct logline_opts o = { .app_name = "api", .process_id = 3 };
	logline_append(&b, &o, LOG_OUT, T1, "hello", 5);
	logline_append(&b, &o, LOG_ERR, T1, "", 0);
	CHECK_STR(b.data, "hello\n\n");
	buf_reset(&b);
	CHECK(datefmt_compile(&f, "YYYY-MM-DD HH:mm:ss Z", err, sizeof err));
	o.time = &f;
	logline_append(&b, &o, LOG_OUT, T1, "a\0b", 3);
	CHECK(b.len == 32 && !memcmp(b.data, "2026-03-05 07:08:09 +00:00: a\0b\n", 32));
	buf_free(&b);
}

/* Parse one JSON line and check every field. */
static void check_json(const char *text, size_t len, const char *msg, size_t msglen,
                       const char *ts, const char *type, long long id, const char *app)
{
	struct jdoc d;
	CHECK(len > 0 && text[len - 1] == '\n');
	CHECK(memchr(text, '\n', len) == text + len - 1);
	if (!json_parse(&d, text, len)) {
		fprintf(stderr, "json_parse: %s\n", d.err);
		CHECK(!"valid JSON");
		return;
	}
	char *m = json_dup(&d, json_get(&d, 0, "message"));
	CHECK(m && strlen(m) == msglen && !memcmp(m, msg, msglen));
	free(m);
	CHECK(json_eq(&d, json_get(&d, 0, "timestamp"), ts));
	CHECK(json_eq(&d, json_get(&d, 0, "type"), type));
	long long n = -1;
	CHECK(json_as_ll(&d, json_get(&d, 0, "process_id"), &n) && n == id);
	CHECK(json_eq(&d, json_get(&d, 0, "app_name"), app));
	CHECK(json_child(&d, 0, 0) >= 0 && json_eq(&d, json_child(&d, 0, 0), "message"));
	json_free(&d);
}

static void test_json(void)
{
	set_tz(EST);
	struct buf b = {0};
	struct logline_opts o = { .json = true, .app_name = "api \"1\"", .process_id = 7 };
	logline_append(&b, &o, LOG_OUT, T1, "hi", 2);
	CHECK_STR(b.data, "{\"message\":\"hi\",\"timestamp\":\"2026-03-05T07:08:09.012Z\","
	          "\"type\":\"out\",\"process_id\":7,\"app_name\":\"api \\\"1\\\"\"}\n");
	size_t first = b.len;
	/* a second line in the same buffer: no comma from the JSON writer */
	static const char nasty[] = "q\"b\\s/\x01\t\r\x1f\x7f é \xff\xc0\x80 \xed\xa0\x80 end";
	logline_append(&b, &o, LOG_ERR, T1, nasty, sizeof nasty - 1);
	CHECK(b.data[first] == '{');
	check_json(b.data, first, "hi", 2, "2026-03-05T07:08:09.012Z", "out", 7, "api \"1\"");
	static const char want[] = "q\"b\\s/\x01\t\r\x1f\x7f é \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                           " \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end";
	check_json(b.data + first, b.len - first, want, sizeof want - 1,
	           "2026-03-05T07:08:09.012Z", "err", 7, "api \"1\"");

	struct datefmt f;
	char err[64];
	CHECK(datefmt_compile(&f, "YYYY-MM-DD HH:mm Z", err, sizeof err));
	o.time = &f;
	o.app_name = NULL;
	o.process_id = -1;
	buf_reset(&b);
	logline_append(&b, &o, LOG_OUT, T2, "", 0);
	CHECK_STR(b.data, "{\"message\":\"\",\"timestamp\":\"2026-07-04 12:30 -04:00\","
	          "\"type\":\"out\",\"process_id\":-1,\"app_name\":null}\n");
	buf_free(&b);
}

static void test_long_lines(void)
{
	set_tz("UTC");
	size_t n = 1 << 20;
	char *line = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		line[i] = (char)('a' + i % 26);
	line[n / 2] = '"';
	struct buf b = {0};
	struct datefmt f;
	char err[64];
	CHECK(datefmt_compile(&f, "HH:mm:ss", err, sizeof err));
	struct logline_opts o = { .time = &f, .app_name = "big" };
	logline_append(&b, &o, LOG_OUT, T1, line, n);
	CHECK(b.len == 10 + n + 1 && !memcmp(b.data, "07:08:09: ", 10));
	CHECK(!memcmp(b.data + 10, line, n) && b.data[b.len - 1] == '\n');
	buf_reset(&b);
	o.json = true;
	logline_append(&b, &o, LOG_ERR, T1, line, n);
	check_json(b.data, b.len, line, n, "07:08:09", "err", 0, "big");
	buf_free(&b);
	free(line);
}

static double bench(const struct logline_opts *o, const char *line)
{
	enum { LINES = 1000000 };
	struct buf b = {0};
	struct timespec t0, t1;
	size_t len = strlen(line);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < LINES; i++) {
		if (b.len > (1 << 20))
			buf_reset(&b);   /* stands in for the write(2) */
		logline_append(&b, o, LOG_OUT, T1 + i, line, len);   /* 1000 lines a second */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	buf_free(&b);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / LINES;
}

static void test_bench(void)
{
	set_tz(EST);
	const char *line = "GET /api/v1/users/42 200 3.1ms - Mozilla/5.0 (X11; Linux x86_64)";
	struct datefmt f;
	char err[64];
	CHECK(datefmt_compile(&f, "YYYY-MM-DD HH:mm:ss Z", err, sizeof err));
	struct logline_opts o = { .time = &f, .app_name = "api" };
	double plain = bench(&o, line);
	o.json = true;
	double json = bench(&o, line);
	printf("bench: %zu-byte line, 'YYYY-MM-DD HH:mm:ss Z': plain %.1f ns/line, json %.1f ns/line\n",
	       strlen(line), plain, json);
}

int main(void)
{
	test_tokens_utc();
	test_tokens_dst();
	test_literals();
	test_plain();
	test_json();
	test_long_lines();
	test_bench();
	return unit_report("test_logfmt");
}
