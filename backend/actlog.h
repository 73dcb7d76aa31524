/* actlog: a cluster's recent actions and their outcome, for `<cluster>/log`.
 *
 * A bounded ring of lines ("<ISO time> <text>"); the oldest lines drop out.
 * Every line is also written to the daemon's log. Thread-safe. */
#ifndef HERONFS_ACTLOG_H
#define HERONFS_ACTLOG_H

#include <stddef.h>

#include "buf.h"

struct actlog;

struct actlog *actlog_new(size_t max_lines);
void actlog_free(struct actlog *log);
void actlog_add(struct actlog *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends every kept line, oldest first, each ending in '\n'. */
void actlog_render(struct actlog *log, struct buf *out);

/* "2026-11-29T09:10:48Z" for t (seconds since the epoch), into out
 * (size >= 21). */
void iso8601_utc(long long t, char *out, size_t size);

#endif
