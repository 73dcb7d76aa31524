/* aurora_api: task status from Aurora's scheduler API (see aurora_api.h).
 *
 * Finding the scheduler. clusters.json is read at open in the Aurora
 * client's order (apache/aurora common/clusters.py): $AURORA_CONFIG_ROOT
 * (/etc/aurora when unset or empty), then ~/.aurora; a later entry with
 * the cluster's name replaces an earlier one whole, so the home file wins.
 * As in the client, zk wins over scheduler_uri. The leader is looked up in
 * ZooKeeper when first needed, on a session opened for that lookup alone,
 * and its URL is kept until a request to it finds no scheduler there (no
 * connection, or 503: no leader); it is then looked up again and the
 * request retried once. Unlike the client, which gives up, a member with
 * neither an https nor an http additional endpoint is reached at its
 * serviceEndpoint, the address Aurora's own 307 redirects use.
 *
 * Wire. Requests are TJSONProtocol messages built with jansson in compact
 * form (Thrift's readers skip no whitespace); replies are parsed with
 * jansson and walked as Thrift structs keyed by field id (aurora.md 2-3).
 * Only reads are sent, which Aurora serves without credentials (1.3).
 * libcurl takes proxies from the environment (http_proxy, no_proxy), as
 * the Python client's `requests` does.
 *
 * Threads. One mutex guards the leader URL and the job cache, and is never
 * held across ZooKeeper or HTTP. A job's slot records that a request is in
 * flight; threads that ask meanwhile wait on the condition variable for
 * that request's answer. Discovery is single-flight the same way. Each
 * request has its own curl easy handle, set up by http_setup.
 */
#include "aurora_api.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zookeeper/zookeeper.h>

#include "heron_conf.h"
#include "http.h"

#define DEFAULT_CACHE_MS     2000
#define DEFAULT_TIMEOUT_MS   5000
#define DEFAULT_ZK_PORT      2181
#define CONFIG_ROOT_DEFAULT  "/etc/aurora"
#define CLUSTERS_FILE        "clusters.json"
#define MEMBER_PREFIX        "member_"
#define MAX_REDIRECTS        3L
/* A reply for a large job with Aurora's retained terminal tasks runs to a
 * few MiB; this only stops a runaway one. */
#define REPLY_MAX            ((size_t)64 << 20)

#define TASKS_METHOD         "getTasksWithoutConfigs"
#define TIERS_METHOD         "getTierConfigs"
#define TIERS_REQUEST        "[1,\"" TIERS_METHOD "\",1,0,{}]"

enum { MSG_REPLY = 2, MSG_EXCEPTION = 3 };   /* TMessageType */
enum { RESPONSE_OK = 1 };                   /* ResponseCode.OK */

struct job_slot {
	struct job_slot *next;
	unsigned refs;             /* callers using the slot right now */
	bool linked;               /* in a->slots (forget unlinks it) */
	bool busy;                 /* a request for it is in flight */
	unsigned long seq;         /* answers stored so far */
	long long at_ms;           /* when the last answer came */
	hf_rc rc;
	struct hf_error err;
	struct container_set *job;    /* the last answer, when rc is HF_OK */
	char key[];                /* role/environ/name */
};

struct aurora_api {
	char *cluster;
	long long cache_ms;
	long timeout_ms;
	/* Where the scheduler is, fixed at open; config_error: nowhere. */
	char *fixed_base;          /* scheduler_uri, or the override */
	char *zk_hosts;            /* "h1:port,h2:port" */
	char *zk_path;
	char *zk_where;            /* "zookeeper <hosts><path>" */
	char *where;               /* how the URL is found, for health */
	char *config_error;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *leader_base;              /* from ZooKeeper, until it fails */
	bool discovering;
	unsigned long discoveries;      /* finished lookups */
	struct hf_error discover_err;   /* the last lookup's failure */
	struct job_slot *slots;
	atomic_ulong requests;
	bool curl_ready;           /* holds a curl_global_init reference */
};

/* ---- small helpers ------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec abs_time(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	return ts;
}

static void cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Aurora's GOOD_IDENTIFIER_PATTERN ^[\w\-\.]+$, with Java's ASCII \w. */
static bool good_identifier(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("_-.", *s))
			return false;
	return true;
}

/* "scheme://host:port", an IPv6 literal bracketed. */
static char *host_url(const char *scheme, const char *host, long long port)
{
	bool v6 = strchr(host, ':') != NULL;

	return xasprintf("%s://%s%s%s:%lld", scheme, v6 ? "[" : "", host,
			 v6 ? "]" : "", port);
}

/* Python's urljoin(base, 'api'), as the client forms the endpoint: a base
 * without a path gets "/api", otherwise the last path segment (and any
 * query) is replaced. */
static char *api_url(const char *base)
{
	const char *auth = strstr(base, "://");
	const char *path = auth ? strchr(auth + 3, '/') : NULL;
	size_t keep = 0;

	if (!path)
		return xasprintf("%s/api", base);
	for (const char *p = path; *p && *p != '?' && *p != '#'; p++)
		if (*p == '/')
			keep = (size_t)(p - base) + 1;
	return xasprintf("%.*sapi", (int)keep, base);
}

/* ---- clusters.json ------------------------------------------------------- */

static hf_rc consider_entry(json_t *item, const char *path,
			    const char *cluster, json_t **found,
			    char **found_in, struct hf_error *err)
{
	json_t *name;

	if (!json_is_object(item))
		return hf_fail(err, HF_ERR_INVALID,
			       "%s: clusters must be JSON objects", path);
	name = json_object_get(item, "name");
	/* Entries without a name are skipped, as Aurora's client does. */
	if (!json_is_string(name) ||
	    strcmp(json_string_value(name), cluster) != 0)
		return HF_OK;
	json_decref(*found);
	*found = json_incref(item);
	free(*found_in);
	*found_in = xstrdup(path);
	return HF_OK;
}

static hf_rc scan_document(json_t *doc, const char *path, const char *cluster,
			   json_t **found, char **found_in,
			   struct hf_error *err)
{
	hf_rc rc = HF_OK;
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_array(doc)) {
		json_array_foreach(doc, i, item)
			if ((rc = consider_entry(item, path, cluster, found,
						 found_in, err)) != HF_OK)
				break;
		return rc;
	}
	if (json_is_object(doc)) {
		json_object_foreach(doc, key, item)
			if ((rc = consider_entry(item, path, cluster, found,
						 found_in, err)) != HF_OK)
				break;
		return rc;
	}
	return hf_fail(err, HF_ERR_INVALID,
		       "%s: neither a list nor an object of clusters", path);
}

/* Looks for cluster in one clusters.json; a missing file is skipped. */
static hf_rc scan_clusters_file(const char *path, const char *cluster,
				json_t **found, char **found_in,
				struct hf_error *err)
{
	json_error_t jerr;
	FILE *f = fopen(path, "r");
	json_t *doc;
	hf_rc rc;

	if (!f)
		return errno == ENOENT || errno == ENOTDIR
			       ? HF_OK
			       : hf_fail(err, HF_ERR_UNAVAILABLE, "%s: %s",
					 path, strerror(errno));
	doc = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!doc)
		return hf_fail(err, HF_ERR_INVALID, "%s:%d: %s", path,
			       jerr.line, jerr.text);
	rc = scan_document(doc, path, cluster, found, found_in, err);
	json_decref(doc);
	return rc;
}

static hf_rc entry_string(json_t *entry, const char *key, const char *file,
			  const char **out, struct hf_error *err)
{
	json_t *v = json_object_get(entry, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return HF_OK;
	if (!json_is_string(v))
		return hf_fail(err, HF_ERR_INVALID, "%s: %s is not a string",
			       file, key);
	*out = json_string_value(v);
	return HF_OK;
}

/* zk_port: a number or a numeric string (Pystachio's Integer takes both). */
static hf_rc entry_port(json_t *entry, const char *file, long long *port,
			struct hf_error *err)
{
	json_t *v = json_object_get(entry, "zk_port");
	char *end = NULL;

	*port = DEFAULT_ZK_PORT;
	if (json_is_integer(v))
		*port = json_integer_value(v);
	else if (json_is_string(v))
		*port = strtoll(json_string_value(v), &end, 10);
	else if (v && !json_is_null(v))
		*port = 0;
	if ((json_is_string(v) && (*end || end == json_string_value(v))) ||
	    *port < 1 || *port > 65535)
		return hf_fail(err, HF_ERR_INVALID,
			       "%s: zk_port is not a port number", file);
	return HF_OK;
}

/* "a, b" and port -> "a:port,b:port" */
static char *zk_host_list(const char *zk, long long port)
{
	struct buf b = {0};
	const char *p = zk;

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *h = p, *e = p + n;
		while (h < e && *h == ' ')
			h++;
		while (e > h && e[-1] == ' ')
			e--;
		if (e > h)
			buf_printf(&b, "%s%.*s:%lld", b.len ? "," : "",
				   (int)(e - h), h, port);
		p += n + (p[n] == ',');
	}
	return buf_steal(&b);
}

static hf_rc use_base(struct aurora_api *a, const char *uri, char *where,
		      struct hf_error *err)
{
	if (!has_prefix_nocase(uri, "http://") &&
	    !has_prefix_nocase(uri, "https://")) {
		hf_fail(err, HF_ERR_INVALID,
			"%s: scheduler URI '%s' is not http:// or https://",
			where, uri);
		free(where);
		return HF_ERR_INVALID;
	}
	a->fixed_base = xstrdup(uri);
	a->where = where;
	return HF_OK;
}

static hf_rc use_zookeeper(struct aurora_api *a, const char *zk,
			   long long port, const char *path, const char *file,
			   struct hf_error *err)
{
	size_t n = path ? strlen(path) : 0;

	if (!path || path[0] != '/')
		return hf_fail(err, HF_ERR_INVALID,
			       "%s: cluster %s has zk but no absolute "
			       "scheduler_zk_path", file, a->cluster);
	while (n > 1 && path[n - 1] == '/')
		n--;
	a->zk_hosts = zk_host_list(zk, port);
	if (!*a->zk_hosts)
		return hf_fail(err, HF_ERR_INVALID, "%s: zk names no host",
			       file);
	a->zk_path = xstrndup(path, n);
	a->zk_where = xasprintf("zookeeper %s%s", a->zk_hosts, a->zk_path);
	a->where = xasprintf("leader from %s", a->zk_where);
	return HF_OK;
}

static hf_rc use_entry(struct aurora_api *a, json_t *entry, const char *file,
		       struct hf_error *err)
{
	const char *zk, *zk_path, *uri;
	long long port;
	hf_rc rc;

	if ((rc = entry_string(entry, "zk", file, &zk, err)) ||
	    (rc = entry_string(entry, "scheduler_zk_path", file, &zk_path,
			       err)) ||
	    (rc = entry_string(entry, "scheduler_uri", file, &uri, err)) ||
	    (rc = entry_port(entry, file, &port, err)))
		return rc;
	if (zk && *zk)
		return use_zookeeper(a, zk, port, zk_path, file, err);
	if (uri && *uri)
		return use_base(a, uri, xasprintf("scheduler_uri in %s", file),
				err);
	return hf_fail(err, HF_ERR_INVALID,
		       "%s: cluster %s has neither zk nor scheduler_uri", file,
		       a->cluster);
}

/* ~ as Python's expanduser finds it: $HOME, else the passwd entry. */
static char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *found = NULL;
	char scratch[4096];

	if (home)
		return xstrdup(home);
	if (getpwuid_r(getuid(), &pw, scratch, sizeof(scratch), &found) == 0 &&
	    found && found->pw_dir)
		return xstrdup(found->pw_dir);
	return NULL;
}

/* Aurora's DEFAULT_SEARCH_PATHS, in its order. */
static hf_rc read_clusters(struct aurora_api *a, struct hf_error *err)
{
	const char *root = getenv("AURORA_CONFIG_ROOT");
	char *home = home_dir();
	char *paths[2];
	json_t *found = NULL;
	char *found_in = NULL;
	hf_rc rc = HF_OK;

	paths[0] = xasprintf("%s/%s", root && *root ? root : CONFIG_ROOT_DEFAULT,
			     CLUSTERS_FILE);
	paths[1] = home ? xasprintf("%s/.aurora/%s", home, CLUSTERS_FILE) : NULL;
	for (int i = 0; i < 2 && rc == HF_OK; i++)
		if (paths[i])
			rc = scan_clusters_file(paths[i], a->cluster, &found,
						&found_in, err);
	if (rc == HF_OK && !found)
		rc = hf_fail(err, HF_ERR_NOTFOUND,
			     "Aurora cluster %s is in neither %s nor %s",
			     a->cluster, paths[0],
			     paths[1] ? paths[1] : "~/.aurora/" CLUSTERS_FILE);
	if (rc == HF_OK)
		rc = use_entry(a, found, found_in, err);
	json_decref(found);
	free(found_in);
	free(paths[0]);
	free(paths[1]);
	free(home);
	return rc;
}

/* ---- leader discovery through ZooKeeper ---------------------------------- */

/* What the client's threads report back to the discovering thread. */
struct zk_call {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;          /* the session's last state */
	bool done;          /* the pending request completed */
	int rc;
	char **members;     /* member_ children, sorted */
	struct buf data;
};

static void on_session(zhandle_t *zh, int type, int state, const char *path,
		       void *ctx)
{
	struct zk_call *c = ctx;

	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&c->lock);
	c->state = state;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static char **sorted_members(const struct String_vector *sv)
{
	size_t n = 0, count = sv && sv->count > 0 ? (size_t)sv->count : 0;
	char **v = xcalloc(count + 1, sizeof(*v));

	for (size_t i = 0; i < count; i++)
		if (strncmp(sv->data[i], MEMBER_PREFIX,
			    strlen(MEMBER_PREFIX)) == 0)
			v[n++] = xstrdup(sv->data[i]);
	qsort(v, n, sizeof(*v), cmp_str);
	return v;
}

static void on_children(int rc, const struct String_vector *sv,
			const void *arg)
{
	struct zk_call *c = (struct zk_call *)arg;

	pthread_mutex_lock(&c->lock);
	c->rc = rc;
	if (rc == ZOK)
		c->members = sorted_members(sv);
	c->done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void on_data(int rc, const char *value, int len,
		    const struct Stat *stat, const void *arg)
{
	struct zk_call *c = (struct zk_call *)arg;

	pthread_mutex_lock(&c->lock);
	c->rc = rc;
	if (rc == ZOK && value && len > 0)
		buf_append(&c->data, value, (size_t)len);
	c->done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Waits for the session to be up (session) or the request to complete;
 * false when the deadline passes first. */
static bool zk_wait(struct zk_call *c, bool session, long long deadline)
{
	struct timespec ts = abs_time(deadline);
	bool ok;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		ok = session ? c->state == ZOO_CONNECTED_STATE : c->done;
		if (ok || pthread_cond_timedwait(&c->cond, &c->lock, &ts) ==
				  ETIMEDOUT)
			break;
	}
	ok = session ? c->state == ZOO_CONNECTED_STATE : c->done;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

static void zk_arm(struct zk_call *c)
{
	pthread_mutex_lock(&c->lock);
	c->done = false;
	c->rc = ZOK;
	buf_reset(&c->data);
	pthread_mutex_unlock(&c->lock);
}

static hf_rc zk_list_members(zhandle_t *zh, struct zk_call *c,
			     const struct aurora_api *a, long long deadline,
			     struct hf_error *err)
{
	int rc;

	zk_arm(c);
	rc = zoo_aget_children(zh, a->zk_path, 0, on_children, c);
	if (rc == ZOK && !zk_wait(c, false, deadline))
		return hf_fail(err, HF_ERR_TIMEOUT,
			       "ZooKeeper %s: no answer within %ld ms listing %s",
			       a->zk_hosts, a->timeout_ms, a->zk_path);
	if (rc == ZOK)
		rc = c->rc;
	if (rc == ZNONODE || (rc == ZOK && !c->members[0]))
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "ZooKeeper %s: no schedulers detected under %s",
			       a->zk_hosts, a->zk_path);
	if (rc != ZOK)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "ZooKeeper %s: listing %s: %s", a->zk_hosts,
			       a->zk_path, zerror(rc));
	return HF_OK;
}

/* Reads the first member that still exists: one may go between the listing
 * and the read when the leader changes. */
static hf_rc zk_read_member(zhandle_t *zh, struct zk_call *c,
			    const struct aurora_api *a, long long deadline,
			    char **node, struct hf_error *err)
{
	for (char **m = c->members; *m; m++) {
		char *path = xasprintf("%s/%s", strcmp(a->zk_path, "/")
							? a->zk_path : "", *m);
		int rc;

		zk_arm(c);
		rc = zoo_aget(zh, path, 0, on_data, c);
		if (rc == ZOK && !zk_wait(c, false, deadline)) {
			free(path);
			return hf_fail(err, HF_ERR_TIMEOUT,
				       "ZooKeeper %s: no answer within %ld ms "
				       "reading %s/%s", a->zk_hosts,
				       a->timeout_ms, a->zk_path, *m);
		}
		rc = rc == ZOK ? c->rc : rc;
		if (rc == ZOK) {
			*node = path;
			return HF_OK;
		}
		free(path);
		if (rc != ZNONODE)
			return hf_fail(err, HF_ERR_UNAVAILABLE,
				       "ZooKeeper %s: reading %s/%s: %s",
				       a->zk_hosts, a->zk_path, *m, zerror(rc));
	}
	return hf_fail(err, HF_ERR_UNAVAILABLE,
		       "ZooKeeper %s: no schedulers detected under %s",
		       a->zk_hosts, a->zk_path);
}

/* A ServerSet endpoint {"host": h, "port": p} as a URL. */
static char *endpoint_url(json_t *ep, const char *scheme)
{
	const char *host = json_string_value(json_object_get(ep, "host"));
	json_t *port = json_object_get(ep, "port");

	if (!host || !*host || !json_is_integer(port) ||
	    json_integer_value(port) < 1 || json_integer_value(port) > 65535)
		return NULL;
	return host_url(scheme, host, json_integer_value(port));
}

/* The scheduler's base URL from a member node's ServerSet JSON. */
static hf_rc member_base(const struct aurora_api *a, const char *node,
			 const struct buf *data, char **base,
			 struct hf_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(data->data ? data->data : "", data->len, 0,
				 &jerr);
	json_t *extra = json_object_get(doc, "additionalEndpoints");
	json_t *https = json_object_get(extra, "https");
	json_t *http = json_object_get(extra, "http");

	if (!doc)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "ZooKeeper %s: %s is not ServerSet JSON: %s",
			       a->zk_hosts, node, jerr.text);
	if (https)
		*base = endpoint_url(https, "https");
	else if (http)
		*base = endpoint_url(http, "http");
	else
		*base = endpoint_url(json_object_get(doc, "serviceEndpoint"),
				     "http");
	json_decref(doc);
	if (!*base)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "ZooKeeper %s: %s names no host and port",
			       a->zk_hosts, node);
	return HF_OK;
}

static hf_rc zk_lookup(zhandle_t *zh, struct zk_call *c,
		       const struct aurora_api *a, long long deadline,
		       char **node, struct hf_error *err)
{
	hf_rc rc;

	if (!zk_wait(c, true, deadline))
		return hf_fail(err, HF_ERR_TIMEOUT,
			       "ZooKeeper %s: no session within %ld ms",
			       a->zk_hosts, a->timeout_ms);
	rc = zk_list_members(zh, c, a, deadline, err);
	return rc == HF_OK ? zk_read_member(zh, c, a, deadline, node, err)
			   : rc;
}

static hf_rc zk_discover(const struct aurora_api *a, long long deadline,
			 char **base, struct hf_error *err)
{
	struct zk_call c = {.state = 0};
	char *node = NULL;
	zhandle_t *zh;
	hf_rc rc;

	pthread_mutex_init(&c.lock, NULL);
	cond_init_monotonic(&c.cond);
	zh = zookeeper_init(a->zk_hosts, on_session, (int)a->timeout_ms, NULL,
			    &c, 0);
	if (!zh) {
		rc = hf_fail(err, HF_ERR_UNAVAILABLE,
			     "ZooKeeper %s: cannot start a session: %s",
			     a->zk_hosts, strerror(errno));
	} else {
		rc = zk_lookup(zh, &c, a, deadline, &node, err);
		/* Joins the client's threads: no callback touches c after. */
		zookeeper_close(zh);
	}
	if (rc == HF_OK)
		rc = member_base(a, node, &c.data, base, err);
	free(node);
	strv_free(c.members);
	buf_free(&c.data);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return rc;
}

/* ---- the scheduler's address --------------------------------------------- */

/* The base URL to send to: fixed, the known leader, or the one a lookup
 * (this thread's, or one it waited for) finds now. */
static hf_rc endpoint_get(struct aurora_api *a, long long deadline,
			  char **base, struct hf_error *err)
{
	unsigned long seen;
	struct hf_error e;
	char *found = NULL;
	hf_rc rc;

	if (a->fixed_base) {
		*base = xstrdup(a->fixed_base);
		return HF_OK;
	}
	pthread_mutex_lock(&a->lock);
	seen = a->discoveries;
	while (a->discovering)
		pthread_cond_wait(&a->cond, &a->lock);
	if (a->leader_base) {
		*base = xstrdup(a->leader_base);
		pthread_mutex_unlock(&a->lock);
		return HF_OK;
	}
	/* A lookup that failed while we waited is our answer too; one that
	 * succeeded but whose leader was dropped since is not. */
	if (a->discoveries != seen && a->discover_err.rc != HF_OK) {
		e = a->discover_err;
		pthread_mutex_unlock(&a->lock);
		return hf_fail(err, e.rc, "%s", e.msg);
	}
	a->discovering = true;
	pthread_mutex_unlock(&a->lock);

	hf_error_clear(&e);
	rc = zk_discover(a, deadline, &found, &e);

	pthread_mutex_lock(&a->lock);
	a->discovering = false;
	a->discoveries++;
	a->discover_err = e;
	a->leader_base = found ? xstrdup(found) : NULL;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	*base = found;
	return rc == HF_OK ? HF_OK : hf_fail(err, rc, "%s", e.msg);
}

/* Forgets a leader that stopped answering, unless another thread already
 * replaced it. */
static void endpoint_drop(struct aurora_api *a, const char *base)
{
	pthread_mutex_lock(&a->lock);
	if (a->leader_base && strcmp(a->leader_base, base) == 0) {
		free(a->leader_base);
		a->leader_base = NULL;
	}
	pthread_mutex_unlock(&a->lock);
}

/* ---- HTTP ---------------------------------------------------------------- */

static struct curl_slist *add_header(struct curl_slist *list, const char *h)
{
	struct curl_slist *l = curl_slist_append(list, h);

	if (!l) {
		fputs("heronfs: out of memory\n", stderr);
		abort();
	}
	return l;
}

static void set_post_options(CURL *h, const char *url, const char *body,
			     long timeout_ms, struct curl_slist *headers,
			     struct http_body *r, char *errbuf)
{
	http_setup(h, url, timeout_ms, errbuf, r);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	/* A follower answers 307 to the leader; the POST must go there. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	http_allow_protocols(h, CURLPROTO_HTTP | CURLPROTO_HTTPS);
}

/* Maps a finished transfer to a result. *lost: nobody answered as the
 * scheduler (no connection, or 503: it knows no leader). */
static hf_rc post_outcome(CURL *h, CURLcode cc, const char *errbuf,
			  const struct http_body *r, long timeout_ms,
			  bool *lost, struct hf_error *err)
{
	char line[HTTP_LINE_SHOWN + 1];
	curl_off_t connect_us = 0;
	long status = 0;

	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_WRITE_ERROR && r->too_big)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "reply larger than %zu bytes", REPLY_MAX);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		*lost = connect_us == 0;
		return hf_fail(err, HF_ERR_TIMEOUT,
			       "no answer within %ld ms", timeout_ms);
	}
	if (cc != CURLE_OK) {
		*lost = cc == CURLE_COULDNT_CONNECT ||
			cc == CURLE_COULDNT_RESOLVE_HOST;
		return hf_fail(err, HF_ERR_UNAVAILABLE, "%s",
			       *errbuf ? errbuf : curl_easy_strerror(cc));
	}
	if (status == 200)
		return HF_OK;
	*lost = status == 503;
	http_first_line(&r->data, line, sizeof(line));
	return hf_fail(err, HF_ERR_UNAVAILABLE, "HTTP %ld%s%s", status,
		       *line ? ": " : "", line);
}

/* POSTs one Thrift message; the reply body goes to r. Messages do not name
 * the URL (the caller does), except a redirect's target. */
static hf_rc http_post(struct aurora_api *a, const char *url, const char *body,
		       long long deadline, struct http_body *r, bool *lost,
		       struct hf_error *err)
{
	long long left = deadline - now_ms();
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	const char *effective = NULL;
	CURL *h;
	hf_rc rc;

	*lost = false;
	if (left <= 0)
		return hf_fail(err, HF_ERR_TIMEOUT, "no time left within %ld ms",
			       a->timeout_ms);
	h = curl_easy_init();
	if (!h)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "libcurl could not set up the request");
	headers = add_header(headers, "Content-Type: application/x-thrift");
	headers = add_header(headers,
			     "Accept: application/vnd.apache.thrift.json");
	set_post_options(h, url, body, (long)left, headers, r, errbuf);
	atomic_fetch_add(&a->requests, 1);
	rc = post_outcome(h, curl_easy_perform(h), errbuf, r, a->timeout_ms,
			  lost, err);
	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
	if (rc != HF_OK && effective && strcmp(effective, url) != 0)
		hf_error_prefix(err, "redirected to %s", effective);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return rc;
}

/* ---- TJSONProtocol ------------------------------------------------------- */

/* Field id of a struct when it carries type tag ({"3":{"i32":7}}), else
 * NULL; NULL structs give NULL, so lookups chain. */
static json_t *tfield(json_t *st, int id, const char *tag)
{
	char key[16];

	snprintf(key, sizeof(key), "%d", id);
	return json_object_get(json_object_get(st, key), tag);
}

static bool tint(json_t *st, int id, const char *tag, long long *out)
{
	json_t *v = tfield(st, id, tag);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

static const char *tstr(json_t *st, int id)
{
	return json_string_value(tfield(st, id, "str"));
}

/* A list field ["<elem>",count,e1,...] whose tag and count check out: the
 * array, its elements from index 2 on; else NULL. */
static json_t *tlist(json_t *st, int id, const char *elem, size_t *n)
{
	json_t *l = tfield(st, id, "lst");
	json_t *tag = json_array_get(l, 0), *count = json_array_get(l, 1);

	if (!json_is_string(tag) || strcmp(json_string_value(tag), elem) != 0 ||
	    !json_is_integer(count) ||
	    json_integer_value(count) != (json_int_t)json_array_size(l) - 2)
		return NULL;
	*n = json_array_size(l) - 2;
	return l;
}

static const char *response_code_name(long long code)
{
	static const char *const names[] = {
		"INVALID_REQUEST", "OK", "ERROR", "WARNING", "AUTH_FAILED",
		"JOB_UPDATING_ERROR", "ERROR_TRANSIENT",
	};

	return code >= 0 && code < (long long)(sizeof(names) / sizeof(*names))
		       ? names[code] : "unknown response code";
}

static const char *status_name(long long status)
{
	static const char *const names[] = {
		[0] = "pending", [1] = "starting", [2] = "running",
		[3] = "finished", [4] = "failed", [5] = "killed",
		[6] = "killing", [7] = "lost", [9] = "assigned", [11] = "init",
		[12] = "restarting", [13] = "preempting", [16] = "throttled",
		[17] = "draining", [18] = "partitioned",
	};

	if (status < 0 || status >= (long long)(sizeof(names) / sizeof(*names))
	    || !names[status])
		return "unknown";
	return names[status];
}

/* The Response of a reply message [1,"m",2,seq,{"0":{"rec":R}}], or the
 * text of an exception message [1,"m",3,seq,{"1":{"str":text},...}]. */
static hf_rc unwrap_reply(json_t *msg, const char *method, json_t **response,
			  struct hf_error *err)
{
	const char *name = json_string_value(json_array_get(msg, 1));
	json_t *type = json_array_get(msg, 2), *body = json_array_get(msg, 4);
	const char *text;

	if (json_array_size(msg) != 5 ||
	    !json_is_integer(json_array_get(msg, 0)) ||
	    json_integer_value(json_array_get(msg, 0)) != 1 || !name ||
	    !json_is_integer(type) || !json_is_object(body))
		return hf_fail(err, HF_ERR_CORRUPT,
			       "reply is not a TJSONProtocol message");
	if (json_integer_value(type) == MSG_EXCEPTION) {
		text = tstr(body, 1);
		return hf_fail(err, HF_ERR_UNAVAILABLE, "Thrift exception: %s",
			       text ? text : "(no message)");
	}
	if (json_integer_value(type) != MSG_REPLY || strcmp(name, method) != 0)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "reply is message type %lld for %s",
			       (long long)json_integer_value(type), name);
	*response = tfield(body, 0, "rec");
	if (!json_is_object(*response))
		return hf_fail(err, HF_ERR_CORRUPT, "reply has no Response");
	return HF_OK;
}

/* Response field 1 must be OK; otherwise the details (field 6) say why. */
static hf_rc check_response(json_t *resp, struct hf_error *err)
{
	struct buf why = {0};
	long long code;
	json_t *details;
	size_t n = 0;
	hf_rc rc;

	if (!tint(resp, 1, "i32", &code))
		return hf_fail(err, HF_ERR_CORRUPT,
			       "Response has no responseCode");
	if (code == RESPONSE_OK)
		return HF_OK;
	details = tlist(resp, 6, "rec", &n);
	for (size_t i = 0; i < n; i++) {
		const char *m = tstr(json_array_get(details, i + 2), 1);
		if (m)
			buf_printf(&why, "%s%s", why.len ? ", " : "", m);
	}
	rc = hf_fail(err, HF_ERR_UNAVAILABLE, "%s%s%s",
		     response_code_name(code), why.len ? ": " : "",
		     why.len ? why.data : "");
	buf_free(&why);
	return rc;
}

/* ---- tasks --------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* An optional string field: absent and empty both mean none. */
static char *opt_str(json_t *st, int id)
{
	const char *s = tstr(st, id);

	return s && *s ? xstrdup(s) : NULL;
}

static hf_rc parse_events(json_t *st, struct container_task *t,
			  struct hf_error *err)
{
	json_t *list;
	size_t n = 0;

	if (!tfield(st, 4, "lst"))
		return HF_OK;
	list = tlist(st, 4, "rec", &n);
	if (!list)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "task %s: taskEvents is not a list of structs",
			       t->task_id);
	t->events = xcalloc(n, sizeof(*t->events));
	t->n_events = n;
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(list, i + 2);
		long long status;
		if (!tint(ev, 1, "i64", &t->events[i].time_ms) ||
		    !tint(ev, 2, "i32", &status))
			return hf_fail(err, HF_ERR_CORRUPT,
				       "task %s: an event lacks its timestamp "
				       "or status", t->task_id);
		t->events[i].status = xstrdup(status_name(status));
		t->events[i].message = dup_or_null(tstr(ev, 3));
	}
	return HF_OK;
}

static hf_rc parse_task(json_t *st, struct container_task *t,
			struct hf_error *err)
{
	json_t *assigned = tfield(st, 1, "rec");
	const char *id = tstr(assigned, 1);
	long long instance, status, failures = 0;

	if (!id || !tint(assigned, 6, "i32", &instance) ||
	    !tint(st, 2, "i32", &status) || instance < 0 || instance > INT_MAX)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "a ScheduledTask lacks its taskId, instanceId "
			       "or status");
	tint(st, 3, "i32", &failures);
	t->instance = (int)instance;
	t->task_id = xstrdup(id);
	t->status = xstrdup(status_name(status));
	t->host = opt_str(assigned, 3);
	t->ancestor_id = opt_str(st, 5);
	t->failure_count = (int)failures;
	return parse_events(st, t, err);
}

/* Response field 3 result, union member 3 scheduleStatusResult, field 1
 * tasks. */
static hf_rc parse_job(json_t *resp, struct container_set **out,
		       struct hf_error *err)
{
	json_t *ssr = tfield(tfield(resp, 3, "rec"), 3, "rec");
	struct container_set *job;
	size_t n = 0;
	json_t *list = tlist(ssr, 1, "rec", &n);
	hf_rc rc = HF_OK;

	if (!list)
		return hf_fail(err, HF_ERR_CORRUPT,
			       "Response has no scheduleStatusResult tasks");
	job = xcalloc(1, sizeof(*job));
	job->tasks = xcalloc(n, sizeof(*job->tasks));
	job->n_tasks = n;
	for (size_t i = 0; i < n && rc == HF_OK; i++)
		rc = parse_task(json_array_get(list, i + 2), &job->tasks[i], err);
	if (rc != HF_OK) {
		container_set_free(job);
		return rc;
	}
	container_set_sort(job);
	*out = job;
	return HF_OK;
}

static struct container_set *job_copy(const struct container_set *src)
{
	struct container_set *job = xcalloc(1, sizeof(*job));

	job->tasks = xcalloc(src->n_tasks, sizeof(*job->tasks));
	job->n_tasks = src->n_tasks;
	for (size_t i = 0; i < src->n_tasks; i++) {
		const struct container_task *s = &src->tasks[i];
		struct container_task *t = &job->tasks[i];
		*t = (struct container_task){
			.instance = s->instance,
			.task_id = xstrdup(s->task_id),
			.status = xstrdup(s->status),
			.host = dup_or_null(s->host),
			.ancestor_id = dup_or_null(s->ancestor_id),
			.failure_count = s->failure_count,
			.events = xcalloc(s->n_events, sizeof(*t->events)),
			.n_events = s->n_events,
		};
		for (size_t j = 0; j < s->n_events; j++)
			t->events[j] = (struct container_event){
				.time_ms = s->events[j].time_ms,
				.status = xstrdup(s->events[j].status),
				.message = dup_or_null(s->events[j].message),
			};
	}
	return job;
}

/* ---- one call ------------------------------------------------------------ */

struct call {
	const char *method;
	const char *body;
	json_t *response;     /* on success */
	char *base;           /* the scheduler asked, when known */
	char *url;
};

static void call_free(struct call *c)
{
	json_decref(c->response);
	free(c->base);
	free(c->url);
}

static hf_rc decode(const struct buf *body, struct call *c,
		    struct hf_error *err)
{
	json_error_t jerr;
	json_t *msg = json_loadb(body->data ? body->data : "", body->len, 0,
				 &jerr);
	json_t *resp = NULL;
	hf_rc rc;

	if (!msg)
		return hf_fail(err, HF_ERR_CORRUPT, "reply is not JSON: %s",
			       jerr.text);
	rc = unwrap_reply(msg, c->method, &resp, err);
	if (rc == HF_OK)
		rc = check_response(resp, err);
	if (rc == HF_OK)
		c->response = json_incref(resp);
	json_decref(msg);
	return rc;
}

/* Sends c->body to the scheduler within the request timeout, looking the
 * leader up again (and retrying once) when the known one is gone. */
static hf_rc api_call(struct aurora_api *a, struct call *c,
		      struct hf_error *err)
{
	long long deadline = now_ms() + a->timeout_ms;
	struct http_body r = {.max = REPLY_MAX};
	bool lost = false;
	hf_rc rc = HF_OK;

	if (a->config_error)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "%s", a->config_error);
	for (int attempt = 0; attempt < 2; attempt++) {
		free(c->base);
		free(c->url);
		c->base = c->url = NULL;
		buf_reset(&r.data);
		rc = endpoint_get(a, deadline, &c->base, err);
		if (rc != HF_OK)
			break;
		c->url = api_url(c->base);
		rc = http_post(a, c->url, c->body, deadline, &r, &lost, err);
		if (rc == HF_OK || !lost || a->fixed_base)
			break;
		endpoint_drop(a, c->base);
		if (now_ms() >= deadline)
			break;
	}
	if (rc == HF_OK)
		rc = decode(&r.data, c, err);
	if (rc != HF_OK && c->url)
		hf_error_prefix(err, "%s %s", c->method, c->url);
	buf_free(&r.data);
	return rc;
}

/* The TaskQuery the client sends for a job: jobKeys only (aurora.md 2.2). */
static char *tasks_request(const char *role, const char *environ,
			   const char *name)
{
	json_t *msg = json_pack(
		"[isii{s{s{s{s[si{s{ss}s{ss}s{ss}}]}}}}]", 1, TASKS_METHOD, 1,
		0, "1", "rec", "11", "set", "rec", 1, "1", "str", role, "2",
		"str", environ, "3", "str", name);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	json_decref(msg);
	return text;
}

static hf_rc fetch_job(struct aurora_api *a, const char *role,
		       const char *environ, const char *name,
		       struct container_set **out, struct hf_error *err)
{
	struct call c = {.method = TASKS_METHOD};
	char *body = tasks_request(role, environ, name);
	hf_rc rc;

	if (!body)
		return hf_fail(err, HF_ERR_INVALID,
			       "cannot encode job key %s/%s/%s", role, environ,
			       name);
	c.body = body;
	rc = api_call(a, &c, err);
	if (rc == HF_OK) {
		rc = parse_job(c.response, out, err);
		if (rc != HF_OK)
			hf_error_prefix(err, "%s %s", c.method, c.url);
	}
	call_free(&c);
	free(body);
	return rc;
}

/* ---- the job cache ------------------------------------------------------- */

static void slot_free(struct job_slot *s)
{
	container_set_free(s->job);
	free(s);
}

static bool slot_expired(const struct aurora_api *a,
			 const struct job_slot *s, long long now)
{
	return !s->busy && s->refs == 0 && now - s->at_ms >= a->cache_ms;
}

/* The slot of key, created if needed; expired idle slots met on the way
 * are dropped, so jobs nobody reads do not stay. Called with a->lock. */
static struct job_slot *slot_get(struct aurora_api *a, const char *key)
{
	struct job_slot **pp = &a->slots, *s;
	long long now = now_ms();
	size_t n = strlen(key) + 1;

	while ((s = *pp)) {
		if (strcmp(s->key, key) == 0)
			return s;
		if (slot_expired(a, s, now)) {
			*pp = s->next;
			slot_free(s);
			continue;
		}
		pp = &s->next;
	}
	s = xcalloc(1, sizeof(*s) + n);
	memcpy(s->key, key, n);
	s->linked = true;
	s->next = a->slots;
	a->slots = s;
	return s;
}

static void slot_unlink(struct aurora_api *a, struct job_slot *s)
{
	for (struct job_slot **pp = &a->slots; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			s->linked = false;
			return;
		}
}

static void slot_release(struct job_slot *s)
{
	if (--s->refs == 0 && !s->linked)
		slot_free(s);
}

/* Sends the request for s with the lock dropped, then stores the answer
 * and wakes the threads waiting for it. Called with a->lock. */
static void slot_refresh(struct aurora_api *a, struct job_slot *s,
			 const char *role, const char *environ,
			 const char *name)
{
	struct container_set *job = NULL;
	struct hf_error e;
	hf_rc rc;

	s->busy = true;
	pthread_mutex_unlock(&a->lock);
	hf_error_clear(&e);
	rc = fetch_job(a, role, environ, name, &job, &e);
	pthread_mutex_lock(&a->lock);
	container_set_free(s->job);
	s->job = job;
	s->rc = rc;
	s->err = e;
	s->at_ms = now_ms();
	s->seq++;
	s->busy = false;
	pthread_cond_broadcast(&a->cond);
}

static hf_rc slot_answer(const struct job_slot *s, struct container_set **out,
			 struct hf_error *err)
{
	if (s->rc == HF_OK) {
		*out = job_copy(s->job);
		return HF_OK;
	}
	return hf_fail(err, s->rc, "%s", s->err.msg);
}

hf_rc aurora_api_tasks(struct aurora_api *a, const char *role,
		       const char *environ, const char *name,
		       struct container_set **out, struct hf_error *err)
{
	struct job_slot *s;
	unsigned long seen;
	char *key;
	hf_rc rc;

	*out = NULL;
	if (!good_identifier(role) || !good_identifier(environ) ||
	    !good_identifier(name))
		return hf_fail(err, HF_ERR_INVALID,
			       "Aurora job key %s/%s/%s: each part must match "
			       "[A-Za-z0-9_.-]+", role ? role : "",
			       environ ? environ : "", name ? name : "");
	key = xasprintf("%s/%s/%s", role, environ, name);
	pthread_mutex_lock(&a->lock);
	s = slot_get(a, key);
	s->refs++;
	seen = s->seq;
	/* Answer with a fresh reply, or with the one a request in flight
	 * when we came brings, however old the cache period says it is. */
	while (s->seq == seen &&
	       !(s->seq > 0 && now_ms() - s->at_ms < a->cache_ms)) {
		if (s->busy)
			pthread_cond_wait(&a->cond, &a->lock);
		else
			slot_refresh(a, s, role, environ, name);
	}
	rc = slot_answer(s, out, err);
	slot_release(s);
	pthread_mutex_unlock(&a->lock);
	free(key);
	return rc;
}

void aurora_api_forget(struct aurora_api *a, const char *role,
		       const char *environ, const char *name)
{
	char *key;

	if (!role || !environ || !name)
		return;
	key = xasprintf("%s/%s/%s", role, environ, name);

	pthread_mutex_lock(&a->lock);
	for (struct job_slot *s = a->slots; s; s = s->next)
		if (strcmp(s->key, key) == 0) {
			/* A request in flight still answers its waiters;
			 * later callers start afresh. */
			slot_unlink(a, s);
			if (s->refs == 0)
				slot_free(s);
			break;
		}
	pthread_mutex_unlock(&a->lock);
	free(key);
}

/* ---- health, open, close ------------------------------------------------- */

void aurora_api_health(struct aurora_api *a, struct buf *out)
{
	struct call c = {.method = TIERS_METHOD, .body = TIERS_REQUEST};
	struct hf_error e;

	hf_error_clear(&e);
	if (a->config_error)
		buf_printf(out, "scheduler: unreachable aurora cluster %s (%s)",
			   a->cluster, a->config_error);
	else if (api_call(a, &c, &e) == HF_OK)
		buf_printf(out, "scheduler: ok aurora %s (%s)", c.base,
			   a->where);
	else
		buf_printf(out, "scheduler: unreachable aurora %s (%s)",
			   c.base ? c.base : a->zk_where, e.msg);
	call_free(&c);
}

unsigned long aurora_api_request_count(struct aurora_api *a)
{
	return atomic_load(&a->requests);
}

static hf_rc read_settings(struct aurora_api *a, const struct heron_conf *conf,
			   struct hf_error *err)
{
	long long timeout = heron_conf_get_int(
		conf, "heronfs.aurora.request.timeout.ms", DEFAULT_TIMEOUT_MS);

	a->cache_ms = heron_conf_get_int(conf, "heronfs.aurora.cache.ms",
					 DEFAULT_CACHE_MS);
	if (a->cache_ms < 0)
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.aurora.cache.ms must not be negative");
	/* zookeeper_init takes the session timeout as an int. */
	if (timeout < 1 || timeout > INT_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.aurora.request.timeout.ms must be "
			       "between 1 and %d", INT_MAX);
	a->timeout_ms = (long)timeout;
	return HF_OK;
}

/* Where the scheduler is. Only heronfs's own key can fail the open;
 * trouble with Aurora's clusters.json is kept for calls and health. */
static hf_rc locate(struct aurora_api *a, const struct heron_conf *conf,
		    struct hf_error *err)
{
	const char *uri = heron_conf_get(conf, "heronfs.aurora.scheduler_uri");
	struct hf_error e;

	if (uri && *uri)
		return use_base(a, uri,
				xstrdup("heronfs.aurora.scheduler_uri"), err);
	hf_error_clear(&e);
	if (read_clusters(a, &e) != HF_OK)
		a->config_error = xstrdup(e.msg);
	return HF_OK;
}

hf_rc aurora_api_open(const struct heron_conf *conf, const char *cluster,
		      struct aurora_api **out, struct hf_error *err)
{
	struct aurora_api *a = xcalloc(1, sizeof(*a));
	hf_rc rc;

	*out = NULL;
	a->cluster = xstrdup(cluster);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	atomic_init(&a->requests, 0);
	/* Reference counted, and thread-safe in libcurl >= 7.84. */
	a->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	rc = a->curl_ready ? read_settings(a, conf, err)
			   : hf_fail(err, HF_ERR_UNAVAILABLE,
				     "libcurl could not initialise");
	if (rc == HF_OK)
		rc = locate(a, conf, err);
	if (rc != HF_OK) {
		aurora_api_close(a);
		return rc;
	}
	*out = a;
	return HF_OK;
}

/* No call may be in progress. */
void aurora_api_close(struct aurora_api *a)
{
	struct job_slot *s, *next;

	if (!a)
		return;
	for (s = a->slots; s; s = next) {
		next = s->next;
		slot_free(s);
	}
	free(a->leader_base);
	free(a->config_error);
	free(a->where);
	free(a->zk_where);
	free(a->zk_path);
	free(a->zk_hosts);
	free(a->fixed_base);
	free(a->cluster);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	if (a->curl_ready)
		curl_global_cleanup();
	free(a);
}
