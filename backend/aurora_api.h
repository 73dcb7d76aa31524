/* aurora_api: what Aurora's scheduler knows about a job's tasks, read
 * from its /api endpoint in Thrift's TJSONProtocol over libcurl
 * (reference aurora.md 1-3), the replies parsed with jansson.
 *
 * The scheduler is found as the `aurora` client finds it: the cluster's
 * entry in clusters.json ($AURORA_CONFIG_ROOT/clusters.json, default
 * /etc/aurora, then ~/.aurora/clusters.json): scheduler_uri, or the leader's
 * ServerSet member node under scheduler_zk_path in the ZooKeeper named by
 * zk/zk_port. The cluster conf key heronfs.aurora.scheduler_uri overrides
 * both. 307 redirects to the leader are followed with the POST kept.
 *
 * Replies are cached per job for heronfs.aurora.cache.ms (default 2000; 0
 * turns the cache off): however many threads ask during that time, one
 * request is made, and threads that ask while it is in flight wait for its
 * answer rather than sending their own. A failure is an answer too, kept
 * as long. No lock is held across the request. Every call, the leader's
 * lookup in ZooKeeper included, is bounded by
 * heronfs.aurora.request.timeout.ms (default 5000); a leader that cannot
 * be reached is looked up again, once, within that bound.
 *
 * libcurl's global state is initialised by aurora_api_open (reference
 * counted; thread-safe in libcurl >= 7.84). All calls but close may run in
 * many threads at once. */
#ifndef HERONFS_AURORA_API_H
#define HERONFS_AURORA_API_H

#include <stddef.h>

#include "buf.h"
#include "containers.h"
#include "hferr.h"

struct heron_conf;
struct aurora_api;

/* cluster: the Aurora cluster name (the first part of job keys). Reads
 * clusters.json now; a missing entry or a broken file is not an error here
 * (health and calls report it), so a mount never fails for it. A bad
 * heronfs.aurora.* value is HF_ERR_INVALID. */
hf_rc aurora_api_open(const struct heron_conf *conf, const char *cluster,
		      struct aurora_api **out, struct hf_error *err);
void aurora_api_close(struct aurora_api *a);

/* getTasksWithoutConfigs for job key role/environ/name (TaskQuery with
 * jobKeys only, as the aurora client sends it). A job with no tasks is an
 * empty job, not an error. The result is a private copy (free it with
 * container_set_free). Errors: HF_ERR_INVALID for a key part that is not an
 * Aurora identifier ([A-Za-z0-9_.-]+); HF_ERR_TIMEOUT when the bound
 * passes; HF_ERR_UNAVAILABLE for no scheduler, an HTTP error, a Thrift
 * exception or a Response that is not OK (with its details);
 * HF_ERR_CORRUPT for a reply that does not decode. Messages name the URL
 * (or the ZooKeeper hosts) and the cause. */
hf_rc aurora_api_tasks(struct aurora_api *a, const char *role,
		       const char *environ, const char *name,
		       struct container_set **out, struct hf_error *err);

/* Drops the cached reply of a job (after a kill or restart): the next call
 * asks the scheduler. A request already in flight still answers the
 * threads waiting for it. */
void aurora_api_forget(struct aurora_api *a, const char *role,
		       const char *environ, const char *name);

/* One line, no newline. Makes one cheap request (getTierConfigs, not
 * cached) when called. The forms ("(...)" says how the URL was found):
 *   scheduler: ok aurora http://h:p (leader from zookeeper h:p/zk/path)
 *   scheduler: ok aurora http://h:p (scheduler_uri in <dir>/clusters.json)
 *   scheduler: ok aurora http://h:p (heronfs.aurora.scheduler_uri)
 *   scheduler: unreachable aurora <URL, or zookeeper h:p/path> (reason)
 *   scheduler: unreachable aurora cluster <name> (clusters.json trouble) */
void aurora_api_health(struct aurora_api *a, struct buf *out);

/* Requests sent to the scheduler so far (a followed redirect counts
 * once; health's included), for tests of the cache. */
unsigned long aurora_api_request_count(struct aurora_api *a);

#endif
