/* The JSON writer and the jsmn-based reader. */
#include "unit.h"
#include "lib/json.h"

#include <stdlib.h>

int main(void)
{
	struct buf b = {0};
	json_open(&b, '{');
	json_kstr(&b, "name", "a\"b\\c\n\t\x01");
	json_kint(&b, "n", -42);
	json_key(&b, "list");
	json_open(&b, '[');
	json_int(&b, 1);
	json_str(&b, NULL);
	json_bool(&b, true);
	json_open(&b, '{');
	json_close(&b, '}');
	json_close(&b, ']');
	json_kstr(&b, "utf8", "h\xc3\xa9llo");
	json_close(&b, '}');
	CHECK_STR(b.data, "{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"n\":-42,"
	                  "\"list\":[1,null,true,{}],\"utf8\":\"h\xc3\xa9llo\"}");

	struct jdoc d;
	CHECK(json_parse(&d, b.data, b.len));
	char *name = json_dup(&d, json_get(&d, 0, "name"));
	CHECK_STR(name, "a\"b\\c\n\t\x01");
	free(name);
	long long n = 0;
	CHECK(json_as_ll(&d, json_get(&d, 0, "n"), &n) && n == -42);
	int list = json_get(&d, 0, "list");
	CHECK(list > 0 && d.tok[list].size == 4);
	CHECK(json_is_null(&d, json_child(&d, list, 1)));
	bool t = false;
	CHECK(json_as_bool(&d, json_child(&d, list, 2), &t) && t);
	CHECK(json_child(&d, list, 4) == -1);
	char *u = json_dup(&d, json_get(&d, 0, "utf8"));
	CHECK_STR(u, "h\xc3\xa9llo");
	free(u);
	CHECK(json_get(&d, 0, "missing") == -1);
	CHECK(json_get(&d, list, "name") == -1);   /* not an object */
	json_free(&d);
	buf_free(&b);

	/* \u escapes, surrogate pairs */
	const char *esc = "{\"s\":\"\\u00e9\\ud83d\\ude00\\/\"}";
	CHECK(json_parse(&d, esc, strlen(esc)));
	char *s = json_dup(&d, json_get(&d, 0, "s"));
	CHECK_STR(s, "\xc3\xa9\xf0\x9f\x98\x80/");
	free(s);
	json_free(&d);

	/* errors carry line:column */
	const char *bad = "{\"a\": 1,\n  \"b\" 2}";
	CHECK(!json_parse(&d, bad, strlen(bad)));
	CHECK(strncmp(d.err, "2:", 2) == 0);
	const char *part = "{\"a\": [1, 2";
	CHECK(!json_parse(&d, part, strlen(part)));
	CHECK(strstr(d.err, "end of input") != NULL);
	CHECK(!json_parse(&d, "", 0));
	/* a bare number or literal (fuzz finding 7): said as such, not "end of input";
	 * the text has no NUL after it */
	char bare[] = {' ', '4', '2'};
	CHECK(!json_parse(&d, bare, sizeof bare));
	CHECK_STR(d.err, "1:2: a bare value: expected an object or an array");

	/* large documents grow the token array */
	struct buf big = {0};
	json_open(&big, '[');
	for (int i = 0; i < 5000; i++)
		json_int(&big, i);
	json_close(&big, ']');
	CHECK(json_parse(&d, big.data, big.len));
	CHECK(d.tok[0].size == 5000);
	CHECK(json_as_ll(&d, json_child(&d, 0, 4999), &n) && n == 4999);
	json_free(&d);
	buf_free(&big);

	/* numbers that are not integers */
	const char *nums = "[1.5, 1e3, true]";
	CHECK(json_parse(&d, nums, strlen(nums)));
	CHECK(!json_as_ll(&d, json_child(&d, 0, 0), &n));
	CHECK(json_as_ll(&d, json_child(&d, 0, 1), &n) && n == 1000);
	CHECK(!json_as_ll(&d, json_child(&d, 0, 2), &n));
	json_free(&d);
	/* Output is valid UTF-8: bad bytes become U+FFFD; json_bytes keeps them. */
	struct buf u8 = {0};
	json_strn(&u8, "caf\xe9 ok \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x98\x80", 19);
	CHECK_STR(u8.data, "\"caf\\ufffd ok \xc3\xa9 \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
	buf_reset(&u8);
	json_bytes(&u8, "caf\xe9");
	CHECK_STR(u8.data, "\"caf\xe9\"");
	buf_free(&u8);
	return unit_report("json");
}
