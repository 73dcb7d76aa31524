/* http: the libcurl easy-handle set-up that heronfs's HTTP clients share
 * (tmanager.c, aurora_api.c; urlcheck.c for the protocol list).
 *
 * These only set options on a handle and read what came back; the caller
 * owns curl_global_init, the handle, the transfer and what its outcome
 * means. Each request has its own easy handle: one shared between FUSE
 * threads would need a lock held across the request. */
#ifndef HERONFS_HTTP_H
#define HERONFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

/* How much of a reply line a message quotes (see http_first_line). */
#define HTTP_LINE_SHOWN 200

/* Where http_setup puts a reply body. Zero it, then set max (and
 * keep_head); data then holds at most max bytes. */
struct http_body {
	struct buf data;
	size_t max;
	/* Past max: true keeps the first max bytes and reads the rest away,
	 * so the exchange still ends normally; false stops the transfer
	 * (curl_easy_perform returns CURLE_WRITE_ERROR) and sets too_big. */
	bool keep_head;
	bool too_big;
};

/* What every heronfs request has: url; CURLOPT_NOSIGNAL, as libcurl's
 * timeouts would otherwise use SIGALRM, which a multithreaded daemon
 * cannot share; timeout_ms for the whole transfer and for connecting;
 * User-Agent "heronfs"; libcurl's own message in errbuf (CURL_ERROR_SIZE
 * bytes, empty before the transfer); the body into body. errbuf and body
 * must outlive the transfer. Method, headers and redirects are the
 * caller's. */
void http_setup(CURL *h, const char *url, long timeout_ms, char *errbuf,
		struct http_body *body);

/* Restricts h to protos (one or more of CURLPROTO_FILE, CURLPROTO_HTTP,
 * CURLPROTO_HTTPS), for the request and for any redirect it follows;
 * through CURLOPT_PROTOCOLS_STR where libcurl has it (7.85, which
 * deprecates the bit masks), else the masks (meson accepts 7.75). */
void http_allow_protocols(CURL *h, long protos);

/* The first line of body, for a message: at most size - 1 bytes, control
 * characters replaced by '?', always NUL-terminated (size > 0). */
void http_first_line(const struct buf *body, char *out, size_t size);

#endif
