/* The strict JSON-with-comments checker that runs before jsmn. */
#include "unit.h"
#include "lib/json.h"
#include "lib/jsonc.h"

#include <stdlib.h>

static char result[8192];

/* The input goes in a buffer of exactly its length, with no NUL after it, so that
 * ASan catches any read past the end. Returns the cleaned text or the error. */
static const char *run(const char *in, bool *ok)
{
	size_t n = strlen(in);
	char *t = malloc(n ? n : 1);
	memcpy(t, in, n);
	char err[128] = "(no message)";
	*ok = jsonc_clean(t, n, err, sizeof err);
	if (*ok) {
		CHECK(n < sizeof result);
		memcpy(result, t, n);
		result[n] = 0;
	} else {
		snprintf(result, sizeof result, "%s", err);
	}
	free(t);
	return result;
}

static const char *err_of(const char *in)
{
	bool ok;
	const char *r = run(in, &ok);
	return ok ? "(accepted)" : r;
}

static const char *clean(const char *in)
{
	bool ok;
	const char *r = run(in, &ok);
	return ok ? r : "(rejected)";
}

/* Cleaned text must be something jsmn accepts, with the value of key as expected. */
static bool parses_with(const char *in, const char *key, const char *want)
{
	char text[4096];
	size_t n = strlen(in);
	if (n >= sizeof text)
		return false;
	memcpy(text, in, n + 1);
	if (!jsonc_clean(text, n, NULL, 0))
		return false;
	struct jdoc d;
	if (!json_parse(&d, text, n))
		return false;
	char *v = json_dup(&d, json_get(&d, 0, key));
	bool same = v && strcmp(v, want) == 0;
	free(v);
	json_free(&d);
	return same;
}

static void test_errors(void)
{
	CHECK_STR(err_of("{\n  \"apps\": [\n    {\"name\": \"a\" \"script\": \"x\"}\n"),
	          "3:18: expected ',' or '}'");
	CHECK_STR(err_of("[1 2]"), "1:4: expected ',' or ']'");
	CHECK_STR(err_of("{1:2}"), "1:2: expected a string key");
	CHECK_STR(err_of("{a:1}"), "1:2: expected a string key");
	CHECK_STR(err_of("{\"a\" 1}"), "1:6: expected ':'");
	CHECK_STR(err_of("{\"a\":}"), "1:6: expected a value");
	CHECK_STR(err_of("[,1]"), "1:2: expected a value");
	CHECK_STR(err_of("[,]"), "1:2: expected a value");
	CHECK_STR(err_of("{,}"), "1:2: expected a string key");
	CHECK_STR(err_of("[1,,]"), "1:4: expected a value");
	CHECK_STR(err_of("{\"a\":1,,}"), "1:8: expected a string key");
	CHECK_STR(err_of("[1],"), "1:4: unexpected text after the JSON value");
	CHECK_STR(err_of("{} {}"), "1:4: unexpected text after the JSON value");
	CHECK_STR(err_of("1 2"), "1:3: unexpected text after the JSON value");

	CHECK_STR(err_of("[1,\n 2"), "2:3: unexpected end of input");
	CHECK_STR(err_of("{\"a\""), "1:5: unexpected end of input");
	CHECK_STR(err_of("{\"a\":"), "1:6: unexpected end of input");
	CHECK_STR(err_of("{\"a\":1,"), "1:8: unexpected end of input");
	CHECK_STR(err_of("["), "1:2: unexpected end of input");
	CHECK_STR(err_of("[1 // comment"), "1:14: unexpected end of input");

	CHECK_STR(err_of("[\"abc"), "1:2: unterminated string");
	CHECK_STR(err_of("[\"abc\\"), "1:2: unterminated string");
	CHECK_STR(err_of("[\"\\u12"), "1:2: unterminated string");
	CHECK_STR(err_of("[\"a\nb\"]"), "1:4: control character in a string");
	CHECK_STR(err_of("[\"a\tb\"]"), "1:4: control character in a string");
	CHECK_STR(err_of("[\"a\\\nb\"]"), "1:5: control character in a string");
	CHECK_STR(err_of("[\"a\\xb\"]"), "1:4: bad escape \\x");
	CHECK_STR(err_of("[\"\\'\"]"), "1:3: bad escape \\'");
	CHECK_STR(err_of("[\"\\\xc3\xa9\"]"), "1:3: bad escape \\<0xc3>");
	CHECK_STR(err_of("[\"\\u12g4\"]"), "1:3: bad \\u escape");
	CHECK_STR(err_of("[\"\\u12\"]"), "1:3: bad \\u escape");

	CHECK_STR(err_of("[01]"), "1:2: bad number");
	CHECK_STR(err_of("[1.]"), "1:2: bad number");
	CHECK_STR(err_of("[-]"), "1:2: bad number");
	CHECK_STR(err_of("[1e]"), "1:2: bad number");
	CHECK_STR(err_of("[1e+]"), "1:2: bad number");
	CHECK_STR(err_of("[+1]"), "1:2: bad number");
	CHECK_STR(err_of("[.5]"), "1:2: bad number");
	CHECK_STR(err_of("[1.2.3]"), "1:2: bad number");
	CHECK_STR(err_of("[12abc]"), "1:2: bad number");
	CHECK_STR(err_of("-"), "1:1: bad number");

	CHECK_STR(err_of("[tru]"), "1:2: expected a value");
	CHECK_STR(err_of("[nul]"), "1:2: expected a value");
	CHECK_STR(err_of("[truex]"), "1:2: expected a value");
	CHECK_STR(err_of("{\"a\": undefined}"), "1:7: expected a value");
	CHECK_STR(err_of("[NaN]"), "1:2: expected a value");
	CHECK_STR(err_of("[True]"), "1:2: expected a value");
	CHECK_STR(err_of("['a']"), "1:2: expected a value");
	CHECK_STR(err_of("[\xc3\xa9]"), "1:2: expected a value");

	CHECK_STR(err_of("[1, /* open\n\n"), "1:5: unterminated comment");
	CHECK_STR(err_of("/*/"), "1:1: unterminated comment");
	CHECK_STR(err_of("[/]"), "1:2: expected a value");
	CHECK_STR(err_of("[1 / 2]"), "1:4: expected ',' or ']'");
	CHECK_STR(err_of("{\"a\":1 /}"), "1:8: expected ',' or '}'");
	CHECK_STR(err_of("{/}"), "1:2: expected a string key");
	CHECK_STR(err_of("[1] /"), "1:5: unexpected text after the JSON value");
	CHECK_STR(err_of("[1 /"), "1:4: expected ',' or ']'");

	CHECK_STR(err_of(""), "1:1: empty document");
	CHECK_STR(err_of("  \n\t "), "2:3: empty document");
	CHECK_STR(err_of("// nothing\n/* at all */"), "2:13: empty document");

	/* CRLF files: the CR is a byte of the line it ends */
	CHECK_STR(err_of("[1,\r\n 2 3]"), "2:4: expected ',' or ']'");
	char buf[32] = "x";
	/* only ASCII whitespace */
	CHECK_STR(err_of("[1,\f2]"), "1:4: expected a value");
	char nul[] = { '[', 0, ']' };
	CHECK(!jsonc_clean(nul, sizeof nul, buf, sizeof buf));
	CHECK_STR(buf, "1:2: expected a value");

	/* err is optional and always terminated, however short */
	strcpy(buf, "x");
	CHECK(!jsonc_clean((char[]){"[1 2]"}, 5, NULL, 0));
	CHECK(!jsonc_clean((char[]){"[1 2]"}, 5, buf, 0) && strcmp(buf, "x") == 0);
	CHECK(!jsonc_clean((char[]){"[1 2]"}, 5, buf, 6) && strcmp(buf, "1:4: ") == 0);
}

static void test_depth(void)
{
	static char deep[2 * (JSONC_MAX_DEPTH + 1) + 1];
	for (int i = 0; i < JSONC_MAX_DEPTH; i++) {
		deep[i] = '[';
		deep[JSONC_MAX_DEPTH + i] = ']';
	}
	deep[2 * JSONC_MAX_DEPTH] = 0;
	CHECK(strcmp(clean(deep), deep) == 0);

	memset(deep, '[', JSONC_MAX_DEPTH + 1);
	memset(deep + JSONC_MAX_DEPTH + 1, ']', JSONC_MAX_DEPTH + 1);
	deep[2 * (JSONC_MAX_DEPTH + 1)] = 0;
	CHECK_STR(err_of(deep), "1:513: nested too deep");

	/* objects count too */
	struct buf b = {0};
	for (int i = 0; i <= JSONC_MAX_DEPTH; i++)
		buf_puts(&b, "{\"a\":");
	CHECK_STR(err_of(b.data), "1:2561: nested too deep");
	buf_free(&b);
}

static void test_accepted(void)
{
	CHECK_STR(clean("{}"), "{}");
	CHECK_STR(clean("[]"), "[]");
	CHECK_STR(clean(" [ ] "), " [ ] ");
	CHECK_STR(clean("\"s\""), "\"s\"");
	CHECK_STR(clean("0"), "0");
	CHECK_STR(clean("-0.5e-3"), "-0.5e-3");
	CHECK_STR(clean("[1E+2, 10, 0, -1.25, 3e0]"), "[1E+2, 10, 0, -1.25, 3e0]");
	CHECK_STR(clean("[true,false,null]"), "[true,false,null]");
	CHECK_STR(clean("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uABCD\"]"),
	          "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uABCD\"]");
	/* strings are bytes: no UTF-8 check */
	CHECK_STR(clean("[\"h\xc3\xa9\xff\x7f\"]"), "[\"h\xc3\xa9\xff\x7f\"]");
	CHECK_STR(clean("\r\n[1,\r\n2]\r\n"), "\r\n[1,\r\n2]\r\n");
}

static void test_comments(void)
{
	/* before and after the document */
	CHECK_STR(clean("// head\n{}\n// tail"), "       \n{}\n       ");
	CHECK_STR(clean("/* a */{}/* b */"), "       {}       ");
	/* between key and colon, colon and value, value and comma */
	CHECK_STR(clean("{\"a\"/*k*/:/*v*/1/*c*/,\"b\"//x\n:2}"),
	          "{\"a\"     :     1     ,\"b\"   \n:2}");
	/* inside arrays, including empty ones */
	CHECK_STR(clean("[/* none */]"), "[          ]");
	CHECK_STR(clean("[1, // one\n 2 /* two */, 3]"), "[1,       \n 2          , 3]");
	/* newlines inside block comments are kept; everything else in them goes */
	CHECK_STR(clean("[1, /* a\n b\r\n */ 2]"), "[1,     \n   \n    2]");
	/* comment markers inside a comment */
	CHECK_STR(clean("[/* // */ 1 // /* \n]"), "[         1       \n]");
	CHECK_STR(clean("[/***/1/**/]"), "[     1    ]");
	/* a line comment ending the file, with no newline */
	CHECK_STR(clean("[1]//"), "[1]  ");

	/* comment-like text inside strings is data */
	CHECK_STR(clean("{\"url\": \"http://x\", \"c\": \"/* no */\"}"),
	          "{\"url\": \"http://x\", \"c\": \"/* no */\"}");
	CHECK_STR(clean("[\"//\", \"\\\"/*\", \"*/\"]"), "[\"//\", \"\\\"/*\", \"*/\"]");
	CHECK_STR(clean("{\"// k\": 1}"), "{\"// k\": 1}");
}

static void test_trailing_commas(void)
{
	CHECK_STR(clean("[1,]"), "[1 ]");
	CHECK_STR(clean("{\"a\":1,}"), "{\"a\":1 }");
	CHECK_STR(clean("[[1,],{\"a\":[2,],},]"), "[[1 ],{\"a\":[2 ] } ]");
	/* a comma is trailing whatever comes between it and the bracket */
	CHECK_STR(clean("[1, // last\n]"), "[1         \n]");
	CHECK_STR(clean("[1 /* x */ , /* y */ ]"), "[1                   ]");
	/* a comma that separates stays, even with comments around it */
	CHECK_STR(clean("[1 , /* y */ 2]"), "[1 ,         2]");
	/* a comma inside a string is never trailing */
	CHECK_STR(clean("[\",]\"]"), "[\",]\"]");
}

static void test_with_jsmn(void)
{
	const char *eco =
		"// ecosystem.config.json\n"
		"{\n"
		"  /* the apps */\n"
		"  \"apps\": [\n"
		"    {\n"
		"      \"name\": \"web\",  // the front\n"
		"      \"script\": \"server.js\",\n"
		"      \"args\": [\"--port\", \"80\",],\n"
		"    },\n"
		"  ],\n"
		"  \"url\": \"http://example.com/*x*/\", // trailing\n"
		"}\n";
	size_t n = strlen(eco);
	char *t = malloc(n);
	memcpy(t, eco, n);
	char err[128] = "";
	CHECK(jsonc_clean(t, n, err, sizeof err));
	CHECK_STR(err, "");
	struct jdoc d;
	CHECK(json_parse(&d, t, n));
	int apps = json_get(&d, 0, "apps");
	CHECK(apps > 0 && d.tok[apps].size == 1);
	int app = json_child(&d, apps, 0);
	char *name = json_dup(&d, json_get(&d, app, "name"));
	CHECK_STR(name, "web");
	free(name);
	int args = json_get(&d, app, "args");
	CHECK(args > 0 && d.tok[args].size == 2);
	char *url = json_dup(&d, json_get(&d, 0, "url"));
	CHECK_STR(url, "http://example.com/*x*/");
	free(url);
	json_free(&d);
	free(t);

	CHECK(parses_with("{\"a\"/*c*/:/*c*/\"x\",}", "a", "x"));
	CHECK(parses_with("{\"a\": [1, [2,],], \"b\": \"//\",}", "b", "//"));
	CHECK(parses_with("{\"a\": {\"b\": {},},\n\"c\": \"\\u00e9\" // c\n}", "c", "\xc3\xa9"));
}

int main(void)
{
	test_errors();
	test_depth();
	test_accepted();
	test_comments();
	test_trailing_commas();
	test_with_jsmn();
	return unit_report("test_jsonc");
}
