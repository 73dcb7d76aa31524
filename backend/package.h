/* package: Heron topology packages, read safely and written for upload.
 *
 * A topology package is a tar or gzip tar holding <TopologyName>.defn (the
 * serialized Topology the user's main produced) and the topology file (a
 * .jar, .tar/.tar.gz or .pex). Reading never extracts to disk: entries are
 * streamed and checked. */
#ifndef HERONFS_PACKAGE_H
#define HERONFS_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hferr.h"
#include "topology.pb-c.h"

struct package_limits {
	uint64_t max_bytes;        /* compressed package size */
	uint64_t max_unpacked;     /* sum of entry sizes */
	uint64_t max_entries;
	double max_ratio;          /* unpacked / packed: a compression bomb;
				    * judged once 1 MiB is unpacked */
};

/* heronfs's defaults (Heron itself sets no limits) unless the cluster conf
 * says otherwise: 4 GiB, 16 GiB, 100000 entries, ratio 200. */
extern const struct package_limits package_default_limits;

struct package {
	char *topology_name;       /* from the .defn, not the file name */
	char *defn_entry;          /* "<Name>.defn" as stored in the package
				    * (may start with "./") */
	char *topology_file;       /* basename of the jar/tar/pex */
	char *pkg_type;            /* "jar", "tar" (.tar, .tar.gz) or "pex" */
	Heron__Proto__Api__Topology *topology;   /* untrimmed */
	uint64_t packed_bytes;
	uint64_t unpacked_bytes;
	uint64_t entries;
};

/* Reads and checks the package at path. HF_ERR_INVALID with a reason for
 * anything Heron would refuse or that is unsafe: not a (gzip) tar; no
 * .defn at the top level or several; a .defn that does not parse; a
 * topology name that is not valid (see heron_name_valid); the .defn name
 * not matching the topology name; a bolt reading a stream nobody declares
 * (Heron's verifyTopology); no topology file at the top level, or two; an
 * absolute path, a ".." component, a device, fifo, socket or hard link, a
 * symlink that resolves outside the package (through other symlinks too);
 * over a limit. Limits are checked from each entry's header before its
 * data is read, so a bomb is refused without being inflated. limits may
 * be NULL (package_default_limits). */
hf_rc package_read(const char *path, const struct package_limits *limits,
		   struct package **out, struct hf_error *err);
void package_free(struct package *pkg);

/* A name Heron accepts that is also safe as a path component, a ZooKeeper
 * node name and an Aurora job name: 1..128 characters from [A-Za-z0-9_-],
 * not starting with '-'. Heron's verifyTopology refuses '.' (and '/'), so
 * "." and ".." are out too. */
bool heron_name_valid(const char *name);

/* Clears serialized_object in every spout and bolt, as Heron does before
 * writing topologies/<name>. */
void topology_trim(Heron__Proto__Api__Topology *t);

/* Writes the upload package as a gzip tar (GNU format) to out_fd: every
 * entry of the user's package at src_path (one package_read accepted;
 * any heron-conf/ of its own is left out), then the whole cluster conf
 * directory conf_dir under "./heron-conf/" (the names `heron submit`
 * uses), then ./heron-conf/release.yaml and ./heron-conf/override.yaml
 * with the given contents (NULL is empty; they replace files of those
 * names at the top of conf_dir). Symlinks in conf_dir are dereferenced;
 * sockets and devices there are left out. HF_ERR_NOSPACE when the target
 * is full (ENOSPC, EDQUOT), HF_ERR_UNAVAILABLE for other read or write
 * errors. *written receives the bytes written (may be NULL). */
hf_rc package_write_upload(const char *src_path, const char *conf_dir,
			   const char *release_yaml, const char *override_yaml,
			   int out_fd, uint64_t *written,
			   struct hf_error *err);

#endif
