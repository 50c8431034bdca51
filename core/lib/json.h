/* JSON: a writer into struct buf, and a reader over jsmn's tokens. */
#ifndef TEND_JSON_H
#define TEND_JSON_H

#include "lib/util.h"

#define JSMN_HEADER
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

/* Writer. Commas are placed automatically: every value or key written after another
 * value in the same object/array gets one. */
void json_open(struct buf *b, char bracket);      /* '{' or '[' */
void json_close(struct buf *b, char bracket);     /* '}' or ']' */
void json_key(struct buf *b, const char *key);
void json_keyn(struct buf *b, const char *key, size_t n);
void json_str(struct buf *b, const char *s);      /* NULL writes null */
void json_strn(struct buf *b, const char *s, size_t n);  /* invalid UTF-8 → U+FFFD */
void json_bytes(struct buf *b, const char *s);             /* bytes kept as they are */
void json_int(struct buf *b, long long v);
void json_num(struct buf *b, double v);
void json_bool(struct buf *b, bool v);
void json_null(struct buf *b);
void json_raw(struct buf *b, const char *text, size_t n);  /* already-encoded JSON */
/* key + value in one call */
void json_kstr(struct buf *b, const char *key, const char *s);
void json_kint(struct buf *b, const char *key, long long v);
void json_kbool(struct buf *b, const char *key, bool v);

/* Reader: a parsed document. Token 0 is the root. */
struct jdoc {
	const char *text;
	size_t len;
	jsmntok_t *tok;
	int ntok;
	char err[128];    /* filled when json_parse fails: "1:14: unexpected ..." */
};

bool json_parse(struct jdoc *d, const char *text, size_t len);
void json_free(struct jdoc *d);

/* Token helpers. An index of -1 means "absent" and is accepted everywhere. */
int json_get(const struct jdoc *d, int obj, const char *key);   /* value token or -1 */
int json_next(const struct jdoc *d, int tok);                   /* token after subtree */
int json_child(const struct jdoc *d, int container, int n);     /* n-th element/key */
bool json_is_str(const struct jdoc *d, int tok);
bool json_is_null(const struct jdoc *d, int tok);
bool json_eq(const struct jdoc *d, int tok, const char *s);     /* raw string compare */
/* Unescaped copy, or NULL (also for a string holding \u0000: errno EILSEQ). */
char *json_dup(const struct jdoc *d, int tok);
bool json_has_nul(const struct jdoc *d, int tok);
/* The value's JSON text as written (a string with its quotes); NULL for no token. */
char *json_text(const struct jdoc *d, int tok);
bool json_as_ll(const struct jdoc *d, int tok, long long *out); /* number token */
bool json_as_double(const struct jdoc *d, int tok, double *out); /* any finite number */
bool json_as_bool(const struct jdoc *d, int tok, bool *out);
/* Copy the members of object obj (as they are written) into b, inside an object
 * being written, except the keys named in skip. */
void json_copy_members(struct buf *b, const struct jdoc *d, int obj, const char *const *skip, int nskip);
/* Value tok of d laid out as JSON.stringify(value, null, indent) does (indent 0: on
 * one line; members of the top object named in skip left out). */
void json_pretty(struct buf *out, const struct jdoc *d, int tok, int indent,
                 const char *const *skip, int nskip);
/* Bytes as a string of hex digits (state handed across exec: any bytes, NULs too), and
 * back (appended to out); false if tok is not such a string. */
void json_khex(struct buf *b, const char *key, const void *p, size_t n);
bool json_hex(const struct jdoc *d, int tok, struct buf *out);
/* Unescape a JSON string body into out (out may equal in); returns length or -1. */
long json_unescape(const char *in, size_t n, char *out);

#endif
