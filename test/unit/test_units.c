/* Duration, size, integer and signal parsers. */
#include "unit.h"
#include "lib/util.h"

#include <signal.h>

static int64_t dur(const char *s)
{
	int64_t v = -12345;
	return parse_duration_ms(s, &v) ? v : -1;
}

static int64_t size(const char *s)
{
	int64_t v = -12345;
	return parse_size(s, &v) ? v : -1;
}

int main(void)
{
	CHECK(dur("1500") == 1500);
	CHECK(dur("250ms") == 250);
	CHECK(dur("10s") == 10000);
	CHECK(dur("1.5s") == 1500);
	CHECK(dur("5m") == 300000);
	CHECK(dur("1h") == 3600000);
	CHECK(dur("2d") == 172800000);
	CHECK(dur("0") == 0);
	CHECK(dur("") == -1);
	CHECK(dur("s") == -1);
	CHECK(dur("-5") == -1);
	CHECK(dur("10x") == -1);
	CHECK(dur("10 s") == -1);
	CHECK(dur("99999999999999999999") == -1);
	CHECK(dur(NULL) == -1);

	CHECK(size("1024") == 1024);
	CHECK(size("10K") == 10240);
	CHECK(size("10k") == 10240);
	CHECK(size("200M") == 200LL << 20);
	CHECK(size("1G") == 1LL << 30);
	CHECK(size("1.5G") == 3LL << 29);
	CHECK(size("12MB") == 12LL << 20);
	CHECK(size("M") == -1);
	CHECK(size("10T") == -1);
	CHECK(size("99999999999G") == -1);

	long long n = 0;
	CHECK(parse_int("42", 0, 100, &n) && n == 42);
	CHECK(parse_int("-1", -1, 100, &n) && n == -1);
	CHECK(!parse_int("101", 0, 100, &n));
	CHECK(!parse_int("4x", 0, 100, &n));
	CHECK(!parse_int("", 0, 100, &n));

	CHECK(signal_from_name("SIGINT") == SIGINT);
	CHECK(signal_from_name("term") == SIGTERM);
	CHECK(signal_from_name("9") == SIGKILL);
	CHECK(signal_from_name("SIGUSR2") == SIGUSR2);
	CHECK(signal_from_name("SIGNOPE") == -1);
	CHECK(signal_from_name("99") == -1);
	CHECK_STR(signal_name(SIGHUP), "HUP");

	CHECK(edit_distance("max_restart", "max_restarts") == 1);
	CHECK(edit_distance("strat", "start") == 2);
	CHECK(edit_distance("abc", "abc") == 0);

	struct buf b = {0};
	buf_printf(&b, "%s-%d", "x", 7);
	buf_puts(&b, "yz");
	CHECK_STR(b.data, "x-7yz");
	buf_consume(&b, 2);
	CHECK_STR(b.data, "7yz");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%0300d", i);
	CHECK(b.len == 3 + 300000);
	buf_free(&b);
	return unit_report("units");
}
