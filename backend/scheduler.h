/* scheduler: launches and manages a topology's containers, as Heron's
 * scheduler classes do (heron.class.scheduler / heron.class.launcher).
 *
 * Implemented: scheduler.aurora.AuroraScheduler, which drives the `aurora`
 * command exactly as Heron's AuroraCLIController does (same argv, same 13
 * bindings, job key <cluster>/<role>/<environ>/<name>), and
 * scheduler.local.LocalScheduler, which runs the topology's heron-executors
 * as processes of this machine, as Heron's LocalLauncher and LocalScheduler
 * do (see scheduler_local.c). */
#ifndef HERONFS_SCHEDULER_H
#define HERONFS_SCHEDULER_H

#include <stdbool.h>

#include "buf.h"
#include "containers.h"
#include "hferr.h"
#include "packing_plan.pb-c.h"
#include "topology.pb-c.h"

struct heron_conf;
struct scheduler;

/* Which Heron generation the cluster speaks: executor flag and ZooKeeper
 * directory spellings (see reference: "tmaster" before 0.20.3). */
enum heron_spelling { SPELL_TMANAGER, SPELL_TMASTER };

struct job_key {
	const char *cluster;
	const char *role;
	const char *environ;
	const char *name;
};

/* conf: the cluster's conf (local mode, as loaded at mount). Refuses a
 * scheduler class heronfs does not implement. */
hf_rc scheduler_open(const struct heron_conf *conf, struct scheduler **out,
		     struct hf_error *err);
void scheduler_close(struct scheduler *s);

/* Fails with HF_ERR_INVALID when the scheduler would refuse this
 * environment (a stock Aurora accepts ^(prod|devel|test|staging\d*)$;
 * heronfs.aurora.environ.pattern overrides, in the same form: matched
 * against the whole name, \d allowed), so a submit fails early. */
hf_rc scheduler_check_environ(struct scheduler *s, const char *environ,
			      struct hf_error *err);

struct launch_spec {
	struct job_key key;
	const char *topology_id;
	const char *defn_file;         /* "<Name>.defn" */
	const char *topology_binary;   /* basename of the jar/tar/pex */
	const char *pkg_type;          /* "jar", "tar", "pex" */
	const char *package_uri;       /* from the uploader */
	const Heron__Proto__Api__Topology *topology;
	/* The plan as stored, with scheduledResource set on every container. */
	const Heron__Proto__System__PackingPlan *plan;
	/* The conf converted to cluster mode (HERON_HOME=./heron-core,
	 * HERON_CONF=./heron-conf) with the topology's tokens: every binding
	 * value comes from it, as Heron computes them. */
	const struct heron_conf *cluster_conf;
	/* The conf in local mode (the real HERON_HOME and conf directory)
	 * with the topology's tokens, as Heron's launcher reads it: the
	 * local scheduler takes heron.scheduler.local.working.directory and
	 * the heron.package.* keys from it, since they name paths on this
	 * machine. Needed by the local scheduler only. */
	const struct heron_conf *local_conf;
	enum heron_spelling spelling;
};

/* `aurora job create --wait-until RUNNING --bind ... KEY heron.aurora`:
 * the 13 bindings in AuroraField declaration order (Heron's HashMap order
 * is undefined), then AURORA_METADATA_<i> from heron.scheduler.properties
 * (whose first element replaces "heron.aurora" in the template path),
 * the key, the template (heron.scheduler.job.template, else heron.aurora
 * in the cluster's conf directory) and --verbose when heronfs.aurora.verbose.
 * HF_ERR_INVALID when Heron would refuse the topology's config;
 * HF_ERR_TIMEOUT after heronfs.aurora.timeout.ms (default 600000);
 * HF_ERR_UNAVAILABLE with aurora's exit status and last output line when
 * it fails or cannot be run. */
hf_rc scheduler_launch(struct scheduler *s, const struct launch_spec *spec,
		       struct hf_error *err);

/* `aurora job killall KEY --batch-size 2147483647`, run up to
 * heron.scheduler.job.max.kill.attempts times (5; at least once),
 * heron.scheduler.job.kill.retry.interval.ms (2000) apart; a timeout
 * counts as a failed attempt, so the worst case is attempts times
 * heronfs.aurora.timeout.ms plus the intervals. Aurora reports success
 * for a job without active tasks. */
hf_rc scheduler_kill(struct scheduler *s, const struct job_key *key,
		     struct hf_error *err);

/* `aurora job restart KEY[/container] --batch-size 2147483647`;
 * container -1 = all. */
hf_rc scheduler_restart(struct scheduler *s, const struct job_key *key,
			int container, struct hf_error *err);

/* The job page link Heron records in schedulers/<name>
 * (heron.scheduler.job.link.template substituted with topology_conf's
 * tokens), or NULL when unset or empty. malloc'd. */
char *scheduler_job_link(struct scheduler *s,
			 const struct heron_conf *topology_conf);

/* What the scheduler knows now about the job's containers (Aurora: its
 * tasks, from the scheduler's API; local: the processes). A job the
 * scheduler does not know is an empty set. Free with container_set_free. */
hf_rc scheduler_containers(struct scheduler *s, const struct job_key *key,
			   struct container_set **out, struct hf_error *err);

/* One line for `health`, without newline: "scheduler: ok ..." or
 * "scheduler: unreachable ... (reason)". */
void scheduler_health(struct scheduler *s, struct buf *out);

/* The executor flags of TOPOLOGY_ARGUMENTS, space-joined, in Heron's
 * order and spelling (reference heron.md 1.7). malloc'd; NULL when Heron
 * would refuse the topology's config (scheduler_launch then says why).
 * Exposed for tests. */
char *executor_topology_arguments(const struct launch_spec *spec);

#endif
