/* heron_conf: a Heron cluster conf directory, loaded as the `heron` client
 * loads it.
 *
 * Files are read in Heron's order (later files override earlier ones):
 *   cluster.yaml client.yaml healthmgr.yaml packing.yaml scheduler.yaml
 *   statemgr.yaml uploader.yaml downloader.yaml stateful.yaml
 *   heronfs.yaml (keys of heronfs itself, see README) release file,
 *   override file
 * Missing files are skipped. Each file is a YAML mapping of keys to
 * scalars; a nested mapping is flattened with '.' and a sequence of scalars
 * is joined with ','. A key set to YAML null (`key:`, `key: ~`) is unset,
 * also when an earlier file set it. A file that is not valid YAML, or whose
 * top level is not a mapping, is refused with a message naming the file and
 * line; so is one with a non-scalar key, a sequence holding mappings or
 * sequences, a second document, or aliases that nest or expand without
 * bound.
 *
 * Every value is `${TOKEN}`-substituted with Heron's rules when read:
 * only whole '/'-separated components that are exactly ${NAME} are
 * replaced; a leading "scheme://" is kept and the rest substituted; ${HOME}
 * and a bare "~" component are the user's home; ${JAVA_HOME} comes from the
 * environment; substitution repeats until stable (at most 16 passes).
 * Unknown or unset tokens are left as written. Everything else is kept byte
 * for byte, a trailing '/' included (Java's split would drop it).
 *
 * Values are substituted once, at load, with the load tokens; the tokens
 * left unset then (say ROLE, TOPOLOGY) stay for heron_conf_expand.
 *
 * A loaded conf is read-only: every call but heron_conf_free may run in
 * many threads at once. */
#ifndef HERONFS_HERON_CONF_H
#define HERONFS_HERON_CONF_H

#include <stdbool.h>

#include "hferr.h"

/* Values for the ${TOKEN}s; NULL members leave the token unsubstituted.
 * HERON_BIN, HERON_LIB, HERON_DIST, HERON_ETC derive from heron_home as
 * Heron derives them (<home>/bin, /lib, /dist, /etc); TOPOLOGY is an alias
 * of TOPOLOGY_NAME. */
struct conf_tokens {
	const char *heron_home;     /* HERON_HOME */
	const char *heron_conf;     /* HERON_CONF: the cluster directory */
	const char *cluster;        /* CLUSTER */
	const char *role;           /* ROLE */
	const char *environ;        /* ENVIRON */
	const char *topology_name;  /* TOPOLOGY_NAME, TOPOLOGY */
	const char *topology_id;    /* TOPOLOGY_ID */
	const char *submit_user;    /* SUBMIT_USER */
	const char *home;           /* HOME and ~; NULL = $HOME, else passwd */
};

struct heron_conf;

/* Loads cluster_dir. release_file and override_file may be NULL, and are
 * skipped like the others when missing. The tokens are copied; NULL means
 * none (only HOME, ~ and JAVA_HOME are then substituted). On failure
 * returns an error code, fills err and sets *out to NULL: HF_ERR_NOTFOUND
 * for a cluster_dir that does not exist, HF_ERR_INVALID for one that is not
 * a directory or for a file refused as above. */
hf_rc heron_conf_load(const char *cluster_dir, const char *release_file,
		      const char *override_file,
		      const struct conf_tokens *tokens,
		      struct heron_conf **out, struct hf_error *err);
void heron_conf_free(struct heron_conf *conf);

/* The substituted value of key, or NULL if no file sets it. The string
 * lives as long as conf. */
const char *heron_conf_get(const struct heron_conf *conf, const char *key);
const char *heron_conf_get_str(const struct heron_conf *conf, const char *key,
			       const char *def);
/* true/false/yes/no/1/0 in any case; anything else, or unset, is def. */
bool heron_conf_get_bool(const struct heron_conf *conf, const char *key,
			 bool def);
/* A whole decimal integer; anything else, or unset, is def. */
long long heron_conf_get_int(const struct heron_conf *conf, const char *key,
			     long long def);
double heron_conf_get_double(const struct heron_conf *conf, const char *key,
			     double def);

/* A class name with its package root stripped, so that
 * "com.twitter.heron.statemgr.zookeeper.curator.CuratorStateManager" and
 * "org.apache.heron.statemgr.zookeeper.curator.CuratorStateManager" both
 * give "statemgr.zookeeper.curator.CuratorStateManager". NULL if unset. */
const char *heron_conf_class(const struct heron_conf *conf, const char *key);

/* Substitutes value with the conf's tokens, overlaid by the non-NULL
 * members of extra (may be NULL). Returns a malloc'd string, or NULL for a
 * NULL value, so that heron_conf_get's answer can be passed as it is. */
char *heron_conf_expand(const struct heron_conf *conf, const char *value,
			const struct conf_tokens *extra);

/* Calls fn for every key in sorted order with its substituted value. */
void heron_conf_foreach(const struct heron_conf *conf,
			void (*fn)(void *arg, const char *key,
				   const char *value),
			void *arg);

const char *heron_conf_dir(const struct heron_conf *conf);

/* The clusters under config_path: the sorted names of its subdirectories
 * holding a scheduler.yaml, as a NULL-terminated malloc'd vector (free with
 * strv_free). A config_path that does not exist or cannot be read is an
 * error; one with no clusters gives an empty vector. */
hf_rc heron_conf_discover(const char *config_path, char ***clusters,
			  struct hf_error *err);

/* The substitution rules on their own, for tests and for the loader.
 * tokens may be NULL. Returns a malloc'd string. */
char *conf_substitute(const char *value, const struct conf_tokens *tokens);

#endif
