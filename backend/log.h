/* log: the daemon's own log, one sink, levels checked before formatting.
 *
 * Before detaching, lines go to stderr; once daemonized heronfs calls
 * hf_log_to_syslog(). libfuse's messages are routed here too. */
#ifndef HERONFS_LOG_H
#define HERONFS_LOG_H

enum hf_log_level { HF_LOG_ERR, HF_LOG_WARN, HF_LOG_INFO, HF_LOG_DEBUG };

extern enum hf_log_level hf_log_level;

void hf_log_to_syslog(void);
void hf_log_write(enum hf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define hf_log(level, ...)                                   \
	do {                                                 \
		if ((level) <= hf_log_level)                 \
			hf_log_write((level), __VA_ARGS__); \
	} while (0)

#define LOG_E(...) hf_log(HF_LOG_ERR, __VA_ARGS__)
#define LOG_W(...) hf_log(HF_LOG_WARN, __VA_ARGS__)
#define LOG_I(...) hf_log(HF_LOG_INFO, __VA_ARGS__)
#define LOG_D(...) hf_log(HF_LOG_DEBUG, __VA_ARGS__)

#endif
