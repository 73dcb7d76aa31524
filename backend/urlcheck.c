#include "urlcheck.h"

#include <curl/curl.h>

#include "http.h"

hf_rc url_check(const char *url, long timeout_ms, int64_t *size,
		struct hf_error *err)
{
	CURL *h = curl_easy_init();
	curl_off_t len = -1;
	CURLcode cc;

	*size = -1;
	if (!h)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "%s: cannot start a "
			       "request", url);
	/* Not http_setup: a bare HEAD, without its User-Agent or body. */
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* The containers' curl follows no redirect either. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	http_allow_protocols(h, CURLPROTO_FILE | CURLPROTO_HTTP |
				    CURLPROTO_HTTPS);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	curl_easy_cleanup(h);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return hf_fail(err, HF_ERR_TIMEOUT, "%s: no answer within %ld "
			       "ms", url, timeout_ms);
	if (cc != CURLE_OK)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "%s: %s", url,
			       curl_easy_strerror(cc));
	*size = len;
	return HF_OK;
}
