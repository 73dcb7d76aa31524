/* statemgr_zk: the ZooKeeper back end (libzookeeper_mt).
 *
 * Cache. Node data and child listings are cached. Every entry was fetched
 * with a watch (zoo_awget, zoo_awget_children, or zoo_awexists for a node
 * that does not exist), so it is served with no request until the watch
 * fires; the watcher then drops the entry and reports the change.
 *
 * Ordering. Completions and watch events run on the client's completion
 * thread in the order the server sent them, and the server sends a watch
 * event before any reply that could show the change. Completions therefore
 * store their result into the cache themselves: a change event always lands
 * after the data it invalidates, so a fetch racing with a change cannot
 * leave stale data behind. The one remaining race is a whole-cache reset (a
 * new connection or session), which is not in that order; a per-reset epoch
 * stops replies to older requests from being stored.
 *
 * Bounded calls. Callers submit asynchronous requests and wait on a
 * condition variable with a deadline (heronfs.statemgr.timeout.ms), so no
 * call waits for the library's own timeouts, which follow the session
 * timeout. A reply that comes after its caller gave up is still stored (the
 * call is reference counted).
 *
 * Sessions. zookeeper_init does not wait for the ensemble; the library keeps
 * reconnecting by itself and re-registers watches on the same session. On
 * reconnecting, the cache is dropped anyway, to catch up with whatever
 * changed while away. An expired session is replaced by the supervisor
 * thread, because zookeeper_close joins the completion thread and so cannot
 * run inside a watcher.
 *
 * Locks. handle_lock is held shared while a request is submitted on zh (a
 * non-blocking queueing call) and exclusively to swap zh. lock guards the
 * rest; it is never held while calling the library, and the completion
 * thread takes it only briefly.
 */
#include "statemgr_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#include "heron_conf.h"
#include "log.h"

/* jute.maxbuffer limits a whole packet to 1 MiB; keep room for the path. */
#define ZK_MAX_DATA       (1024 * 1024 - 4096)
#define ZK_RETRY_MS       1000   /* between attempts to start a session */
#define ZK_READ_ATTEMPTS  3      /* a node that keeps flapping: EAGAIN */
#define ZK_TREE_DEPTH     8      /* Curator's lock nodes are 3 deep */
#define ZK_CACHE_SLOTS    64

/* ---- cache --------------------------------------------------------------- */

#define KIND_DATA  'd'
#define KIND_KIDS  'c'

struct zk_entry {
	struct zk_entry *next;
	bool present;
	struct buf data;   /* KIND_DATA */
	char **names;      /* KIND_KIDS, sorted; NULL when absent */
	char key[];        /* kind, then the path */
};

struct zk_cache {
	struct zk_entry **slots;
	size_t nslots;     /* a power of two */
	size_t count;
};

static char *cache_key(char kind, const char *path)
{
	return xasprintf("%c%s", kind, path);
}

static size_t cache_slot(size_t nslots, const char *key)
{
	uint64_t h = 14695981039346656037u;   /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	return (size_t)h & (nslots - 1);
}

static struct zk_entry **cache_find(struct zk_cache *c, const char *key)
{
	struct zk_entry **pp = &c->slots[cache_slot(c->nslots, key)];

	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void entry_free(struct zk_entry *e)
{
	buf_free(&e->data);
	strv_free(e->names);
	free(e);
}

static struct zk_entry *entry_new(const char *key)
{
	size_t n = strlen(key) + 1;
	struct zk_entry *e = xcalloc(1, sizeof(*e) + n);

	memcpy(e->key, key, n);
	return e;
}

static void cache_grow(struct zk_cache *c)
{
	size_t n = c->nslots * 2;
	struct zk_entry **slots = xcalloc(n, sizeof(*slots));

	for (size_t i = 0; i < c->nslots; i++) {
		struct zk_entry *e = c->slots[i], *next;
		for (; e; e = next) {
			size_t s = cache_slot(n, e->key);
			next = e->next;
			e->next = slots[s];
			slots[s] = e;
		}
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = n;
}

static void cache_put(struct zk_cache *c, struct zk_entry *e)
{
	struct zk_entry **pp = cache_find(c, e->key);

	if (*pp) {
		struct zk_entry *old = *pp;
		e->next = old->next;
		*pp = e;
		entry_free(old);
		return;
	}
	e->next = NULL;
	*pp = e;
	if (++c->count > 2 * c->nslots)
		cache_grow(c);
}

static void cache_drop(struct zk_cache *c, const char *key)
{
	struct zk_entry **pp = cache_find(c, key);

	if (*pp) {
		struct zk_entry *e = *pp;
		*pp = e->next;
		entry_free(e);
		c->count--;
	}
}

static void cache_clear(struct zk_cache *c)
{
	for (size_t i = 0; i < c->nslots; i++) {
		struct zk_entry *e = c->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			entry_free(e);
		}
		c->slots[i] = NULL;
	}
	c->count = 0;
}

static char **strv_copy(char *const *v)
{
	size_t n = strv_len(v);
	char **out = xcalloc(n + 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **strv_sorted(const struct String_vector *sv)
{
	size_t n = sv && sv->count > 0 ? (size_t)sv->count : 0;
	char **out = xcalloc(n + 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(sv->data[i]);
	qsort(out, n, sizeof(*out), cmp_str);
	return out;
}

/* ---- state --------------------------------------------------------------- */

enum zk_conn { ZK_CONNECTING, ZK_CONNECTED, ZK_EXPIRED };

/* The watcher context of one handle; events of a replaced handle are
 * recognised by gen and ignored. */
struct zk_session {
	struct sm_backend *zk;
	unsigned long gen;
};

struct sm_backend {
	struct statemgr *sm;
	char *hosts;
	char *root;                 /* "" or "/a/b" */
	int session_ms, timeout_ms;
	atomic_ulong requests;

	pthread_rwlock_t handle_lock;
	zhandle_t *zh;              /* NULL between sessions */
	struct zk_session *session; /* zh's watcher context */

	pthread_mutex_t lock;
	pthread_cond_t conn_cond;   /* conn or zh changed, or closing */
	pthread_cond_t sup_cond;    /* work for the supervisor */
	enum zk_conn conn;
	int64_t session_id;
	unsigned long session_gen;
	unsigned long epoch;        /* bumped whenever the cache is dropped */
	bool need_session, closing;
	struct zk_cache cache;
	pthread_t supervisor;
	bool init_failing;          /* only the thread starting sessions */
};

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static struct timespec deadline_after(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* Under lock. */
static void cache_reset(struct sm_backend *zk)
{
	zk->epoch++;
	cache_clear(&zk->cache);
}

/* Under lock: a node changed, so neither its data nor its listing holds. */
static void cache_forget(struct sm_backend *zk, const char *path)
{
	char *key = cache_key(KIND_DATA, path);

	cache_drop(&zk->cache, key);
	key[0] = KIND_KIDS;
	cache_drop(&zk->cache, key);
	free(key);
}

/* ---- requests ------------------------------------------------------------ */

enum zk_op { OP_GET, OP_CHILDREN, OP_EXISTS, OP_LIST, OP_CREATE, OP_DELETE };

static const char *const op_names[] = {
	[OP_GET] = "get", [OP_CHILDREN] = "list", [OP_EXISTS] = "exists",
	[OP_LIST] = "list", [OP_CREATE] = "create", [OP_DELETE] = "delete",
};

struct zk_req {
	enum zk_op op;
	const char *path;
	char kind;           /* cache entry the reply fills, or 0 */
	const void *data;    /* OP_CREATE */
	size_t len;
	int flags;
};

/* One request in flight, shared by its caller and its completion. */
struct zk_call {
	struct sm_backend *zk;
	pthread_cond_t cond;
	char *path;
	char *key;           /* cache entry to fill, or NULL */
	unsigned long epoch; /* zk->epoch when sent */
	int refs;            /* under zk->lock */
	bool done;
	int rc;
	struct buf data;
	char **names;
};

static struct zk_call *call_new(struct sm_backend *zk, const struct zk_req *r)
{
	struct zk_call *call = xcalloc(1, sizeof(*call));

	call->zk = zk;
	cond_init_monotonic(&call->cond);
	call->path = xstrdup(r->path);
	call->key = r->kind ? cache_key(r->kind, r->path) : NULL;
	call->refs = 1;
	return call;
}

/* Under lock. */
static void call_unref(struct zk_call *call)
{
	if (--call->refs > 0)
		return;
	pthread_cond_destroy(&call->cond);
	free(call->path);
	free(call->key);
	buf_free(&call->data);
	strv_free(call->names);
	free(call);
}

/* Under lock: the reply belongs to the cache generation it was sent in. */
static bool call_may_store(const struct zk_call *call)
{
	return call->key && call->epoch == call->zk->epoch;
}

static bool call_waited(const struct zk_call *call)
{
	return call->refs > 1;
}

/* Under lock. */
static void call_finish(struct zk_call *call, int rc)
{
	call->rc = rc;
	call->done = true;
	pthread_cond_signal(&call->cond);
	call_unref(call);
}

static void on_data(int rc, const char *value, int len,
		    const struct Stat *stat, const void *arg)
{
	struct zk_call *call = (struct zk_call *)arg;
	struct sm_backend *zk = call->zk;

	pthread_mutex_lock(&zk->lock);
	if (rc == ZOK && call_may_store(call)) {
		struct zk_entry *e = entry_new(call->key);
		e->present = true;
		buf_append(&e->data, value, len > 0 ? (size_t)len : 0);
		cache_put(&zk->cache, e);
	}
	if (rc == ZOK && call_waited(call))
		buf_append(&call->data, value, len > 0 ? (size_t)len : 0);
	call_finish(call, rc);
	pthread_mutex_unlock(&zk->lock);
}

static void on_children(int rc, const struct String_vector *sv,
			const void *arg)
{
	struct zk_call *call = (struct zk_call *)arg;
	struct sm_backend *zk = call->zk;
	char **names = rc == ZOK ? strv_sorted(sv) : NULL;

	pthread_mutex_lock(&zk->lock);
	if (rc == ZOK && call_may_store(call)) {
		struct zk_entry *e = entry_new(call->key);
		e->present = true;
		e->names = strv_copy(names);
		cache_put(&zk->cache, e);
	}
	if (call_waited(call)) {
		call->names = names;
		names = NULL;
	}
	call_finish(call, rc);
	pthread_mutex_unlock(&zk->lock);
	strv_free(names);
}

/* zoo_awexists leaves a watch that fires on creation, so absence is
 * cached like anything else. */
static void on_exists(int rc, const struct Stat *stat, const void *arg)
{
	struct zk_call *call = (struct zk_call *)arg;
	struct sm_backend *zk = call->zk;

	pthread_mutex_lock(&zk->lock);
	if (rc == ZNONODE && call_may_store(call))
		cache_put(&zk->cache, entry_new(call->key));
	call_finish(call, rc);
	pthread_mutex_unlock(&zk->lock);
}

/* The server sends our own write's watch events before this reply, so the
 * entries are normally gone already; dropping them here as well keeps
 * read-your-writes independent of that ordering. */
static void on_written(int rc, const void *arg)
{
	struct zk_call *call = (struct zk_call *)arg;
	struct sm_backend *zk = call->zk;

	pthread_mutex_lock(&zk->lock);
	if (rc == ZOK || rc == ZNONODE) {
		cache_forget(zk, call->path);
		char *slash = strrchr(call->path, '/');
		if (slash && slash != call->path) {
			*slash = '\0';
			cache_forget(zk, call->path);
			*slash = '/';
		}
	}
	call_finish(call, rc);
	pthread_mutex_unlock(&zk->lock);
}

static void on_created(int rc, const char *value, const void *arg)
{
	on_written(rc, arg);
}

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path,
		       void *ctx);

/* Queues the request on the current handle; ZINVALIDSTATE with *nohandle
 * set if there is none (between sessions). */
static int submit(struct sm_backend *zk, struct zk_call *call,
		  const struct zk_req *r, bool *nohandle)
{
	int rc = ZINVALIDSTATE;

	pthread_rwlock_rdlock(&zk->handle_lock);
	zhandle_t *zh = zk->zh;
	void *s = zk->session;
	*nohandle = !zh;
	if (zh) {
		switch (r->op) {
		case OP_GET:
			rc = zoo_awget(zh, r->path, zk_watcher, s, on_data,
				       call);
			break;
		case OP_CHILDREN:
			rc = zoo_awget_children(zh, r->path, zk_watcher, s,
						on_children, call);
			break;
		case OP_EXISTS:
			rc = zoo_awexists(zh, r->path, zk_watcher, s,
					  on_exists, call);
			break;
		case OP_LIST:
			rc = zoo_aget_children(zh, r->path, 0, on_children,
					       call);
			break;
		case OP_CREATE:
			rc = zoo_acreate(zh, r->path, (const char *)r->data,
					 (int)r->len, &ZOO_OPEN_ACL_UNSAFE,
					 r->flags, on_created, call);
			break;
		case OP_DELETE:
			rc = zoo_adelete(zh, r->path, -1, on_written, call);
			break;
		}
	}
	pthread_rwlock_unlock(&zk->handle_lock);
	if (rc == ZOK)
		atomic_fetch_add(&zk->requests, 1);
	return rc;
}

static bool wait_connected(struct sm_backend *zk, const struct timespec *dl)
{
	pthread_mutex_lock(&zk->lock);
	while (!(zk->conn == ZK_CONNECTED && zk->zh) && !zk->closing)
		if (pthread_cond_timedwait(&zk->conn_cond, &zk->lock, dl) ==
		    ETIMEDOUT)
			break;
	bool ok = zk->conn == ZK_CONNECTED && zk->zh && !zk->closing;
	pthread_mutex_unlock(&zk->lock);
	return ok;
}

/* Sends and waits, until the deadline. */
static int send_and_wait(struct sm_backend *zk, struct zk_call *call,
			 const struct zk_req *r, const struct timespec *dl)
{
	bool nohandle;
	int rc;

	do {
		if (!wait_connected(zk, dl))
			return ZCONNECTIONLOSS;
		pthread_mutex_lock(&zk->lock);
		call->epoch = zk->epoch;
		call->refs++;   /* the completion's */
		pthread_mutex_unlock(&zk->lock);
		rc = submit(zk, call, r, &nohandle);
		if (rc != ZOK) {
			pthread_mutex_lock(&zk->lock);
			call->refs--;
			pthread_mutex_unlock(&zk->lock);
		}
	} while (nohandle);   /* raced with a session swap: wait for the new */
	if (rc != ZOK)
		return rc;

	pthread_mutex_lock(&zk->lock);
	while (!call->done)
		if (pthread_cond_timedwait(&call->cond, &zk->lock, dl) ==
		    ETIMEDOUT)
			break;
	rc = call->done ? call->rc : ZOPERATIONTIMEOUT;
	pthread_mutex_unlock(&zk->lock);
	return rc;
}

/* One request. Returns the ZooKeeper result, ZCONNECTIONLOSS when no
 * session came up before the deadline, ZOPERATIONTIMEOUT when the reply did
 * not. On ZOK, a get's data is appended to data and a list's sorted names
 * are handed to *names (either may be NULL). */
static int zk_request(struct sm_backend *zk, const struct zk_req *r,
		      const struct timespec *dl, struct buf *data,
		      char ***names)
{
	struct zk_call *call = call_new(zk, r);
	int rc = send_and_wait(zk, call, r, dl);

	pthread_mutex_lock(&zk->lock);
	if (rc == ZOK && data)
		buf_append(data, call->data.data, call->data.len);
	if (rc == ZOK && names) {
		*names = call->names;
		call->names = NULL;
	}
	call_unref(call);
	pthread_mutex_unlock(&zk->lock);
	return rc;
}

static hf_rc zk_fail(struct sm_backend *zk, int rc, enum zk_op op,
		     const char *path, struct hf_error *err)
{
	const char *what = op_names[op];

	switch (rc) {
	case ZCONNECTIONLOSS:
	case ZSESSIONEXPIRED:
	case ZSESSIONMOVED:
	case ZINVALIDSTATE:
	case ZCLOSING:
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "ZooKeeper %s unreachable (%s %s)", zk->hosts,
			       what, path);
	case ZOPERATIONTIMEOUT:
		return hf_fail(err, HF_ERR_TIMEOUT,
			       "ZooKeeper %s did not answer %s %s within "
			       "%d ms", zk->hosts, what, path, zk->timeout_ms);
	case ZNOAUTH:
	case ZAUTHFAILED:
		return hf_fail(err, HF_ERR_PERM, "ZooKeeper %s: %s %s: %s",
			       zk->hosts, what, path, zerror(rc));
	default:
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "ZooKeeper %s: %s %s: %s", zk->hosts, what,
			       path, zerror(rc));
	}
}

/* ---- reads --------------------------------------------------------------- */

/* Copies a cached entry out: false on a miss. */
static bool cache_read(struct sm_backend *zk, const char *key, bool *present,
		       struct buf *data, char ***names)
{
	pthread_mutex_lock(&zk->lock);
	struct zk_entry *e = *cache_find(&zk->cache, key);
	if (e) {
		*present = e->present;
		if (e->present && data)
			buf_append(data, e->data.data, e->data.len);
		if (names)
			*names = e->names ? strv_copy(e->names)
					  : xcalloc(1, sizeof(char *));
	}
	pthread_mutex_unlock(&zk->lock);
	return e != NULL;
}

/* Fetches with a watch; on ZNONODE, makes sure of absence with an exists
 * watch (get and getChildren leave no watch on a missing node). Returns
 * ZOK, ZNONODE, or an error; ZNODEEXISTS means the node kept flapping. */
static int fetch(struct sm_backend *zk, const char *path, char kind,
		 struct buf *data, char ***names)
{
	struct timespec dl = deadline_after(zk->timeout_ms);
	struct zk_req get = {
		.op = kind == KIND_DATA ? OP_GET : OP_CHILDREN,
		.path = path, .kind = kind,
	};
	struct zk_req exists = { .op = OP_EXISTS, .path = path, .kind = kind };

	for (int i = 0; i < ZK_READ_ATTEMPTS; i++) {
		int rc = zk_request(zk, &get, &dl, data, names);
		if (rc != ZNONODE)
			return rc;
		rc = zk_request(zk, &exists, &dl, NULL, NULL);
		if (rc != ZOK)
			return rc;
		/* created in between: read it */
	}
	return ZNODEEXISTS;
}

static hf_rc read_node(struct sm_backend *zk, const char *path, char kind,
		       struct buf *data, char ***names, struct hf_error *err)
{
	char *key = cache_key(kind, path);
	bool present;
	bool hit = cache_read(zk, key, &present, data, names);

	free(key);
	if (hit)
		return present || kind == KIND_KIDS ? HF_OK :
		       hf_fail(err, HF_ERR_NOTFOUND, "%s does not exist", path);

	int rc = fetch(zk, path, kind, data, names);
	if (rc == ZOK)
		return HF_OK;
	if (rc == ZNONODE && kind == KIND_KIDS) {
		*names = xcalloc(1, sizeof(char *));
		return HF_OK;
	}
	if (rc == ZNONODE)
		return hf_fail(err, HF_ERR_NOTFOUND, "%s does not exist", path);
	if (rc == ZNODEEXISTS)
		return hf_fail(err, HF_ERR_NOTREADY,
			       "%s kept being created and deleted while read",
			       path);
	return zk_fail(zk, rc, kind == KIND_DATA ? OP_GET : OP_CHILDREN, path,
		       err);
}

static char *node_path(struct sm_backend *zk, const char *dir,
		       const char *name)
{
	return xasprintf("%s/%s/%s", zk->root, dir, name);
}

static char *dir_path(struct sm_backend *zk, const char *dir)
{
	if (dir)
		return xasprintf("%s/%s", zk->root, dir);
	return xstrdup(zk->root[0] ? zk->root : "/");
}

static hf_rc zk_get(struct sm_backend *zk, const char *dir, const char *name,
		    struct buf *out, struct hf_error *err)
{
	char *path = node_path(zk, dir, name);
	hf_rc rc = read_node(zk, path, KIND_DATA, out, NULL, err);

	free(path);
	return rc;
}

static hf_rc zk_list(struct sm_backend *zk, const char *dir, char ***names,
		     struct hf_error *err)
{
	char *path = dir_path(zk, dir);
	hf_rc rc = read_node(zk, path, KIND_KIDS, NULL, names, err);

	free(path);
	return rc;
}

/* ---- writes -------------------------------------------------------------- */

/* Creates every missing ancestor of path as an empty persistent node, as
 * Heron's initTree does (Curator would make containers; plain persistent
 * nodes do not vanish when a directory empties). */
static int create_parents(struct sm_backend *zk, const char *path,
			  const struct timespec *dl)
{
	char *p = xstrdup(path);
	int rc = ZOK;

	for (char *s = strchr(p + 1, '/'); s && rc == ZOK;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		struct zk_req r = { .op = OP_CREATE, .path = p, .data = "",
				    .flags = ZOO_PERSISTENT };
		rc = zk_request(zk, &r, dl, NULL, NULL);
		if (rc == ZNODEEXISTS)
			rc = ZOK;
		*s = '/';
	}
	free(p);
	return rc;
}

static hf_rc zk_create(struct sm_backend *zk, enum sm_dir id, const char *dir,
		       const char *name, const void *data, size_t len,
		       bool ephemeral, struct hf_error *err)
{
	if (len > ZK_MAX_DATA)
		return hf_fail(err, HF_ERR_INVALID,
			       "%s/%s/%s: %zu bytes is more than a ZooKeeper "
			       "node holds (%d)", zk->root, dir, name, len,
			       ZK_MAX_DATA);

	char *path = node_path(zk, dir, name);
	struct timespec dl = deadline_after(zk->timeout_ms);
	struct zk_req r = { .op = OP_CREATE, .path = path, .data = data,
			    .len = len,
			    .flags = ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT };
	int rc = zk_request(zk, &r, &dl, NULL, NULL);

	if (rc == ZNONODE) {
		rc = create_parents(zk, path, &dl);
		if (rc == ZOK)
			rc = zk_request(zk, &r, &dl, NULL, NULL);
	}
	hf_rc out = HF_OK;
	if (rc == ZNODEEXISTS)
		out = hf_fail(err, HF_ERR_EXISTS, "%s already exists", path);
	else if (rc != ZOK)
		out = zk_fail(zk, rc, OP_CREATE, path, err);
	free(path);
	return out;
}

/* Deletes path and everything under it; a child created meanwhile makes
 * it try again, a few times. */
static int delete_tree(struct sm_backend *zk, const char *path,
		       const struct timespec *dl, int depth)
{
	struct zk_req del = { .op = OP_DELETE, .path = path };
	struct zk_req ls = { .op = OP_LIST, .path = path };
	int rc = ZNOTEMPTY;

	for (int i = 0; i < ZK_READ_ATTEMPTS && rc == ZNOTEMPTY; i++) {
		char **kids = NULL;
		rc = zk_request(zk, &ls, dl, NULL, &kids);
		for (char **k = kids; rc == ZOK && *k; k++) {
			char *child = xasprintf("%s/%s", path, *k);
			rc = depth < ZK_TREE_DEPTH ?
			     delete_tree(zk, child, dl, depth + 1) : ZNOTEMPTY;
			if (rc == ZNONODE)
				rc = ZOK;
			free(child);
		}
		strv_free(kids);
		if (rc == ZOK)
			rc = zk_request(zk, &del, dl, NULL, NULL);
	}
	return rc;
}

static hf_rc zk_remove(struct sm_backend *zk, const char *dir,
		       const char *name, bool recursive, struct hf_error *err)
{
	char *path = node_path(zk, dir, name);
	struct timespec dl = deadline_after(zk->timeout_ms);
	struct zk_req del = { .op = OP_DELETE, .path = path };
	int rc = recursive ? delete_tree(zk, path, &dl, 0)
			   : zk_request(zk, &del, &dl, NULL, NULL);
	hf_rc out = HF_OK;

	if (rc == ZNOTEMPTY && recursive)
		out = hf_fail(err, HF_ERR_BUSY,
			      "%s still has children after deleting them "
			      "(someone keeps adding)", path);
	else if (rc != ZOK && rc != ZNONODE)
		out = zk_fail(zk, rc, OP_DELETE, path, err);
	free(path);
	return out;
}

/* ---- sessions and watches ------------------------------------------------ */

/* Turns an event path into (dir, name) for statemgr.c; events below the
 * nodes Heron uses cannot happen as nothing watches them. */
static void report_path(struct sm_backend *zk, const char *path)
{
	size_t n = strlen(zk->root);

	if (strncmp(path, zk->root, n) != 0)
		return;
	const char *rel = path + n;
	if (*rel == '\0' || strcmp(rel, "/") == 0) {
		statemgr_changed(zk->sm, NULL, NULL);
		return;
	}
	if (*rel++ != '/')
		return;   /* "/heronx" is not under "/heron" */
	const char *slash = strchr(rel, '/');
	if (!slash) {
		statemgr_changed(zk->sm, rel, NULL);
		return;
	}
	if (strchr(slash + 1, '/'))
		return;
	char *dir = xstrndup(rel, (size_t)(slash - rel));
	statemgr_changed(zk->sm, dir, slash + 1);
	free(dir);
}

static void on_node_event(struct zk_session *s, const char *path)
{
	struct sm_backend *zk = s->zk;

	pthread_mutex_lock(&zk->lock);
	bool live = s->gen == zk->session_gen && !zk->closing;
	if (live)
		cache_forget(zk, path);
	pthread_mutex_unlock(&zk->lock);
	if (live)
		report_path(zk, path);
}

enum session_change { SC_NONE, SC_CONNECTED, SC_LOST, SC_EXPIRED };

/* Under lock. */
static enum session_change session_state(struct sm_backend *zk, zhandle_t *zh,
					 int state)
{
	if (state == ZOO_CONNECTED_STATE) {
		pthread_cond_broadcast(&zk->conn_cond);
		if (zk->conn == ZK_CONNECTED)
			return SC_NONE;
		zk->conn = ZK_CONNECTED;
		zk->session_id = zoo_client_id(zh)->client_id;
		cache_reset(zk);   /* catch up with what changed while away */
		return SC_CONNECTED;
	}
	if (state == ZOO_EXPIRED_SESSION_STATE ||
	    state == ZOO_AUTH_FAILED_STATE) {
		if (zk->conn == ZK_EXPIRED)
			return SC_NONE;
		zk->conn = ZK_EXPIRED;
		cache_reset(zk);
		zk->need_session = true;
		pthread_cond_signal(&zk->sup_cond);
		return SC_EXPIRED;
	}
	if (zk->conn != ZK_CONNECTED)
		return SC_NONE;
	zk->conn = ZK_CONNECTING;   /* the library reconnects by itself */
	return SC_LOST;
}

static void on_session_event(struct zk_session *s, zhandle_t *zh, int state)
{
	struct sm_backend *zk = s->zk;
	enum session_change c = SC_NONE;
	int64_t id = 0;

	pthread_mutex_lock(&zk->lock);
	if (s->gen == zk->session_gen && !zk->closing) {
		c = session_state(zk, zh, state);
		id = zk->session_id;
	}
	pthread_mutex_unlock(&zk->lock);

	switch (c) {
	case SC_NONE:
		return;
	case SC_CONNECTED:
		LOG_I("ZooKeeper %s: connected, session 0x%" PRIx64,
		      zk->hosts, id);
		break;
	case SC_LOST:
		LOG_W("ZooKeeper %s: connection lost; serving cached state "
		      "until it is back", zk->hosts);
		return;
	case SC_EXPIRED:
		LOG_W("ZooKeeper %s: session 0x%" PRIx64 " %s; starting a "
		      "new one", zk->hosts, id,
		      state == ZOO_AUTH_FAILED_STATE ? "failed authentication"
						     : "expired");
		break;
	}
	statemgr_changed_all(zk->sm);
}

/* One watcher function and context for the handle and all its watches, so
 * the library (which dedups by function and context) delivers each session
 * event once and keeps one watch per node however often it is read. */
static void zk_watcher(zhandle_t *zh, int type, int state, const char *path,
		       void *ctx)
{
	if (type == ZOO_SESSION_EVENT)
		on_session_event(ctx, zh, state);
	else if (path)
		on_node_event(ctx, path);
}

static void zk_log(const char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && msg[n - 1] == '\n')
		n--;
	LOG_D("zookeeper: %.*s", (int)n, msg);
}

/* Closes the current handle (joining its threads, so none of its callbacks
 * runs afterwards) and starts a new session without waiting for it. */
static bool new_session(struct sm_backend *zk)
{
	struct zk_session *s = xmalloc(sizeof(*s));

	s->zk = zk;
	pthread_rwlock_wrlock(&zk->handle_lock);
	pthread_mutex_lock(&zk->lock);
	zhandle_t *old = zk->zh;
	struct zk_session *old_s = zk->session;
	zk->zh = NULL;
	zk->session = s;
	s->gen = ++zk->session_gen;
	zk->conn = ZK_CONNECTING;
	pthread_mutex_unlock(&zk->lock);
	pthread_rwlock_unlock(&zk->handle_lock);

	if (old)
		zookeeper_close(old);
	free(old_s);

	zhandle_t *zh = zookeeper_init2(zk->hosts, zk_watcher, zk->session_ms,
					NULL, s, 0, zk_log);
	if (!zh) {
		/* The library reports a name that does not resolve as ENOENT. */
		if (!zk->init_failing)
			LOG_W("ZooKeeper %s: cannot start a session: %s; "
			      "retrying every %d ms", zk->hosts,
			      errno == ENOENT ? "host name not found"
					      : strerror(errno), ZK_RETRY_MS);
		zk->init_failing = true;
		return false;
	}
	if (zk->init_failing)
		LOG_I("ZooKeeper %s: session started", zk->hosts);
	zk->init_failing = false;
	pthread_rwlock_wrlock(&zk->handle_lock);
	pthread_mutex_lock(&zk->lock);
	zk->zh = zh;
	pthread_cond_broadcast(&zk->conn_cond);
	pthread_mutex_unlock(&zk->lock);
	pthread_rwlock_unlock(&zk->handle_lock);
	return true;
}

/* Starts a new session whenever the watcher asks for one, and retries
 * once a second while zookeeper_init fails (a host name that does not
 * resolve yet). */
static void *supervise(void *arg)
{
	struct sm_backend *zk = arg;

	pthread_mutex_lock(&zk->lock);
	while (!zk->closing) {
		if (!zk->need_session) {
			pthread_cond_wait(&zk->sup_cond, &zk->lock);
			continue;
		}
		if (zk->init_failing) {
			struct timespec dl = deadline_after(ZK_RETRY_MS);
			while (!zk->closing &&
			       pthread_cond_timedwait(&zk->sup_cond, &zk->lock,
						      &dl) != ETIMEDOUT)
				;
			if (zk->closing)
				break;
		}
		zk->need_session = false;
		pthread_mutex_unlock(&zk->lock);
		bool ok = new_session(zk);
		pthread_mutex_lock(&zk->lock);
		if (!ok)
			zk->need_session = true;
	}
	pthread_mutex_unlock(&zk->lock);
	return NULL;
}

/* ---- open, close, status ------------------------------------------------- */

/* host:port[,host:port...][/chroot], as the C client wants it; Heron's
 * local mode string "LOCALMODE" lands here with the wrong class. */
static bool hosts_valid(const char *hosts)
{
	size_t end = strcspn(hosts, "/");

	if (end == 0 || hosts[end - 1] == ',')
		return false;
	for (const char *p = hosts; p < hosts + end;) {
		size_t n = strcspn(p, ",/");
		const char *colon = n ? memrchr(p, ':', n) : NULL;
		if (!colon || colon == p || colon + 1 == p + n)
			return false;
		for (const char *d = colon + 1; d < p + n; d++)
			if (*d < '0' || *d > '9')
				return false;
		p += n + (p[n] == ',');
	}
	return true;
}

static hf_rc read_conf(struct sm_backend *zk, const struct heron_conf *conf,
		       struct hf_error *err)
{
	const char *hosts = heron_conf_get(conf,
					   "heron.statemgr.connection.string");
	long long session = heron_conf_get_int(conf,
		"heron.statemgr.zookeeper.session.timeout.ms", 30000);
	long long timeout = heron_conf_get_int(conf,
		"heronfs.statemgr.timeout.ms", 5000);

	if (!hosts || !*hosts)
		return hf_fail(err, HF_ERR_INVALID,
			       "heron.statemgr.connection.string is not set");
	if (!hosts_valid(hosts))
		return hf_fail(err, HF_ERR_INVALID,
			       "heron.statemgr.connection.string '%s' is not "
			       "host:port[,host:port...] as ZooKeeper needs",
			       hosts);
	if (session <= 0 || session > INT32_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "heron.statemgr.zookeeper.session.timeout.ms "
			       "%lld is not a positive number of ms", session);
	if (timeout <= 0 || timeout > INT32_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.statemgr.timeout.ms %lld is not a "
			       "positive number of ms", timeout);
	zk->hosts = xstrdup(hosts);
	zk->session_ms = (int)session;
	zk->timeout_ms = (int)timeout;
	return HF_OK;
}

static void zk_free(struct sm_backend *zk)
{
	cache_clear(&zk->cache);
	free(zk->cache.slots);
	pthread_cond_destroy(&zk->sup_cond);
	pthread_cond_destroy(&zk->conn_cond);
	pthread_mutex_destroy(&zk->lock);
	pthread_rwlock_destroy(&zk->handle_lock);
	free(zk->session);
	free(zk->hosts);
	free(zk->root);
	free(zk);
}

static hf_rc zk_open(struct statemgr *sm, const struct heron_conf *conf,
		     const char *root, struct sm_backend **out,
		     struct hf_error *err)
{
	struct sm_backend *zk = xcalloc(1, sizeof(*zk));
	hf_rc rc;

	zk->sm = sm;
	zk->root = xstrdup(root);
	zk->cache.nslots = ZK_CACHE_SLOTS;
	zk->cache.slots = xcalloc(ZK_CACHE_SLOTS, sizeof(*zk->cache.slots));
	pthread_rwlock_init(&zk->handle_lock, NULL);
	pthread_mutex_init(&zk->lock, NULL);
	cond_init_monotonic(&zk->conn_cond);
	cond_init_monotonic(&zk->sup_cond);
	if ((rc = read_conf(zk, conf, err)) != HF_OK) {
		zk_free(zk);
		return rc;
	}

	zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
	zk->need_session = !new_session(zk);
	int e = pthread_create(&zk->supervisor, NULL, supervise, zk);
	if (e) {
		rc = hf_fail(err, HF_ERR_UNAVAILABLE,
			     "ZooKeeper %s: cannot start a thread: %s",
			     zk->hosts, strerror(e));
		if (zk->zh)
			zookeeper_close(zk->zh);
		zk_free(zk);
		return rc;
	}
	*out = zk;
	return HF_OK;
}

static void zk_close(struct sm_backend *zk)
{
	pthread_mutex_lock(&zk->lock);
	zk->closing = true;
	pthread_cond_broadcast(&zk->sup_cond);
	pthread_cond_broadcast(&zk->conn_cond);
	pthread_mutex_unlock(&zk->lock);
	pthread_join(zk->supervisor, NULL);

	pthread_rwlock_wrlock(&zk->handle_lock);
	zhandle_t *zh = zk->zh;
	zk->zh = NULL;
	pthread_rwlock_unlock(&zk->handle_lock);
	/* Runs the completions still pending (with ZCLOSING), which frees
	 * calls whose callers gave up. */
	if (zh)
		zookeeper_close(zh);
	zk_free(zk);
}

static void zk_health(struct sm_backend *zk, struct buf *out)
{
	pthread_mutex_lock(&zk->lock);
	enum zk_conn conn = zk->conn;
	int64_t id = zk->session_id;
	size_t cached = zk->cache.count;
	pthread_mutex_unlock(&zk->lock);

	const char *root = zk->root[0] ? zk->root : "/";
	switch (conn) {
	case ZK_CONNECTED:
		buf_printf(out, "statemgr: ok zookeeper %s%s session 0x%"
			   PRIx64, zk->hosts, root, id);
		break;
	case ZK_CONNECTING:
		buf_printf(out, "statemgr: unreachable zookeeper %s%s (%s)",
			   zk->hosts, root,
			   cached ? "serving cached state, may be stale"
				  : "nothing cached");
		break;
	case ZK_EXPIRED:
		buf_printf(out, "statemgr: unreachable zookeeper %s%s "
			   "(session expired, starting a new one)",
			   zk->hosts, root);
		break;
	}
}

static bool zk_connected(struct sm_backend *zk)
{
	pthread_mutex_lock(&zk->lock);
	bool up = zk->conn == ZK_CONNECTED;
	pthread_mutex_unlock(&zk->lock);
	return up;
}

static unsigned long zk_request_count(struct sm_backend *zk)
{
	return atomic_load(&zk->requests);
}

const struct sm_ops sm_zk_ops = {
	.kind = "zookeeper",
	.open = zk_open,
	.close = zk_close,
	.get = zk_get,
	.list = zk_list,
	.create = zk_create,
	.remove = zk_remove,
	.health = zk_health,
	.connected = zk_connected,
	.request_count = zk_request_count,
};
