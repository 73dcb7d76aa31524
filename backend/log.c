#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

enum hf_log_level hf_log_level = HF_LOG_INFO;

static bool use_syslog;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

void hf_log_to_syslog(void)
{
	openlog("heronfs", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void hf_log_write(enum hf_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (use_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&stderr_lock);
	fprintf(stderr, "%s.%03ldZ heronfs %s: %s\n", when,
		ts.tv_nsec / 1000000, names[level], line);
	pthread_mutex_unlock(&stderr_lock);
}
