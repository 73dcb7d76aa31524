/* scheduler: picks the back end from heron.class.scheduler, checks the
 * arguments once and forwards to the back end.
 */
#include "scheduler.h"
#include "scheduler_impl.h"

#include <stdlib.h>
#include <string.h>

#include "heron_conf.h"
#include "log.h"

#define CLASS_KEY "heron.class.scheduler"

struct scheduler {
	const struct sched_ops *ops;
	struct sched_backend *be;
};

/* Class names without the org.apache.heron. / com.twitter.heron. root. */
static const struct {
	const char *cls;
	const struct sched_ops *ops;
} backends[] = {
	{"scheduler.aurora.AuroraScheduler", &sched_aurora_ops},
	{"scheduler.local.LocalScheduler", &sched_local_ops},
};

hf_rc scheduler_open(const struct heron_conf *conf, struct scheduler **out,
		     struct hf_error *err)
{
	const char *cls = heron_conf_class(conf, CLASS_KEY);
	const struct sched_ops *ops = NULL;
	struct sched_backend *be;
	hf_rc rc;

	*out = NULL;
	if (!cls)
		return hf_fail(err, HF_ERR_INVALID, "%s is not set", CLASS_KEY);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(cls, backends[i].cls) == 0)
			ops = backends[i].ops;
	if (!ops)
		return hf_fail(err, HF_ERR_INVALID,
			       "scheduler class %s is not supported by heronfs",
			       heron_conf_get(conf, CLASS_KEY));
	rc = ops->open(conf, &be, err);
	if (rc != HF_OK)
		return rc;
	LOG_D("scheduler for %s: %s", heron_conf_dir(conf), ops->kind);
	*out = xmalloc(sizeof(**out));
	**out = (struct scheduler){.ops = ops, .be = be};
	return HF_OK;
}

void scheduler_close(struct scheduler *s)
{
	if (!s)
		return;
	s->ops->close(s->be);
	free(s);
}

hf_rc scheduler_check_environ(struct scheduler *s, const char *environ,
			      struct hf_error *err)
{
	if (!environ || !*environ)
		return hf_fail(err, HF_ERR_INVALID, "no environment given");
	return s->ops->check_environ(s->be, environ, err);
}

static bool key_part_ok(const char *part)
{
	return part && *part && !strchr(part, '/');
}

/* Parts with '/' would make a different job key, or none. */
static hf_rc check_key(const struct job_key *key, struct hf_error *err)
{
	if (key_part_ok(key->cluster) && key_part_ok(key->role) &&
	    key_part_ok(key->environ) && key_part_ok(key->name))
		return HF_OK;
	return hf_fail(err, HF_ERR_INVALID,
		       "job key %s/%s/%s/%s: every part must be non-empty "
		       "and free of '/'",
		       key->cluster ? key->cluster : "",
		       key->role ? key->role : "",
		       key->environ ? key->environ : "",
		       key->name ? key->name : "");
}

static hf_rc check_spec(const struct launch_spec *spec, struct hf_error *err)
{
	if (!spec->topology_id || !spec->defn_file || !spec->topology_binary ||
	    !spec->pkg_type || !spec->package_uri || !spec->topology ||
	    !spec->topology->name || !spec->topology->id || !spec->plan ||
	    !spec->cluster_conf)
		return hf_fail(err, HF_ERR_INVALID,
			       "incomplete launch request");
	if (spec->plan->n_container_plans == 0)
		return hf_fail(err, HF_ERR_INVALID,
			       "the packing plan has no container");
	return check_key(&spec->key, err);
}

hf_rc scheduler_launch(struct scheduler *s, const struct launch_spec *spec,
		       struct hf_error *err)
{
	hf_rc rc = check_spec(spec, err);

	return rc != HF_OK ? rc : s->ops->launch(s->be, spec, err);
}

hf_rc scheduler_kill(struct scheduler *s, const struct job_key *key,
		     struct hf_error *err)
{
	hf_rc rc = check_key(key, err);

	return rc != HF_OK ? rc : s->ops->kill(s->be, key, err);
}

hf_rc scheduler_restart(struct scheduler *s, const struct job_key *key,
			int container, struct hf_error *err)
{
	hf_rc rc = check_key(key, err);

	if (rc != HF_OK)
		return rc;
	if (container < -1)
		return hf_fail(err, HF_ERR_INVALID, "no container %d",
			       container);
	return s->ops->restart(s->be, key, container, err);
}

char *scheduler_job_link(struct scheduler *s,
			 const struct heron_conf *topology_conf)
{
	return s->ops->job_link(s->be, topology_conf);
}

hf_rc scheduler_containers(struct scheduler *s, const struct job_key *key,
			   struct container_set **out, struct hf_error *err)
{
	hf_rc rc = check_key(key, err);

	*out = NULL;
	if (rc != HF_OK)
		return rc;
	if (!s->ops->containers) {
		*out = xcalloc(1, sizeof(**out));
		return HF_OK;
	}
	return s->ops->containers(s->be, key, out, err);
}

void scheduler_health(struct scheduler *s, struct buf *out)
{
	if (s->ops->health)
		s->ops->health(s->be, out);
	else
		buf_printf(out, "scheduler: %s", s->ops->kind);
}
