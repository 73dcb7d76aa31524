/* statemgr: Heron's state manager, read and written exactly as Heron does.
 *
 * Layout (same for both back ends): <root>/<dir>/<topology name>, the data
 * the raw serialized protobuf. <root> is heron.statemgr.root.path. Two
 * implementations behind one interface, chosen by heron.class.state.manager:
 *   ZooKeeper (statemgr.zookeeper.curator.CuratorStateManager), with data
 *     and child watches, a cache served without any ZooKeeper request while
 *     the watches hold, and session expiry handled by a new session and new
 *     watches;
 *   local files (statemgr.localfs.LocalFileSystemStateManager), where an
 *     empty file reads as absent.
 *
 * All calls are thread-safe and never hold a lock across a network call.
 * No call waits longer than the configured request timeout
 * (heronfs.statemgr.timeout.ms, default 5000): it returns HF_ERR_TIMEOUT or
 * HF_ERR_UNAVAILABLE instead. While ZooKeeper is unreachable, reads of
 * cached nodes keep answering from the cache (health says it may be stale).
 */
#ifndef HERONFS_STATEMGR_H
#define HERONFS_STATEMGR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "hferr.h"

struct heron_conf;

enum sm_dir {
	SM_TOPOLOGIES,
	SM_PACKINGPLANS,
	SM_EXECUTIONSTATE,
	SM_SCHEDULERS,
	SM_TMANAGERS,       /* "tmanagers", or "tmasters" before Heron 0.20.3 */
	SM_PPLANS,
	SM_METRICSCACHES,
	SM_STATEFULCHECKPOINTS,
	SM_LOCKS,
	SM_NDIRS
};

/* Called from a statemgr thread when something may have changed: name is
 * the topology whose node in dir changed, or NULL when the listing of dir
 * changed (or, with dir == SM_NDIRS, when everything must be re-read, as
 * after a new session). It must not call back into the statemgr or block.
 *
 * ZooKeeper watches are armed by reads, so that back end reports a node or
 * a listing only if it was read (found or absent) since its last report;
 * whatever a caller caches was read, so nothing it holds goes unreported.
 * The local back end reports every change under the root. */
typedef void (*sm_change_fn)(void *arg, enum sm_dir dir, const char *name);

struct statemgr;

/* Opens the state manager that conf names. It does not wait for ZooKeeper:
 * an unreachable ensemble is reported by health and by calls, not here.
 * Fails only for a conf it cannot use (unknown class, missing keys). */
hf_rc statemgr_open(const struct heron_conf *conf, sm_change_fn fn, void *arg,
		    struct statemgr **out, struct hf_error *err);
void statemgr_close(struct statemgr *sm);

/* Checks that conf names a state manager heronfs implements, without
 * opening it (no threads: safe before the daemon forks). */
hf_rc statemgr_check_conf(const struct heron_conf *conf, struct hf_error *err);

/* The directory name used for dir ("tmasters" or "tmanagers" for
 * SM_TMANAGERS, per heronfs.tmanager.directory = tmanagers|tmasters|auto;
 * auto picks tmasters when only that directory exists under the root).
 * NULL for an invalid dir. In auto mode it lists the root again after the
 * root listing changed (from the cache otherwise; while the back end is
 * unreachable the previous choice stands); a flip is reported as a change
 * of the SM_TMANAGERS listing. */
const char *statemgr_dirname(struct statemgr *sm, enum sm_dir dir);

/* Heron's current name for dir ("tmanagers" for SM_TMANAGERS, whatever
 * statemgr_dirname would pick), or NULL for an invalid dir. Needs no open
 * statemgr: for messages written without one (topology.c's reasons). */
const char *sm_dir_name(enum sm_dir dir);

/* HF_OK if name can be a state node's name: one path component that both
 * ZooKeeper and a file system accept (not empty, "." or "..", no '/', no
 * control character, at most NAME_MAX bytes); else HF_ERR_INVALID with
 * the reason. sm_get, sm_create and sm_delete check every name with it;
 * a lookup (topo_load) uses it to tell a name no node can have. */
hf_rc sm_check_name(const char *name, struct hf_error *err);

/* Reads <root>/<dir>/<name> into out (replacing its content).
 * HF_ERR_NOTFOUND if absent. */
hf_rc sm_get(struct statemgr *sm, enum sm_dir dir, const char *name,
	     struct buf *out, struct hf_error *err);

/* The sorted child names of <root>/<dir> as a NULL-terminated vector
 * (strv_free). A missing directory is an empty list. */
hf_rc sm_list(struct statemgr *sm, enum sm_dir dir, char ***names,
	      struct hf_error *err);

/* Creates <root>/<dir>/<name> (creating missing parents as Heron's
 * initTree does). HF_ERR_EXISTS if present, except that the local back end
 * overwrites where Heron's LocalFileSystemStateManager does (packingplans,
 * schedulers, tmanagers, metricscaches, statefulcheckpoints); it writes a
 * temporary file and publishes it whole, so readers never see half of it.
 * ephemeral: a ZooKeeper ephemeral node (the local back end removes the
 * file at close if it still is the one it wrote). */
hf_rc sm_create(struct statemgr *sm, enum sm_dir dir, const char *name,
		const void *data, size_t len, bool ephemeral,
		struct hf_error *err);

/* Deletes <root>/<dir>/<name>, with its children for SM_LOCKS (name is
 * then the lock node's name, "<topology>__updateTopology" for Heron's
 * update lock). A missing node is success. */
hf_rc sm_delete(struct statemgr *sm, enum sm_dir dir, const char *name,
		struct hf_error *err);

/* One line for `health`, without the trailing newline, e.g.
 * "statemgr: ok zookeeper 127.0.0.1:2181/heron session 0x1234" or
 * "statemgr: unreachable zookeeper 127.0.0.1:2181/heron (serving cached
 * state, may be stale)". */
void sm_health(struct statemgr *sm, struct buf *out);

/* True while the state manager is reachable. */
bool sm_connected(struct statemgr *sm);

/* Requests sent to the back end since open (ZooKeeper reads, writes and
 * lists, cache hits excluded; local file reads and directory listings), for
 * tests and benchmarks of the cache. */
unsigned long sm_request_count(struct statemgr *sm);

#endif
