#include "lib/util.h"
#include "lib/version.h"
#include "lib/opt.h"
#include "applets/applet.h"

#include <stdio.h>

//applet: version version_main version_help - print tend's version, build id and TLS library

const char version_help[] =
	"usage: tend version\n"
	"\n"
	"Print the version, the build id (client and daemon must match) and the TLS\n"
	"library linked in (or \"no TLS\" for a TLS=0 build). Same as tend --version.\n";

int version_main(int argc, char **argv)
{
	struct optstate s;
	opt_positionals(&s, argc, argv, 0, 0);
	opt_free(&s);
	const char *tls = tend_tls_version();
	printf("tend %s (build %s, %s)\n", tend_version, tend_build_id, tls ? tls : "no TLS");
	return EXIT_OK;
}
