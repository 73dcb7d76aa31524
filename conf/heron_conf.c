/* heron_conf: loading, flattening and reading a Heron cluster conf
 * directory, see heron_conf.h. */
#include "heron_conf.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "buf.h"

/* Heron's ConfigLoader order, then heronfs's own file. */
static const char *const conf_files[] = {
	"cluster.yaml", "client.yaml", "healthmgr.yaml", "packing.yaml",
	"scheduler.yaml", "statemgr.yaml", "uploader.yaml", "downloader.yaml",
	"stateful.yaml", "heronfs.yaml",
};

/* YAML aliases can make a cycle ("&a {x: *a}") or double the work at each
 * level; these bound the flattening. */
#define MAX_NESTING 64
#define MAX_NODES 100000

/* Every member of struct conf_tokens; copy and overlay go through this
 * list, and the static_assert catches a member added without it. */
#define TOKEN_MEMBERS(X) \
	X(heron_home) X(heron_conf) X(cluster) X(role) X(environ) \
	X(topology_name) X(topology_id) X(submit_user) X(home)
#define COUNT_ONE(m) + 1
static_assert(sizeof(struct conf_tokens) ==
	      (0 TOKEN_MEMBERS(COUNT_ONE)) * sizeof(const char *),
	      "TOKEN_MEMBERS does not list every member of conf_tokens");

struct conf_entry {
	char *key;
	char *value;            /* NULL while loading: the key was set to null */
	size_t seq;             /* load order, so later settings win */
};

struct heron_conf {
	char *dir;
	struct conf_tokens tokens;      /* owned copies */
	struct conf_entry *entries;     /* sorted by key, unique */
	size_t n;
};

/* The state of one load: entries in the order they were read. */
struct loader {
	struct conf_entry *entries;
	size_t n, cap;
	size_t nodes;                   /* visited in this file */
	const char *path;               /* the file being read, for errors */
	struct hf_error *err;
};

static hf_rc errno_rc(int e)
{
	switch (e) {
	case ENOENT: return HF_ERR_NOTFOUND;
	case EACCES: case EPERM: return HF_ERR_PERM;
	case ENOTDIR: return HF_ERR_INVALID;
	default: return HF_ERR_UNAVAILABLE;
	}
}

static void tokens_copy(struct conf_tokens *dst, const struct conf_tokens *src)
{
#define COPY(m) dst->m = src && src->m ? xstrdup(src->m) : NULL;
	TOKEN_MEMBERS(COPY)
#undef COPY
}

static void tokens_free(struct conf_tokens *t)
{
#define FREE(m) free((char *)t->m);
	TOKEN_MEMBERS(FREE)
#undef FREE
}

/* ---- collecting entries ---- */

static void loader_add(struct loader *ld, const char *key, char *value)
{
	struct conf_entry *e;

	if (ld->n == ld->cap) {
		ld->cap = ld->cap ? 2 * ld->cap : 64;
		ld->entries = xrealloc(ld->entries,
				       ld->cap * sizeof(*ld->entries));
	}
	e = &ld->entries[ld->n];
	e->key = xstrdup(key);
	e->value = value;
	e->seq = ld->n++;
}

static void entries_free(struct conf_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(entries[i].key);
		free(entries[i].value);
	}
	free(entries);
}

static hf_rc node_fail(struct loader *ld, const yaml_node_t *node,
		       const char *problem)
{
	return hf_fail(ld->err, HF_ERR_INVALID, "%s:%zu: %s", ld->path,
		       node->start_mark.line + 1, problem);
}

static const char *scalar_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* YAML's null: an empty or ~/null plain scalar (a quoted one is a string). */
static bool scalar_is_null(const yaml_node_t *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(scalar_text(node), nulls[i]))
			return true;
	return false;
}

static hf_rc add_sequence(struct loader *ld, yaml_document_t *doc,
			  yaml_node_t *seq, const char *key)
{
	struct buf joined = {0};

	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);

		if (item->type != YAML_SCALAR_NODE) {
			buf_free(&joined);
			return node_fail(ld, item,
					 "a sequence may only hold scalars");
		}
		if (it > seq->data.sequence.items.start)
			buf_append(&joined, ",", 1);
		buf_puts(&joined, scalar_text(item));
	}
	loader_add(ld, key, buf_steal(&joined));
	return HF_OK;
}

static hf_rc add_node(struct loader *ld, yaml_document_t *doc,
		      yaml_node_t *node, struct buf *key, int depth);

/* Adds each pair of a mapping under "<key>.<pair key>". */
static hf_rc add_mapping(struct loader *ld, yaml_document_t *doc,
			 yaml_node_t *map, struct buf *key, int depth)
{
	size_t prefix = key->len;

	if (depth > MAX_NESTING)
		return node_fail(ld, map, "mappings nested too deeply");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		hf_rc rc;

		if (k->type != YAML_SCALAR_NODE)
			return node_fail(ld, k, "a key must be a scalar");
		if (prefix)
			buf_append(key, ".", 1);
		buf_puts(key, scalar_text(k));
		rc = add_node(ld, doc, yaml_document_get_node(doc, p->value),
			      key, depth + 1);
		key->len = prefix;
		key->data[prefix] = '\0';
		if (rc != HF_OK)
			return rc;
	}
	return HF_OK;
}

static hf_rc add_node(struct loader *ld, yaml_document_t *doc,
		      yaml_node_t *node, struct buf *key, int depth)
{
	if (++ld->nodes > MAX_NODES)
		return node_fail(ld, node, "too many values (aliases?)");
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return add_mapping(ld, doc, node, key, depth);
	case YAML_SEQUENCE_NODE:
		return add_sequence(ld, doc, node, key->data);
	case YAML_SCALAR_NODE:
		loader_add(ld, key->data, scalar_is_null(node) ? NULL :
			   xstrdup(scalar_text(node)));
		return HF_OK;
	default:
		return node_fail(ld, node, "unexpected YAML node");
	}
}

/* ---- reading one file ---- */

static hf_rc parser_fail(struct loader *ld, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return hf_fail(ld->err, HF_ERR_UNAVAILABLE, "%s: out of memory",
			       ld->path);
	if (p->error == YAML_READER_ERROR)
		return hf_fail(ld->err, HF_ERR_INVALID, "%s: %s at byte %zu",
			       ld->path, problem, p->problem_offset);
	if (p->context)
		return hf_fail(ld->err, HF_ERR_INVALID, "%s:%zu: %s %s",
			       ld->path, p->problem_mark.line + 1,
			       problem, p->context);
	return hf_fail(ld->err, HF_ERR_INVALID, "%s:%zu: %s", ld->path,
		       p->problem_mark.line + 1, problem);
}

static hf_rc add_document(struct loader *ld, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	struct buf key = {0};
	hf_rc rc;

	if (!root)
		return HF_OK;   /* an empty file */
	if (root->type != YAML_MAPPING_NODE)
		return node_fail(ld, root, "the top level is not a mapping");
	rc = add_mapping(ld, doc, root, &key, 0);
	buf_free(&key);
	return rc;
}

/* Parses the single document of a YAML stream; Heron refuses a second one. */
static hf_rc parse_stream(struct loader *ld, yaml_parser_t *p)
{
	yaml_document_t doc;
	hf_rc rc;

	if (!yaml_parser_load(p, &doc))
		return parser_fail(ld, p);
	rc = add_document(ld, &doc);
	yaml_document_delete(&doc);
	if (rc != HF_OK)
		return rc;
	if (!yaml_parser_load(p, &doc))
		return parser_fail(ld, p);
	if (yaml_document_get_root_node(&doc))
		rc = hf_fail(ld->err, HF_ERR_INVALID,
			     "%s:%zu: more than one YAML document", ld->path,
			     doc.start_mark.line + 1);
	yaml_document_delete(&doc);
	return rc;
}

/* Loads path into ld; a missing file is skipped, as Heron skips it. */
static hf_rc load_file(struct loader *ld, const char *path)
{
	FILE *f = fopen(path, "re");
	yaml_parser_t parser;
	struct stat st;
	hf_rc rc;

	if (!f) {
		int e = errno;

		if (e == ENOENT)
			return HF_OK;
		return hf_fail(ld->err, errno_rc(e), "%s: %s", path,
			       strerror(e));
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return hf_fail(ld->err, HF_ERR_INVALID,
			       "%s: not a regular file", path);
	}
	ld->path = path;
	ld->nodes = 0;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return hf_fail(ld->err, HF_ERR_UNAVAILABLE,
			       "%s: out of memory", path);
	}
	yaml_parser_set_input_file(&parser, f);
	rc = parse_stream(ld, &parser);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

static hf_rc load_files(struct loader *ld, const char *dir,
			const char *release_file, const char *override_file)
{
	hf_rc rc = HF_OK;

	for (size_t i = 0; rc == HF_OK &&
	     i < sizeof(conf_files) / sizeof(conf_files[0]); i++) {
		char *path = xasprintf("%s/%s", dir, conf_files[i]);

		rc = load_file(ld, path);
		free(path);
	}
	if (rc == HF_OK && release_file)
		rc = load_file(ld, release_file);
	if (rc == HF_OK && override_file)
		rc = load_file(ld, override_file);
	return rc;
}

/* ---- building the conf ---- */

static int entry_order(const void *a, const void *b)
{
	const struct conf_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the entries, keeps the last setting of each key (dropping keys last
 * set to null), and substitutes the values. Takes over ld's entries. */
static void conf_take_entries(struct heron_conf *conf, struct loader *ld)
{
	struct conf_entry *e = ld->entries;
	size_t n = 0;

	if (ld->n)  /* e is NULL for a cluster with no keys */
		qsort(e, ld->n, sizeof(*e), entry_order);
	for (size_t i = 0; i < ld->n; i++) {
		char *raw = e[i].value;
		bool superseded = i + 1 < ld->n && !strcmp(e[i].key, e[i + 1].key);

		if (superseded || !raw) {
			free(e[i].key);
			free(raw);
			continue;
		}
		e[n].key = e[i].key;
		e[n].value = conf_substitute(raw, &conf->tokens);
		e[n].seq = n;
		free(raw);
		n++;
	}
	conf->entries = e;
	conf->n = n;
	ld->entries = NULL;
	ld->n = ld->cap = 0;
}

hf_rc heron_conf_load(const char *cluster_dir, const char *release_file,
		      const char *override_file,
		      const struct conf_tokens *tokens,
		      struct heron_conf **out, struct hf_error *err)
{
	struct loader ld = { .err = err };
	struct heron_conf *conf;
	struct stat st;
	hf_rc rc;

	*out = NULL;
	if (stat(cluster_dir, &st)) {
		int e = errno;

		return hf_fail(err, errno_rc(e), "cluster conf %s: %s",
			       cluster_dir, strerror(e));
	}
	if (!S_ISDIR(st.st_mode))
		return hf_fail(err, HF_ERR_INVALID,
			       "cluster conf %s: not a directory", cluster_dir);
	rc = load_files(&ld, cluster_dir, release_file, override_file);
	if (rc != HF_OK) {
		entries_free(ld.entries, ld.n);
		return rc;
	}
	conf = xcalloc(1, sizeof(*conf));
	conf->dir = xstrdup(cluster_dir);
	tokens_copy(&conf->tokens, tokens);
	conf_take_entries(conf, &ld);
	*out = conf;
	return HF_OK;
}

void heron_conf_free(struct heron_conf *conf)
{
	if (!conf)
		return;
	entries_free(conf->entries, conf->n);
	tokens_free(&conf->tokens);
	free(conf->dir);
	free(conf);
}

/* ---- reading ---- */

static int entry_key_cmp(const void *key, const void *entry)
{
	return strcmp(key, ((const struct conf_entry *)entry)->key);
}

const char *heron_conf_get(const struct heron_conf *conf, const char *key)
{
	const struct conf_entry *e;

	if (!conf->n)   /* entries is NULL for a cluster with no keys */
		return NULL;
	e = bsearch(key, conf->entries, conf->n, sizeof(*e), entry_key_cmp);
	return e ? e->value : NULL;
}

const char *heron_conf_get_str(const struct heron_conf *conf, const char *key,
			       const char *def)
{
	const char *v = heron_conf_get(conf, key);

	return v ? v : def;
}

bool heron_conf_get_bool(const struct heron_conf *conf, const char *key,
			 bool def)
{
	static const char *const yes[] = { "true", "yes", "1" };
	static const char *const no[] = { "false", "no", "0" };
	const char *v = heron_conf_get(conf, key);

	if (!v)
		return def;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]))
			return true;
		if (!strcasecmp(v, no[i]))
			return false;
	}
	return def;
}

/* strtoll and strtod skip leading blanks and strtod takes "inf" and
 * "nan"; a value must start with the number itself. */
static bool starts_number(const char *v, bool fraction)
{
	if (*v == '-' || *v == '+')
		v++;
	return (*v >= '0' && *v <= '9') || (fraction && *v == '.');
}

long long heron_conf_get_int(const struct heron_conf *conf, const char *key,
			     long long def)
{
	const char *v = heron_conf_get(conf, key);
	char *end;
	long long n;

	if (!v || !starts_number(v, false))
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		return def;
	return n;
}

double heron_conf_get_double(const struct heron_conf *conf, const char *key,
			     double def)
{
	const char *v = heron_conf_get(conf, key);
	char *end;
	double d;

	if (!v || !starts_number(v, true))
		return def;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end)
		return def;
	return d;
}

const char *heron_conf_class(const struct heron_conf *conf, const char *key)
{
	static const char *const roots[] = {
		"org.apache.heron.", "com.twitter.heron.",
	};
	const char *v = heron_conf_get(conf, key);

	if (!v)
		return NULL;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		size_t n = strlen(roots[i]);

		if (!strncmp(v, roots[i], n))
			return v + n;
	}
	return v;
}

char *heron_conf_expand(const struct heron_conf *conf, const char *value,
			const struct conf_tokens *extra)
{
	struct conf_tokens t = conf->tokens;

	if (!value)
		return NULL;
	if (extra) {
#define OVERLAY(m) if (extra->m) t.m = extra->m;
		TOKEN_MEMBERS(OVERLAY)
#undef OVERLAY
	}
	return conf_substitute(value, &t);
}

void heron_conf_foreach(const struct heron_conf *conf,
			void (*fn)(void *arg, const char *key,
				   const char *value),
			void *arg)
{
	for (size_t i = 0; i < conf->n; i++)
		fn(arg, conf->entries[i].key, conf->entries[i].value);
}

const char *heron_conf_dir(const struct heron_conf *conf)
{
	return conf->dir;
}

/* ---- discovery ---- */

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_cluster(DIR *d, const char *name)
{
	char *probe = xasprintf("%s/scheduler.yaml", name);
	struct stat st;
	bool yes = !fstatat(dirfd(d), probe, &st, 0) && S_ISREG(st.st_mode);

	free(probe);
	return yes;
}

/* Reads the cluster names of d into the NULL-terminated *names and returns
 * their number; errno is then readdir's (0 at the end of the listing). */
static size_t read_clusters(DIR *d, char ***names)
{
	size_t n = 0, cap = 8;

	*names = xmalloc(cap * sizeof(**names));
	for (;;) {
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !is_cluster(d, de->d_name))
			continue;
		if (n + 1 == cap) {
			cap *= 2;
			*names = xrealloc(*names, cap * sizeof(**names));
		}
		(*names)[n++] = xstrdup(de->d_name);
	}
	(*names)[n] = NULL;
	return n;
}

hf_rc heron_conf_discover(const char *config_path, char ***clusters,
			  struct hf_error *err)
{
	DIR *d = opendir(config_path);
	char **names;
	size_t n;
	int e;

	*clusters = NULL;
	if (!d) {
		e = errno;
		return hf_fail(err, errno_rc(e), "config path %s: %s",
			       config_path, strerror(e));
	}
	n = read_clusters(d, &names);
	e = errno;
	closedir(d);
	if (e) {
		strv_free(names);
		return hf_fail(err, errno_rc(e), "config path %s: %s",
			       config_path, strerror(e));
	}
	qsort(names, n, sizeof(*names), strp_cmp);
	*clusters = names;
	return HF_OK;
}
