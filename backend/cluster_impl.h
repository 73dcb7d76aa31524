/* cluster_impl: the inside of struct cluster, shared by the modules that
 * implement cluster.h (cluster.c: views; submit.c: submit). Not for fs/. */
#ifndef HERONFS_CLUSTER_IMPL_H
#define HERONFS_CLUSTER_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "actlog.h"
#include "cluster.h"
#include "heron_conf.h"
#include "scheduler.h"
#include "statemgr.h"
#include "uploader.h"

/* What this daemon is doing to a topology right now. */
enum inflight { IF_NONE, IF_SUBMITTING, IF_KILLING };

/* What this daemon remembers about a topology beyond the state manager. */
struct note {
	struct note *next;
	char *name;
	char *error;            /* reason of the last failed action, or NULL */
	enum inflight inflight;
	const char *phase;      /* a static string while in flight */
	uint64_t bytes;         /* uploaded so far, while submitting */
};

struct cluster {
	char *name;
	char *dir;              /* the cluster's conf directory */
	char *release_file;     /* <heron_home>/release.yaml, or NULL */
	char *heron_home;
	char *role;             /* -o role, or NULL: the caller's name */
	char *environ;
	struct heron_conf *conf;
	struct statemgr *sm;
	struct scheduler *sched;
	struct uploader *upl;
	char *sched_error;      /* why there is no scheduler, or NULL */
	char *upl_error;        /* why there is no uploader, or NULL */
	struct actlog *log;
	cluster_change_fn change_fn;
	void *change_arg;
	pthread_mutex_t lock;   /* protects notes; never held across I/O */
	struct note *notes;
};

/* Marks name as in flight. HF_ERR_BUSY when this daemon is already
 * acting on it. */
hf_rc note_begin(struct cluster *c, const char *name, enum inflight what,
		 struct hf_error *err);
/* Whether this daemon is submitting or killing name right now. */
bool note_inflight(struct cluster *c, const char *name);
void note_phase(struct cluster *c, const char *name, const char *phase);
void note_bytes(struct cluster *c, const char *name, uint64_t bytes);
/* Ends the action: err NULL or HF_OK clears the topology's error, else
 * records err->msg as it. */
void note_end(struct cluster *c, const char *name,
	      const struct hf_error *err);

/* Records the outcome of an action that is not in flight: err NULL
 * clears the topology's error, else err->msg becomes it. */
void note_record(struct cluster *c, const char *name,
		 const struct hf_error *err);

struct topo;

/* The scheduler job key Heron launched the topology under: the execution
 * state's role and environment, else role and this mount's environment. */
struct job_key cluster_job_key(struct cluster *c, const struct topo *t,
			       const char *role);

/* Tells the FUSE layer that name (NULL: the listing) may look different. */
void cluster_changed(struct cluster *c, const char *name);

/* The conf with a topology's tokens: local mode (HERON_HOME and
 * HERON_CONF of this machine) or cluster mode (./heron-core,
 * ./heron-conf), as Heron converts it for the containers. */
hf_rc cluster_topology_conf(struct cluster *c, const char *topology,
			    const char *topology_id, const char *role,
			    const char *submit_user, bool cluster_mode,
			    struct heron_conf **out, struct hf_error *err);

/* Appends what goes into heron-conf/release.yaml: the client's release
 * file, or a minimal one naming heronfs when there is none. */
void read_release_yaml(struct cluster *c, struct buf *out);

#endif
