/* cluster: one Heron cluster as heronfs serves it: its conf directory, its
 * state manager, its action log, and what this daemon is doing to its
 * topologies. This is the whole interface the FUSE layer uses; nothing
 * here knows about FUSE.
 *
 * Life cycle: cluster_open loads and checks the conf (no threads, so it
 * can run before the daemon forks); cluster_start connects (starts
 * threads); cluster_close stops and frees. */
#ifndef HERONFS_CLUSTER_H
#define HERONFS_CLUSTER_H

#include <stdbool.h>

#include "buf.h"
#include "hferr.h"

struct cluster;

struct cluster_opts {
	const char *config_path;  /* holds one directory per cluster */
	const char *heron_home;   /* HERON_HOME; release.yaml lives here */
	const char *role;         /* -o role, or NULL: each action runs as
				   * the name of the user who makes it */
	const char *environ;      /* -o environ, or NULL: the cluster's
				   * heronfs.environ.default, else "default" */
};

/* Called (from a back-end thread) when what the FUSE layer shows may have
 * changed: topology is the name whose files changed, or NULL when the
 * listing of topologies changed or everything must be re-read. Must not
 * block or call back into the cluster. */
typedef void (*cluster_change_fn)(void *arg, struct cluster *c,
				  const char *topology);

hf_rc cluster_open(const char *name, const struct cluster_opts *opts,
		   struct cluster **out, struct hf_error *err);
hf_rc cluster_start(struct cluster *c, cluster_change_fn fn, void *arg,
		    struct hf_error *err);
void cluster_close(struct cluster *c);

const char *cluster_name(const struct cluster *c);

/* The files of a topology directory. */
enum topo_file {
	TF_STATE,
	TF_STATUS,
	TF_STATUS_JSON,
	TF_ERROR,
	TF_LOGICAL_PLAN,     /* present only while its node is */
	TF_PACKING_PLAN,
	TF_PHYSICAL_PLAN,
	TF_EXECUTION_STATE,
	TF_NFILES
};

const char *topo_file_name(enum topo_file f);
/* TF_NFILES when name is not a topology file. */
enum topo_file topo_file_lookup(const char *name);

/* Sorted topology names (strv_free). */
hf_rc cluster_list(struct cluster *c, char ***names, struct hf_error *err);

/* HF_OK if the topology exists, HF_ERR_NOTFOUND if not. */
hf_rc cluster_topology_exists(struct cluster *c, const char *name,
			      struct hf_error *err);

/* Which topology files exist now, by topo_file index. */
hf_rc cluster_topology_files(struct cluster *c, const char *name,
			     bool present[TF_NFILES], struct hf_error *err);

/* Renders one file of a topology into out. */
hf_rc cluster_render(struct cluster *c, const char *name, enum topo_file f,
		     struct buf *out, struct hf_error *err);

/* `<cluster>/health`: one line per dependency. */
void cluster_render_health(struct cluster *c, struct buf *out);
/* `<cluster>/log`: recent actions, oldest first. */
void cluster_render_log(struct cluster *c, struct buf *out);

/* A package copied into topologies/, to submit. */
struct submit_req {
	const char *spool_path;  /* the package as the user wrote it */
	const char *file_name;   /* the name the user copied it as */
	const char *user;        /* the submitting user's name */
	const char *role;        /* the role to submit as */
};

/* Does what `heron submit <cluster>/<role>/<environ>` does with the
 * package: returns after the scheduler runs the job and the state is
 * written, or after undoing everything it did. On success *name is the
 * topology's name (malloc'd). While it runs the topology is listed with
 * state "submitting". */
hf_rc cluster_submit(struct cluster *c, const struct submit_req *req,
		     char **name, struct hf_error *err);

/* The verbs of a topology's control file. */
enum control_verb { CV_ACTIVATE, CV_DEACTIVATE, CV_RESTART, CV_KILL };

/* Parses one write to control: "activate", "deactivate", "kill",
 * "restart" or "restart N", with at most one trailing newline.
 * *container is N, or -1 for all. HF_ERR_INVALID for anything else. */
hf_rc control_parse(const char *text, size_t len, enum control_verb *verb,
		    int *container, struct hf_error *err);

/* Does what `heron activate|deactivate|restart|kill` does to the topology
 * (reference heron.md 6), as user. Returns when it is done: after the
 * TManager confirmed (activate, deactivate; the new state is visible by
 * then), after Aurora restarted the containers, or after the job and
 * every state node are gone (kill, which is idempotent and also cleans up
 * an orphaned topology). Failures are recorded for `error` and `log`. */
hf_rc cluster_control(struct cluster *c, const char *name,
		      enum control_verb verb, int container, const char *user,
		      struct hf_error *err);

/* The files of containers/<i>/. */
enum container_file { CTF_STATE, CTF_HOST, CTF_EVENTS, CTF_NFILES };

const char *container_file_name(enum container_file f);
/* CTF_NFILES when name is not a container file. */
enum container_file container_file_lookup(const char *name);

/* The container indexes the scheduler knows for the topology, sorted;
 * *ids is malloc'd. */
hf_rc cluster_containers(struct cluster *c, const char *name, int **ids,
			 size_t *n, struct hf_error *err);

/* Renders containers/<instance>/<f>: the task state word, the host (empty
 * while unplaced), or one line per task event of that container,
 * oldest first, across the tasks that replaced each other. */
hf_rc cluster_render_container(struct cluster *c, const char *name,
			       int instance, enum container_file f,
			       struct buf *out, struct hf_error *err);

/* Records err as the topology's last error (for `error`), for failures
 * found before cluster_control runs, such as an unknown verb. */
void cluster_note_error(struct cluster *c, const char *name,
			const struct hf_error *err);

/* The role a submission by user runs as: -o role if set, else user. */
const char *cluster_role_for(const struct cluster *c, const char *user);

/* Back-end requests made so far (state manager), for tests. */
unsigned long cluster_request_count(struct cluster *c);

#endif
