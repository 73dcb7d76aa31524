/* statemgr: the back-end independent part of the state manager.
 *
 * It picks the back end from heron.class.state.manager, validates every
 * argument once, owns the tmasters/tmanagers choice (the other directory
 * names and the name check are in statemgr_names.c), and forwards change
 * reports to the user's callback.
 */
#include "statemgr.h"
#include "statemgr_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "heron_conf.h"

#define CLASS_ZK    "statemgr.zookeeper.curator.CuratorStateManager"
#define CLASS_LOCAL "statemgr.localfs.LocalFileSystemStateManager"

enum tm_mode { TM_AUTO, TM_TMANAGERS, TM_TMASTERS };

struct statemgr {
	const struct sm_ops *ops;
	struct sm_backend *be;
	sm_change_fn fn;
	void *arg;

	enum tm_mode tm_mode;
	pthread_mutex_t tm_lock;
	const char *tm_dir;        /* current choice; a string literal */
	unsigned long tm_gen;      /* bumped when the root listing may change */
	unsigned long tm_checked;  /* tm_gen when tm_dir was last chosen */
};

#define TMASTERS "tmasters"

/* ---- change reports ---------------------------------------------------- */

static void notify(struct statemgr *sm, enum sm_dir dir, const char *name)
{
	if (sm->fn)
		sm->fn(sm->arg, dir, name);
}

static void tm_invalidate(struct statemgr *sm)
{
	pthread_mutex_lock(&sm->tm_lock);
	sm->tm_gen++;
	pthread_mutex_unlock(&sm->tm_lock);
}

static enum sm_dir dir_from_name(const char *dir)
{
	if (strcmp(dir, TMASTERS) == 0)
		return SM_TMANAGERS;
	for (int i = 0; i < SM_NDIRS; i++)
		if (strcmp(dir, sm_dir_name((enum sm_dir)i)) == 0)
			return (enum sm_dir)i;
	return SM_NDIRS;
}

void statemgr_changed(struct statemgr *sm, const char *dir, const char *name)
{
	if (!dir) {
		/* A directory appeared or vanished: the tmasters/tmanagers
		 * choice may flip, which changes what SM_TMANAGERS lists. */
		tm_invalidate(sm);
		if (sm->tm_mode == TM_AUTO)
			notify(sm, SM_TMANAGERS, NULL);
		return;
	}
	enum sm_dir id = dir_from_name(dir);
	if (id != SM_NDIRS)
		notify(sm, id, name);
}

void statemgr_changed_all(struct statemgr *sm)
{
	tm_invalidate(sm);
	notify(sm, SM_NDIRS, NULL);
}

/* ---- tmasters or tmanagers --------------------------------------------- */

static const char *tm_choose(char **names)
{
	bool tmasters = false, tmanagers = false;

	for (char **p = names; *p; p++) {
		tmasters |= strcmp(*p, TMASTERS) == 0;
		tmanagers |= strcmp(*p, sm_dir_name(SM_TMANAGERS)) == 0;
	}
	return tmasters && !tmanagers ? TMASTERS : sm_dir_name(SM_TMANAGERS);
}

/* Auto mode lists the root only after it may have changed; the ZooKeeper
 * back end serves that listing from its watched cache. While the back end
 * is unreachable the previous choice stands rather than making every
 * tmanagers access wait for a timeout. */
static const char *tm_resolve(struct statemgr *sm)
{
	pthread_mutex_lock(&sm->tm_lock);
	unsigned long gen = sm->tm_gen;
	const char *dir = sm->tm_dir;
	bool fresh = sm->tm_checked == gen;
	pthread_mutex_unlock(&sm->tm_lock);

	if (fresh || !sm->ops->connected(sm->be))
		return dir;
	char **names;
	if (sm->ops->list(sm->be, NULL, &names, NULL) != HF_OK)
		return dir;
	dir = tm_choose(names);
	strv_free(names);

	pthread_mutex_lock(&sm->tm_lock);
	if (sm->tm_gen == gen) {
		sm->tm_dir = dir;
		sm->tm_checked = gen;
	}
	pthread_mutex_unlock(&sm->tm_lock);
	return dir;
}

const char *statemgr_dirname(struct statemgr *sm, enum sm_dir dir)
{
	if ((unsigned)dir >= SM_NDIRS)
		return NULL;
	if (dir != SM_TMANAGERS)
		return sm_dir_name(dir);
	switch (sm->tm_mode) {
	case TM_TMANAGERS: return sm_dir_name(SM_TMANAGERS);
	case TM_TMASTERS: return TMASTERS;
	case TM_AUTO: break;
	}
	return tm_resolve(sm);
}

/* ---- open and close ---------------------------------------------------- */

/* The back end conf names, or NULL with err filled. */
static const struct sm_ops *pick_backend(const struct heron_conf *conf,
					 struct hf_error *err)
{
	const char *cls = heron_conf_class(conf, "heron.class.state.manager");

	if (!cls) {
		hf_fail(err, HF_ERR_INVALID,
			"heron.class.state.manager is not set");
		return NULL;
	}
	if (strcmp(cls, CLASS_ZK) == 0)
		return &sm_zk_ops;
	if (strcmp(cls, CLASS_LOCAL) == 0)
		return &sm_local_ops;
	hf_fail(err, HF_ERR_INVALID,
		"heron.class.state.manager '%s' is not supported (heronfs "
		"knows %s and %s)",
		heron_conf_get(conf, "heron.class.state.manager"), CLASS_ZK,
		CLASS_LOCAL);
	return NULL;
}

hf_rc statemgr_check_conf(const struct heron_conf *conf, struct hf_error *err)
{
	return pick_backend(conf, err) ? HF_OK : HF_ERR_INVALID;
}

static hf_rc parse_tm_mode(const struct heron_conf *conf, enum tm_mode *mode,
			   struct hf_error *err)
{
	const char *v = heron_conf_get_str(conf, "heronfs.tmanager.directory",
					   "auto");

	if (strcmp(v, "auto") == 0)
		*mode = TM_AUTO;
	else if (strcmp(v, "tmanagers") == 0)
		*mode = TM_TMANAGERS;
	else if (strcmp(v, "tmasters") == 0)
		*mode = TM_TMASTERS;
	else
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.tmanager.directory '%s' is not one of "
			       "tmanagers, tmasters, auto", v);
	return HF_OK;
}

/* The root without trailing slashes; "/" becomes "". Both back ends want
 * an absolute path: a relative one would depend on the daemon's cwd. */
static hf_rc parse_root(const struct heron_conf *conf, char **root,
			struct hf_error *err)
{
	const char *v = heron_conf_get(conf, "heron.statemgr.root.path");

	if (!v || !*v)
		return hf_fail(err, HF_ERR_INVALID,
			       "heron.statemgr.root.path is not set");
	if (v[0] != '/')
		return hf_fail(err, HF_ERR_INVALID,
			       "heron.statemgr.root.path '%s' is not an "
			       "absolute path", v);
	size_t n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	*root = xstrndup(v, n);
	return HF_OK;
}

hf_rc statemgr_open(const struct heron_conf *conf, sm_change_fn fn, void *arg,
		    struct statemgr **out, struct hf_error *err)
{
	const struct sm_ops *ops = pick_backend(conf, err);
	enum tm_mode mode = TM_AUTO;
	char *root = NULL;
	hf_rc rc;

	*out = NULL;
	if (!ops)
		return HF_ERR_INVALID;
	if ((rc = parse_tm_mode(conf, &mode, err)) != HF_OK ||
	    (rc = parse_root(conf, &root, err)) != HF_OK)
		return rc;

	struct statemgr *sm = xcalloc(1, sizeof(*sm));
	sm->ops = ops;
	sm->fn = fn;
	sm->arg = arg;
	sm->tm_mode = mode;
	sm->tm_dir = sm_dir_name(SM_TMANAGERS);
	sm->tm_gen = 1;   /* tm_checked = 0: not chosen yet */
	pthread_mutex_init(&sm->tm_lock, NULL);

	rc = ops->open(sm, conf, root, &sm->be, err);
	free(root);
	if (rc != HF_OK) {
		pthread_mutex_destroy(&sm->tm_lock);
		free(sm);
		return rc;
	}
	*out = sm;
	return HF_OK;
}

void statemgr_close(struct statemgr *sm)
{
	if (!sm)
		return;
	sm->ops->close(sm->be);
	pthread_mutex_destroy(&sm->tm_lock);
	free(sm);
}

/* ---- operations -------------------------------------------------------- */

static hf_rc check_dir(enum sm_dir dir, struct hf_error *err)
{
	if ((unsigned)dir >= SM_NDIRS)
		return hf_fail(err, HF_ERR_INVALID,
			       "no state directory number %d", (int)dir);
	return HF_OK;
}

hf_rc sm_get(struct statemgr *sm, enum sm_dir dir, const char *name,
	     struct buf *out, struct hf_error *err)
{
	hf_rc rc;

	if ((rc = check_dir(dir, err)) != HF_OK ||
	    (rc = sm_check_name(name, err)) != HF_OK)
		return rc;
	buf_reset(out);
	return sm->ops->get(sm->be, statemgr_dirname(sm, dir), name, out, err);
}

hf_rc sm_list(struct statemgr *sm, enum sm_dir dir, char ***names,
	      struct hf_error *err)
{
	hf_rc rc;

	*names = NULL;
	if ((rc = check_dir(dir, err)) != HF_OK)
		return rc;
	return sm->ops->list(sm->be, statemgr_dirname(sm, dir), names, err);
}

hf_rc sm_create(struct statemgr *sm, enum sm_dir dir, const char *name,
		const void *data, size_t len, bool ephemeral,
		struct hf_error *err)
{
	hf_rc rc;

	if ((rc = check_dir(dir, err)) != HF_OK ||
	    (rc = sm_check_name(name, err)) != HF_OK)
		return rc;
	return sm->ops->create(sm->be, dir, statemgr_dirname(sm, dir), name,
			       data, len, ephemeral, err);
}

hf_rc sm_delete(struct statemgr *sm, enum sm_dir dir, const char *name,
		struct hf_error *err)
{
	hf_rc rc;

	if ((rc = check_dir(dir, err)) != HF_OK ||
	    (rc = sm_check_name(name, err)) != HF_OK)
		return rc;
	return sm->ops->remove(sm->be, statemgr_dirname(sm, dir), name,
			       dir == SM_LOCKS, err);
}

void sm_health(struct statemgr *sm, struct buf *out)
{
	sm->ops->health(sm->be, out);
}

bool sm_connected(struct statemgr *sm)
{
	return sm->ops->connected(sm->be);
}

unsigned long sm_request_count(struct statemgr *sm)
{
	return sm->ops->request_count(sm->be);
}
