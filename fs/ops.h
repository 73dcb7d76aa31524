/* ops: the FUSE operations of heronfs (high-level, path-based API). */
#ifndef HERONFS_FS_OPS_H
#define HERONFS_FS_OPS_H

#include <fuse.h>

extern const struct fuse_operations heronfs_ops;

#endif
