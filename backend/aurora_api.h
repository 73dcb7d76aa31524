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
 * Replies are cached per job for heronfs.aurora.cache.ms (default 2000):
 * however many threads ask during that time, one request is made, and
 * threads that ask while it is in flight wait for its answer rather than
 * sending their own. No lock is held across the request. Every request is
 * bounded by heronfs.aurora.request.timeout.ms (default 5000). */
#ifndef HERONFS_AURORA_API_H
#define HERONFS_AURORA_API_H

#include <stddef.h>

#include "buf.h"
#include "hferr.h"

struct heron_conf;
struct aurora_api;

struct aurora_event {
	long long time_ms;
	char *status;          /* lowercase ScheduleStatus name: "running" */
	char *message;         /* may be NULL */
};

struct aurora_task {
	int instance;
	char *task_id;
	char *status;          /* lowercase ScheduleStatus name */
	char *host;            /* slaveHost, NULL while pending */
	char *ancestor_id;     /* NULL if none */
	int failure_count;
	struct aurora_event *events;   /* oldest first */
	size_t n_events;
};

struct aurora_job {
	struct aurora_task *tasks;     /* every task the scheduler returned,
					* sorted by instance, then by their
					* first event time (newest last) */
	size_t n_tasks;
};

/* cluster: the Aurora cluster name (the first part of job keys). Reads
 * clusters.json now; a missing entry is not an error here (health and
 * calls report it), so a mount never fails for it. */
hf_rc aurora_api_open(const struct heron_conf *conf, const char *cluster,
		      struct aurora_api **out, struct hf_error *err);
void aurora_api_close(struct aurora_api *a);

/* getTasksWithoutConfigs for job key role/environ/name (TaskQuery with
 * jobKeys only, as the aurora client sends it). A job with no tasks is an
 * empty job, not an error. The result is a private copy (free it with
 * aurora_job_free). */
hf_rc aurora_api_tasks(struct aurora_api *a, const char *role,
		       const char *environ, const char *name,
		       struct aurora_job **out, struct hf_error *err);
void aurora_job_free(struct aurora_job *job);

/* The newest task of each instance, in instance order, pointing into job
 * (for containers/<i>/). Returns how many; *out is malloc'd. */
size_t aurora_job_latest(const struct aurora_job *job,
			 const struct aurora_task ***out);

/* Drops the cached reply of a job (after a kill or restart). */
void aurora_api_forget(struct aurora_api *a, const char *role,
		       const char *environ, const char *name);

/* One line, no newline: "scheduler: ok aurora http://h:p (leader from
 * zookeeper h:p/aurora/scheduler)" or "scheduler: unreachable aurora ...
 * (reason)". Makes one cheap request (getTierConfigs) when called. */
void aurora_api_health(struct aurora_api *a, struct buf *out);

/* HTTP requests sent so far, for tests of the cache. */
unsigned long aurora_api_request_count(struct aurora_api *a);

#endif
