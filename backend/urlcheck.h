/* urlcheck: whether a URL can be fetched, as the containers will fetch it
 * (heron.aurora runs curl on the core and topology package URIs). */
#ifndef HERONFS_URLCHECK_H
#define HERONFS_URLCHECK_H

#include <stdint.h>

#include "hferr.h"

/* Asks for url without its body (HEAD for http(s); for file:// whether
 * the file is there and readable), bounded by timeout_ms. HF_OK with
 * *size (-1 when unknown), else HF_ERR_UNAVAILABLE or HF_ERR_TIMEOUT with
 * the URL and the cause. */
hf_rc url_check(const char *url, long timeout_ms, int64_t *size,
		struct hf_error *err);

#endif
