/* scheduler_impl: what scheduler.c asks of a scheduler back end.
 *
 * scheduler.c picks the back end from heron.class.scheduler and checks
 * the arguments (job key parts present and free of '/', a container of -1
 * or more) before it calls one of these. A back end is read-only after
 * open: its calls may run in many threads at once.
 *
 * Private to backend/scheduler*.c and executor_args.c.
 */
#ifndef HERONFS_SCHEDULER_IMPL_H
#define HERONFS_SCHEDULER_IMPL_H

#include "scheduler.h"

struct sched_backend;

struct sched_ops {
	const char *kind;   /* "aurora": for messages */

	hf_rc (*open)(const struct heron_conf *conf, struct sched_backend **out,
		      struct hf_error *err);
	void (*close)(struct sched_backend *be);

	hf_rc (*check_environ)(struct sched_backend *be, const char *environ,
			       struct hf_error *err);
	hf_rc (*launch)(struct sched_backend *be,
			const struct launch_spec *spec, struct hf_error *err);
	hf_rc (*kill)(struct sched_backend *be, const struct job_key *key,
		      struct hf_error *err);
	hf_rc (*restart)(struct sched_backend *be, const struct job_key *key,
			 int container, struct hf_error *err);
	char *(*job_link)(struct sched_backend *be,
			  const struct heron_conf *topology_conf);
	hf_rc (*containers)(struct sched_backend *be,
			    const struct job_key *key,
			    struct container_set **out, struct hf_error *err);
	void (*health)(struct sched_backend *be, struct buf *out);
};

extern const struct sched_ops sched_aurora_ops;
extern const struct sched_ops sched_local_ops;

/* executor_topology_arguments with the reason when Heron would refuse the
 * topology's config (an unknown topology.reliability.mode, a
 * topology.stateful.checkpointmanager.ram that is not a whole number):
 * HF_ERR_INVALID. *out is malloc'd. */
hf_rc executor_args_build(const struct launch_spec *spec, char **out,
			  struct hf_error *err);

/* The value of key in a conf, else def substituted with the conf's tokens,
 * as Heron's Key defaults are (def may hold ${HERON_BIN} and the like).
 * malloc'd. */
char *sched_conf_str(const struct heron_conf *conf, const char *key,
		     const char *def);

/* Path helpers for file names (package, executor, registry files), kept
 * in executor_args.c with sched_conf_str. sched_ends_with: whether s ends
 * with suffix. sched_base_name: what follows path's last '/' (path itself
 * without one), pointing into path. */
bool sched_ends_with(const char *s, const char *suffix);
const char *sched_base_name(const char *path);

#endif
