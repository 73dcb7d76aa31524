/* heronfs.h: the daemon's global state, shared by the fs/ modules. */
#ifndef HERONFS_FS_HERONFS_H
#define HERONFS_FS_HERONFS_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct cluster;
struct notifier;
struct stage;

struct heronfs {
	struct cluster **clusters;   /* sorted by name */
	size_t nclusters;
	struct notifier *notifier;
	pthread_mutex_t notifier_lock;  /* guards the pointer at shutdown */
	const char *spool_dir;
	struct stage *stage;         /* packages being copied in; NULL if
				      * the spool could not be set up */
	uid_t uid;                   /* owner shown for every file */
	gid_t gid;
	time_t mounted_at;           /* times shown for every file */
	double cache_timeout;        /* kernel entry/attr cache, seconds */
};

/* Asks the kernel to forget what it caches for path (from any thread). */
void heronfs_invalidate(struct heronfs *fs, const char *path);

#endif
