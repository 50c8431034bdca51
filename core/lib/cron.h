/* Cron expressions for PM2's cron_restart: parse once at configuration time, then ask
 * for the next matching time whenever a deadline has to be set. */
#ifndef TEND_CRON_H
#define TEND_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {           /* bit sets of allowed values */
	uint64_t sec, min;   /* 0..59 */
	uint32_t hour;       /* 0..23 */
	uint32_t dom;        /* 1..31 */
	uint16_t mon;        /* 1..12 */
	uint8_t dow;         /* 0..6, Sunday = 0 */
	bool dom_any, dow_any;   /* field was '*' (for the dom/dow OR rule) */
};

/* Parse a 5-field (min hour dom mon dow) or 6-field (sec min hour dom mon dow)
 * expression. On error returns false and writes a one-line reason naming the field,
 * e.g. "hour: 25 is out of range 0-23" or "expected 5 or 6 fields, got 3", into err.
 * Also takes @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * On error *c is left unchanged. */
bool cron_parse(const char *expr, struct cron *c, char *err, size_t errlen);

/* The first time strictly after `after` (seconds since the epoch) that matches, in
 * local time (localtime_r/mktime, so TZ applies); -1 if none within 5 years.
 * A wall-clock time skipped by a DST change does not match that day; a time repeated
 * by one matches once, the first time. */
time_t cron_next(const struct cron *c, time_t after);

#endif
