/* The protocol's request decoder: json_parse (jsmn) and the token helpers the daemon
 * reads a request with, on whatever bytes a client sends down the socket; then the
 * writer, whose output for any bytes must read back as what it promised. */
#include "fuzz.h"
#include "lib/json.h"
#include "lib/jsonc.h"

#include <math.h>

/* Keys the daemon looks up in a request (ctl.c) and in an app object (spec.c). */
static const char *const keys[] = {
	"cmd", "build", "targets", "apps", "shell_env", "watch", "force", "parallel", "out",
	"err", "stream", "signal", "env", "name", "script", "args", "cwd", "instances",
	"exec_interpreter", "kill_timeout", "max_memory_restart", "cron_restart", "listen",
	"log_date_format", "status",
};

/* Walks at most this many tokens: a document of every helper on every token costs
 * O(tokens x depth), and libFuzzer's inputs stay short anyway. */
enum { MAX_WALK = 2048 };

/* What ctl_request and spec.c do with a request: the command, the build, the target
 * words, each app's scalars and arrays, through the public helpers only. */
static void read_request(const struct jdoc *d)
{
	if (d->tok[0].type != JSMN_OBJECT)
		return;
	free(json_dup(d, json_get(d, 0, "cmd")));
	free(json_dup(d, json_get(d, 0, "build")));
	int t = json_get(d, 0, "targets");
	if (t >= 0 && d->tok[t].type == JSMN_ARRAY)
		for (int i = 0, e = t + 1; i < d->tok[t].size && e < d->ntok; i++, e = json_next(d, e))
			if (json_is_str(d, e))
				free(json_dup(d, e));
	int apps = json_get(d, 0, "apps");
	if (apps < 0 || d->tok[apps].type != JSMN_ARRAY)
		return;
	for (int i = 0, a = apps + 1; i < d->tok[apps].size && a < d->ntok; i++, a = json_next(d, a)) {
		for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
			int v = json_get(d, a, keys[k]);
			long long n;
			bool flag;
			if (json_as_ll(d, v, &n))
				FUZZ_ASSERT(d->tok[v].type == JSMN_PRIMITIVE);
			json_as_bool(d, v, &flag);
			if (json_is_str(d, v))
				free(json_dup(d, v));
		}
	}
}

/* jsmn's strict mode still takes keys without values ({"a"}, {"a","b":1}), which
 * json_parse must refuse: whoever walks an object pair by pair (json_copy_members
 * here; spec.c's env_layer walks a request's "env" the same way) would read tokens
 * past the last one jsmn wrote. ASan cannot see that read: the token array is larger
 * than its tokens, and its fill bytes make the garbage token empty. So the pairing is
 * checked here, for every object json_parse accepted. */
static bool members_paired(const struct jdoc *d, int obj)
{
	for (int k = 0, key = obj + 1; k < d->tok[obj].size; k++) {
		if (key + 1 >= d->ntok || d->tok[key].type != JSMN_STRING || d->tok[key + 1].parent != key)
			return false;
		key = json_next(d, key + 1);
	}
	return true;
}

/* Every helper on every token, with the bounds they promise. */
static void walk(const struct jdoc *d, bool strict_json)
{
	static const char *const skip[] = {"status", "force"};
	int ntok = d->ntok < MAX_WALK ? d->ntok : MAX_WALK;
	for (int i = 0; i < ntok; i++) {
		const jsmntok_t *t = &d->tok[i];
		int next = json_next(d, i);
		FUZZ_ASSERT(next > i && next <= d->ntok);
		int size = t->size;
		int picks[] = {0, size / 2, size - 1, size};
		for (size_t p = 0; p < ARRAY_LEN(picks); p++) {
			int c = json_child(d, i, picks[p]);
			FUZZ_ASSERT(c == -1 || (c > i && c <= d->ntok));
			/* A key's size is 1 in jsmn (its value), so keys have a child too. */
			if (picks[p] >= size || picks[p] < 0)
				FUZZ_ASSERT(c == -1);
		}
		char *s = json_dup(d, i);
		if (s && t->type == JSMN_STRING)
			FUZZ_ASSERT(strlen(s) <= (size_t)(t->end - t->start));
		free(s);
		long long n;
		bool flag;
		if (json_as_ll(d, i, &n))
			FUZZ_ASSERT(t->type == JSMN_PRIMITIVE);
		if (json_as_bool(d, i, &flag))
			FUZZ_ASSERT(t->type == JSMN_PRIMITIVE);
		json_is_null(d, i);
		if (t->type != JSMN_OBJECT)
			continue;
		for (size_t k = 0; k < 4; k++) {
			int v = json_get(d, i, keys[k]);
			FUZZ_ASSERT(v == -1 || (v > i && v < d->ntok));
		}
		/* The daemon's save writes app objects back this way (dump.c, spec.c). */
		FUZZ_ASSERT(members_paired(d, i));
		struct buf b = {0};
		json_open(&b, '{');
		json_copy_members(&b, d, i, skip, 2);
		json_close(&b, '}');
		if (strict_json) {
			struct jdoc copy;
			FUZZ_ASSERT(json_parse(&copy, b.data, b.len));
			json_free(&copy);
		}
		buf_free(&b);
	}
}

/* The oracle for json_strn, written apart from json.c: every byte that does not start
 * a well-formed UTF-8 sequence (no overlong forms, no surrogates, nothing past
 * U+10FFFF) becomes U+FFFD, and everything else stays. */
static size_t well_formed(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned long cp, min;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void sanitize(const uint8_t *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n;) {
		size_t len = well_formed(s + i, n - i);
		if (len) {
			buf_add(out, s + i, len);
			i += len;
		} else {
			buf_add(out, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

/* A document that holds one string written by the writer reads back as `want`. */
static void check_string_doc(const struct buf *doc, const char *want, size_t wantlen)
{
	struct jdoc d;
	FUZZ_ASSERT(json_parse(&d, doc->data, doc->len));
	FUZZ_ASSERT(d.ntok == 1 && d.tok[0].type == JSMN_STRING);
	FUZZ_ASSERT(d.tok[0].start == 1 && (size_t)d.tok[0].end == doc->len - 1);
	size_t n = (size_t)(d.tok[0].end - d.tok[0].start);
	char *out = xmalloc(n + 1);
	long len = json_unescape(doc->data + 1, n, out);
	FUZZ_ASSERT(len >= 0 && (size_t)len == wantlen && memcmp(out, want, wantlen) == 0);
	free(out);
	/* json_dup gives a C string: the same bytes, or NULL for a string that holds a
	 * NUL (\u0000), which json_has_nul tells. */
	char *dup = json_dup(&d, 0);
	bool nul = memchr(want, 0, wantlen) != NULL;
	FUZZ_ASSERT(json_has_nul(&d, 0) == nul);
	if (nul)
		FUZZ_ASSERT(dup == NULL);
	else
		FUZZ_ASSERT(dup && strlen(dup) == wantlen && memcmp(dup, want, wantlen) == 0);
	free(dup);
	json_free(&d);
	/* The strict checker agrees that it is JSON. */
	char *copy = xstrndup(doc->data, doc->len);
	FUZZ_ASSERT(jsonc_clean(copy, doc->len, NULL, 0));
	FUZZ_ASSERT(memcmp(copy, doc->data, doc->len) == 0);
	free(copy);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct buf doc = {0}, want = {0};
	json_strn(&doc, (const char *)data, size);
	sanitize(data, size, &want);
	check_string_doc(&doc, want.data ? want.data : "", want.len);
	buf_free(&doc);
	buf_free(&want);

	/* json_bytes keeps bytes >= 0x80 as they are: what went in comes out. */
	char *s = fuzz_cstr(data, size, NULL, NULL);
	json_bytes(&doc, s);
	check_string_doc(&doc, s, strlen(s));
	buf_free(&doc);
	free(s);

	/* Hex strings carry any bytes, NULs too, across the daemon's exec. */
	json_open(&doc, '{');
	json_khex(&doc, "fds", data, size);
	json_close(&doc, '}');
	struct jdoc h;
	FUZZ_ASSERT(json_parse(&h, doc.data, doc.len));
	struct buf bytes = {0};
	FUZZ_ASSERT(json_hex(&h, json_get(&h, 0, "fds"), &bytes));
	FUZZ_ASSERT(bytes.len == size && (size == 0 || memcmp(bytes.data, data, size) == 0));
	buf_free(&bytes);
	json_free(&h);
	buf_free(&doc);

	/* Numbers. json_as_ll reads through a double, so integers are exact to 2^53 only;
	 * json_num is only asked for CPU percentages, and converts through long long, so
	 * it is fed what fits one (beyond that, the conversion itself is undefined). */
	const uint8_t *p = data;
	size_t left = size;
	uint64_t bits = fuzz_u64(&p, &left);
	long long v = (long long)bits;
	double x;
	memcpy(&x, &bits, sizeof x);
	if (!isfinite(x) || fabs(x) >= 9.0e18)
		x = 0.5;
	json_open(&doc, '[');
	json_int(&doc, v);
	json_num(&doc, x);
	json_close(&doc, ']');
	struct jdoc d;
	FUZZ_ASSERT(json_parse(&d, doc.data, doc.len) && d.ntok == 3);
	long long back;
	if (v >= -(1LL << 53) && v <= (1LL << 53))
		FUZZ_ASSERT(json_as_ll(&d, 1, &back) && back == v);
	json_free(&d);
	char *copy = xstrndup(doc.data, doc.len);
	FUZZ_ASSERT(jsonc_clean(copy, doc.len, NULL, 0));
	free(copy);
	buf_free(&doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The daemon hands json_parse the line as received, with its length. */
	const char *text = (const char *)data;
	struct jdoc d;
	if (json_parse(&d, text, size)) {
		/* one value, every object member a string key with one value */
		FUZZ_ASSERT(d.ntok > 0 && d.tok != NULL && json_next(&d, 0) == d.ntok);
		/* Text the strict checker passes is JSON proper: what is copied out of it must
		 * parse again. jsmn alone also takes {"a"} or [1 2]. */
		char *copy = xstrndup(text, size);
		bool strict = jsonc_clean(copy, size, NULL, 0) && memcmp(copy, text, size) == 0;
		free(copy);
		read_request(&d);
		walk(&d, strict);
		json_free(&d);
	} else {
		FUZZ_ASSERT(d.tok == NULL && d.err[0]);
	}
	round_trip(data, size);
	return 0;
}
