/* The regular expressions of /regex/ targets (rx.c): any pattern compiles or is
 * refused with a reason, and a search answers within its step budget. Where a pattern
 * and a subject keep to syntax that JavaScript and POSIX read alike, the answer is
 * also checked against glibc's regexec (POSIX extended).
 *
 * Input: the pattern, optionally followed by a NUL and the subject (any bytes). */
#include "fuzz.h"
#include "lib/rx.h"

#include <regex.h>

/* The budget ctl.c gives a whole request (target.h's TARGET_STEPS_MAX). */
enum { BUDGET = 4000000 };

/* Does pattern mean the same to JavaScript (rx.c) and to POSIX ERE (glibc), as far as
 * "is there a match" goes? Small patterns over a few letters; no escapes (literal in
 * POSIX brackets), no [: [. [= (POSIX classes), no {, (a literal in JavaScript, {0,n}
 * in glibc), no quantifier after another (a+? is lazy in JavaScript, optional in
 * POSIX) or after an anchor, and few quantifiers and single-digit counts, since glibc
 * unrolls repetitions into a tree that grows exponentially with them. */
static bool same_in_posix(const char *p)
{
	size_t n = strlen(p);
	if (n > 40)
		return false;
	int quantifiers = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i], prev = i ? p[i - 1] : 0;
		if (!strchr("abc01.*+?|()[]^$-{},", c))
			return false;
		bool q = c == '*' || c == '+' || c == '?' || c == '{';
		if (q && (strchr("*+?}^$", prev) && prev))
			return false;
		if (prev == '[' && (c == ':' || c == '.' || c == '='))
			return false;
		if (c == ',' && prev == '{')
			return false;
		if (c >= '0' && c <= '9' && prev >= '0' && prev <= '9')
			return false;
		quantifiers += q;
	}
	return quantifiers <= 6;
}

/* Printable ASCII without NUL or line ends: '.' and regexec's C string agree there. */
static bool plain_subject(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t restlen;
	char *pattern = fuzz_cstr(data, size, &rest, &restlen);
	/* the subject exactly sized, so that ASan sees a read past its end */
	char *subject = xmalloc(restlen ? restlen : 1);
	memcpy(subject, rest, restlen);

	char err[160];
	err[0] = 0;
	struct rx *r = rx_compile(pattern, err, sizeof err);
	if (!r) {
		FUZZ_ASSERT(err[0] != 0 && memchr(err, 0, sizeof err));
		free(subject);
		free(pattern);
		return 0;
	}
	long budget = BUDGET;
	int m = rx_search(r, subject, restlen, &budget);
	FUZZ_ASSERT(m == -1 || m == 0 || m == 1);
	FUZZ_ASSERT(m == -1 ? budget < BUDGET : budget >= 0 && budget <= BUDGET);
	/* The same search again: the same answer at the same cost. */
	long again = BUDGET;
	FUZZ_ASSERT(rx_search(r, subject, restlen, &again) == m && again == budget);
	/* Every name is also a prefix of a longer one: a match stays a match. */
	if (m == 1 && restlen < 256) {
		char *longer = xmalloc(restlen + 1);
		memcpy(longer, subject, restlen);
		longer[restlen] = '\n';
		long b = BUDGET;
		int m2 = rx_search(r, longer, restlen + 1, &b);
		FUZZ_ASSERT(m2 != 0 || strchr(pattern, '$'));
		free(longer);
	}

	if (m >= 0 && same_in_posix(pattern) && plain_subject(subject, restlen)) {
		regex_t re;
		if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
			char *s = xstrndup(subject, restlen);
			int posix = regexec(&re, s, 0, NULL, 0) == 0;
			if (posix != m)
				fprintf(stderr, "rx and POSIX differ on /%s/ against \"%s\": rx %d, glibc %d\n",
				        pattern, s, m, posix);
			FUZZ_ASSERT(posix == m);
			free(s);
			regfree(&re);
		}
	}
	rx_free(r);
	free(subject);
	free(pattern);
	return 0;
}
