/* util.inspect's layout, rule for rule (node's lib/internal/util/inspect.js is the
 * reference: formatValue, formatProperty, reduceToSingleString, isBelowBreakLength,
 * groupArrayElements, strEscape), for the values JSON can hold. Lengths are counted as
 * JavaScript counts them: UTF-16 code units. */
#include "lib/inspect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	BREAK_LENGTH = 80,
	COMPACT = 3,
	MAX_ARRAY_LENGTH = 100,
	MAX_STRING_LENGTH = 10000,
	MIN_LINE_WIDTH = 16,
};

struct ictx {
	int indent;          /* ctx.indentationLvl */
	int current_depth;   /* ctx.currentDepth: of the last non-empty object entered */
};

struct entries {
	char **v;
	int n, cap;
};

static void push(struct entries *e, char *s)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 8;
		e->v = xrealloc(e->v, (size_t)e->cap * sizeof *e->v);
	}
	e->v[e->n++] = s;
}

static void entries_free(struct entries *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* UTF-16 code units in n bytes of UTF-8: one per character, two above U+FFFF. */
static size_t js_len(const char *s, size_t n)
{
	size_t units = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80)
			units += c >= 0xf0 ? 2 : 1;
	}
	return units;
}

static size_t slen(const char *s) { return js_len(s, strlen(s)); }

/* The byte offset where the first `units` code units end (not inside a character). */
static size_t js_cut(const char *s, size_t n, size_t units)
{
	size_t i = 0, u = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c >= 0xf0 ? 2 : 1, len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (u + w > units)
			break;
		u += w;
		i += len;
	}
	return i < n ? i : n;
}

static bool contains(const char *s, size_t n, const char *what)
{
	return memmem(s, n, what, strlen(what)) != NULL;
}

/* strEscape: single quotes, unless the text has one and no double quote (then double
 * quotes), or has both and no backtick or "${" (then backticks). */
static void str_escape(struct buf *b, const char *s, size_t n)
{
	char quote = '\'';
	if (memchr(s, '\'', n)) {
		if (!memchr(s, '"', n))
			quote = '"';
		else if (!memchr(s, '`', n) && !contains(s, n, "${"))
			quote = '`';
	}
	buf_putc(b, quote);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned point = c < 0x80 ? c : 0xa0;   /* other bytes of UTF-8: as they are */
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
			point = (unsigned char)s[i + 1];   /* U+0080..U+009F */
		const char *named = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n"
		                  : c == '\f' ? "\\f" : c == '\r' ? "\\r" : c == '\\' ? "\\\\"
		                  : c == '\'' && quote == '\'' ? "\\'" : NULL;
		if (named) {
			buf_puts(b, named);
		} else if (point < 0x20 || (point >= 0x7f && point <= 0x9f)) {
			char hex[8];
			snprintf(hex, sizeof hex, "\\x%02X", point);
			buf_puts(b, hex);
			i += point >= 0x80;
		} else {
			buf_putc(b, (char)c);
		}
	}
	buf_putc(b, quote);
}

static char *finish(struct buf *b)
{
	buf_puts(b, "");
	return b->data;
}

/* formatPrimitive for a string: long ones with newlines go one line per line. */
static char *format_string(const struct ictx *ctx, const char *s, size_t n)
{
	struct buf b = {0};
	size_t units = js_len(s, n);
	char trailer[64] = "";
	if (units > MAX_STRING_LENGTH) {
		size_t remaining = units - MAX_STRING_LENGTH;
		snprintf(trailer, sizeof trailer, "... %zu more character%s", remaining, remaining > 1 ? "s" : "");
		n = js_cut(s, n, MAX_STRING_LENGTH);
		units = MAX_STRING_LENGTH;
	}
	if (units > MIN_LINE_WIDTH && (long)units > BREAK_LENGTH - ctx->indent - 4) {
		for (size_t at = 0; at < n;) {
			const char *nl = memchr(s + at, '\n', n - at);
			size_t end = nl ? (size_t)(nl - s) + 1 : n;
			if (at)
				buf_printf(&b, " +\n%*s", ctx->indent + 2, "");
			str_escape(&b, s + at, end - at);
			at = end;
		}
	} else {
		str_escape(&b, s, n);
	}
	buf_puts(&b, trailer);
	return finish(&b);
}

static bool identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* isBelowBreakLength */
static bool below_break_length(const struct entries *out, size_t start)
{
	size_t total = (size_t)out->n + start;
	if (total + (size_t)out->n > BREAK_LENGTH)
		return false;
	for (int i = 0; i < out->n; i++) {
		total += slen(out->v[i]);
		if (total > BREAK_LENGTH)
			return false;
	}
	return true;
}

static void pad(struct buf *b, const char *s, size_t width, bool at_start)
{
	size_t len = slen(s);
	if (!at_start)
		buf_puts(b, s);
	for (; len < width; len++)
		buf_putc(b, ' ');
	if (at_start)
		buf_puts(b, s);
}

/* groupArrayElements: more than six items, short and alike, go in aligned columns. */
static void group(const struct ictx *ctx, struct entries *out, bool all_numbers, bool more_items)
{
	int count = out->n - more_items;   /* "... N more items" takes no part */
	size_t total = 0, max = 0;
	size_t *len = xcalloc((size_t)count, sizeof *len);
	for (int i = 0; i < count; i++) {
		len[i] = slen(out->v[i]);
		total += len[i] + 2;
		if (len[i] > max)
			max = len[i];
	}
	size_t actual_max = max + 2;
	if (actual_max * 3 + (size_t)ctx->indent < BREAK_LENGTH &&
	    ((double)total / (double)actual_max > 5 || max <= 6)) {
		double average_bias = sqrt((double)actual_max - (double)total / out->n);
		double biased_max = fmax((double)actual_max - 3 - average_bias, 1);
		double columns = fmin(fmin(round(sqrt(2.5 * biased_max * count) / biased_max),
		                           floor((double)(BREAK_LENGTH - ctx->indent) / (double)actual_max)),
		                      fmin(COMPACT * 4, 15));
		int cols = (int)columns;
		if (cols > 1) {
			size_t *line_len = xcalloc((size_t)cols, sizeof *line_len);
			for (int i = 0; i < cols; i++) {
				size_t l = 0;
				for (int j = i; j < count; j += cols)
					if (len[j] > l)
						l = len[j];
				line_len[i] = l + 2;
			}
			struct entries grouped = {0};
			for (int i = 0; i < count; i += cols) {
				int last = i + cols < count ? i + cols : count;
				struct buf line = {0};
				int j = i;
				for (; j < last - 1; j++) {
					char *item = xasprintf("%s, ", out->v[j]);
					pad(&line, item, line_len[j - i], all_numbers);
					free(item);
				}
				if (all_numbers)
					pad(&line, out->v[j], line_len[j - i] - 2, true);
				else
					buf_puts(&line, out->v[j]);
				push(&grouped, finish(&line));
			}
			if (more_items)
				push(&grouped, xstrdup(out->v[count]));
			entries_free(out);
			*out = grouped;
			free(line_len);
		}
	}
	free(len);
}

/* reduceToSingleString */
static char *reduce(const struct ictx *ctx, struct entries *out, char open, char close, int recurse,
                    bool array, bool all_numbers, bool more_items)
{
	int entries = out->n;
	if (array && entries > 6)
		group(ctx, out, all_numbers, more_items);
	struct buf b = {0};
	if (ctx->current_depth - recurse < COMPACT && entries == out->n &&
	    below_break_length(out, (size_t)out->n + (size_t)ctx->indent + 1 + 10)) {
		buf_printf(&b, "%c ", open);
		for (int i = 0; i < out->n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", out->v[i]);
		buf_printf(&b, " %c", close);
		if (!strchr(b.data, '\n'))
			return finish(&b);
		buf_reset(&b);
	}
	buf_printf(&b, "%c\n%*s  ", open, ctx->indent, "");
	for (int i = 0; i < out->n; i++) {
		if (i)
			buf_printf(&b, ",\n%*s  ", ctx->indent, "");
		buf_puts(&b, out->v[i]);
	}
	buf_printf(&b, "\n%*s%c", ctx->indent, "", close);
	return finish(&b);
}

static char *format_value(struct ictx *ctx, const struct jdoc *d, int t, int recurse, int *next);

/* JavaScript lists an object's integer-like keys first, in numeric order. */
static bool array_index(const struct jdoc *d, int k, unsigned long *v)
{
	const char *s = d->text + d->tok[k].start;
	int n = d->tok[k].end - d->tok[k].start;
	if (n < 1 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	unsigned long x = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	*v = x;
	return x < 4294967295UL;
}

static char *format_member(struct ictx *ctx, const struct jdoc *d, int k, int recurse)
{
	ctx->indent += 2;
	int next;
	char *value = format_value(ctx, d, k + 1, recurse, &next);
	ctx->indent -= 2;
	char *key = json_dup(d, k);
	struct buf b = {0};
	if (key && identifier(key))
		buf_puts(&b, key);
	else
		str_escape(&b, key ? key : "", key ? strlen(key) : 0);
	buf_printf(&b, ": %s", value);
	free(key);
	free(value);
	return finish(&b);
}

static char *format_object(struct ictx *ctx, const struct jdoc *d, int t, int recurse)
{
	int n = d->tok[t].size;
	int *keys = xcalloc((size_t)n, sizeof *keys);
	unsigned long *index = xcalloc((size_t)n, sizeof *index);
	int nindex = 0;
	for (int i = 0, k = t + 1; i < n; i++, k = json_next(d, k + 1)) {
		unsigned long v;
		if (array_index(d, k, &v)) {   /* insertion sort: there are few */
			int at = nindex++;
			while (at > 0 && index[at - 1] > v) {
				index[at] = index[at - 1];
				keys[at] = keys[at - 1];
				at--;
			}
			index[at] = v;
			keys[at] = k;
		}
	}
	int nkeys = nindex;
	for (int i = 0, k = t + 1; i < n; i++, k = json_next(d, k + 1)) {
		unsigned long v;
		if (!array_index(d, k, &v))
			keys[nkeys++] = k;
	}
	struct entries out = {0};
	for (int i = 0; i < nkeys; i++)
		push(&out, format_member(ctx, d, keys[i], recurse));
	free(keys);
	free(index);
	char *s = reduce(ctx, &out, '{', '}', recurse, false, false, false);
	entries_free(&out);
	return s;
}

static char *format_array(struct ictx *ctx, const struct jdoc *d, int t, int recurse)
{
	int n = d->tok[t].size;
	struct entries out = {0};
	bool all_numbers = true;
	int e = t + 1;
	for (int i = 0; i < n && i < MAX_ARRAY_LENGTH; i++) {
		char c = d->text[d->tok[e].start];
		all_numbers &= d->tok[e].type == JSMN_PRIMITIVE && (c == '-' || (c >= '0' && c <= '9'));
		ctx->indent += 2;
		push(&out, format_value(ctx, d, e, recurse, &e));
		ctx->indent -= 2;
	}
	bool more = n > MAX_ARRAY_LENGTH;
	if (more)
		push(&out, xasprintf("... %d more item%s", n - MAX_ARRAY_LENGTH, n - MAX_ARRAY_LENGTH > 1 ? "s" : ""));
	char *s = reduce(ctx, &out, '[', ']', recurse, true, all_numbers, more);
	entries_free(&out);
	return s;
}

static char *format_value(struct ictx *ctx, const struct jdoc *d, int t, int recurse, int *next)
{
	const jsmntok_t *tok = &d->tok[t];
	*next = json_next(d, t);
	if (tok->type == JSMN_STRING) {
		char *s = json_dup(d, t);
		char *r = format_string(ctx, s ? s : "", s ? strlen(s) : 0);
		free(s);
		return r;
	}
	if (tok->type == JSMN_PRIMITIVE)
		return xstrndup(d->text + tok->start, (size_t)(tok->end - tok->start));
	if (tok->size == 0)
		return xstrdup(tok->type == JSMN_OBJECT ? "{}" : "[]");   /* depth left as it was */
	ctx->current_depth = recurse + 1;
	return tok->type == JSMN_OBJECT ? format_object(ctx, d, t, recurse + 1)
	                                : format_array(ctx, d, t, recurse + 1);
}

void js_inspect(struct buf *out, const struct jdoc *d, int tok)
{
	struct ictx ctx = {0};
	int next;
	char *s = format_value(&ctx, d, tok, 0, &next);
	buf_puts(out, s);
	free(s);
}
