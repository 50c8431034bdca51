/* The option parser every applet uses. */
#include "unit.h"
#include "lib/opt.h"

enum { O_NAME = 1, O_FORCE, O_INST, O_LOG, O_NOAUTO };
static const struct opt opts[] = {
	{"name", 'n', OPT_REQUIRED, O_NAME},
	{"force", 'f', OPT_NONE, O_FORCE},
	{"instances", 'i', OPT_REQUIRED, O_INST},
	{"log", 'l', OPT_OPTIONAL, O_LOG},
	{"no-autorestart", 0, OPT_NONE, O_NOAUTO},
	{0},
};

static int parse(int argc, char **argv, struct optstate *s, char *seen)
{
	opt_init(s, argc, argv);
	int id, n = 0;
	while ((id = opt_next(s, opts)) > 0)
		seen[n++] = (char)('0' + id);
	seen[n] = 0;
	return id;
}

int main(void)
{
	struct optstate s;
	char seen[32];

	char *a1[] = {"start", "app.js", "--name", "api", "-i", "-1", "--force", "--", "x", "--y"};
	CHECK(parse(10, a1, &s, seen) == OPT_END);
	CHECK_STR(seen, "132");
	CHECK(s.npos == 1);
	CHECK_STR(s.pos[0], "app.js");
	CHECK(s.nrest == 2);
	CHECK_STR(s.rest[1], "--y");
	opt_free(&s);

	char *a2[] = {"start", "--name=web", "-n=w2", "-nw3", "a"};
	opt_init(&s, 5, a2);
	CHECK(opt_next(&s, opts) == O_NAME && !strcmp(s.arg, "web"));
	CHECK(opt_next(&s, opts) == O_NAME && !strcmp(s.arg, "w2"));
	CHECK(opt_next(&s, opts) == O_NAME && !strcmp(s.arg, "w3"));
	CHECK(opt_next(&s, opts) == OPT_END && s.npos == 1);
	opt_free(&s);

	char *a3[] = {"start", "--nmae", "x"};
	CHECK(parse(3, a3, &s, seen) == OPT_ERROR);
	CHECK(strstr(s.err, "did you mean --name") != NULL);
	opt_free(&s);

	char *a4[] = {"start", "--name"};
	CHECK(parse(2, a4, &s, seen) == OPT_ERROR);
	CHECK(strstr(s.err, "needs a value") != NULL);
	opt_free(&s);

	char *a5[] = {"start", "--force=yes"};
	CHECK(parse(2, a5, &s, seen) == OPT_ERROR);
	opt_free(&s);

	/* optional value: taken only when the next word is not an option */
	char *a6[] = {"start", "--log", "--force", "-l", "out.log", "--log=x"};
	opt_init(&s, 6, a6);
	CHECK(opt_next(&s, opts) == O_LOG && s.arg == NULL);
	CHECK(opt_next(&s, opts) == O_FORCE);
	CHECK(opt_next(&s, opts) == O_LOG && !strcmp(s.arg, "out.log"));
	CHECK(opt_next(&s, opts) == O_LOG && !strcmp(s.arg, "x"));
	opt_free(&s);

	char *a7[] = {"scale", "api", "-2", "-", "--no-autorestart"};
	CHECK(parse(5, a7, &s, seen) == OPT_END);
	CHECK_STR(seen, "5");
	CHECK(s.npos == 3 && !strcmp(s.pos[1], "-2") && !strcmp(s.pos[2], "-"));
	opt_free(&s);

	char *a8[] = {"start", "-z"};
	CHECK(parse(2, a8, &s, seen) == OPT_ERROR);
	opt_free(&s);
	return unit_report("opt");
}
