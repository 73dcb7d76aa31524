#include "tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const cfile_names[CF_NFILES] = {
	[CF_LOG] = "log",
	[CF_HEALTH] = "health",
};

const char *cluster_file_name(enum cluster_file f)
{
	return cfile_names[f];
}

/* Copies the next component of *p into comp and advances *p. Returns 1,
 * 0 at the end of the path, -1 for a component too long to be a name. */
static int next_component(const char **p, char comp[256])
{
	const char *s = *p;

	while (*s == '/')
		s++;
	if (!*s)
		return 0;
	size_t len = strcspn(s, "/");
	if (len >= 256)
		return -1;
	memcpy(comp, s, len);
	comp[len] = '\0';
	*p = s + len;
	return 1;
}

static struct cluster *find_cluster(const struct heronfs *fs,
				    const char *name)
{
	for (size_t i = 0; i < fs->nclusters; i++)
		if (strcmp(cluster_name(fs->clusters[i]), name) == 0)
			return fs->clusters[i];
	return NULL;
}

static int resolve_cluster_child(const char *comp, struct tnode *n)
{
	if (strcmp(comp, "topologies") == 0) {
		n->kind = TN_TOPOLOGIES;
		return 0;
	}
	for (int f = 0; f < CF_NFILES; f++)
		if (strcmp(comp, cfile_names[f]) == 0) {
			n->kind = TN_CLUSTER_FILE;
			n->cfile = (enum cluster_file)f;
			return 0;
		}
	return -ENOENT;
}

/* A container index as the scheduler numbers them: no sign, no leading
 * zero, so each container has one name. */
static bool parse_instance(const char *s, int *out)
{
	char *end;
	long v;

	if (!*s || (s[0] == '0' && s[1]) || s[0] < '0' || s[0] > '9')
		return false;
	v = strtol(s, &end, 10);
	if (*end || v > 1000000)
		return false;
	*out = (int)v;
	return true;
}

/* <name>/containers[/<i>[/<file>]] */
static int resolve_containers(const char *p, struct tnode *n)
{
	char comp[256];
	int r;

	n->kind = TN_CONTAINERS;
	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	if (!parse_instance(comp, &n->instance))
		return -ENOENT;
	n->kind = TN_CONTAINER;
	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	n->ctfile = container_file_lookup(comp);
	if (n->ctfile == CTF_NFILES)
		return -ENOENT;
	n->kind = TN_CONTAINER_FILE;
	return next_component(&p, comp) ? -ENOENT : 0;
}

/* Every step below returns 0 when the path ends there. */
int tree_resolve(const struct heronfs *fs, const char *path, struct tnode *n)
{
	char comp[256];
	const char *p = path;
	int r;

	memset(n, 0, sizeof(*n));
	n->kind = TN_ROOT;
	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	n->cluster = find_cluster(fs, comp);
	if (!n->cluster)
		return -ENOENT;
	n->kind = TN_CLUSTER;
	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	if (resolve_cluster_child(comp, n) != 0)
		return -ENOENT;
	if (n->kind == TN_CLUSTER_FILE)
		return next_component(&p, comp) ? -ENOENT : 0;

	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	n->kind = TN_TOPOLOGY;
	memcpy(n->name, comp, sizeof(comp));
	if ((r = next_component(&p, comp)) <= 0)
		return r < 0 ? -ENOENT : 0;
	if (strcmp(comp, "control") == 0) {
		n->kind = TN_CONTROL;
		return next_component(&p, comp) ? -ENOENT : 0;
	}
	if (strcmp(comp, "containers") == 0)
		return resolve_containers(p, n);
	n->tfile = topo_file_lookup(comp);
	if (n->tfile == TF_NFILES)
		return -ENOENT;
	n->kind = TN_TOPOLOGY_FILE;
	return next_component(&p, comp) ? -ENOENT : 0;
}

void tree_fixed_children(const struct tnode *n,
			 void (*fn)(void *arg, const char *name), void *arg)
{
	if (n->kind != TN_CLUSTER)
		return;
	fn(arg, "topologies");
	for (int f = 0; f < CF_NFILES; f++)
		fn(arg, cfile_names[f]);
}
