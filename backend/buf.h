/* buf: a growable byte buffer, always NUL-terminated for text use.
 *
 * A zeroed struct buf is an empty buffer. Appends abort() on allocation
 * failure: heronfs treats out-of-memory as fatal, like redis does. */
#ifndef HERONFS_BUF_H
#define HERONFS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* NULL until the first append; then NUL-terminated */
	size_t len;   /* bytes used, not counting the terminating NUL */
	size_t cap;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);              /* len = 0, keeps memory */
void buf_free(struct buf *b);               /* releases memory, zeroes */
char *buf_steal(struct buf *b);             /* hands over data (never NULL) */

/* Small allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NULL-terminated vector of strings. */
void strv_free(char **v);
size_t strv_len(char *const *v);

#endif
