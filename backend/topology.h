/* topology: what one topology looks like in the state manager, decoded and
 * classified, and its renderings (status, status.json, the plan files).
 *
 * topo_load reads every node of the topology (topologies, packingplans,
 * executionstate, schedulers, tmanagers, pplans) through the statemgr and
 * decodes each. A node that does not decode is recorded as corrupt (never
 * a crash) and makes the topology orphaned, with the reason. */
#ifndef HERONFS_TOPOLOGY_H
#define HERONFS_TOPOLOGY_H

#include <stdbool.h>

#include "buf.h"
#include "hferr.h"
#include "statemgr.h"
#include "execution_state.pb-c.h"
#include "packing_plan.pb-c.h"
#include "physical_plan.pb-c.h"
#include "scheduler.pb-c.h"
#include "tmanager.pb-c.h"
#include "topology.pb-c.h"

enum topo_state {
	TOPO_SUBMITTING,  /* a submit by this daemon is in flight */
	TOPO_STARTING,    /* topology node, no physical plan yet */
	TOPO_RUNNING,     /* physical plan says RUNNING */
	TOPO_PAUSED,      /* physical plan says PAUSED */
	TOPO_KILLING,     /* a kill by this daemon is in flight */
	TOPO_ORPHANED,    /* the nodes contradict each other or do not decode */
};

const char *topo_state_word(enum topo_state s);

struct topo {
	char *name;
	Heron__Proto__Api__Topology *topology;
	Heron__Proto__System__PackingPlan *packing_plan;
	Heron__Proto__System__ExecutionState *execution_state;
	Heron__Proto__Scheduler__SchedulerLocation *scheduler_location;
	Heron__Proto__Tmanager__TManagerLocation *tmanager_location;
	Heron__Proto__System__PhysicalPlan *physical_plan;
	bool present[SM_NDIRS];   /* the node exists (decoded or not) */
	bool corrupt[SM_NDIRS];   /* the node exists but does not decode */
	enum topo_state state;
	char *reason;             /* why orphaned, one line (NULL otherwise) */
};

/* Loads and classifies one topology. HF_ERR_NOTFOUND when none of the
 * nodes that topo_list looks at exists (a tmanagers node alone is an
 * ephemeral leftover, not a topology); a statemgr failure is passed on,
 * its reason prefixed with the node. */
hf_rc topo_load(struct statemgr *sm, const char *name, struct topo **out,
		struct hf_error *err);
/* Frees t and its messages (which must come from protobuf-c unpack). */
void topo_free(struct topo *t);

/* Sets t->state (starting, running, paused or orphaned) and t->reason
 * (replacing the old one) from the nodes in t, as topo_load does; exposed
 * so that tests can classify hand-made topologies. Orphaned: a node does
 * not decode; nodes exist without topologies/<name>; a node names another
 * topology, or has another topology id than topologies/<name> (a
 * tmanagers node with another id is a dead TManager's ephemeral node and
 * is ignored instead); the physical plan says neither RUNNING nor PAUSED.
 * Otherwise starting without a physical plan, else as the plan says. */
void topo_classify(struct topo *t);

/* The topology names known to the statemgr: the union of the children of
 * topologies, packingplans, executionstate, schedulers and pplans (so that
 * leftovers of a half-done kill show up, as orphaned), sorted, unique. */
hf_rc topo_list(struct statemgr *sm, char ***names, struct hf_error *err);

/* Context that is not in the state manager, for status rendering. */
struct topo_extra {
	const char *cluster;        /* the cluster directory name */
	const char *tasks_summary;  /* what the scheduler says of the
				     * containers, e.g. "2 running, 1 pending",
				     * or NULL when it was not asked */
};

/* `status`: one "key: value" line per item, in this order: name, id,
 * state, cluster (the execution state's, else x's), role, environ,
 * submitted_by, submitted_at (ISO 8601 UTC), release ("<version>
 * username=<u> tag=<t>", the last two when set), containers (Heron's
 * NUM_CONTAINERS: the plan's and the TManager's, with x->tasks_summary
 * in parentheses when given), instances,
 * tmanager (host:controller_port of this topology's TManager), job_link,
 * has_physical_plan, has_packing_plan, has_tmanager_location,
 * has_scheduler_location (yes|no), and reason when orphaned. A value that
 * is not known is "unknown", one that does not exist "none"; control
 * characters in stored strings are shown as '?', so every line is one. */
void topo_render_status(const struct topo *t, const struct topo_extra *x,
			struct buf *out);
/* `status.json`: the same facts and more as one JSON object, keys in a
 * fixed order, numbers and booleans as such, null for what is missing. */
void topo_render_status_json(const struct topo *t, const struct topo_extra *x,
			     struct buf *out);

/* The plan files: SM_TOPOLOGIES (logical_plan.json), SM_PACKINGPLANS,
 * SM_PPLANS (physical_plan.json), SM_EXECUTIONSTATE (SM_SCHEDULERS and
 * SM_TMANAGERS work too), rendered by pbjson. HF_ERR_NOTFOUND when that
 * node is absent or corrupt (the reason says which); HF_ERR_INVALID for a
 * directory that holds no topology node. */
hf_rc topo_render_node_json(const struct topo *t, enum sm_dir dir,
			    struct buf *out, struct hf_error *err);

#endif
