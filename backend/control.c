/* control: activate, deactivate, restart and kill, as the `heron` client
 * does them (reference heron.md 6), for the words written to a topology's
 * control file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"
#include "log.h"
#include "tmanager.h"
#include "topology.h"

/* How long a TManager may take to answer, and then how long its new
 * physical plan may take to reach us through the watch. */
#define TMANAGER_TIMEOUT_KEY "heronfs.tmanager.timeout.ms"
#define TMANAGER_TIMEOUT_DEFAULT 10000

static const char *const verb_names[] = {
	[CV_ACTIVATE] = "activate",
	[CV_DEACTIVATE] = "deactivate",
	[CV_RESTART] = "restart",
	[CV_KILL] = "kill",
};

static hf_rc parse_container(const char *arg, int *container,
			     struct hf_error *err)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (!*arg || *end || n < 0 || n > 100000 || arg[0] == '+' ||
	    (arg[0] == '0' && arg[1]))
		return hf_fail(err, HF_ERR_INVALID, "restart takes a container "
			       "number, not '%s'", arg);
	*container = (int)n;
	return HF_OK;
}

hf_rc control_parse(const char *text, size_t len, enum control_verb *verb,
		    int *container, struct hf_error *err)
{
	char word[64];

	if (len && text[len - 1] == '\n')
		len--;
	if (len == 0 || len >= sizeof(word) || memchr(text, '\0', len))
		return hf_fail(err, HF_ERR_INVALID, "write one of: activate, "
			       "deactivate, restart [CONTAINER], kill");
	memcpy(word, text, len);
	word[len] = '\0';
	*container = -1;
	for (int v = 0; v <= CV_KILL; v++)
		if (strcmp(word, verb_names[v]) == 0) {
			*verb = (enum control_verb)v;
			return HF_OK;
		}
	if (strncmp(word, "restart ", 8) == 0) {
		*verb = CV_RESTART;
		return parse_container(word + 8, container, err);
	}
	return hf_fail(err, HF_ERR_INVALID, "unknown command '%s': write one "
		       "of: activate, deactivate, restart [CONTAINER], kill",
		       word);
}

/* Heron's common checks: the topology exists and its execution state
 * belongs to this cluster, role and environment. A kill also cleans up
 * leftovers without a topology node, but not another role's topology. */
static hf_rc check_owner(struct cluster *c, const struct topo *t,
			 const char *user, bool kill, struct hf_error *err)
{
	const Heron__Proto__System__ExecutionState *es = t->execution_state;
	const char *role = cluster_role_for(c, user);

	if (!t->topology && !kill)
		return hf_fail(err, HF_ERR_BUSY, "topology %s does not exist "
			       "(%s)", t->name, t->reason ? t->reason
			       : "no topologies node");
	if (!es)
		return HF_OK;
	if (strcmp(es->cluster, c->name) != 0 ||
	    strcmp(es->environ, c->environ) != 0)
		return hf_fail(err, HF_ERR_PERM, "topology %s runs in %s/%s, "
			       "not in this mount's %s/%s", t->name,
			       es->cluster, es->environ, c->name, c->environ);
	if (strcmp(es->role, role) != 0)
		return hf_fail(err, HF_ERR_PERM, "topology %s belongs to role "
			       "%s, not %s", t->name, es->role, role);
	return HF_OK;
}

static long tmanager_timeout(struct cluster *c)
{
	return heron_conf_get_int(c->conf, TMANAGER_TIMEOUT_KEY,
				  TMANAGER_TIMEOUT_DEFAULT);
}

/* The write returns once `state` shows the change: wait (bounded) for
 * the TManager's new physical plan to reach the cache. */
static hf_rc wait_for_state(struct cluster *c, const char *name,
			    Heron__Proto__Api__TopologyState want,
			    struct hf_error *err)
{
	struct timespec nap = {0, 10 * 1000 * 1000}, now;
	long limit = tmanager_timeout(c);
	long long deadline;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + limit;
	for (;;) {
		struct topo *t;
		hf_rc rc = topo_load(c->sm, name, &t, err);
		bool done = rc == HF_OK && t->physical_plan &&
			    t->physical_plan->topology->state == want;

		if (rc == HF_OK)
			topo_free(t);
		if (done)
			return HF_OK;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * 1000LL + now.tv_nsec / 1000000 >= deadline)
			return hf_fail(err, HF_ERR_TIMEOUT, "the TManager "
				       "confirmed, but its physical plan did "
				       "not change within %ld ms", limit);
		nanosleep(&nap, NULL);
	}
}

static hf_rc transition(struct cluster *c, const struct topo *t,
			enum control_verb verb, struct hf_error *err)
{
	Heron__Proto__Api__TopologyState from, to;
	const Heron__Proto__Tmanager__TManagerLocation *tm;
	hf_rc rc;

	if (verb == CV_ACTIVATE) {
		from = HERON__PROTO__API__TOPOLOGY_STATE__PAUSED;
		to = HERON__PROTO__API__TOPOLOGY_STATE__RUNNING;
	} else {
		from = HERON__PROTO__API__TOPOLOGY_STATE__RUNNING;
		to = HERON__PROTO__API__TOPOLOGY_STATE__PAUSED;
	}
	if (!t->physical_plan)
		return hf_fail(err, HF_ERR_NOTREADY, "topology %s is not "
			       "initialized yet (no physical plan)", t->name);
	if (t->physical_plan->topology->state == to)
		return HF_OK;  /* already so: Heron warns and succeeds */
	if (t->physical_plan->topology->state != from)
		return hf_fail(err, HF_ERR_BUSY, "cannot %s topology %s in "
			       "state %s", verb_names[verb], t->name,
			       topo_state_word(t->state));
	tm = t->tmanager_location;
	if (!tm)
		return hf_fail(err, HF_ERR_NOTREADY, "topology %s has no "
			       "TManager location yet", t->name);
	rc = tmanager_request(tm->host, tm->controller_port, verb_names[verb],
			      t->topology->id, tmanager_timeout(c), err);
	if (rc == HF_OK)
		rc = wait_for_state(c, t->name, to, err);
	return rc;
}

static int container_count(const struct topo *t)
{
	return t->packing_plan ? (int)t->packing_plan->n_container_plans + 1
			       : -1;
}

static hf_rc restart(struct cluster *c, const struct topo *t, int container,
		     const char *user, struct hf_error *err)
{
	struct job_key key = cluster_job_key(c, t, cluster_role_for(c, user));
	int n = container_count(t);
	hf_rc rc;

	if (container >= 0 && n >= 0 && container >= n)
		return hf_fail(err, HF_ERR_INVALID, "topology %s has "
			       "containers 0 to %d, not %d", t->name, n - 1,
			       container);
	/* A restarted TManager must be able to write its location again. */
	if (container <= 0) {
		rc = sm_delete(c->sm, SM_TMANAGERS, t->name, err);
		if (rc != HF_OK)
			return rc;
	}
	return scheduler_restart(c->sched, &key, container, err);
}

/* Heron's kill: the scheduler's job first (nothing is touched when that
 * fails), then the state nodes in Heron's order, topologies last. Runs on
 * whatever is left of a topology, so it also finishes a half-done kill. */
static hf_rc kill(struct cluster *c, const struct topo *t, const char *user,
		  struct hf_error *err)
{
	static const enum sm_dir order[] = {
		SM_TMANAGERS, SM_METRICSCACHES, SM_PACKINGPLANS, SM_PPLANS,
		SM_SCHEDULERS, SM_LOCKS, SM_EXECUTIONSTATE, SM_TOPOLOGIES};
	struct job_key key = cluster_job_key(c, t, cluster_role_for(c, user));
	char *lock = xasprintf("%s__updateTopology", t->name);
	hf_rc rc = scheduler_kill(c->sched, &key, err);

	for (size_t i = 0; rc == HF_OK && i < sizeof(order) / sizeof(*order);
	     i++)
		rc = sm_delete(c->sm, order[i],
			       order[i] == SM_LOCKS ? lock : t->name, err);
	free(lock);
	return rc;
}

static hf_rc need_actors(struct cluster *c, enum control_verb verb,
			 struct hf_error *err)
{
	if (!c->sm)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "state manager not started");
	if (!c->sched && verb != CV_ACTIVATE && verb != CV_DEACTIVATE)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "cannot %s: %s",
			       verb_names[verb], c->sched_error);
	return HF_OK;
}

static hf_rc run(struct cluster *c, struct topo *t, enum control_verb verb,
		 int container, const char *user, struct hf_error *err)
{
	hf_rc rc;

	rc = check_owner(c, t, user, verb == CV_KILL, err);
	if (rc != HF_OK)
		return rc;
	switch (verb) {
	case CV_ACTIVATE:
	case CV_DEACTIVATE:
		return transition(c, t, verb, err);
	case CV_RESTART:
		return restart(c, t, container, user, err);
	case CV_KILL:
		return kill(c, t, user, err);
	}
	return HF_OK;
}

static void log_outcome(struct cluster *c, const char *name,
			enum control_verb verb, int container,
			const char *user, hf_rc rc, const struct hf_error *err)
{
	char what[32];

	if (verb == CV_RESTART && container >= 0)
		snprintf(what, sizeof(what), "restart %d", container);
	else
		snprintf(what, sizeof(what), "%s", verb_names[verb]);
	if (rc == HF_OK)
		actlog_add(c->log, "%s %s by %s: ok", what, name, user);
	else
		actlog_add(c->log, "%s %s by %s: failed: %s", what, name, user,
			   err->msg);
}

hf_rc cluster_control(struct cluster *c, const char *name,
		      enum control_verb verb, int container, const char *user,
		      struct hf_error *err)
{
	struct topo *t = NULL;
	hf_rc rc = need_actors(c, verb, err);

	if (rc == HF_OK)
		rc = topo_load(c->sm, name, &t, err);
	if (rc == HF_ERR_NOTFOUND)
		hf_fail(err, rc, "no topology %s in cluster %s", name,
			c->name);
	if (rc == HF_OK && verb == CV_KILL)
		rc = note_begin(c, name, IF_KILLING, err);
	else if (rc == HF_OK && note_inflight(c, name))
		rc = hf_fail(err, HF_ERR_BUSY, "topology %s is being "
			     "submitted or killed by this host", name);
	if (rc == HF_OK) {
		rc = run(c, t, verb, container, user, err);
		if (verb == CV_KILL)
			note_end(c, name, rc == HF_OK ? NULL : err);
		else
			note_record(c, name, rc == HF_OK ? NULL : err);
	} else if (rc != HF_ERR_NOTFOUND) {
		/* Failures before the action still explain themselves in
		 * `error`. */
		note_record(c, name, err);
	}
	if (t)
		topo_free(t);
	log_outcome(c, name, verb, container, user, rc, err);
	return rc;
}
