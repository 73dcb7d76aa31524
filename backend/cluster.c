#include "cluster.h"
#include "cluster_impl.h"

#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "actlog.h"
#include "heron_conf.h"
#include "log.h"
#include "statemgr.h"
#include "topology.h"
#include "urlcheck.h"

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

static void open_actors(struct cluster *c);

/* The name of the user running heronfs, for the tokens of the mount-wide
 * conf (each submission substitutes its own user's). */
static char *mount_user(void)
{
	struct passwd pw, *res = NULL;
	char scratch[4096];

	if (getpwuid_r(getuid(), &pw, scratch, sizeof(scratch), &res) == 0 &&
	    res)
		return xstrdup(res->pw_name);
	return xasprintf("uid%u", (unsigned)getuid());
}

static hf_rc load_conf(struct cluster *c, const struct cluster_opts *opts,
		       const char *role, struct hf_error *err)
{
	struct conf_tokens tok = {
		.heron_home = opts->heron_home,
		.heron_conf = c->dir,
		.cluster = c->name,
		.role = role,
		.environ = c->environ,
	};

	heron_conf_free(c->conf);
	c->conf = NULL;
	return heron_conf_load(c->dir, c->release_file, NULL, &tok, &c->conf,
			       err);
}

/* -o environ, else the cluster's heronfs.environ.default, else Heron's
 * "default". The conf is loaded again when that changes ${ENVIRON}. */
static hf_rc resolve_environ(struct cluster *c,
			     const struct cluster_opts *opts,
			     const char *role, struct hf_error *err)
{
	const char *def;

	if (opts->environ)
		return HF_OK;
	def = heron_conf_get(c->conf, "heronfs.environ.default");
	if (!def || strcmp(def, c->environ) == 0)
		return HF_OK;
	free(c->environ);
	c->environ = xstrdup(def);
	return load_conf(c, opts, role, err);
}

hf_rc cluster_open(const char *name, const struct cluster_opts *opts,
		   struct cluster **out, struct hf_error *err)
{
	struct cluster *c = xcalloc(1, sizeof(*c));
	char *role = opts->role ? xstrdup(opts->role) : mount_user();
	hf_rc rc;

	c->name = xstrdup(name);
	c->dir = xasprintf("%s/%s", opts->config_path, name);
	c->environ = xstrdup(opts->environ ? opts->environ : "default");
	c->role = opts->role ? xstrdup(opts->role) : NULL;
	if (opts->heron_home) {
		c->heron_home = xstrdup(opts->heron_home);
		c->release_file = xasprintf("%s/release.yaml", opts->heron_home);
		if (access(c->release_file, R_OK) != 0) {
			free(c->release_file);
			c->release_file = NULL;
		}
	}
	pthread_mutex_init(&c->lock, NULL);
	c->log = actlog_new(1000);
	rc = load_conf(c, opts, role, err);
	if (rc == HF_OK)
		rc = resolve_environ(c, opts, role, err);
	if (rc == HF_OK)
		rc = statemgr_check_conf(c->conf, err);
	free(role);
	if (rc != HF_OK) {
		cluster_close(c);
		*out = NULL;
		return rc;
	}
	*out = c;
	return HF_OK;
}

/* The scheduler and uploader are needed to act, not to look: a cluster
 * whose classes heronfs does not implement still shows its topologies,
 * and health and every action say why it cannot act. */
static void open_actors(struct cluster *c)
{
	struct hf_error err = {0};

	if (scheduler_open(c->conf, &c->sched, &err) != HF_OK) {
		LOG_W("cluster %s: %s", c->name, err.msg);
		c->sched_error = xstrdup(err.msg);
	}
	if (uploader_open(c->conf, &c->upl, &err) != HF_OK) {
		LOG_W("cluster %s: %s", c->name, err.msg);
		c->upl_error = xstrdup(err.msg);
	}
}

const char *cluster_role_for(const struct cluster *c, const char *user)
{
	return c->role ? c->role : user;
}

hf_rc cluster_topology_conf(struct cluster *c, const char *topology,
			    const char *topology_id, const char *role,
			    const char *submit_user, bool cluster_mode,
			    struct heron_conf **out, struct hf_error *err)
{
	struct conf_tokens tok = {
		.heron_home = cluster_mode ? "./heron-core" : c->heron_home,
		.heron_conf = cluster_mode ? "./heron-conf" : c->dir,
		.cluster = c->name,
		.role = role,
		.environ = c->environ,
		.topology_name = topology,
		.topology_id = topology_id,
		.submit_user = submit_user,
	};

	return heron_conf_load(c->dir, c->release_file, NULL, &tok, out, err);
}

void read_release_yaml(struct cluster *c, struct buf *out)
{
	FILE *f = c->release_file ? fopen(c->release_file, "r") : NULL;
	char chunk[4096];
	size_t n;

	if (!f) {
		buf_puts(out, "heron.build.version: unknown\n"
			      "heron.build.user: heronfs\n");
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
}

void cluster_changed(struct cluster *c, const char *name)
{
	if (c->change_fn)
		c->change_fn(c->change_arg, c, name);
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
	/* After the daemon forked: the local scheduler starts a thread. */
	open_actors(c);
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
	if (c->sched)
		scheduler_close(c->sched);
	if (c->upl)
		uploader_close(c->upl);
	while (c->notes) {
		struct note *n = c->notes;

		c->notes = n->next;
		free(n->name);
		free(n->error);
		free(n);
	}
	actlog_free(c->log);
	pthread_mutex_destroy(&c->lock);
	heron_conf_free(c->conf);
	free(c->sched_error);
	free(c->upl_error);
	free(c->release_file);
	free(c->heron_home);
	free(c->role);
	free(c->environ);
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

/* ---- notes: what this daemon is doing and what failed ---- */

static struct note *note_find(struct cluster *c, const char *name)
{
	for (struct note *n = c->notes; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static struct note *note_get(struct cluster *c, const char *name)
{
	struct note *n = note_find(c, name);

	if (!n) {
		n = xcalloc(1, sizeof(*n));
		n->name = xstrdup(name);
		n->next = c->notes;
		c->notes = n;
	}
	return n;
}

hf_rc note_begin(struct cluster *c, const char *name, enum inflight what,
		 struct hf_error *err)
{
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&c->lock);
	struct note *n = note_get(c, name);

	if (n->inflight != IF_NONE)
		rc = hf_fail(err, HF_ERR_BUSY, "topology %s is being %s by "
			     "this host", name, n->inflight == IF_SUBMITTING
			     ? "submitted" : "killed");
	else {
		n->inflight = what;
		n->phase = "starting";
		n->bytes = 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == HF_OK)
		cluster_changed(c, name);
	return rc;
}

void note_phase(struct cluster *c, const char *name, const char *phase)
{
	pthread_mutex_lock(&c->lock);
	note_get(c, name)->phase = phase;
	pthread_mutex_unlock(&c->lock);
}

void note_bytes(struct cluster *c, const char *name, uint64_t bytes)
{
	pthread_mutex_lock(&c->lock);
	note_get(c, name)->bytes = bytes;
	pthread_mutex_unlock(&c->lock);
}

void note_end(struct cluster *c, const char *name, const struct hf_error *err)
{
	pthread_mutex_lock(&c->lock);
	struct note *n = note_get(c, name);

	n->inflight = IF_NONE;
	n->phase = NULL;
	free(n->error);
	n->error = err && err->rc != HF_OK ? xstrdup(err->msg) : NULL;
	pthread_mutex_unlock(&c->lock);
	cluster_changed(c, name);
}

void note_record(struct cluster *c, const char *name,
		 const struct hf_error *err)
{
	pthread_mutex_lock(&c->lock);
	struct note *n = note_get(c, name);

	free(n->error);
	n->error = err && err->rc != HF_OK ? xstrdup(err->msg) : NULL;
	pthread_mutex_unlock(&c->lock);
	cluster_changed(c, name);
}

void cluster_note_error(struct cluster *c, const char *name,
			const struct hf_error *err)
{
	note_record(c, name, err);
	actlog_add(c->log, "control %s: refused: %s", name, err->msg);
}

/* Copies what the note says into the out parameters; false if none. */
static bool note_snapshot(struct cluster *c, const char *name,
			  enum inflight *what, const char **phase,
			  uint64_t *bytes, struct buf *error)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	struct note *n = note_find(c, name);

	if (n) {
		found = true;
		*what = n->inflight;
		*phase = n->phase;
		*bytes = n->bytes;
		if (n->error && error)
			buf_puts(error, n->error);
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static char **inflight_names(struct cluster *c)
{
	size_t n = 0, i = 0;

	pthread_mutex_lock(&c->lock);
	for (struct note *p = c->notes; p; p = p->next)
		n += p->inflight != IF_NONE;
	char **v = xcalloc(n + 1, sizeof(char *));

	for (struct note *p = c->notes; p; p = p->next)
		if (p->inflight != IF_NONE)
			v[i++] = xstrdup(p->name);
	pthread_mutex_unlock(&c->lock);
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted union of two sorted-or-not vectors; frees both. */
static char **merge_names(char **a, char **b)
{
	size_t na = strv_len(a), nb = strv_len(b), n = 0;
	char **v = xcalloc(na + nb + 1, sizeof(char *));

	for (size_t i = 0; i < na; i++)
		v[n++] = a[i];
	for (size_t i = 0; i < nb; i++)
		v[n++] = b[i];
	free(a);
	free(b);
	qsort(v, n, sizeof(char *), cmp_str);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && strcmp(v[out - 1], v[i]) == 0)
			free(v[i]);
		else
			v[out++] = v[i];
	}
	v[out] = NULL;
	return v;
}

/* ---- views ---- */

static char *cross_check(struct cluster *c, struct topo *t);

hf_rc cluster_list(struct cluster *c, char ***names, struct hf_error *err)
{
	char **stored;
	hf_rc rc = need_statemgr(c, err);

	if (rc == HF_OK)
		rc = topo_list(c->sm, &stored, err);
	if (rc != HF_OK)
		return rc;
	*names = merge_names(stored, inflight_names(c));
	return HF_OK;
}

bool note_inflight(struct cluster *c, const char *name)
{
	enum inflight what = IF_NONE;
	const char *phase;
	uint64_t bytes;

	note_snapshot(c, name, &what, &phase, &bytes, NULL);
	return what != IF_NONE;
}

hf_rc cluster_topology_exists(struct cluster *c, const char *name,
			      struct hf_error *err)
{
	char **names = NULL;
	hf_rc rc;

	if (note_inflight(c, name))
		return HF_OK;
	rc = cluster_list(c, &names, err);
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

/* Loads name; while this daemon submits it and nothing is stored yet, an
 * empty topology stands in, so that its files can say "submitting". */
static hf_rc load(struct cluster *c, const char *name, struct topo **t,
		  struct hf_error *err)
{
	enum inflight what = IF_NONE;
	const char *phase;
	uint64_t bytes;
	hf_rc rc = need_statemgr(c, err);

	if (rc != HF_OK)
		return rc;
	rc = topo_load(c->sm, name, t, err);
	note_snapshot(c, name, &what, &phase, &bytes, NULL);
	if (rc == HF_ERR_NOTFOUND && what != IF_NONE) {
		*t = xcalloc(1, sizeof(**t));
		(*t)->name = xstrdup(name);
		rc = HF_OK;
	}
	if (rc == HF_ERR_NOTFOUND)
		hf_fail(err, rc, "no topology %s in cluster %s", name,
			c->name);
	if (rc == HF_OK && what != IF_NONE)
		(*t)->state = what == IF_SUBMITTING ? TOPO_SUBMITTING
						    : TOPO_KILLING;
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

/* The lines status adds while this daemon acts on the topology. */
static void render_inflight(struct cluster *c, const char *name,
			    struct buf *out)
{
	enum inflight what = IF_NONE;
	const char *phase = NULL;
	uint64_t bytes = 0;

	if (!note_snapshot(c, name, &what, &phase, &bytes, NULL) ||
	    what == IF_NONE)
		return;
	buf_printf(out, "phase: %s\n", phase ? phase : "starting");
	if (what == IF_SUBMITTING)
		buf_printf(out, "uploaded_bytes: %llu\n",
			   (unsigned long long)bytes);
}

hf_rc cluster_render(struct cluster *c, const char *name, enum topo_file f,
		     struct buf *out, struct hf_error *err)
{
	struct topo_extra x = {.cluster = c->name};
	enum inflight what;
	const char *phase;
	uint64_t bytes;
	char *summary = NULL;
	struct topo *t;
	hf_rc rc = load(c, name, &t, err);

	if (rc != HF_OK)
		return rc;
	if (f == TF_STATE || f == TF_STATUS || f == TF_STATUS_JSON ||
	    f == TF_ERROR)
		summary = cross_check(c, t);
	x.tasks_summary = summary;
	switch (f) {
	case TF_STATE:
		buf_printf(out, "%s\n", topo_state_word(t->state));
		break;
	case TF_STATUS:
		topo_render_status(t, &x, out);
		render_inflight(c, name, out);
		break;
	case TF_STATUS_JSON:
		topo_render_status_json(t, &x, out);
		break;
	case TF_ERROR:
		if (note_snapshot(c, name, &what, &phase, &bytes, out) &&
		    out->len)
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
	free(summary);
	topo_free(t);
	return rc;
}

/* ---- what the scheduler says ---- */

static const char *const container_files[CTF_NFILES] = {
	[CTF_STATE] = "state",
	[CTF_HOST] = "host",
	[CTF_EVENTS] = "events",
};

const char *container_file_name(enum container_file f)
{
	return f < CTF_NFILES ? container_files[f] : NULL;
}

enum container_file container_file_lookup(const char *name)
{
	for (int f = 0; f < CTF_NFILES; f++)
		if (strcmp(container_files[f], name) == 0)
			return (enum container_file)f;
	return CTF_NFILES;
}

struct job_key cluster_job_key(struct cluster *c, const struct topo *t,
			       const char *role)
{
	const Heron__Proto__System__ExecutionState *es = t->execution_state;
	struct job_key k = {c->name, role, c->environ, t->name};

	if (es) {
		k.role = es->role;
		k.environ = es->environ;
	}
	return k;
}

static hf_rc job_containers(struct cluster *c, const struct topo *t,
			    struct container_set **set, struct hf_error *err)
{
	struct job_key key = cluster_job_key(c, t, c->role ? c->role : "");

	if (!c->sched)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "no scheduler: %s",
			       c->sched_error);
	if (!*key.role)
		return hf_fail(err, HF_ERR_NOTFOUND, "topology %s has no "
			       "execution state: its job is unknown", t->name);
	return scheduler_containers(c->sched, &key, set, err);
}

/* Aurora's ACTIVE_STATES: a task that runs or will run. */
static bool active(const char *status)
{
	static const char *const words[] = {
		"pending", "throttled", "assigned", "starting", "running",
		"killing", "restarting", "draining", "preempting",
		"partitioned"};

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strcmp(status, words[i]) == 0)
			return true;
	return false;
}

/* "2 running, 1 pending" over the newest task of each container; the
 * number of active ones in *n_active. */
static char *summarize(const struct container_set *set, size_t *n_active)
{
	const struct container_task **latest;
	size_t n = container_set_latest(set, &latest);
	struct buf b = {0};
	bool *done = xcalloc(n + 1, sizeof(bool));

	*n_active = 0;
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;

		*n_active += active(latest[i]->status);
		if (done[i])
			continue;
		for (size_t j = i; j < n; j++)
			if (strcmp(latest[j]->status, latest[i]->status) == 0) {
				count++;
				done[j] = true;
			}
		buf_printf(&b, "%s%zu %s", b.len ? ", " : "", count,
			   latest[i]->status);
	}
	if (!n)
		buf_puts(&b, "no tasks");
	free(done);
	free(latest);
	return buf_steal(&b);
}

/* Heron's state next to the scheduler's: a topology Heron believes
 * launched whose job the scheduler does not run is orphaned. When the
 * scheduler cannot be asked, Heron's view stands (health says why). */
static char *cross_check(struct cluster *c, struct topo *t)
{
	struct container_set *set = NULL;
	struct hf_error err = {0};
	size_t n_active;
	char *summary;

	if (!t->scheduler_location || (t->state != TOPO_STARTING &&
				       t->state != TOPO_RUNNING &&
				       t->state != TOPO_PAUSED))
		return NULL;
	if (job_containers(c, t, &set, &err) != HF_OK) {
		LOG_D("%s: scheduler not asked: %s", t->name, err.msg);
		return NULL;
	}
	summary = summarize(set, &n_active);
	container_set_free(set);
	if (n_active == 0) {
		free(t->reason);
		t->reason = xasprintf("the scheduler runs no job for topology "
				      "%s (%s)", t->name, summary);
		t->state = TOPO_ORPHANED;
	}
	return summary;
}

hf_rc cluster_containers(struct cluster *c, const char *name, int **ids,
			 size_t *n, struct hf_error *err)
{
	const struct container_task **latest;
	struct container_set *set = NULL;
	struct topo *t;
	hf_rc rc = load(c, name, &t, err);

	if (rc != HF_OK)
		return rc;
	rc = job_containers(c, t, &set, err);
	topo_free(t);
	if (rc == HF_ERR_NOTFOUND) {
		*ids = xcalloc(1, sizeof(int));
		*n = 0;
		return HF_OK;
	}
	if (rc != HF_OK)
		return rc;
	*n = container_set_latest(set, &latest);
	*ids = xcalloc(*n + 1, sizeof(int));
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = latest[i]->instance;
	free(latest);
	container_set_free(set);
	return HF_OK;
}

static void render_events(const struct container_set *set, int instance,
			  struct buf *out)
{
	for (size_t i = 0; i < set->n_tasks; i++) {
		const struct container_task *t = &set->tasks[i];

		if (t->instance != instance)
			continue;
		for (size_t e = 0; e < t->n_events; e++) {
			const struct container_event *ev = &t->events[e];
			char when[32];

			iso8601_utc(ev->time_ms / 1000, when, sizeof(when));
			/* ...:SSZ -> ...:SS.mmmZ */
			when[19] = '\0';
			buf_printf(out, "%s.%03lldZ %s %s%s%s\n", when,
				   ev->time_ms % 1000, ev->status, t->task_id,
				   ev->message ? " " : "",
				   ev->message ? ev->message : "");
		}
	}
}

hf_rc cluster_render_container(struct cluster *c, const char *name,
			       int instance, enum container_file f,
			       struct buf *out, struct hf_error *err)
{
	const struct container_task **latest, *task = NULL;
	struct container_set *set = NULL;
	struct topo *t;
	size_t n;
	hf_rc rc = load(c, name, &t, err);

	if (rc != HF_OK)
		return rc;
	rc = job_containers(c, t, &set, err);
	topo_free(t);
	if (rc != HF_OK)
		return rc;
	n = container_set_latest(set, &latest);
	for (size_t i = 0; i < n; i++)
		if (latest[i]->instance == instance)
			task = latest[i];
	free(latest);
	if (!task)
		rc = hf_fail(err, HF_ERR_NOTFOUND, "topology %s has no "
			     "container %d", name, instance);
	else if (f == CTF_STATE)
		buf_printf(out, "%s\n", task->status);
	else if (f == CTF_HOST)
		buf_printf(out, "%s", task->host ? task->host : "");
	else
		render_events(set, instance, out);
	if (f == CTF_HOST && task && task->host)
		buf_puts(out, "\n");
	container_set_free(set);
	return rc;
}

static void core_package_health(struct cluster *c, struct buf *out);

void cluster_render_health(struct cluster *c, struct buf *out)
{
	if (c->sm) {
		sm_health(c->sm, out);
		buf_printf(out, "; %lu requests", sm_request_count(c->sm));
	} else {
		buf_puts(out, "statemgr: not started");
	}
	buf_puts(out, "\n");
	if (c->sched) {
		struct hf_error e = {0};

		scheduler_health(c->sched, out);
		buf_puts(out, "\n");
		if (scheduler_check_environ(c->sched, c->environ, &e) != HF_OK)
			buf_printf(out, "environ: refused %s\n", e.msg);
	} else {
		buf_printf(out, "scheduler: unsupported (%s)\n",
			   c->sched_error);
	}
	if (c->upl) {
		uploader_health(c->upl, c->conf, out);
		buf_puts(out, "\n");
	} else
		buf_printf(out, "uploader: unsupported (%s)\n", c->upl_error);
	core_package_health(c, out);
}

/* The check the Heron docs ask operators to make by hand: can the
 * containers get heron-core? */
static void core_package_health(struct cluster *c, struct buf *out)
{
	struct hf_error err = {0};
	int64_t size;

	if (!heron_conf_get_bool(c->conf, "heron.package.use_core_uri",
				 true)) {
		const char *dir = heron_conf_get(c->conf,
						 "heron.package.core.directory");

		if (dir && access(dir, R_OK | X_OK) == 0)
			buf_printf(out, "core package: ok directory %s\n", dir);
		else
			buf_printf(out, "core package: missing directory %s\n",
				   dir ? dir : "(heron.package.core.directory "
					       "unset)");
		return;
	}
	const char *uri = heron_conf_get(c->conf, "heron.package.core.uri");

	if (!uri) {
		buf_puts(out, "core package: unset (heron.package.core.uri)\n");
		return;
	}
	if (url_check(uri, 5000, &size, &err) == HF_OK)
		buf_printf(out, "core package: ok %s%s\n", uri,
			   size >= 0 ? "" : " (size unknown)");
	else
		buf_printf(out, "core package: unreachable %s\n", err.msg);
}

void cluster_render_log(struct cluster *c, struct buf *out)
{
	actlog_render(c->log, out);
}

unsigned long cluster_request_count(struct cluster *c)
{
	return c->sm ? sm_request_count(c->sm) : 0;
}
