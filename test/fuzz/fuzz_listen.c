/* The "listen" key of a cluster-mode app: "PORT", "HOST:PORT" or "[V6]:PORT",
 * parsed by listen_addr_parse (nothing is bound here).
 *
 * Input: the address, optionally followed by a NUL and a byte for the size of the
 * host buffer (spec.c passes 128). */
#include "fuzz.h"
#include "daemon/listener.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t restlen;
	char *text = fuzz_cstr(data, size, &rest, &restlen);
	size_t hostlen = restlen ? 1 + fuzz_u8(&rest, &restlen) % 128 : 128;
	/* exactly hostlen bytes, so that ASan sees a write past them */
	char *host = xmalloc(hostlen);
	char err[160];
	int port = -1;
	err[0] = 0;
	if (!listen_addr_parse(text, host, hostlen, &port, err, sizeof err)) {
		FUZZ_ASSERT(err[0] != 0);
	} else {
		FUZZ_ASSERT(port >= 1 && port <= 65535);
		FUZZ_ASSERT(memchr(host, 0, hostlen) != NULL);
		/* Written back the way it reads ([host]:port when the host has a ':' or
		 * starts with '['), it parses to the same. A host with ']' in it cannot be
		 * written back. */
		if (!strchr(host, ']')) {
			size_t len = strlen(host);
			bool brackets = strchr(host, ':') || host[0] == '[';
			char *again = xasprintf(brackets ? "[%s]:%d" : *host ? "%s:%d" : "%.0s%d", host, port);
			char *host2 = xmalloc(len + 1);
			int port2 = -1;
			FUZZ_ASSERT(listen_addr_parse(again, host2, len + 1, &port2, err, sizeof err));
			FUZZ_ASSERT(port2 == port && !strcmp(host2, host));
			free(host2);
			free(again);
		}
	}
	free(host);
	free(text);
	return 0;
}
