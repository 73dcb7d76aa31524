/* http: shared libcurl easy-handle set-up (see http.h). */
#include "http.h"

#include <string.h>

static size_t body_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_body *b = arg;
	size_t len = size * n, room = b->max - b->data.len;

	if (len <= room) {
		buf_append(&b->data, data, len);
		return len;
	}
	if (!b->keep_head) {
		b->too_big = true;
		return 0;   /* anything but len makes libcurl stop */
	}
	if (room)
		buf_append(&b->data, data, room);
	return len;
}

void http_setup(CURL *h, const char *url, long timeout_ms, char *errbuf,
		struct http_body *body)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "heronfs");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
}

void http_allow_protocols(CURL *h, long protos)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	char list[sizeof(",file,http,https")] = "";

	if (protos & CURLPROTO_FILE)
		strcat(list, ",file");
	if (protos & CURLPROTO_HTTP)
		strcat(list, ",http");
	if (protos & CURLPROTO_HTTPS)
		strcat(list, ",https");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, list + 1);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, list + 1);
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, protos);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, protos);
#endif
}

void http_first_line(const struct buf *body, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < body->len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)body->data[i];
		if (c == '\n' || c == '\r')
			break;
		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}
