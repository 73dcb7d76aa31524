/* submit: what `heron submit` does for a cluster, from a package the user
 * copied in: check, pack, upload, write the state, launch, in Heron's
 * order and format, undoing everything on failure (reference heron.md
 * 1.2-1.8). Heron checks the name and then creates; two hosts submitting
 * the same topology could both pass the check, and the loser's undo would
 * delete the winner's package. heronfs takes an ephemeral lock node
 * (locks/<name>__submit) first, so the loser stops before uploading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"
#include "log.h"
#include "package.h"
#include "packing.h"
#include "proto_util.h"
#include "execution_state.pb-c.h"
#include "scheduler.pb-c.h"

/* Everything one submission holds, so undo can release it in one place. */
struct submission {
	struct cluster *c;
	const struct submit_req *req;
	struct package *pkg;
	const char *name;
	char *lock_name;
	bool locked;
	struct heron_conf *conf;          /* local mode, topology tokens */
	struct heron_conf *cluster_conf;  /* cluster mode */
	Heron__Proto__System__PackingPlan *plan;
	char *uri;                        /* uploaded package */
	bool wrote[SM_NDIRS];             /* state nodes this submit created */
	bool launch_tried;
};

/* Limits on what a package may hold, from heronfs.package.* keys. */
static void package_limits_from_conf(const struct heron_conf *conf,
				     struct package_limits *l)
{
	*l = package_default_limits;
	l->max_bytes = (uint64_t)heron_conf_get_int(
		conf, "heronfs.package.max.bytes", (long long)l->max_bytes);
	l->max_unpacked = (uint64_t)heron_conf_get_int(
		conf, "heronfs.package.max.unpacked.bytes",
		(long long)l->max_unpacked);
	l->max_entries = (uint64_t)heron_conf_get_int(
		conf, "heronfs.package.max.entries", (long long)l->max_entries);
	l->max_ratio = heron_conf_get_double(
		conf, "heronfs.package.max.ratio", l->max_ratio);
}

static void progress(void *arg, uint64_t bytes)
{
	struct submission *s = arg;

	note_bytes(s->c, s->name, bytes);
}

static hf_rc lock(struct submission *s, struct hf_error *err)
{
	char owner[256];
	hf_rc rc;

	snprintf(owner, sizeof(owner), "heronfs submit by %s",
		 s->req->user);
	s->lock_name = xasprintf("%s__submit", s->name);
	rc = sm_create(s->c->sm, SM_LOCKS, s->lock_name, owner, strlen(owner),
		       true, err);
	if (rc == HF_ERR_EXISTS)
		return hf_fail(err, HF_ERR_EXISTS, "topology %s is being "
			       "submitted by another host", s->name);
	s->locked = rc == HF_OK;
	return rc;
}

/* Heron refuses a name whose topologies/ node exists; heronfs also
 * refuses leftovers of a half-done kill, which would make the state
 * writes below fail halfway. */
static hf_rc check_free(struct submission *s, struct hf_error *err)
{
	static const enum sm_dir dirs[] = {SM_TOPOLOGIES, SM_PACKINGPLANS,
					   SM_EXECUTIONSTATE, SM_SCHEDULERS,
					   SM_PPLANS};
	struct buf data = {0};
	hf_rc rc = HF_OK;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		rc = sm_get(s->c->sm, dirs[i], s->name, &data, err);
		if (rc == HF_ERR_NOTFOUND) {
			rc = HF_OK;
			continue;
		}
		if (rc == HF_OK)
			rc = dirs[i] == SM_TOPOLOGIES
				? hf_fail(err, HF_ERR_EXISTS, "topology %s "
					  "already exists", s->name)
				: hf_fail(err, HF_ERR_EXISTS, "%s/%s is left "
					  "from an earlier topology %s; kill "
					  "it first (rmdir or echo kill > "
					  "control)",
					  statemgr_dirname(s->c->sm, dirs[i]),
					  s->name, s->name);
		break;
	}
	buf_free(&data);
	return rc;
}

static hf_rc write_node(struct submission *s, enum sm_dir dir,
			const ProtobufCMessage *msg, struct hf_error *err)
{
	struct buf data = {0};
	hf_rc rc;

	pb_pack(msg, &data);
	rc = sm_create(s->c->sm, dir, s->name, data.data, data.len, false,
		       err);
	buf_free(&data);
	if (rc == HF_OK)
		s->wrote[dir] = true;
	else
		hf_error_prefix(err, "writing %s/%s",
				statemgr_dirname(s->c->sm, dir), s->name);
	return rc;
}

/* The release Heron records: heron.build.* from release.yaml. */
static void release_state(const struct heron_conf *conf,
			  Heron__Proto__System__HeronReleaseState *rs)
{
	rs->release_username =
		(char *)heron_conf_get_str(conf, "heron.build.user", "");
	rs->release_tag = (char *)"";
	rs->release_version =
		(char *)heron_conf_get_str(conf, "heron.build.version", "");
}

static hf_rc write_state(struct submission *s, struct hf_error *err)
{
	Heron__Proto__Api__Topology *t = s->pkg->topology;
	Heron__Proto__System__ExecutionState es =
		HERON__PROTO__SYSTEM__EXECUTION_STATE__INIT;
	Heron__Proto__System__HeronReleaseState rs =
		HERON__PROTO__SYSTEM__HERON_RELEASE_STATE__INIT;
	hf_rc rc;

	/* topologies/ holds the topology without its serialized objects. */
	struct pb_copy trimmed;

	pb_copy_topology(t, &trimmed);
	topology_trim(trimmed.topology);
	rc = write_node(s, SM_TOPOLOGIES, &trimmed.topology->base, err);
	pb_copy_free(&trimmed);
	if (rc != HF_OK)
		return rc;
	rc = write_node(s, SM_PACKINGPLANS, &s->plan->base, err);
	if (rc != HF_OK)
		return rc;
	es.topology_name = (char *)s->name;
	es.topology_id = t->id;
	es.has_submission_time = 1;
	es.submission_time = time(NULL);
	es.submission_user = (char *)s->req->user;
	es.cluster = s->c->name;
	es.environ = s->c->environ;
	es.role = (char *)s->req->role;
	release_state(s->conf, &rs);
	es.release_state = &rs;
	return write_node(s, SM_EXECUTIONSTATE, &es.base, err);
}

static enum heron_spelling spelling(struct cluster *c)
{
	return strcmp(statemgr_dirname(c->sm, SM_TMANAGERS), "tmasters") == 0
		       ? SPELL_TMASTER
		       : SPELL_TMANAGER;
}

/* AuroraScheduler: give every container the largest size, store that
 * plan (delete, then create, as Heron replaces nodes), then launch. */
static hf_rc launch(struct submission *s, struct hf_error *err)
{
	hf_rc rc;

	packing_set_scheduled(s->plan);
	rc = sm_delete(s->c->sm, SM_PACKINGPLANS, s->name, err);
	if (rc == HF_OK)
		rc = write_node(s, SM_PACKINGPLANS, &s->plan->base, err);
	if (rc != HF_OK)
		return rc;

	struct launch_spec spec = {
		.key = {s->c->name, s->req->role, s->c->environ, s->name},
		.topology_id = s->pkg->topology->id,
		.defn_file = s->pkg->defn_entry,
		.topology_binary = s->pkg->topology_file,
		.pkg_type = s->pkg->pkg_type,
		.package_uri = s->uri,
		.topology = s->pkg->topology,
		.plan = s->plan,
		.cluster_conf = s->cluster_conf,
		.local_conf = s->conf,
		.spelling = spelling(s->c),
	};
	s->launch_tried = true;
	return scheduler_launch(s->c->sched, &spec, err);
}

static hf_rc write_scheduler_location(struct submission *s,
				      struct hf_error *err)
{
	Heron__Proto__Scheduler__SchedulerLocation sl =
		HERON__PROTO__SCHEDULER__SCHEDULER_LOCATION__INIT;
	char *link = scheduler_job_link(s->c->sched, s->conf);
	hf_rc rc;

	sl.topology_name = (char *)s->name;
	/* Heron's literal for a scheduler that runs inside the client. */
	sl.http_endpoint = (char *)"scheduler_as_lib_no_endpoint";
	if (link) {
		sl.n_job_page_link = 1;
		sl.job_page_link = &link;
	}
	rc = write_node(s, SM_SCHEDULERS, &sl.base, err);
	free(link);
	return rc;
}

static hf_rc upload(struct submission *s, struct hf_error *err)
{
	struct buf release = {0};
	hf_rc rc;

	read_release_yaml(s->c, &release);
	struct upload_req up = {
		.conf = s->conf,
		.topology = s->name,
		.role = s->req->role,
		.package_path = s->req->spool_path,
		.release_yaml = release.data,
		/* heronfs passes no --config-property: an empty override. */
		.override_yaml = "{}\n",
		.progress = progress,
		.progress_arg = s,
	};
	rc = uploader_put(s->c->upl, &up, &s->uri, err);
	buf_free(&release);
	return rc;
}

/* Heron's rollback order: scheduler kill, executionstate, packingplans,
 * topologies; then the uploaded package. Each step is tried whatever the
 * others do; failures are logged, the submit's own error stands. */
static void undo(struct submission *s)
{
	static const enum sm_dir order[] = {SM_SCHEDULERS, SM_EXECUTIONSTATE,
					    SM_PACKINGPLANS, SM_TOPOLOGIES};
	struct hf_error e = {0};

	if (s->launch_tried) {
		struct job_key key = {s->c->name, s->req->role, s->c->environ,
				      s->name};

		if (scheduler_kill(s->c->sched, &key, &e) != HF_OK)
			LOG_W("undo submit %s: %s", s->name, e.msg);
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (s->wrote[order[i]] &&
		    sm_delete(s->c->sm, order[i], s->name, &e) != HF_OK)
			LOG_W("undo submit %s: %s", s->name, e.msg);
	if (s->uri && uploader_undo(s->c->upl, s->uri, &e) != HF_OK)
		LOG_W("undo submit %s: %s", s->name, e.msg);
}

static hf_rc prepare(struct submission *s, struct hf_error *err)
{
	hf_rc rc;

	rc = scheduler_check_environ(s->c->sched, s->c->environ, err);
	if (rc == HF_OK)
		rc = cluster_topology_conf(s->c, s->name, s->pkg->topology->id,
					   s->req->role, s->req->user, false,
					   &s->conf, err);
	if (rc == HF_OK)
		rc = cluster_topology_conf(s->c, s->name, s->pkg->topology->id,
					   s->req->role, s->req->user, true,
					   &s->cluster_conf, err);
	if (rc == HF_OK)
		rc = packing_round_robin(s->pkg->topology, s->conf, &s->plan,
					 err);
	if (rc == HF_OK)
		pb_set_topology_config(s->pkg->topology, "topology.stmgrs",
				       s->plan->n_container_plans);
	return rc;
}

static hf_rc run(struct submission *s, struct hf_error *err)
{
	hf_rc rc = lock(s, err);

	if (rc == HF_OK)
		rc = check_free(s, err);
	if (rc == HF_OK)
		rc = prepare(s, err);
	if (rc != HF_OK)
		return rc;
	note_phase(s->c, s->name, "uploading");
	rc = upload(s, err);
	if (rc == HF_OK) {
		note_phase(s->c, s->name, "writing state");
		rc = write_state(s, err);
	}
	if (rc == HF_OK) {
		note_phase(s->c, s->name, "launching");
		rc = launch(s, err);
	}
	if (rc == HF_OK)
		rc = write_scheduler_location(s, err);
	if (rc != HF_OK) {
		note_phase(s->c, s->name, "undoing");
		undo(s);
	}
	return rc;
}

static void release(struct submission *s)
{
	struct hf_error e = {0};

	if (s->locked && sm_delete(s->c->sm, SM_LOCKS, s->lock_name, &e) !=
			 HF_OK)
		LOG_W("submit %s: releasing the lock: %s", s->name, e.msg);
	free(s->lock_name);
	free(s->uri);
	if (s->plan)
		heron__proto__system__packing_plan__free_unpacked(s->plan,
								  NULL);
	heron_conf_free(s->conf);
	heron_conf_free(s->cluster_conf);
	package_free(s->pkg);
}

static hf_rc can_submit(struct cluster *c, struct hf_error *err)
{
	if (!c->sm)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "state manager not started");
	if (!c->sched)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "cannot launch: %s",
			       c->sched_error);
	if (!c->upl)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "cannot upload: %s",
			       c->upl_error);
	return HF_OK;
}

hf_rc cluster_submit(struct cluster *c, const struct submit_req *req,
		     char **name, struct hf_error *err)
{
	struct submission s = {.c = c, .req = req};
	struct package_limits limits;
	hf_rc rc;

	*name = NULL;
	package_limits_from_conf(c->conf, &limits);
	rc = can_submit(c, err);
	if (rc == HF_OK)
		rc = package_read(req->spool_path, &limits, &s.pkg, err);
	if (rc != HF_OK) {
		actlog_add(c->log, "submit %s by %s: failed: %s",
			   req->file_name, req->user, err->msg);
		return rc;
	}
	s.name = s.pkg->topology_name;
	rc = note_begin(c, s.name, IF_SUBMITTING, err);
	if (rc == HF_ERR_BUSY)
		rc = err->rc = HF_ERR_EXISTS;  /* the name is taken */
	if (rc == HF_OK) {
		rc = run(&s, err);
		note_end(c, s.name, rc == HF_OK ? NULL : err);
	}
	if (rc == HF_OK) {
		actlog_add(c->log, "submit %s by %s as %s/%s: ok (%zu "
			   "containers, package %s)", s.name, req->user,
			   req->role, c->environ, s.plan->n_container_plans + 1,
			   s.uri);
		*name = xstrdup(s.name);
	} else {
		actlog_add(c->log, "submit %s (%s) by %s: failed: %s", s.name,
			   req->file_name, req->user, err->msg);
	}
	release(&s);
	return rc;
}
