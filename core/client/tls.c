#include "client/tls.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if TEND_TLS

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

static mbedtls_ssl_config conf;
static mbedtls_x509_crt chain;
static mbedtls_pk_context key;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

struct tls_session {
	mbedtls_ssl_context ssl;
	int fd;
};

static void why(char *err, size_t errlen, const char *what, const char *file, int rc)
{
	char text[160];
	mbedtls_strerror(rc, text, sizeof text);
	snprintf(err, errlen, "%s %s: %s", what, file, text);
}

bool tls_server_setup(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&chain);
	mbedtls_pk_init(&key);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	int rc;
	if ((rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	                                (const unsigned char *)"tend-web", 8)) != 0) {
		why(err, errlen, "random numbers:", "", rc);
		return false;
	}
	if ((rc = mbedtls_x509_crt_parse_file(&chain, cert_file)) != 0) {
		why(err, errlen, "--cert", cert_file, rc);
		return false;
	}
	if ((rc = mbedtls_pk_parse_keyfile(&key, key_file, NULL)) != 0) {
		why(err, errlen, "--key", key_file, rc);
		return false;
	}
	if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
	                                      MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
	    (rc = mbedtls_ssl_conf_own_cert(&conf, &chain, &key)) != 0) {
		why(err, errlen, "--cert and --key", "", rc);
		return false;
	}
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	return true;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	const struct tls_session *t = ctx;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	const struct tls_session *t = ctx;
	ssize_t n = recv(t->fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
	return (int)n;   /* 0: the peer closed */
}

struct tls_session *tls_session_new(int fd)
{
	struct tls_session *t = xcalloc(1, sizeof *t);
	t->fd = fd;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &conf) != 0) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

void tls_session_free(struct tls_session *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	free(t);
}

static int result(int rc, int *want)
{
	*want = rc == MBEDTLS_ERR_SSL_WANT_READ ? TLS_WANT_READ : rc == MBEDTLS_ERR_SSL_WANT_WRITE ? TLS_WANT_WRITE : 0;
	return -1;
}

int tls_handshake(struct tls_session *t, int *want)
{
	int rc = mbedtls_ssl_handshake(&t->ssl);
	*want = 0;
	return rc == 0 ? 0 : result(rc, want);
}

ssize_t tls_read(struct tls_session *t, void *buf, size_t n, int *want)
{
	int rc = mbedtls_ssl_read(&t->ssl, buf, n);
	*want = 0;
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	return rc >= 0 ? rc : result(rc, want);
}

ssize_t tls_write(struct tls_session *t, const void *buf, size_t n, int *want)
{
	int rc = mbedtls_ssl_write(&t->ssl, buf, n);
	*want = 0;
	return rc >= 0 ? rc : result(rc, want);
}

#else

bool tls_server_setup(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	(void)cert_file;
	(void)key_file;
	snprintf(err, errlen, "this build has no TLS (built with make TLS=0): serve plain HTTP, "
	         "or build with make TLS=1");
	return false;
}

struct tls_session *tls_session_new(int fd) { (void)fd; return NULL; }
void tls_session_free(struct tls_session *t) { (void)t; }
int tls_handshake(struct tls_session *t, int *want) { (void)t; *want = 0; return -1; }
ssize_t tls_read(struct tls_session *t, void *buf, size_t n, int *want)
{
	(void)t, (void)buf, (void)n;
	*want = 0;
	return -1;
}
ssize_t tls_write(struct tls_session *t, const void *buf, size_t n, int *want)
{
	(void)t, (void)buf, (void)n;
	*want = 0;
	return -1;
}

#endif
