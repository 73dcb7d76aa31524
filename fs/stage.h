/* stage: packages being copied into <cluster>/topologies/, spooled to
 * disk until the copy is closed and they are submitted.
 *
 * A staged file is visible under the name it was created with while it is
 * open, so `ls` shows the copy in progress; it disappears when its last
 * handle is released (after the submit, whatever its outcome). */
#ifndef HERONFS_FS_STAGE_H
#define HERONFS_FS_STAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cluster;
struct stage;

struct staged {
	struct cluster *cluster;
	char *name;            /* as created in topologies/ */
	char *spool_path;
	int fd;
	uid_t uid;             /* who created it: the submitting user */
	gid_t gid;
	int refs;              /* open handles and lookups in progress */
	bool unlinked;
	pthread_mutex_t lock;  /* serializes the submit against writes */
	bool submitted;
	int result;            /* 0 or -errno of the submit */
};

/* Creates spool_dir (0700) if missing and checks that only this user can
 * write there; -1 after a message on stderr. Before the daemon forks. */
int stage_check(const char *spool_dir);
/* The stage of this daemon: its own spool directory daemon-<pid> under
 * spool_dir, after removing those of daemons that are gone. After the
 * fork (the pid is the daemon's). NULL, logged, on failure. */
struct stage *stage_new(const char *spool_dir);
void stage_free(struct stage *st);

/* Creates a staged file. -EEXIST if one of that name is staged. */
int stage_create(struct stage *st, struct cluster *c, const char *name,
		 uid_t uid, gid_t gid, struct staged **out);
/* The staged file of that name with a reference taken, or NULL. */
struct staged *stage_find(struct stage *st, struct cluster *c,
			  const char *name);
/* Drops a reference; the last one removes the spool file. */
void stage_put(struct stage *st, struct staged *s);
/* Hides the name (unlink); the data goes with the last reference. */
int stage_unlink(struct stage *st, struct cluster *c, const char *name);
/* Calls fn for every visible staged name of cluster c. */
void stage_list(struct stage *st, struct cluster *c,
		void (*fn)(void *arg, const char *name), void *arg);
/* Current size of the spool file. */
uint64_t stage_size(const struct staged *s);

#endif
