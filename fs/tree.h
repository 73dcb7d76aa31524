/* tree: the names of the tree users see, and nothing else.
 *
 *   /                               the clusters
 *   /<cluster>/                     topologies/ log health
 *   /<cluster>/topologies/          one directory per topology
 *   /<cluster>/topologies/<name>/   state status status.json error *.json
 *                                   control containers/
 *   /<cluster>/topologies/<name>/containers/<i>/   state host events
 *
 * tree_resolve only parses a path into a node; whether a topology or a
 * plan file exists right now is the caller's question to the cluster. */
#ifndef HERONFS_FS_TREE_H
#define HERONFS_FS_TREE_H

#include "cluster.h"
#include "heronfs.h"

enum tnode_kind {
	TN_ROOT,
	TN_CLUSTER,
	TN_CLUSTER_FILE,
	TN_TOPOLOGIES,
	TN_TOPOLOGY,
	TN_TOPOLOGY_FILE,
	TN_CONTROL,          /* <name>/control */
	TN_CONTAINERS,       /* <name>/containers/ */
	TN_CONTAINER,        /* <name>/containers/<i>/ */
	TN_CONTAINER_FILE,   /* <name>/containers/<i>/<file> */
};

enum cluster_file { CF_LOG, CF_HEALTH, CF_NFILES };

struct tnode {
	enum tnode_kind kind;
	struct cluster *cluster;      /* all but TN_ROOT */
	enum cluster_file cfile;      /* TN_CLUSTER_FILE */
	enum topo_file tfile;         /* TN_TOPOLOGY_FILE */
	char name[256];               /* TN_TOPOLOGY*: the topology name */
	int instance;                 /* TN_CONTAINER*: the container */
	enum container_file ctfile;   /* TN_CONTAINER_FILE */
};

/* 0, or -ENOENT for a path that names nothing heronfs could serve. */
int tree_resolve(const struct heronfs *fs, const char *path, struct tnode *n);

const char *cluster_file_name(enum cluster_file f);

/* Lists the fixed children of a directory node, calling fn per name. */
void tree_fixed_children(const struct tnode *n,
			 void (*fn)(void *arg, const char *name), void *arg);

#endif
