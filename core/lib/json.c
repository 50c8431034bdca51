#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>   /* the implementation lives in this object only */

#include "lib/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_sep(struct buf *b)
{
	if (b->len == 0)
		return;
	char last = b->data[b->len - 1];
	if (last != '{' && last != '[' && last != ':' && last != '\n')   /* (\n: JSON lines) */
		buf_putc(b, ',');
}

void json_open(struct buf *b, char bracket)
{
	json_sep(b);
	buf_putc(b, bracket);
}

void json_close(struct buf *b, char bracket)
{
	buf_putc(b, bracket);
}

void json_key(struct buf *b, const char *key)
{
	json_str(b, key);
	buf_putc(b, ':');
}

void json_keyn(struct buf *b, const char *key, size_t n)
{
	json_strn(b, key, n);
	buf_putc(b, ':');
}

/* raw: bytes >= 0x80 pass as they are (the protocol, where an app's environment must
 * arrive byte for byte); else invalid UTF-8 becomes U+FFFD (output for people and
 * JSON parsers). */
static void put_string(struct buf *b, const char *s, size_t n, bool raw)
{
	static const char hex[] = "0123456789abcdef";
	json_sep(b);
	buf_grow(b, n + 2);
	buf_putc(b, '"');
	size_t run = 0;   /* bytes copied as they are, flushed in one go */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 && !raw) {
			size_t len = utf8_char_len((const unsigned char *)s + i, n - i);
			if (len) {
				i += len - 1;
				continue;
			}
			buf_add(b, s + run, i - run);
			run = i + 1;
			buf_puts(b, "\\ufffd");
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		char esc[7] = {'\\', 0};
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
		}
		buf_add(b, esc, strlen(esc));
	}
	buf_add(b, s + run, n - run);
	buf_putc(b, '"');
}

void json_strn(struct buf *b, const char *s, size_t n) { put_string(b, s, n, false); }
void json_bytes(struct buf *b, const char *s) { put_string(b, s, strlen(s), true); }

void json_str(struct buf *b, const char *s)
{
	if (!s)
		json_null(b);
	else
		json_strn(b, s, strlen(s));
}

void json_int(struct buf *b, long long v)
{
	/* By hand: jlist writes tens of thousands of these. */
	char digits[24], *p = digits + sizeof digits;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	json_sep(b);
	buf_add(b, p, (size_t)(digits + sizeof digits - p));
}

void json_num(struct buf *b, double v)
{
	json_sep(b);
	if (!isfinite(v))
		v = 0;
	if (v == (double)(long long)v)
		buf_printf(b, "%lld", (long long)v);
	else
		buf_printf(b, "%.4g", v);
}

void json_bool(struct buf *b, bool v)
{
	json_sep(b);
	buf_puts(b, v ? "true" : "false");
}

void json_null(struct buf *b)
{
	json_sep(b);
	buf_puts(b, "null");
}

void json_raw(struct buf *b, const char *text, size_t n)
{
	json_sep(b);
	buf_add(b, text, n);
}

void json_kstr(struct buf *b, const char *key, const char *s) { json_key(b, key); json_str(b, s); }
void json_kint(struct buf *b, const char *key, long long v) { json_key(b, key); json_int(b, v); }
void json_kbool(struct buf *b, const char *key, bool v) { json_key(b, key); json_bool(b, v); }

static void locate(const char *text, size_t pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos; i++) {
		if (text[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

/* jsmn's strict mode still takes {"a"}, {"a","b":1} and {"a" "b"}: an object's size
 * counts its keys, and a walk that takes key + 1 as the value would read tokens jsmn
 * never wrote. Check every object member is a string key with one value, and that the
 * document is one value; iteratively, however deep it nests. -1 when it is, else the
 * offending token. */
static int misshapen(const struct jdoc *d)
{
	struct frame {
		int left;
		bool object;
		int end;   /* where the container ends: its values must lie inside */
	} *stack = xmalloc((size_t)d->ntok * sizeof *stack);
	int top = 0, bad = -1;
	for (int i = 0; i < d->ntok && bad < 0; i++) {
		const jsmntok_t *t = &d->tok[i];
		bool key = top > 0 && stack[top - 1].object;
		if (top == 0 && i > 0)
			bad = i;   /* a second root value */
		else if (key && (t->type != JSMN_STRING || t->size != 1))
			bad = i;
		else if (!key && (t->type == JSMN_STRING || t->type == JSMN_PRIMITIVE) && t->size != 0)
			bad = i;   /* a key where a value should be */
		else if (top > 0 && t->end > stack[top - 1].end)
			bad = i;   /* jsmn closed the container early and hung this on a key */
		if (bad >= 0)
			break;
		if (top > 0)
			stack[top - 1].left--;
		if (t->size > 0) {
			/* a key's value lies inside the key's object, not inside the key */
			int end = key ? stack[top - 1].end : t->end;
			stack[top++] = (struct frame){t->size, t->type == JSMN_OBJECT, end};
		}
		while (top > 0 && stack[top - 1].left == 0)
			top--;
	}
	if (bad < 0 && top > 0)
		bad = d->ntok - 1;
	free(stack);
	return bad;
}

enum { JSON_MAX_DEPTH = 512 };

/* jsmn walks up the parents at every closing bracket: a document nested a million deep
 * takes hours. Where it nests deeper than JSON_MAX_DEPTH, or 0: one linear look first. */
static size_t too_deep(const char *text, size_t len)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return i + 1;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 0;
}

bool json_parse(struct jdoc *d, const char *text, size_t len)
{
	jsmn_parser p;
	d->text = text;
	d->len = len;
	d->tok = NULL;
	d->ntok = 0;
	d->err[0] = 0;
	size_t deep = too_deep(text, len);
	if (deep) {
		int line, col;
		locate(text, deep - 1, &line, &col);
		snprintf(d->err, sizeof d->err, "%d:%d: nested deeper than %d levels", line, col, JSON_MAX_DEPTH);
		return false;
	}
	unsigned cap = 64;
	for (;;) {
		d->tok = xrealloc(d->tok, cap * sizeof *d->tok);
		jsmn_init(&p);
		int n = jsmn_parse(&p, text, len, d->tok, cap);
		if (n == JSMN_ERROR_NOMEM && cap < (1u << 24)) {
			cap *= 4;
			continue;
		}
		int bad = -1;
		if (n > 0) {
			d->ntok = n;
			if ((bad = misshapen(d)) < 0)
				return true;
			p.pos = (unsigned)d->tok[bad].start;
		}
		int line, col;
		locate(text, p.pos < len ? p.pos : len, &line, &col);
		size_t lead = 0;   /* text need not end with a NUL */
		while (lead < len && strchr(" \t\r\n", text[lead]) && text[lead])
			lead++;
		/* jsmn wants a delimiter after a primitive: "42" alone ends "too early" */
		bool bare = n == JSMN_ERROR_PART && lead < len && text[lead] &&
		            strchr("-0123456789tfn", text[lead]);
		const char *why = bad >= 0 ? "a key without a value, or a value without a key"
			: bare ? "a bare value: expected an object or an array"
			: n == 0 ? "empty document"
			: n == JSMN_ERROR_PART ? "unexpected end of input"
			: n == JSMN_ERROR_NOMEM ? "document too large"
			: "unexpected character";
		snprintf(d->err, sizeof d->err, "%d:%d: %s", line, col, why);
		free(d->tok);
		d->tok = NULL;
		d->ntok = 0;
		return false;
	}
}

void json_free(struct jdoc *d)
{
	free(d->tok);
	d->tok = NULL;
	d->ntok = 0;
}

int json_next(const struct jdoc *d, int i)
{
	if (i < 0 || i >= d->ntok)
		return d->ntok;
	int end = d->tok[i].end;
	for (i++; i < d->ntok && d->tok[i].start < end; i++)
		;
	return i;
}

int json_child(const struct jdoc *d, int c, int n)
{
	if (c < 0 || c >= d->ntok || n < 0 || n >= d->tok[c].size)
		return -1;
	int i = c + 1;
	while (n-- > 0) {
		if (d->tok[c].type == JSMN_OBJECT)
			i = json_next(d, i);   /* skip the key */
		i = json_next(d, i);
	}
	return i;
}

int json_get(const struct jdoc *d, int obj, const char *key)
{
	if (obj < 0 || obj >= d->ntok || d->tok[obj].type != JSMN_OBJECT)
		return -1;
	/* A key given twice: the last one counts, as in JavaScript (JSON.parse, object
	 * literals), so PM2's files mean here what they mean to PM2. */
	int i = obj + 1, found = -1;
	for (int k = 0; k < d->tok[obj].size && i + 1 < d->ntok; k++) {
		if (json_eq(d, i, key))
			found = i + 1;
		i = json_next(d, i + 1);
	}
	return found;
}

bool json_is_str(const struct jdoc *d, int i)
{
	return i >= 0 && i < d->ntok && d->tok[i].type == JSMN_STRING;
}

bool json_is_null(const struct jdoc *d, int i)
{
	return i >= 0 && i < d->ntok && d->tok[i].type == JSMN_PRIMITIVE &&
	       d->text[d->tok[i].start] == 'n';
}

bool json_eq(const struct jdoc *d, int i, const char *s)
{
	if (!json_is_str(d, i))
		return false;
	const char *raw = d->text + d->tok[i].start;
	size_t n = (size_t)(d->tok[i].end - d->tok[i].start);
	if (!memchr(raw, '\\', n))   /* the usual case: compared as written */
		return strlen(s) == n && memcmp(raw, s, n) == 0;
	char *text = json_dup(d, i);   /* "\u0063md" is "cmd" */
	bool eq = text && !strcmp(text, s);
	free(text);
	return eq;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static long read_u16(const char *p, size_t left)
{
	if (left < 4)
		return -1;
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

long json_unescape(const char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\\') {
			out[o++] = in[i];
			continue;
		}
		if (++i >= n)
			return -1;
		switch (in[i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			long cp = read_u16(in + i + 1, n - i - 1);
			if (cp < 0)
				return -1;
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && in[i + 1] == '\\' &&
			    in[i + 2] == 'u') {
				long lo = read_u16(in + i + 3, n - i - 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			/* A \u escape never writes more bytes than the six it replaces. */
			o += put_utf8(out + o, (unsigned long)cp);
			break;
		}
		default:
			return -1;
		}
	}
	return (long)o;
}

char *json_dup(const struct jdoc *d, int i)
{
	if (i < 0 || i >= d->ntok || d->tok[i].type == JSMN_OBJECT || d->tok[i].type == JSMN_ARRAY ||
	    json_is_null(d, i))
		return NULL;
	const char *s = d->text + d->tok[i].start;
	size_t n = (size_t)(d->tok[i].end - d->tok[i].start);
	char *out = xmalloc(n + 1);
	long len = d->tok[i].type == JSMN_STRING ? json_unescape(s, n, out) : (memcpy(out, s, n), (long)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	out[len] = 0;
	if (memchr(out, 0, (size_t)len)) {   /* \u0000: no C string (an argv, an env) can hold it */
		free(out);
		errno = EILSEQ;
		return NULL;
	}
	return out;
}

bool json_has_nul(const struct jdoc *d, int i)
{
	if (!json_is_str(d, i))
		return false;
	const char *s = d->text + d->tok[i].start;
	size_t n = (size_t)(d->tok[i].end - d->tok[i].start);
	char *out = xmalloc(n + 1);
	long len = json_unescape(s, n, out);
	bool nul = len > 0 && memchr(out, 0, (size_t)len);
	free(out);
	return nul;
}

bool json_as_double(const struct jdoc *d, int i, double *out)
{
	if (i < 0 || i >= d->ntok || d->tok[i].type != JSMN_PRIMITIVE)
		return false;
	const char *s = d->text + d->tok[i].start;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end != d->text + d->tok[i].end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool json_as_ll(const struct jdoc *d, int i, long long *out)
{
	double v;
	if (!json_as_double(d, i, &v) || v != floor(v) || fabs(v) > 9.0e18)
		return false;
	*out = (long long)v;
	return true;
}

bool json_as_bool(const struct jdoc *d, int i, bool *out)
{
	if (i < 0 || i >= d->ntok || d->tok[i].type != JSMN_PRIMITIVE)
		return false;
	char c = d->text[d->tok[i].start];
	if (c != 't' && c != 'f')
		return false;
	*out = c == 't';
	return true;
}

void json_copy_members(struct buf *b, const struct jdoc *d, int obj, const char *const *skip, int nskip)
{
	for (int i = 0, k = obj + 1; obj >= 0 && i < d->tok[obj].size; i++) {
		int val = k + 1;
		bool skipped = false;
		for (int j = 0; j < nskip; j++)
			skipped |= json_eq(d, k, skip[j]);
		if (!skipped) {
			/* String tokens exclude their quotes; put them back. */
			json_raw(b, d->text + d->tok[k].start - 1, (size_t)(d->tok[k].end - d->tok[k].start + 2));
			buf_putc(b, ':');
			const jsmntok_t *v = &d->tok[val];
			int q = v->type == JSMN_STRING;
			buf_add(b, d->text + v->start - q, (size_t)(v->end - v->start + 2 * q));
		}
		k = json_next(d, val);
	}
}

void json_khex(struct buf *b, const char *key, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	json_key(b, key);
	json_sep(b);
	buf_grow(b, 2 * n + 2);
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = ((const unsigned char *)p)[i];
		b->data[b->len++] = digits[c >> 4];
		b->data[b->len++] = digits[c & 15];
	}
	b->data[b->len++] = '"';
	b->data[b->len] = 0;
}

bool json_hex(const struct jdoc *d, int tok, struct buf *out)
{
	if (!json_is_str(d, tok))
		return false;
	const char *s = d->text + d->tok[tok].start;
	size_t n = (size_t)(d->tok[tok].end - d->tok[tok].start);
	if (n % 2)
		return false;
	buf_grow(out, n / 2);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out->data[out->len++] = (char)(hi << 4 | lo);
	}
	out->data[out->len] = 0;
	return true;
}

/* JSON.stringify(value, null, indent)'s layout, from the tokens: members one per line,
 * empty containers as {} and [], strings re-encoded. */
/* A string token, re-encoded, with no separator of the writer's before it. */
static void pretty_string(struct buf *out, const struct jdoc *d, int t)
{
	struct buf one = {0};
	char *s = json_dup(d, t);
	put_string(&one, s ? s : "", s ? strlen(s) : 0, true);
	buf_add(out, one.data, one.len);
	buf_free(&one);
	free(s);
}

static int pretty(struct buf *out, const struct jdoc *d, int t, int indent, int level,
                  const char *const *skip, int nskip)
{
	const jsmntok_t *tok = &d->tok[t];
	if (tok->type == JSMN_STRING) {
		pretty_string(out, d, t);
		return t + 1;
	}
	if (tok->type == JSMN_PRIMITIVE) {
		buf_add(out, d->text + tok->start, (size_t)(tok->end - tok->start));
		return t + 1;
	}
	bool object = tok->type == JSMN_OBJECT;
	buf_putc(out, object ? '{' : '[');
	int e = t + 1, written = 0;
	for (int i = 0; i < tok->size; i++) {
		bool skipped = false;
		for (int k = 0; object && k < nskip; k++)
			skipped |= json_eq(d, e, skip[k]);
		if (skipped) {
			e = json_next(d, e + 1);
			continue;
		}
		if (written++)
			buf_putc(out, ',');
		if (indent)   /* 0: on one line, as JSON.stringify(value) */
			buf_putc(out, '\n');
		for (int k = 0; k < (level + 1) * indent; k++)
			buf_putc(out, ' ');
		if (object) {
			pretty_string(out, d, e);
			buf_puts(out, indent ? ": " : ":");
			e++;
		}
		e = pretty(out, d, e, indent, level + 1, NULL, 0);
	}
	if (written && indent) {
		buf_putc(out, '\n');
		for (int k = 0; k < level * indent; k++)
			buf_putc(out, ' ');
	}
	buf_putc(out, object ? '}' : ']');
	return e;
}

void json_pretty(struct buf *out, const struct jdoc *d, int tok, int indent,
                 const char *const *skip, int nskip)
{
	pretty(out, d, tok, indent, 0, skip, nskip);
}

char *json_text(const struct jdoc *d, int tok)
{
	if (tok < 0 || tok >= d->ntok)
		return NULL;
	int quote = d->tok[tok].type == JSMN_STRING;   /* jsmn leaves a string's quotes out */
	return xstrndup(d->text + d->tok[tok].start - quote,
	                (size_t)(d->tok[tok].end - d->tok[tok].start + 2 * quote));
}
