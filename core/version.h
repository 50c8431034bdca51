#ifndef TEND_VERSION_H
#define TEND_VERSION_H

extern const char tend_version[];
extern const char tend_build_id[];   /* changes with every source change */
const char *tend_tls_version(void);  /* "mbedtls 2.28.3" or NULL when built TLS=0 */

#endif
