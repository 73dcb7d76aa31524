/* topology: one topology's state nodes, decoded, classified and rendered.
 *
 * Classification trusts nothing: the nodes are written by different
 * programs at different times (the submitting client, the scheduler, the
 * TManager), and a crash or a half-done kill leaves any subset behind. Every
 * message pointer may therefore be NULL, and only messages that protobuf-c
 * accepted (required fields present) are ever looked into. */
#include "topology.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbjson.h"

/* The topology's nodes are the first six directories of enum sm_dir. */
#define TOPO_NDIRS (SM_PPLANS + 1)

static const ProtobufCMessageDescriptor *const node_desc[TOPO_NDIRS] = {
	[SM_TOPOLOGIES] = &heron__proto__api__topology__descriptor,
	[SM_PACKINGPLANS] = &heron__proto__system__packing_plan__descriptor,
	[SM_EXECUTIONSTATE] = &heron__proto__system__execution_state__descriptor,
	[SM_SCHEDULERS] = &heron__proto__scheduler__scheduler_location__descriptor,
	[SM_TMANAGERS] = &heron__proto__tmanager__tmanager_location__descriptor,
	[SM_PPLANS] = &heron__proto__system__physical_plan__descriptor,
};

const char *topo_state_word(enum topo_state s)
{
	switch (s) {
	case TOPO_SUBMITTING: return "submitting";
	case TOPO_STARTING: return "starting";
	case TOPO_RUNNING: return "running";
	case TOPO_PAUSED: return "paused";
	case TOPO_KILLING: return "killing";
	case TOPO_ORPHANED: return "orphaned";
	}
	return "unknown";
}

static const ProtobufCMessage *node_msg(const struct topo *t, enum sm_dir d)
{
	switch (d) {
	case SM_TOPOLOGIES:
		return t->topology ? &t->topology->base : NULL;
	case SM_PACKINGPLANS:
		return t->packing_plan ? &t->packing_plan->base : NULL;
	case SM_EXECUTIONSTATE:
		return t->execution_state ? &t->execution_state->base : NULL;
	case SM_SCHEDULERS:
		return t->scheduler_location ? &t->scheduler_location->base
					     : NULL;
	case SM_TMANAGERS:
		return t->tmanager_location ? &t->tmanager_location->base
					    : NULL;
	case SM_PPLANS:
		return t->physical_plan ? &t->physical_plan->base : NULL;
	default:
		return NULL;
	}
}

/* m was unpacked with node_desc[d], so it is that message type. */
static void set_node_msg(struct topo *t, enum sm_dir d, ProtobufCMessage *m)
{
	switch (d) {
	case SM_TOPOLOGIES:
		t->topology = (Heron__Proto__Api__Topology *)m;
		break;
	case SM_PACKINGPLANS:
		t->packing_plan = (Heron__Proto__System__PackingPlan *)m;
		break;
	case SM_EXECUTIONSTATE:
		t->execution_state = (Heron__Proto__System__ExecutionState *)m;
		break;
	case SM_SCHEDULERS:
		t->scheduler_location =
			(Heron__Proto__Scheduler__SchedulerLocation *)m;
		break;
	case SM_TMANAGERS:
		t->tmanager_location =
			(Heron__Proto__Tmanager__TManagerLocation *)m;
		break;
	case SM_PPLANS:
		t->physical_plan = (Heron__Proto__System__PhysicalPlan *)m;
		break;
	default:
		break;
	}
}

void topo_free(struct topo *t)
{
	if (!t)
		return;
	for (int d = 0; d < TOPO_NDIRS; d++) {
		const ProtobufCMessage *m = node_msg(t, (enum sm_dir)d);

		if (m)
			protobuf_c_message_free_unpacked((ProtobufCMessage *)m,
							 NULL);
	}
	free(t->name);
	free(t->reason);
	free(t);
}

/* Stored strings end up in one-line files; a newline in a node must not
 * start a line of its own. */
static void put_one_line(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_append(out, c < 0x20 || c == 0x7f ? "?" : s, 1);
	}
}

/* ---- classification ---- */

static bool node_exists(const struct topo *t, enum sm_dir d)
{
	return t->present[d] || node_msg(t, d);
}

/* The topology inside the physical plan: its state is the authoritative
 * one (the TManager sets it; nobody rewrites topologies/<name>). */
static const Heron__Proto__Api__Topology *plan_topology(const struct topo *t)
{
	return t->physical_plan ? t->physical_plan->topology : NULL;
}

static char *corrupt_reason(const struct topo *t)
{
	struct buf b = {0};

	for (int d = 0; d < TOPO_NDIRS; d++)
		if (t->corrupt[d])
			buf_printf(&b, "%s%s/%s does not decode as %s",
				   b.len ? "; " : "",
				   sm_dir_name((enum sm_dir)d), t->name,
				   node_desc[d]->name);
	return b.len ? buf_steal(&b) : NULL;
}

/* Heron's kill deletes topologies/<name> last and its submit writes it
 * first, so other nodes without it are what a crash in between leaves. */
static char *missing_topology_reason(const struct topo *t)
{
	struct buf found = {0};
	char *r;

	if (t->topology)
		return NULL;
	for (int d = 0; d < TOPO_NDIRS; d++)
		if (d != SM_TOPOLOGIES && node_exists(t, (enum sm_dir)d))
			buf_printf(&found, "%s%s/%s", found.len ? ", " : "",
				   sm_dir_name((enum sm_dir)d), t->name);
	if (found.len)
		r = xasprintf("topologies/%s is missing; found %s (left by an "
			      "unfinished kill or submit)",
			      t->name, found.data);
	else
		r = xasprintf("topologies/%s is missing", t->name);
	buf_free(&found);
	return r;
}

struct node_value {
	enum sm_dir dir;
	const char *value;   /* NULL when the node is absent */
};

/* Every node records its topology's name, most also its id; they must
 * agree with the node name and with topologies/<name>. */
static char *mismatch_reason(const struct topo *t)
{
	const Heron__Proto__Api__Topology *pptopo = plan_topology(t);
	const Heron__Proto__System__ExecutionState *es = t->execution_state;
	const struct node_value names[] = {
		{SM_TOPOLOGIES, t->topology->name},
		{SM_EXECUTIONSTATE, es ? es->topology_name : NULL},
		{SM_SCHEDULERS, t->scheduler_location
					? t->scheduler_location->topology_name
					: NULL},
		{SM_TMANAGERS, t->tmanager_location
				       ? t->tmanager_location->topology_name
				       : NULL},
		{SM_PPLANS, pptopo ? pptopo->name : NULL},
	};
	/* tmanagers is not here: see current_tmanager. */
	const struct node_value ids[] = {
		{SM_PACKINGPLANS, t->packing_plan ? t->packing_plan->id : NULL},
		{SM_EXECUTIONSTATE, es ? es->topology_id : NULL},
		{SM_PPLANS, pptopo ? pptopo->id : NULL},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value && strcmp(names[i].value, t->name) != 0)
			return xasprintf("%s/%s names topology '%s'",
					 sm_dir_name(names[i].dir), t->name,
					 names[i].value);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].value && strcmp(ids[i].value, t->topology->id) != 0)
			return xasprintf("%s/%s has topology id '%s' but "
					 "topologies/%s has '%s'",
					 sm_dir_name(ids[i].dir), t->name,
					 ids[i].value, t->name,
					 t->topology->id);
	return NULL;
}

/* Heron never writes KILLED into a plan whose topology still exists. */
static char *plan_state_reason(const struct topo *t)
{
	const Heron__Proto__Api__Topology *pptopo = plan_topology(t);
	const ProtobufCEnumValue *v;

	if (!pptopo || pptopo->state == HERON__PROTO__API__TOPOLOGY_STATE__RUNNING ||
	    pptopo->state == HERON__PROTO__API__TOPOLOGY_STATE__PAUSED)
		return NULL;
	v = protobuf_c_enum_descriptor_get_value(
		&heron__proto__api__topology_state__descriptor, pptopo->state);
	if (v)
		return xasprintf("pplans/%s says the topology is %s", t->name,
				 v->name);
	return xasprintf("pplans/%s has an unknown topology state %d", t->name,
			 (int)pptopo->state);
}

static char *orphan_reason(const struct topo *t)
{
	char *r = corrupt_reason(t);

	if (!r)
		r = missing_topology_reason(t);
	if (!r)
		r = mismatch_reason(t);
	if (!r)
		r = plan_state_reason(t);
	return r;
}

void topo_classify(struct topo *t)
{
	const Heron__Proto__Api__Topology *pptopo = plan_topology(t);

	free(t->reason);
	t->reason = orphan_reason(t);
	if (t->reason) {
		struct buf b = {0};

		put_one_line(&b, t->reason);
		free(t->reason);
		t->reason = buf_steal(&b);
		t->state = TOPO_ORPHANED;
	} else if (!pptopo) {
		t->state = TOPO_STARTING;
	} else if (pptopo->state == HERON__PROTO__API__TOPOLOGY_STATE__PAUSED) {
		t->state = TOPO_PAUSED;
	} else {
		t->state = TOPO_RUNNING;
	}
}

/* ---- loading ---- */

static hf_rc load_node(struct statemgr *sm, struct topo *t, enum sm_dir d,
		       struct buf *data, struct hf_error *err)
{
	ProtobufCMessage *m;
	hf_rc rc;

	buf_reset(data);
	rc = sm_get(sm, d, t->name, data, err);
	if (rc == HF_ERR_NOTFOUND) {
		hf_error_clear(err);
		return HF_OK;
	}
	if (rc != HF_OK) {
		hf_error_prefix(err, "reading %s/%s", statemgr_dirname(sm, d),
				t->name);
		return rc;
	}
	t->present[d] = true;
	m = protobuf_c_message_unpack(node_desc[d], NULL, data->len,
				      (const uint8_t *)data->data);
	if (m)
		set_node_msg(t, d, m);
	else
		t->corrupt[d] = true;
	return HF_OK;
}

/* A topology is what topo_list lists: any node but the ephemeral tmanagers
 * one, which a killed TManager's session keeps alive for a while. */
static bool topo_exists(const struct topo *t)
{
	for (int d = 0; d < TOPO_NDIRS; d++)
		if (d != SM_TMANAGERS && t->present[d])
			return true;
	return false;
}

hf_rc topo_load(struct statemgr *sm, const char *name, struct topo **out,
		struct hf_error *err)
{
	struct buf data = {0};
	struct topo *t;
	hf_rc rc = HF_OK;

	*out = NULL;
	/* A name the statemgr refuses is simply nobody's topology. */
	if (sm_check_name(name, NULL) != HF_OK)
		return hf_fail(err, HF_ERR_NOTFOUND, "no topology %s", name);
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	for (int d = 0; d < TOPO_NDIRS && rc == HF_OK; d++)
		rc = load_node(sm, t, (enum sm_dir)d, &data, err);
	buf_free(&data);
	if (rc == HF_OK && !topo_exists(t))
		rc = hf_fail(err, HF_ERR_NOTFOUND, "no topology %s", name);
	if (rc != HF_OK) {
		topo_free(t);
		return rc;
	}
	topo_classify(t);
	*out = t;
	return HF_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts v[0..n) and frees duplicates; returns the new length. */
static size_t sort_unique(char **v, size_t n)
{
	size_t k = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1], v[i]) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	return k;
}

hf_rc topo_list(struct statemgr *sm, char ***names, struct hf_error *err)
{
	static const enum sm_dir dirs[] = {
		SM_TOPOLOGIES, SM_PACKINGPLANS, SM_EXECUTIONSTATE,
		SM_SCHEDULERS, SM_PPLANS,
	};
	char **all = xcalloc(1, sizeof(*all));
	size_t n = 0;

	*names = NULL;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char **v;
		hf_rc rc = sm_list(sm, dirs[i], &v, err);

		if (rc != HF_OK) {
			hf_error_prefix(err, "listing %s",
					statemgr_dirname(sm, dirs[i]));
			strv_free(all);
			return rc;
		}
		size_t k = strv_len(v);

		all = xrealloc(all, (n + k + 1) * sizeof(*all));
		memcpy(all + n, v, k * sizeof(*v));
		n += k;
		all[n] = NULL;
		free(v);   /* the strings now belong to all */
	}
	all[sort_unique(all, n)] = NULL;
	*names = all;
	return HF_OK;
}

/* ---- status ---- */

/* The facts both status renderings show; NULL or -1 when unknown. */
struct facts {
	const char *id, *cluster, *role, *environ, *submitted_by;
	bool has_submitted_at;
	int64_t submitted_at;
	const Heron__Proto__System__HeronReleaseState *release;
	long containers, instances;
	const Heron__Proto__Tmanager__TManagerLocation *tmanager;
	const char *job_link;
};

/* The TManager location if it is this topology's. It is an ephemeral node:
 * after a kill and a new submit under the same name, the old TManager's
 * node lingers until its ZooKeeper session expires (the new TManager waits
 * for that), so a location with another topology id is not ours. */
static const Heron__Proto__Tmanager__TManagerLocation *
current_tmanager(const struct topo *t)
{
	const Heron__Proto__Tmanager__TManagerLocation *tm =
		t->tmanager_location;

	if (tm && t->topology && strcmp(tm->topology_id, t->topology->id) != 0)
		return NULL;
	return tm;
}

static void gather_packing(const Heron__Proto__System__PackingPlan *pp,
			   struct facts *f)
{
	f->containers = f->instances = -1;
	if (!pp)
		return;
	/* Heron's NUM_CONTAINERS: the plan's containers and the TManager's. */
	f->containers = (long)pp->n_container_plans + 1;
	f->instances = 0;
	for (size_t i = 0; i < pp->n_container_plans; i++)
		f->instances += (long)pp->container_plans[i]->n_instance_plans;
}

static void gather(const struct topo *t, const struct topo_extra *x,
		   struct facts *f)
{
	const Heron__Proto__System__ExecutionState *es = t->execution_state;
	const Heron__Proto__Scheduler__SchedulerLocation *sl =
		t->scheduler_location;

	memset(f, 0, sizeof(*f));
	f->id = t->topology ? t->topology->id : NULL;
	f->cluster = es ? es->cluster : x ? x->cluster : NULL;
	if (es) {
		f->role = es->role;
		f->environ = es->environ;
		f->submitted_by = es->submission_user;
		f->has_submitted_at = es->has_submission_time;
		f->submitted_at = es->submission_time;
		f->release = es->release_state;
	}
	gather_packing(t->packing_plan, f);
	f->tmanager = current_tmanager(t);
	f->job_link = sl && sl->n_job_page_link ? sl->job_page_link[0] : NULL;
}

/* ISO 8601 UTC ("2026-11-29T09:10:48Z"); false for a time gmtime cannot
 * represent. */
static bool iso_time(int64_t secs, char *out, size_t size)
{
	time_t tt = (time_t)secs;
	struct tm tm;

	return (int64_t)tt == secs && gmtime_r(&tt, &tm) &&
	       strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

static void put_line(struct buf *out, const char *key, const char *value,
		     const char *missing)
{
	buf_printf(out, "%s: ", key);
	put_one_line(out, value && *value ? value : missing);
	buf_puts(out, "\n");
}

static void put_count(struct buf *out, const char *key, long n)
{
	char s[24];

	snprintf(s, sizeof(s), "%ld", n);
	put_line(out, key, n >= 0 ? s : NULL, "unknown");
}

/* "containers: 3", or with what the scheduler says of them:
 * "containers: 3 (2 running, 1 pending)". */
static void put_containers(struct buf *out, long n, const char *summary)
{
	char s[160];

	if (n >= 0 && summary)
		snprintf(s, sizeof(s), "%ld (%s)", n, summary);
	else if (n >= 0)
		snprintf(s, sizeof(s), "%ld", n);
	put_line(out, "containers", n >= 0 ? s : NULL, "unknown");
}

static void put_release(struct buf *out,
			const Heron__Proto__System__HeronReleaseState *r)
{
	struct buf v = {0};

	if (r && r->release_version && *r->release_version)
		buf_puts(&v, r->release_version);
	else
		buf_puts(&v, "unknown");
	if (r && r->release_username && *r->release_username)
		buf_printf(&v, " username=%s", r->release_username);
	if (r && r->release_tag && *r->release_tag)
		buf_printf(&v, " tag=%s", r->release_tag);
	put_line(out, "release", v.data, "unknown");
	buf_free(&v);
}

static void put_tmanager(struct buf *out,
			 const Heron__Proto__Tmanager__TManagerLocation *tm)
{
	char *s = tm ? xasprintf("%s:%" PRId32, tm->host, tm->controller_port)
		     : NULL;

	put_line(out, "tmanager", s, "none");
	free(s);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void topo_render_status(const struct topo *t, const struct topo_extra *x,
			struct buf *out)
{
	char when[64];
	struct facts f;

	gather(t, x, &f);
	put_line(out, "name", t->name, "unknown");
	put_line(out, "id", f.id, "unknown");
	put_line(out, "state", topo_state_word(t->state), "unknown");
	put_line(out, "cluster", f.cluster, "unknown");
	put_line(out, "role", f.role, "unknown");
	put_line(out, "environ", f.environ, "unknown");
	put_line(out, "submitted_by", f.submitted_by, "unknown");
	put_line(out, "submitted_at",
		 f.has_submitted_at &&
				 iso_time(f.submitted_at, when, sizeof(when))
			 ? when
			 : NULL,
		 "unknown");
	put_release(out, f.release);
	put_containers(out, f.containers, x ? x->tasks_summary : NULL);
	put_count(out, "instances", f.instances);
	put_tmanager(out, f.tmanager);
	put_line(out, "job_link", f.job_link, "none");
	put_line(out, "has_physical_plan", yes_no(t->physical_plan), "");
	put_line(out, "has_packing_plan", yes_no(t->packing_plan), "");
	put_line(out, "has_tmanager_location", yes_no(f.tmanager), "");
	put_line(out, "has_scheduler_location",
		 yes_no(t->scheduler_location), "");
	if (t->state == TOPO_ORPHANED && t->reason)
		put_line(out, "reason", t->reason, "unknown");
}

/* ---- status.json ---- */

static json_t *count_json(long n)
{
	return n >= 0 ? json_integer(n) : json_null();
}

static json_t *release_json(const Heron__Proto__System__HeronReleaseState *r)
{
	return r ? pbjson_value(&r->base) : json_null();
}

static json_t *tmanager_json(const Heron__Proto__Tmanager__TManagerLocation *tm)
{
	json_t *o;

	if (!tm)
		return json_null();
	o = json_object();
	json_object_set_new(o, "host", pbjson_string(tm->host));
	json_object_set_new(o, "controller_port",
			    json_integer(tm->controller_port));
	json_object_set_new(o, "server_port", json_integer(tm->server_port));
	json_object_set_new(o, "stats_port", tm->has_stats_port
			    ? json_integer(tm->stats_port) : json_null());
	return o;
}

static json_t *scheduler_json(const Heron__Proto__Scheduler__SchedulerLocation *sl)
{
	json_t *o, *links;

	if (!sl)
		return json_null();
	o = json_object();
	links = json_array();
	for (size_t i = 0; i < sl->n_job_page_link; i++)
		json_array_append_new(links, pbjson_string(sl->job_page_link[i]));
	json_object_set_new(o, "http_endpoint",
			    pbjson_string(sl->http_endpoint));
	json_object_set_new(o, "job_page_links", links);
	return o;
}

static json_t *corrupt_json(const struct topo *t)
{
	json_t *a = json_array();

	for (int d = 0; d < TOPO_NDIRS; d++)
		if (t->corrupt[d])
			json_array_append_new(
				a, json_string(sm_dir_name((enum sm_dir)d)));
	return a;
}

static json_t *submitted_at_json(const struct facts *f)
{
	char when[64];

	if (!f->has_submitted_at || !iso_time(f->submitted_at, when, sizeof(when)))
		return json_null();
	return json_string(when);
}

void topo_render_status_json(const struct topo *t, const struct topo_extra *x,
			     struct buf *out)
{
	const Heron__Proto__System__PhysicalPlan *pp = t->physical_plan;
	json_t *o = json_object();
	struct facts f;

	gather(t, x, &f);
#define SET(key, value) json_object_set_new(o, key, value)
	SET("name", pbjson_string(t->name));
	SET("id", pbjson_string(f.id));
	SET("state", json_string(topo_state_word(t->state)));
	SET("reason", t->state == TOPO_ORPHANED ? pbjson_string(t->reason)
						: json_null());
	SET("cluster", pbjson_string(f.cluster));
	SET("role", pbjson_string(f.role));
	SET("environ", pbjson_string(f.environ));
	SET("submitted_by", pbjson_string(f.submitted_by));
	SET("submitted_at", submitted_at_json(&f));
	SET("submission_time", f.has_submitted_at
				       ? json_integer(f.submitted_at)
				       : json_null());
	SET("release", release_json(f.release));
	SET("containers", count_json(f.containers));
	SET("container_states", pbjson_string(x ? x->tasks_summary : NULL));
	SET("instances", count_json(f.instances));
	SET("stmgrs", count_json(pp ? (long)pp->n_stmgrs : -1));
	SET("tmanager", tmanager_json(f.tmanager));
	SET("scheduler", scheduler_json(t->scheduler_location));
	SET("job_link", pbjson_string(f.job_link));
	SET("has_topology", json_boolean(t->topology));
	SET("has_execution_state", json_boolean(t->execution_state));
	SET("has_physical_plan", json_boolean(pp));
	SET("has_packing_plan", json_boolean(t->packing_plan));
	SET("has_tmanager_location", json_boolean(f.tmanager));
	SET("has_scheduler_location", json_boolean(t->scheduler_location));
	SET("corrupt", corrupt_json(t));
#undef SET
	pbjson_dump(o, out);
	json_decref(o);
}

hf_rc topo_render_node_json(const struct topo *t, enum sm_dir dir,
			    struct buf *out, struct hf_error *err)
{
	const ProtobufCMessage *m;

	if ((unsigned)dir >= TOPO_NDIRS)
		return hf_fail(err, HF_ERR_INVALID,
			       "state directory %d holds no topology node",
			       (int)dir);
	m = node_msg(t, dir);
	if (m) {
		pbjson_render(m, out);
		return HF_OK;
	}
	if (t->corrupt[dir])
		return hf_fail(err, HF_ERR_NOTFOUND,
			       "%s/%s does not decode as %s", sm_dir_name(dir),
			       t->name, node_desc[dir]->name);
	return hf_fail(err, HF_ERR_NOTFOUND, "there is no %s/%s",
		       sm_dir_name(dir), t->name);
}
