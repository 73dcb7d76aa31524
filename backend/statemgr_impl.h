/* statemgr_impl: what statemgr.c asks of a state manager back end.
 *
 * statemgr.c validates every argument, turns enum sm_dir into a directory
 * name (so "tmasters" or "tmanagers" is decided in one place) and then calls
 * one of these. A back end never sees an invalid name. Directory names are
 * single path components under the root; dir == NULL names the root itself
 * (list only, for the tmasters/tmanagers detection).
 *
 * Private to backend/statemgr*.c.
 */
#ifndef HERONFS_STATEMGR_IMPL_H
#define HERONFS_STATEMGR_IMPL_H

#include "statemgr.h"

struct sm_backend;

struct sm_ops {
	const char *kind;   /* "zookeeper", "localfs": for messages */

	/* root: heron.statemgr.root.path without trailing '/' ("" for "/"). */
	hf_rc (*open)(struct statemgr *sm, const struct heron_conf *conf,
		      const char *root, struct sm_backend **out,
		      struct hf_error *err);
	/* Stops the back end's threads; no change callback runs after it. */
	void (*close)(struct sm_backend *be);

	hf_rc (*get)(struct sm_backend *be, const char *dir, const char *name,
		     struct buf *out, struct hf_error *err);
	hf_rc (*list)(struct sm_backend *be, const char *dir, char ***names,
		      struct hf_error *err);
	/* id tells the local back end whether Heron creates or overwrites. */
	hf_rc (*create)(struct sm_backend *be, enum sm_dir id, const char *dir,
			const char *name, const void *data, size_t len,
			bool ephemeral, struct hf_error *err);
	/* recursive for locks (Curator leaves lease children under them). */
	hf_rc (*remove)(struct sm_backend *be, const char *dir,
			const char *name, bool recursive,
			struct hf_error *err);

	void (*health)(struct sm_backend *be, struct buf *out);
	bool (*connected)(struct sm_backend *be);
	unsigned long (*request_count)(struct sm_backend *be);
};

extern const struct sm_ops sm_zk_ops;
extern const struct sm_ops sm_local_ops;

/* Back ends report changes with these, from their own threads and with none
 * of their locks held (the user's callback may take the caller's locks).
 * dir == NULL: the root listing changed; name == NULL: dir's listing
 * changed. Names of directories heronfs does not use are ignored. */
void statemgr_changed(struct statemgr *sm, const char *dir, const char *name);
/* Everything may have changed (new session, root appeared, lost events). */
void statemgr_changed_all(struct statemgr *sm);

#endif
