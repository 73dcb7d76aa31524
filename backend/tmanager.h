/* tmanager: the TManager's controller endpoint, as `heron activate` and
 * `heron deactivate` use it (reference heron.md 6.1). */
#ifndef HERONFS_TMANAGER_H
#define HERONFS_TMANAGER_H

#include "hferr.h"

/* GET http://<host>:<port>/<verb>?topologyid=<id>, verb "activate" or
 * "deactivate". Only HTTP 200 is success. Any other status is
 * HF_ERR_UNAVAILABLE with the status and the first line of the body; a
 * refused or failed connection HF_ERR_UNAVAILABLE naming host:port; no
 * answer within timeout_ms HF_ERR_TIMEOUT. The id is URL-encoded. Every
 * message names the URL. A verb, host, port or timeout out of range is
 * HF_ERR_INVALID, and nothing is sent. Safe in many threads at once
 * (libcurl >= 7.84: the global init it takes is thread-safe). */
hf_rc tmanager_request(const char *host, int port, const char *verb,
		       const char *topology_id, long timeout_ms,
		       struct hf_error *err);

#endif
