#include "cluster.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlog.h"
#include "heron_conf.h"
#include "log.h"
#include "statemgr.h"
#include "topology.h"

/* What this daemon remembers about a topology beyond the state manager. */
struct note {
	struct note *next;
	char *name;
	char *error;   /* reason of the last failed action, or NULL */
};

struct cluster {
	char *name;
	char *dir;
	struct heron_conf *conf;
	struct statemgr *sm;
	struct actlog *log;
	cluster_change_fn change_fn;
	void *change_arg;
	pthread_mutex_t lock;   /* protects notes */
	struct note *notes;
};

static const char *const file_names[TF_NFILES] = {
	[TF_STATE] = "state",
	[TF_STATUS] = "status",
	[TF_STATUS_JSON] = "status.json",
	[TF_ERROR] = "error",
	[TF_LOGICAL_PLAN] = "logical_plan.json",
	[TF_PACKING_PLAN] = "packing_plan.json",
	[TF_PHYSICAL_PLAN] = "physical_plan.json",
	[TF_EXECUTION_STATE] = "execution_state.json",
};

/* The state manager directory behind each plan file. */
static const enum sm_dir file_dir[TF_NFILES] = {
	[TF_LOGICAL_PLAN] = SM_TOPOLOGIES,
	[TF_PACKING_PLAN] = SM_PACKINGPLANS,
	[TF_PHYSICAL_PLAN] = SM_PPLANS,
	[TF_EXECUTION_STATE] = SM_EXECUTIONSTATE,
};

const char *topo_file_name(enum topo_file f)
{
	return f < TF_NFILES ? file_names[f] : NULL;
}

enum topo_file topo_file_lookup(const char *name)
{
	for (int f = 0; f < TF_NFILES; f++)
		if (strcmp(file_names[f], name) == 0)
			return (enum topo_file)f;
	return TF_NFILES;
}

static bool is_plan_file(enum topo_file f)
{
	return f >= TF_LOGICAL_PLAN && f < TF_NFILES;
}

hf_rc cluster_open(const char *name, const struct cluster_opts *opts,
		   struct cluster **out, struct hf_error *err)
{
	struct cluster *c = xcalloc(1, sizeof(*c));
	char *release = NULL;
	hf_rc rc;

	c->name = xstrdup(name);
	c->dir = xasprintf("%s/%s", opts->config_path, name);
	if (opts->heron_home) {
		release = xasprintf("%s/release.yaml", opts->heron_home);
		if (access(release, R_OK) != 0) {
			free(release);
			release = NULL;
		}
	}
	struct conf_tokens tok = {
		.heron_home = opts->heron_home,
		.heron_conf = c->dir,
		.cluster = name,
		.role = opts->role,
		.environ = opts->environ,
		.submit_user = opts->role,
	};
	rc = heron_conf_load(c->dir, release, NULL, &tok, &c->conf, err);
	free(release);
	if (rc != HF_OK) {
		cluster_close(c);
		*out = NULL;
		return rc;
	}
	c->log = actlog_new(1000);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return HF_OK;
}

static void on_state_change(void *arg, enum sm_dir dir, const char *name)
{
	struct cluster *c = arg;

	(void)dir;
	if (c->change_fn)
		c->change_fn(c->change_arg, c, name);
}

hf_rc cluster_start(struct cluster *c, cluster_change_fn fn, void *arg,
		    struct hf_error *err)
{
	hf_rc rc;

	c->change_fn = fn;
	c->change_arg = arg;
	rc = statemgr_open(c->conf, on_state_change, c, &c->sm, err);
	if (rc != HF_OK)
		hf_error_prefix(err, "cluster %s", c->name);
	return rc;
}

void cluster_close(struct cluster *c)
{
	if (!c)
		return;
	if (c->sm)
		statemgr_close(c->sm);
	while (c->notes) {
		struct note *n = c->notes;

		c->notes = n->next;
		free(n->name);
		free(n->error);
		free(n);
	}
	if (c->log) {
		actlog_free(c->log);
		pthread_mutex_destroy(&c->lock);
	}
	heron_conf_free(c->conf);
	free(c->dir);
	free(c->name);
	free(c);
}

const char *cluster_name(const struct cluster *c)
{
	return c->name;
}

static hf_rc need_statemgr(struct cluster *c, struct hf_error *err)
{
	if (!c->sm)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "cluster %s: state manager not started",
			       c->name);
	return HF_OK;
}

hf_rc cluster_list(struct cluster *c, char ***names, struct hf_error *err)
{
	hf_rc rc = need_statemgr(c, err);

	if (rc != HF_OK)
		return rc;
	return topo_list(c->sm, names, err);
}

hf_rc cluster_topology_exists(struct cluster *c, const char *name,
			      struct hf_error *err)
{
	char **names = NULL;
	hf_rc rc = cluster_list(c, &names, err);

	if (rc != HF_OK)
		return rc;
	rc = HF_ERR_NOTFOUND;
	for (char **p = names; *p; p++)
		if (strcmp(*p, name) == 0)
			rc = HF_OK;
	strv_free(names);
	if (rc != HF_OK)
		hf_fail(err, rc, "no topology %s in cluster %s", name,
			c->name);
	return rc;
}

/* The last failed action's reason, copied into out; false if none. */
static bool note_error(struct cluster *c, const char *name, struct buf *out)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (struct note *n = c->notes; n; n = n->next)
		if (strcmp(n->name, name) == 0 && n->error) {
			buf_puts(out, n->error);
			found = true;
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static hf_rc load(struct cluster *c, const char *name, struct topo **t,
		  struct hf_error *err)
{
	hf_rc rc = need_statemgr(c, err);

	if (rc != HF_OK)
		return rc;
	rc = topo_load(c->sm, name, t, err);
	if (rc == HF_ERR_NOTFOUND)
		hf_fail(err, rc, "no topology %s in cluster %s", name,
			c->name);
	return rc;
}

static bool plan_present(const struct topo *t, enum topo_file f)
{
	enum sm_dir d = file_dir[f];

	return t->present[d] && !t->corrupt[d];
}

hf_rc cluster_topology_files(struct cluster *c, const char *name,
			     bool present[TF_NFILES], struct hf_error *err)
{
	struct topo *t;
	hf_rc rc = load(c, name, &t, err);

	if (rc != HF_OK)
		return rc;
	for (int f = 0; f < TF_NFILES; f++)
		present[f] = is_plan_file((enum topo_file)f)
				     ? plan_present(t, (enum topo_file)f)
				     : true;
	topo_free(t);
	return HF_OK;
}

hf_rc cluster_render(struct cluster *c, const char *name, enum topo_file f,
		     struct buf *out, struct hf_error *err)
{
	struct topo_extra x = {.cluster = c->name};
	struct topo *t;
	hf_rc rc = load(c, name, &t, err);

	if (rc != HF_OK)
		return rc;
	switch (f) {
	case TF_STATE:
		buf_printf(out, "%s\n", topo_state_word(t->state));
		break;
	case TF_STATUS:
		topo_render_status(t, &x, out);
		break;
	case TF_STATUS_JSON:
		topo_render_status_json(t, &x, out);
		break;
	case TF_ERROR:
		if (note_error(c, name, out))
			buf_puts(out, "\n");
		else if (t->state == TOPO_ORPHANED && t->reason)
			buf_printf(out, "%s\n", t->reason);
		break;
	default:
		if (!is_plan_file(f)) {
			rc = hf_fail(err, HF_ERR_NOTFOUND, "no such file");
			break;
		}
		rc = topo_render_node_json(t, file_dir[f], out, err);
		break;
	}
	topo_free(t);
	return rc;
}

void cluster_render_health(struct cluster *c, struct buf *out)
{
	if (c->sm) {
		sm_health(c->sm, out);
		buf_printf(out, "; %lu requests", sm_request_count(c->sm));
	} else
		buf_puts(out, "statemgr: not started");
	buf_puts(out, "\n");
}

void cluster_render_log(struct cluster *c, struct buf *out)
{
	actlog_render(c->log, out);
}

unsigned long cluster_request_count(struct cluster *c)
{
	return c->sm ? sm_request_count(c->sm) : 0;
}
