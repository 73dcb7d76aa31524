#include "actlog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct actlog {
	pthread_mutex_t lock;
	char **lines;
	size_t max, head, count;   /* ring: oldest at head */
};

void iso8601_utc(long long t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct actlog *actlog_new(size_t max_lines)
{
	struct actlog *log = xcalloc(1, sizeof(*log));

	pthread_mutex_init(&log->lock, NULL);
	log->max = max_lines ? max_lines : 1;
	log->lines = xcalloc(log->max, sizeof(char *));
	return log;
}

void actlog_free(struct actlog *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->max; i++)
		free(log->lines[i]);
	free(log->lines);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

void actlog_add(struct actlog *log, const char *fmt, ...)
{
	struct buf b = {0};
	char when[32];
	va_list ap;

	iso8601_utc(time(NULL), when, sizeof(when));
	buf_printf(&b, "%s ", when);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* One line per action, whatever names or words users chose. */
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = '?';
	LOG_I("%s", b.data + 21);

	pthread_mutex_lock(&log->lock);
	size_t slot = (log->head + log->count) % log->max;
	if (log->count == log->max) {
		free(log->lines[log->head]);
		log->head = (log->head + 1) % log->max;
		slot = (log->head + log->count - 1) % log->max;
	} else {
		log->count++;
	}
	log->lines[slot] = buf_steal(&b);
	pthread_mutex_unlock(&log->lock);
}

void actlog_render(struct actlog *log, struct buf *out)
{
	pthread_mutex_lock(&log->lock);
	for (size_t i = 0; i < log->count; i++) {
		buf_puts(out, log->lines[(log->head + i) % log->max]);
		buf_puts(out, "\n");
	}
	pthread_mutex_unlock(&log->lock);
}
