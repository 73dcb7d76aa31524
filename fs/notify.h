/* notify: pushes kernel cache invalidations from back-end threads.
 *
 * libfuse forbids invalidating from inside a request handler or while
 * holding a lock a handler needs, and back-end callbacks must not block,
 * so paths are queued here and a dedicated thread calls
 * fuse_invalidate_path() for each. */
#ifndef HERONFS_FS_NOTIFY_H
#define HERONFS_FS_NOTIFY_H

struct fuse;
struct notifier;

struct notifier *notifier_start(struct fuse *f);
/* Queues path (copied); duplicates already queued are dropped. Never
 * blocks on the kernel. */
void notifier_push(struct notifier *n, const char *path);
/* Stops the thread; queued paths are dropped. */
void notifier_stop(struct notifier *n);

#endif
