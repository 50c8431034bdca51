#include "lib/version.h"

#include "buildid.h"

#include <stddef.h>
#if TEND_TLS
#include <mbedtls/version.h>
#endif

const char tend_version[] = TEND_VERSION;
const char tend_build_id[] = TEND_BUILD_ID;

const char *tend_tls_version(void)
{
#if TEND_TLS
	static char v[32] = "mbedtls ";
	mbedtls_version_get_string(v + 8);   /* asks the linked library, not the header */
	return v;
#else
	return NULL;
#endif
}
