#include "lib/jsonc.h"

#include <stdio.h>
#include <string.h>

struct jc {
	char *t;
	size_t len, pos;
	size_t err_at;
	const char *err;
	char msg[32];          /* messages that quote a byte of the input */
};

static bool fail(struct jc *j, size_t at, const char *msg)
{
	j->err_at = at;
	j->err = msg;
	return false;
}

static bool at_end(const struct jc *j)
{
	return j->pos >= j->len;
}

/* Only the JSON whitespace: a form feed or NBSP in a config file is more likely a
 * paste accident than layout, and jsmn would not skip it either. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Letters and digits run together into one "word", so that "truex" or "undefined"
 * is reported once, at its start, rather than as "true" followed by junk. */
static bool is_word(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' || c == '$';
}

/* Comments are blanked as they are passed: there is no second pass to do it. A '/'
 * that starts no comment is left for the caller, whose context says what was
 * expected there. */
static bool skip_space(struct jc *j)
{
	while (j->pos < j->len) {
		char c = j->t[j->pos];
		if (is_space(c)) {
			j->pos++;
			continue;
		}
		if (c != '/' || j->pos + 1 >= j->len)
			return true;
		char d = j->t[j->pos + 1];
		if (d == '/') {
			/* the newline ends the comment but is not part of it */
			while (j->pos < j->len && j->t[j->pos] != '\n')
				j->t[j->pos++] = ' ';
		} else if (d == '*') {
			size_t open = j->pos, i = j->pos + 2;
			while (i + 1 < j->len && !(j->t[i] == '*' && j->t[i + 1] == '/'))
				i++;
			if (i + 1 >= j->len)
				return fail(j, open, "unterminated comment");
			/* newlines stay so that jsmn's line numbers match the file's */
			for (j->pos = open; j->pos < i + 2; j->pos++)
				if (j->t[j->pos] != '\n')
					j->t[j->pos] = ' ';
		} else {
			return true;
		}
	}
	return true;
}

static bool scan_string(struct jc *j)
{
	size_t open = j->pos++;
	while (j->pos < j->len) {
		unsigned char c = (unsigned char)j->t[j->pos];
		if (c == '"') {
			j->pos++;
			return true;
		}
		if (c < 0x20)
			return fail(j, j->pos, "control character in a string");
		if (c != '\\') {
			j->pos++;
			continue;
		}
		size_t esc = j->pos++;
		if (at_end(j))
			break;
		c = (unsigned char)j->t[j->pos];
		if (c == 'u') {
			for (int k = 0; k < 4; k++) {
				j->pos++;
				if (at_end(j))
					return fail(j, open, "unterminated string");
				if (!is_hex(j->t[j->pos]))
					return fail(j, esc, "bad \\u escape");
			}
		} else if (c < 0x20) {
			/* a raw newline after '\' is the control character's fault, not the escape's */
			return fail(j, j->pos, "control character in a string");
		} else if (!memchr("\"\\/bfnrt", c, 8)) {
			if (c < 0x7f)
				snprintf(j->msg, sizeof j->msg, "bad escape \\%c", c);
			else
				snprintf(j->msg, sizeof j->msg, "bad escape \\<0x%02x>", c);
			return fail(j, esc, j->msg);
		}
		j->pos++;
	}
	return fail(j, open, "unterminated string");
}

static bool scan_digits(struct jc *j)
{
	size_t start = j->pos;
	while (!at_end(j) && is_digit(j->t[j->pos]))
		j->pos++;
	return j->pos > start;
}

static char peek(const struct jc *j)
{
	return at_end(j) ? 0 : j->t[j->pos];
}

/* Every error points at the number's first byte: "01" or "1." is one mistake. */
static bool scan_number(struct jc *j)
{
	size_t start = j->pos;
	if (peek(j) == '-')
		j->pos++;
	if (peek(j) == '0')
		j->pos++;
	else if (!scan_digits(j))
		return fail(j, start, "bad number");
	if (peek(j) == '.') {
		j->pos++;
		if (!scan_digits(j))
			return fail(j, start, "bad number");
	}
	if (peek(j) == 'e' || peek(j) == 'E') {
		j->pos++;
		if (peek(j) == '+' || peek(j) == '-')
			j->pos++;
		if (!scan_digits(j))
			return fail(j, start, "bad number");
	}
	char c = peek(j);
	if (is_word(c) || c == '.' || c == '+' || c == '-')
		return fail(j, start, "bad number");
	return true;
}

static bool scan_literal(struct jc *j)
{
	size_t start = j->pos;
	while (!at_end(j) && is_word(j->t[j->pos]))
		j->pos++;
	size_t n = j->pos - start;
	const char *w = j->t + start;
	if ((n == 4 && memcmp(w, "true", 4) == 0) || (n == 5 && memcmp(w, "false", 5) == 0) ||
	    (n == 4 && memcmp(w, "null", 4) == 0))
		return true;
	return fail(j, start, "expected a value");
}

static bool scan_scalar(struct jc *j)
{
	char c = j->t[j->pos];
	if (c == '"')
		return scan_string(j);
	/* '+' and '.' are not JSON, but a reader who typed them meant a number */
	if (c == '-' || c == '+' || c == '.' || is_digit(c))
		return scan_number(j);
	return scan_literal(j);
}

enum want { WANT_VALUE, WANT_KEY, WANT_NEXT };

/* Iterative, with the open brackets on a fixed stack: a hostile file cannot exhaust
 * the C stack, and the depth cap is a plain comparison. */
static bool walk(struct jc *j)
{
	char open[JSONC_MAX_DEPTH];
	int depth = 0;
	enum want want = WANT_VALUE;

	if (!skip_space(j))
		return false;
	if (at_end(j))
		return fail(j, j->len, "empty document");
	for (;;) {
		if (!skip_space(j))
			return false;
		if (at_end(j)) {
			if (depth == 0 && want == WANT_NEXT)
				return true;
			return fail(j, j->len, "unexpected end of input");
		}
		char c = j->t[j->pos];

		if (want == WANT_NEXT) {
			if (depth == 0)
				return fail(j, j->pos, "unexpected text after the JSON value");
			char close = open[depth - 1] == '{' ? '}' : ']';
			if (c == close) {
				j->pos++;
				depth--;
				continue;
			}
			if (c != ',')
				return fail(j, j->pos, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
			size_t comma = j->pos++;
			if (!skip_space(j))
				return false;
			if (!at_end(j) && j->t[j->pos] == close) {
				j->t[comma] = ' ';
				j->pos++;
				depth--;
				continue;
			}
			want = close == '}' ? WANT_KEY : WANT_VALUE;
			continue;
		}

		if (want == WANT_KEY) {
			if (c != '"')
				return fail(j, j->pos, "expected a string key");
			if (!scan_string(j) || !skip_space(j))
				return false;
			if (at_end(j))
				return fail(j, j->len, "unexpected end of input");
			if (j->t[j->pos] != ':')
				return fail(j, j->pos, "expected ':'");
			j->pos++;
			want = WANT_VALUE;
			continue;
		}

		if (c == '{' || c == '[') {
			if (depth == JSONC_MAX_DEPTH)
				return fail(j, j->pos, "nested too deep");
			open[depth++] = c;
			j->pos++;
			if (!skip_space(j))
				return false;
			/* an empty container; a comma right after the bracket is never trailing */
			if (!at_end(j) && j->t[j->pos] == (c == '{' ? '}' : ']')) {
				j->pos++;
				depth--;
				want = WANT_NEXT;
			} else {
				want = c == '{' ? WANT_KEY : WANT_VALUE;
			}
			continue;
		}
		if (!scan_scalar(j))
			return false;
		want = WANT_NEXT;
	}
}

bool jsonc_clean(char *text, size_t len, char *err, size_t errlen)
{
	struct jc j = { .t = text, .len = len };
	if (walk(&j))
		return true;
	size_t line = 1, bol = 0;
	for (size_t i = 0; i < j.err_at; i++) {
		if (text[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	if (err && errlen)
		snprintf(err, errlen, "%zu:%zu: %s", line, j.err_at - bol + 1, j.err);
	return false;
}
