/* TLS for the HTTP server, through mbedtls: one certificate chain and key (PEM) for
 * the server, a non-blocking session per connection. A build without TLS (make TLS=0)
 * has the same calls; tls_server_setup says why it cannot. */
#ifndef TEND_TLS_H
#define TEND_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Load the certificate chain and key; false with the reason. */
bool tls_server_setup(const char *cert_file, const char *key_file, char *err, size_t errlen);

struct tls_session;
/* A session over an accepted socket (non-blocking), handshake still to do. */
struct tls_session *tls_session_new(int fd);
void tls_session_free(struct tls_session *t);

enum { TLS_WANT_READ = 1, TLS_WANT_WRITE = 2 };
/* Each returns what was done; -1 with *want set when it must wait for the socket
 * (TLS_WANT_*), -1 with *want 0 on an error or the end. handshake: 0 when done. */
int tls_handshake(struct tls_session *t, int *want);
ssize_t tls_read(struct tls_session *t, void *buf, size_t n, int *want);
ssize_t tls_write(struct tls_session *t, const void *buf, size_t n, int *want);

#endif
