#ifndef TEND_VERSION_H
#define TEND_VERSION_H

/* The control protocol (tend-protocol(7)). Its version, not the build, decides whether a
 * client and a daemon understand each other: commands and keys are only ever added, so
 * a newer client works with an older daemon, which ignores keys it does not know; a
 * change that breaks that raises PROTOCOL_MIN. */
enum {
	PROTOCOL_VERSION = 2,
	PROTOCOL_MIN = 1,
	PROTOCOL_MAX_REQUEST = 16 << 20,   /* bytes in one request line */
};

extern const char tend_version[];
extern const char tend_build_id[];   /* changes with every source change */
const char *tend_tls_version(void);  /* "mbedtls 2.28.3" or NULL when built TLS=0 */

#endif
