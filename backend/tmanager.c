/* tmanager: one GET to the TManager's controller, as Heron's
 * TManagerUtils.sendToTManager sends it (reference heron.md 6.1).
 *
 * Each request has its own easy handle: activations are rare, and a handle
 * shared between FUSE threads would need a lock held across the request.
 * CURLOPT_NOSIGNAL keeps libcurl from using SIGALRM for its timeouts, which
 * is not safe in a multithreaded daemon.
 *
 * Proxies: libcurl honours http_proxy, ALL_PROXY and no_proxy from the
 * daemon's environment, and heronfs leaves it so: whoever starts the daemon
 * with a proxy set chose it. A TManager is usually reached directly, so such
 * an environment should list the cluster's hosts in no_proxy. (Heron's Java
 * client ignores these variables and uses a proxy only when the JVM is
 * given one.)
 *
 * Redirects are not followed: the controller never sends one, and Heron's
 * client would not turn one into success either. */
#include "tmanager.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"

/* Enough for the first line of any controller reply; the rest is read and
 * dropped so that the exchange still ends normally. */
#define BODY_KEEP   4096
#define LINE_SHOWN  200

static size_t keep_head(char *data, size_t size, size_t n, void *arg)
{
	struct buf *body = arg;
	size_t len = size * n;

	if (body->len < BODY_KEEP)
		buf_append(body, data, len < BODY_KEEP - body->len
					     ? len : BODY_KEEP - body->len);
	return len;
}

/* The first line of a reply, control characters replaced, for messages. */
static void first_line(const struct buf *body, char *out, size_t size)
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

static bool verb_known(const char *verb)
{
	return verb && (strcmp(verb, "activate") == 0 ||
			strcmp(verb, "deactivate") == 0);
}

/* http://host:port/verb?topologyid=<escaped id>; an IPv6 literal host is
 * bracketed. NULL if curl cannot escape the id. */
static char *request_url(CURL *h, const char *host, int port,
			 const char *verb, const char *id)
{
	char *esc = curl_easy_escape(h, id, 0);
	bool v6 = strchr(host, ':') != NULL;
	char *url;

	if (!esc)
		return NULL;
	url = xasprintf("http://%s%s%s:%d/%s?topologyid=%s", v6 ? "[" : "",
			host, v6 ? "]" : "", port, verb, esc);
	curl_free(esc);
	return url;
}

static hf_rc outcome(CURL *h, CURLcode cc, const char *url,
		     const char *errbuf, const struct buf *body,
		     long timeout_ms, struct hf_error *err)
{
	char line[LINE_SHOWN + 1];
	long status = 0;

	if (cc == CURLE_OPERATION_TIMEDOUT)
		return hf_fail(err, HF_ERR_TIMEOUT,
			       "GET %s: no answer within %ld ms", url,
			       timeout_ms);
	if (cc != CURLE_OK)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "GET %s: %s", url,
			       *errbuf ? errbuf : curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return HF_OK;
	first_line(body, line, sizeof(line));
	return hf_fail(err, HF_ERR_UNAVAILABLE, "GET %s: HTTP %ld%s%s", url,
		       status, *line ? ": " : "", line);
}

static hf_rc perform(CURL *h, const char *url, long timeout_ms,
		     struct hf_error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct buf body = {0};
	CURLcode cc;
	hf_rc rc;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_head);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "heronfs");
	cc = curl_easy_perform(h);
	rc = outcome(h, cc, url, errbuf, &body, timeout_ms, err);
	buf_free(&body);
	return rc;
}

hf_rc tmanager_request(const char *host, int port, const char *verb,
		       const char *topology_id, long timeout_ms,
		       struct hf_error *err)
{
	CURL *h;
	char *url;
	hf_rc rc;

	if (!verb_known(verb))
		return hf_fail(err, HF_ERR_INVALID,
			       "TManager verb '%s' is not activate or "
			       "deactivate", verb ? verb : "");
	if (!host || !*host || port < 1 || port > 65535)
		return hf_fail(err, HF_ERR_INVALID,
			       "TManager address '%s:%d' is not a host and port",
			       host ? host : "", port);
	if (!topology_id || timeout_ms <= 0)
		return hf_fail(err, HF_ERR_INVALID,
			       "TManager request needs a topology id and a "
			       "positive timeout");
	/* Reference counted, and thread-safe in libcurl >= 7.84. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "libcurl could not initialise");
	h = curl_easy_init();
	url = h ? request_url(h, host, port, verb, topology_id) : NULL;
	if (url)
		rc = perform(h, url, timeout_ms, err);
	else
		rc = hf_fail(err, HF_ERR_UNAVAILABLE,
			     "GET http://%s:%d/%s: libcurl could not set up "
			     "the request", host, port, verb);
	free(url);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return rc;
}
