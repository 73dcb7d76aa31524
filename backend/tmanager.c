/* tmanager: one GET to the TManager's controller, as Heron's
 * TManagerUtils.sendToTManager sends it (reference heron.md 6.1).
 *
 * Each request has its own easy handle (activations are rare), set up by
 * http_setup.
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
#include "http.h"

/* Enough for the first line of any controller reply; the rest is read and
 * dropped so that the exchange still ends normally. */
#define BODY_KEEP   4096

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
	char line[HTTP_LINE_SHOWN + 1];
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
	http_first_line(body, line, sizeof(line));
	return hf_fail(err, HF_ERR_UNAVAILABLE, "GET %s: HTTP %ld%s%s", url,
		       status, *line ? ": " : "", line);
}

static hf_rc perform(CURL *h, const char *url, long timeout_ms,
		     struct hf_error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct http_body body = {.max = BODY_KEEP, .keep_head = true};
	CURLcode cc;
	hf_rc rc;

	http_setup(h, url, timeout_ms, errbuf, &body);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	cc = curl_easy_perform(h);
	rc = outcome(h, cc, url, errbuf, &body.data, timeout_ms, err);
	buf_free(&body.data);
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
