/* log_date_format: a dayjs format compiled once, then used on every log line. The
 * format comes from the user; the times and the lines from the app.
 *
 * Input: the format, optionally followed by a NUL, 8 bytes of time (ms since the
 * epoch, any int64), a byte choosing the time zone, a byte for the output buffer's
 * size, and then a log line (any bytes). */
#include "fuzz.h"
#include "lib/json.h"
#include "lib/jsonc.h"
#include "lib/logfmt.h"

/* A log line in log_type json is JSON: jsmn and the strict checker both read it. */
static void check_json_line(const struct buf *b, size_t from)
{
	size_t n = b->len - from;
	FUZZ_ASSERT(n >= 2 && b->data[b->len - 1] == '\n');
	char *text = xstrndup(b->data + from, n - 1);
	struct jdoc d;
	FUZZ_ASSERT(json_parse(&d, text, n - 1) && d.tok[0].type == JSMN_OBJECT);
	FUZZ_ASSERT(json_is_str(&d, json_get(&d, 0, "message")));
	FUZZ_ASSERT(json_is_str(&d, json_get(&d, 0, "timestamp")));
	json_free(&d);
	FUZZ_ASSERT(jsonc_clean(text, n - 1, NULL, 0));
	free(text);
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
	char *fmt = fuzz_cstr(data, size, &rest, &restlen);
	int64_t ms = restlen ? (int64_t)fuzz_u64(&rest, &restlen) : 1700000000123LL;
	if (fuzz_set_zone(fuzz_u8(&rest, &restlen)))
		datefmt_tz_changed();
	size_t small = 1 + fuzz_u8(&rest, &restlen) % 64;

	struct datefmt f;
	memset(&f, 0x5a, sizeof f);
	struct datefmt before = f;
	char err[128];
	err[0] = 0;
	if (!datefmt_compile(&f, fmt, err, sizeof err)) {
		FUZZ_ASSERT(err[0] != 0 && strlen(fmt) > DATEFMT_MAX);
		FUZZ_ASSERT(memcmp(&f, &before, sizeof f) == 0);
		free(fmt);
		return 0;
	}
	FUZZ_ASSERT(f.nop <= DATEFMT_MAX);

	/* "an output buffer this big is never truncated", and at most 20 bytes per
	 * format byte (the default format, for "", is 24 bytes) */
	char big[DATEFMT_OUT_MAX];
	size_t n = datefmt_format(&f, ms, big, sizeof big);
	FUZZ_ASSERT(n < sizeof big && big[n] == 0 && strlen(big) <= n);
	FUZZ_ASSERT(n <= 20 * (*fmt ? strlen(fmt) : 24));
	/* A small buffer gets the same text, cut. */
	char cut[64];
	size_t m = datefmt_format(&f, ms, cut, small);
	FUZZ_ASSERT(m == (n < small - 1 ? n : small - 1) && cut[m] == 0 && memcmp(cut, big, m) == 0);

	/* The log line around it: plain, timestamped, and JSON with and without the
	 * format; a JSON line must be JSON whatever bytes the app wrote. */
	const char *line = (const char *)rest;
	struct buf b = {0};
	struct logline_opts o = {.time = &f, .app_name = fmt, .process_id = (int)(ms & 0xffff)};
	logline_append(&b, &o, LOG_OUT, ms, line, restlen);
	FUZZ_ASSERT(b.len == n + 2 + restlen + 1);   /* "<time>: <line>\n" */
	o.json = true;
	size_t from = b.len;
	logline_append(&b, &o, LOG_ERR, ms, line, restlen);
	check_json_line(&b, from);
	o.time = NULL;
	from = b.len;
	logline_append(&b, &o, LOG_OUT, ms, line, restlen);
	check_json_line(&b, from);
	buf_free(&b);
	free(fmt);
	return 0;
}
