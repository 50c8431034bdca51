/* JSONC, as people write ecosystem files: jsonc_clean checks the text strictly and
 * blanks comments and trailing commas, so that jsmn (json_parse) can read it. */
#include "fuzz.h"
#include "lib/json.h"
#include "lib/jsonc.h"

/* jsonc_clean passed it, so the tokens are well formed: every object pairs a string
 * key with one value, which is what decl.c and ecosystem.c count on when they walk
 * members without looking. */
static void check_members(const struct jdoc *d)
{
	for (int i = 0; i < d->ntok; i++) {
		if (d->tok[i].type != JSMN_OBJECT)
			continue;
		for (int k = 0, key = i + 1; k < d->tok[i].size; k++) {
			FUZZ_ASSERT(key + 1 < d->ntok);
			FUZZ_ASSERT(d->tok[key].type == JSMN_STRING && d->tok[key].size == 1);
			FUZZ_ASSERT(d->tok[key + 1].parent == key);
			key = json_next(d, key + 1);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly sized and not NUL-terminated: the header says it need not be. */
	char *text = xmalloc(size ? size : 1);
	memcpy(text, data, size);
	char err[160];
	/* A short error buffer now and then, since callers pass their own sizes. */
	size_t errlen = size ? sizeof err >> (data[0] & 7) : sizeof err;
	memset(err, 'x', sizeof err);
	if (!jsonc_clean(text, size, err, errlen)) {
		/* "LINE:COL: message", 1-based, NUL-terminated within errlen */
		FUZZ_ASSERT(memchr(err, 0, errlen) != NULL);
		unsigned long line, col;
		if (errlen >= 32)
			FUZZ_ASSERT(sscanf(err, "%lu:%lu: ", &line, &col) == 2 && line >= 1 && col >= 1);
		free(text);
		return 0;
	}
	/* Only blanks were written, and every newline stayed, so positions hold. */
	for (size_t i = 0; i < size; i++) {
		FUZZ_ASSERT(text[i] == (char)data[i] || text[i] == ' ');
		FUZZ_ASSERT((data[i] == '\n') == (text[i] == '\n'));
	}
	/* Clean text is plain JSON: cleaning it again changes nothing. */
	char *again = xmalloc(size ? size : 1);
	memcpy(again, text, size);
	FUZZ_ASSERT(jsonc_clean(again, size, NULL, 0));
	FUZZ_ASSERT(memcmp(again, text, size) == 0);
	free(again);
	/* And jsmn reads it. */
	struct jdoc d;
	bool parsed = json_parse(&d, text, size);
	if (!parsed) {
		/* The one exception so far: jsmn's strict mode wants a delimiter after a
		 * primitive, so a document that is one bare number or literal, with nothing
		 * after it, is "unexpected end of input" to jsmn. */
		size_t b = 0, e = size;
		while (b < e && strchr(" \t\r\n", text[b]))
			b++;
		FUZZ_ASSERT(b < e && text[b] != '{' && text[b] != '[' && text[b] != '"' &&
		            !strchr(" \t\r\n", text[e - 1]));
		free(text);
		return 0;
	}
	FUZZ_ASSERT(d.ntok >= 1);
	/* One value, covering the whole text but blanks. */
	FUZZ_ASSERT(d.tok[0].parent == -1 && json_next(&d, 0) == d.ntok);
	check_members(&d);
	json_free(&d);
	free(text);
	return 0;
}
