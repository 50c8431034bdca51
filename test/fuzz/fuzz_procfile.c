/* Procfiles ("name: command" lines, foreman's format) as `tend start Procfile` reads
 * them: ecosystem.c turns the lines into {"apps": [...]} and decl.c normalizes each. */
#include "eco.h"

/* The apps a Procfile declares, counted apart from ecosystem.c: the lines, up to a
 * NUL (the parser reads a C string), that are neither blank nor a # comment. */
static int count_apps(const uint8_t *data, size_t size)
{
	int n = 0;
	const uint8_t *nul = memchr(data, 0, size);
	size_t end = nul ? (size_t)(nul - data) : size;
	for (size_t i = 0; i < end;) {
		size_t j = i;
		while (j < end && data[j] != '\n')
			j++;
		size_t k = i;
		while (k < j && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r'))
			k++;
		if (k < j && data[k] != '#')
			n++;
		i = j + 1;
	}
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	eco_setup("Procfile");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int napps = eco_run(data, size);
	if (napps)
		FUZZ_ASSERT(napps == count_apps(data, size));
	return 0;
}
